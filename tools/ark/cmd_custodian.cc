// Custodian-side commands: `ark keygen`, `ark pseudonymise`, `ark specs`.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/fs.h"
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
  std::string key_path, custodian, in, out, spec_path;
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
  auto r = Pseudonymise(*spec, *key, in, out, replace, threads);
  if (!r.ok()) return ReportError(r.status());
  if (!write_clks.empty()) {
    auto n = ClksJsonFromRecords(out + "/records.csv", write_clks);
    if (!n.ok()) return ReportError(n.status());
    std::fprintf(stderr, "wrote %zu CLKs to %s (anonlink clks.json)\n", *n, write_clks.c_str());
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

ARK_COMMAND(kKeygen, "keygen", "create a programme key (custodians)", Keygen);
ARK_COMMAND(kPseud, "pseudonymise", "pseudonymise an extract at source (custodians)", PseudonymiseCmd);
ARK_COMMAND(kSpecs, "specs", "print the built-in feed specs", Specs);

}  // namespace
}  // namespace ark::cli
