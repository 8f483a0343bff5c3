// Custodian-side commands: `ark keygen`, `ark pseudonymise`, `ark specs`; and `ark custodian
// keygen|sign` (the custodian's signing key, privacy/custodian_key.h) with `ark custodian trust`,
// by which an Ark's admin registers a custodian's public key (on the ledger).
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "privacy/custodian_key.h"
#include "who.h"
#include "ingest/feed_spec.h"
#include "ingest/pseudonymise.h"
#include "link/link_records.h"
#include "privacy/key.h"

namespace ark::cli {
namespace {

int Keygen(int argc, char** argv) {
  CLI::App app("Create a programme key: the secret custodians share to pseudonymise NHS numbers.\n"
               "Keep it with the custodians; never give it to the Ark.", "ark keygen");
  std::string out;
  app.add_option("--out", out, "key file to write (refuses to overwrite)")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto key = ProgrammeKey::Generate();
  if (!key.ok()) return ReportError(key.status());
  if (int rc = ReportError(key->Save(out))) return rc;
  std::printf("wrote %s (fingerprint %s)\n", out.c_str(), key->Fingerprint().c_str());
  return 0;
}

int PseudonymiseCmd(int argc, char** argv) {
  CLI::App app("Pseudonymise a custodian's extract at source: NHS numbers become keyed pseudonyms,\n"
               "names, dates of birth, postcodes and local ids are dropped.", "ark pseudonymise");
  std::string key_path, custodian, in, out, spec_path, signing_key;
  bool replace = false, json = false;
  int threads = 2;
  app.add_option("--key", key_path, "programme key file (ark keygen)")->required();
  app.add_option("--custodian", custodian, "custodian name; picks the built-in feed spec unless --spec")->required();
  app.add_option("--in", in, "directory of the raw extract")->required();
  app.add_option("--out", out, "directory to write (must not exist)")->required();
  app.add_option("--spec", spec_path, "feed spec YAML for a custom layout (see docs/feed-specs.md)");
  app.add_flag("--replace", replace, "replace --out if it exists");
  std::string write_clks;
  app.add_option("--write-clks", write_clks,
                 "also write the records' CLKs (records.csv order) to this file in anonlink's clks.json");
  app.add_option("--custodian-key", signing_key,
                 "the custodian's signing key (ark custodian keygen): signs manifest.json (manifest.sig)");
  app.add_flag("--json", json, "print the counts as JSON");
  app.add_option("--threads", threads, "worker threads (the output is the same for any number)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto key = ProgrammeKey::Load(key_path);
  if (!key.ok()) return ReportError(key.status());
  Result<FeedSpec> spec = Status::NotFound("");
  if (spec_path.empty()) {
    spec = BuiltinFeedSpec(custodian);
  } else {
    auto text = ReadFile(spec_path);
    if (!text.ok()) return ReportError(text.status());
    spec = ParseFeedSpec(*text, spec_path);
  }
  if (!spec.ok()) return ReportError(spec.status());
  spec->name = custodian;
  std::optional<CustodianKey> signer;
  if (!signing_key.empty()) {
    auto k = CustodianKey::Load(signing_key);
    if (!k.ok()) return ReportError(k.status());
    if (k->custodian() != custodian) {
      return ReportError(Status::InvalidArgument(signing_key + ": the key is custodian '" + k->custodian() +
                                                 "'s, not '" + custodian + "'s"));
    }
    signer = std::move(*k);
  }
  auto r = Pseudonymise(*spec, *key, in, out, replace, threads);
  if (!r.ok()) return ReportError(r.status());
  if (!write_clks.empty()) {
    auto n = ClksJsonFromRecords(out + "/records.csv", write_clks);
    if (!n.ok()) return ReportError(n.status());
    std::fprintf(stderr, "wrote %zu CLKs to %s (anonlink clks.json)\n", *n, write_clks.c_str());
  }
  if (signer) {
    if (int rc = ReportError(SignExtract(*signer, out))) return rc;
  }
  if (json) {
    nlohmann::ordered_json j = {{"custodian", custodian}, {"records", r->records},
                                {"nhs_valid", r->nhs_valid}, {"nhs_missing", r->nhs_missing},
                                {"nhs_invalid", r->nhs_invalid}, {"optouts", r->optouts},
                                {"files", r->files}, {"key_fingerprint", r->key_fingerprint}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s: %llu records (NHS number valid %llu, missing %llu, invalid %llu), %llu opt-outs -> %s\n",
                custodian.c_str(), (unsigned long long)r->records, (unsigned long long)r->nhs_valid,
                (unsigned long long)r->nhs_missing, (unsigned long long)r->nhs_invalid,
                (unsigned long long)r->optouts, out.c_str());
  }
  return 0;
}

int Specs(int argc, char** argv) {
  CLI::App app("Print a built-in feed spec (or list them).", "ark specs");
  std::string name;
  app.add_option("name", name, "feed name");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (name.empty()) {
    for (auto& n : BuiltinFeedNames()) std::printf("%s\n", n.c_str());
    return 0;
  }
  auto s = BuiltinFeedSpec(name);
  if (!s.ok()) return ReportError(s.status());
  std::fputs(s->text.c_str(), stdout);
  return 0;
}

int CustodianKeygen(int argc, char** argv) {
  CLI::App app("Create a custodian's signing key (Ed25519). Keep it with the custodian; give the Ark only the\n"
               "public key it prints (ark custodian trust).", "ark custodian keygen");
  std::string name, out;
  app.add_option("--custodian", name, "the custodian (feed) name, e.g. gp")->required();
  app.add_option("--out", out, "key file to write (mode 0600; refuses to overwrite)")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto k = CustodianKey::Generate(name);
  if (!k.ok()) return ReportError(k.status());
  if (int rc = ReportError(k->Save(out))) return rc;
  std::printf("wrote %s; public key of custodian %s:\n%s\n", out.c_str(), name.c_str(), k->PublicKeyHex().c_str());
  return 0;
}

int CustodianSign(int argc, char** argv) {
  CLI::App app("Sign a pseudonymised extract's manifest.json (writes manifest.sig).", "ark custodian sign");
  std::string dir, key;
  app.add_option("extract", dir, "the extract directory (ark pseudonymise --out)")->required();
  app.add_option("--custodian-key", key, "the custodian's signing key")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto k = CustodianKey::Load(key);
  if (!k.ok()) return ReportError(k.status());
  if (int rc = ReportError(SignExtract(*k, dir))) return rc;
  std::printf("signed %s/manifest.json as custodian %s\n", dir.c_str(), k->custodian().c_str());
  return 0;
}

// An admin registers (or rotates) a custodian's public key; on the ledger as custodian.trusted.
int CustodianTrust(int argc, char** argv) {
  CLI::App app("Register a custodian's public signing key: from now on ingest refuses that custodian's extracts\n"
               "unless their manifest is signed with it (admin).", "ark custodian trust");
  std::string dir, name, pub;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("custodian", name, "the custodian (feed) name")->required();
  app.add_option("public_key", pub, "64 hex digits (printed by ark custodian keygen)")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  if (int rc = ReportError(gov::EnsureGovernanceSchema(**cat))) return rc;
  auto actor = who.Resolve(**cat);
  if (!actor.ok()) return ReportError(actor.status());
  if (!actor->Has("admin")) {
    return ReportError(gov::LogRefusal(dir, actor->user, Status::PermissionDenied("only an admin registers a custodian's key")));
  }
  auto key = ParsePublicKeyHex(pub);
  if (!key.ok()) return ReportError(key.status());
  if (int rc = ReportError(RegisterCustodianKey(**cat, name, *key, actor->user))) return rc;
  gov::Json e = {{"type", "custodian.trusted"}, {"custodian", name}, {"public_key", *key}, {"by", actor->user}};
  if (int rc = ReportError(gov::AppendToArkLedger(dir, std::move(e)).status())) return rc;
  std::printf("custodian %s: manifests must now be signed by key %s (ledger: custodian.trusted)\n", name.c_str(), key->c_str());
  return 0;
}

}  // namespace

int DispatchGroup(const char* group, const std::vector<std::pair<const char*, int (*)(int, char**)>>& subs, int argc,
                  char** argv);

namespace {

int Custodian(int argc, char** argv) {
  return DispatchGroup("custodian", {{"keygen", CustodianKeygen}, {"sign", CustodianSign}, {"trust", CustodianTrust}}, argc, argv);
}

ARK_COMMAND(kCustodian, "custodian", "custodian signing keys: keygen, sign (custodians), trust (admin)", Custodian);
ARK_COMMAND(kKeygen, "keygen", "create a programme key (custodians)", Keygen);
ARK_COMMAND(kPseud, "pseudonymise", "pseudonymise an extract at source (custodians)", PseudonymiseCmd);
ARK_COMMAND(kSpecs, "specs", "print the built-in feed specs", Specs);

}  // namespace
}  // namespace ark::cli
