// `ark ledger verify|checkpoint|prove|export|verify-proof|cosign|witness`: the transparency ledger
// (src/governance/ledger.h, docs/ledger-format.md). Reading and verifying need no identity: the
// ledger is public. Entries are appended by the governance commands, never by hand.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "command.h"
#include "core/fs.h"
#include "governance/encoding.h"
#include "governance/ledger.h"
#include "governance/proof_file.h"
#include "ledger_witness.h"

namespace ark::cli {
namespace {

using gov::Json;

int Verify(int argc, char** argv) {
  CLI::App app("Verify a ledger: checkpoint signature, every entry, the Merkle root.", "ark ledger verify");
  std::string dir, key, earlier;
  std::vector<std::string> witnesses, cosigned;
  bool json = false;
  app.add_option("ark", dir, "Ark directory, its ledger/ directory, or an exported bundle")->required();
  app.add_option("--key", key, "verifier key (vkey string or a file holding it); default: the ledger's ledger.pub");
  app.add_option("--checkpoint", earlier, "an earlier published checkpoint this log must extend");
  app.add_option("--witness", witnesses, "a witness's verifier key (string or file): it must have cosigned, and the log must "
                                         "extend all it cosigned");
  app.add_option("--cosigned", cosigned, "a cosigned checkpoint from outside the Ark (e.g. `ark ledger witness latest`)");
  app.add_flag("--json", json, "print the result as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  gov::VerifyOptions opts;
  auto key_arg = [](const std::string& k) { return PathExists(k) ? ReadFile(k) : Result<std::string>(k); };
  if (!key.empty()) {
    auto t = key_arg(key);
    if (!t.ok()) return ReportError(t.status());
    opts.vkey = *t;
  }
  if (!earlier.empty()) {
    auto t = ReadFile(earlier);
    if (!t.ok()) return ReportError(t.status());
    opts.earlier = *t;
  }
  for (const std::string& w : witnesses) {
    auto t = key_arg(w);
    if (!t.ok()) return ReportError(t.status());
    opts.witnesses.push_back(*t);
  }
  for (const std::string& c : cosigned) {
    auto t = ReadFile(c);
    if (!t.ok()) return ReportError(t.status());
    opts.cosigned.push_back(*t);
  }
  auto rep = gov::VerifyLedger(gov::LedgerDirOf(dir), opts);
  if (!rep.ok()) return ReportError(rep.status().WithContext("ledger verification failed"));
  if (json) {
    Json j = {{"ok", true}, {"entries", rep->entries}, {"origin", rep->checkpoint.origin},
              {"size", rep->checkpoint.size}, {"root", gov::Base64Encode(merkle::View(rep->checkpoint.root))}};
    j["witnessed"] = Json::array();
    for (auto& [w, size] : rep->witnessed) j["witnessed"].push_back({{"witness", w}, {"size", size}});
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("ledger ok: %llu entries, signed checkpoint %s size %llu root %s\n", (unsigned long long)rep->entries,
                rep->checkpoint.origin.c_str(), (unsigned long long)rep->checkpoint.size,
                gov::Base64Encode(merkle::View(rep->checkpoint.root)).c_str());
    for (auto& [w, size] : rep->witnessed) {
      std::printf("witness %s cosigned up to size %llu: the log extends it\n", w.c_str(), (unsigned long long)size);
    }
  }
  return 0;
}

int CheckpointCmd(int argc, char** argv) {
  CLI::App app("Print the ledger's latest signed checkpoint (signing one if the ledger is new).", "ark ledger checkpoint");
  std::string dir, out;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--out", out, "also write it to this file");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto l = gov::Ledger::Open(dir);
  if (!l.ok()) return ReportError(l.status());
  if (!out.empty()) {
    if (int rc = ReportError(WriteFileAtomic(out, (*l)->checkpoint()))) return rc;
  }
  std::fputs((*l)->checkpoint().c_str(), stdout);
  return 0;
}

int Prove(int argc, char** argv) {
  CLI::App app("Write an inclusion proof (--index) or a consistency proof (--from) as JSON.", "ark ledger prove");
  std::string dir;
  int64_t index = -1, from = -1, size = -1;
  app.add_option("ark", dir, "Ark directory or bundle")->required();
  app.add_option("--index", index, "entry (seq) to prove included");
  app.add_option("--from", from, "earlier tree size to prove consistent with");
  app.add_option("--size", size, "tree size (default: the whole log)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if ((index < 0) == (from < 0)) {
    std::fprintf(stderr, "ark ledger prove: give exactly one of --index or --from\n");
    return 2;
  }
  auto log = gov::LoadLog(gov::LedgerDirOf(dir));
  if (!log.ok()) return ReportError(log.status());
  const merkle::MerkleTree& t = log->tree;
  uint64_t n = size < 0 ? t.size() : static_cast<uint64_t>(size);
  Json j;
  auto b64 = [](const merkle::Hash& h) { return gov::Base64Encode(merkle::View(h)); };
  if (index >= 0) {
    auto p = t.InclusionProof(index, n);
    if (!p.ok()) return ReportError(p.status());
    j["leafIdx"] = index;
    j["treeSize"] = n;
    j["root"] = b64(*t.Root(n));
    j["leafHash"] = b64(t.leaf(index));
    j["entry"] = log->lines[index];
    j["proof"] = Json::array();
    for (auto& h : *p) j["proof"].push_back(b64(h));
  } else {
    auto p = t.ConsistencyProof(from, n);
    if (!p.ok()) return ReportError(p.status());
    j["size1"] = from;
    j["size2"] = n;
    j["root1"] = b64(*t.Root(from));
    j["root2"] = b64(*t.Root(n));
    j["proof"] = Json::array();
    for (auto& h : *p) j["proof"].push_back(b64(h));
  }
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

int Export(int argc, char** argv) {
  CLI::App app("Write the public bundle (entries, signed checkpoint, verifier key) after verifying it.", "ark ledger export");
  std::string dir, out;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--out", out, "bundle directory")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (int rc = ReportError(gov::ExportLedger(dir, out))) return rc;
  std::printf("bundle written to %s (verify with: ark ledger verify %s --key KEY)\n", out.c_str(), out.c_str());
  return 0;
}

int VerifyProof(int argc, char** argv) {
  CLI::App app("Check an inclusion or consistency proof in the transparency-dev JSON form; exit 0 only if valid.",
               "ark ledger verify-proof");
  std::string file;
  app.add_option("file", file, "proof JSON")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (int rc = ReportError(gov::VerifyProofFile(file))) return rc;
  std::printf("proof ok\n");
  return 0;
}

}  // namespace

// Dispatches "ark GROUP SUB ..." to SUB's function with argv[0] = "ark GROUP SUB".
int DispatchGroup(const char* group, const std::vector<std::pair<const char*, int (*)(int, char**)>>& subs, int argc,
                  char** argv) {
  auto usage = [&](FILE* f) {
    std::fprintf(f, "usage: ark %s <", group);
    for (size_t i = 0; i < subs.size(); ++i) std::fprintf(f, "%s%s", i ? "|" : "", subs[i].first);
    std::fprintf(f, "> ...  (ark %s <sub> --help)\n", group);
  };
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(stdout);
    return 0;
  }
  for (auto& [name, fn] : subs) {
    if (std::strcmp(argv[1], name) == 0) return fn(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "ark %s: unknown subcommand '%s'\n", group, argv[1]);
  usage(stderr);
  return 2;
}

namespace {
int Ledger(int argc, char** argv) {
  return DispatchGroup("ledger", {{"verify", Verify}, {"checkpoint", CheckpointCmd}, {"prove", Prove}, {"export", Export},
                                  {"verify-proof", VerifyProof}, {"cosign", LedgerCosign}, {"witness", LedgerWitness}}, argc, argv);
}
ARK_COMMAND(kLedger, "ledger", "the transparency ledger: verify, checkpoint, prove, export, verify-proof, cosign, witness", Ledger);
}  // namespace

}  // namespace ark::cli
