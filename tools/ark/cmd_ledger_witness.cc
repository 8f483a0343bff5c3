// `ark ledger witness ...` (a witness run outside the Ark: one-shot, keygen, latest, serve) and
// `ark ledger cosign` (the Ark asks a witness to cosign its latest checkpoint). Formats:
// docs/ledger-format.md "Witnesses"; code: src/governance/{witness,cosign,witness_http}.h.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <iterator>

#include "command.h"
#include "core/fs.h"
#include "governance/checkpoint.h"
#include "governance/cosign.h"
#include "governance/ledger.h"
#include "governance/witness.h"
#include "governance/witness_http.h"
#include "ledger_witness.h"

namespace ark::cli {
namespace {

constexpr int kConflictExit = 4;  // the one-shot witness's "409": stdout holds its latest size

// A key given as the string itself or as a file holding it.
Result<std::string> KeyArg(const std::string& k) {
  if (PathExists(k)) return ReadFile(k);
  return k;
}

Status TrustLogs(gov::Witness& w, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    ARK_ASSIGN_OR_RETURN(std::string vkey, KeyArg(k));
    ARK_RETURN_IF_ERROR(w.TrustLog(vkey).WithContext("--log-key " + k));
  }
  return Status::OK();
}

int Keygen(int argc, char** argv) {
  CLI::App app("Create a witness key (Ed25519, tlog-cosignature/v1) and print its verifier key.", "ark ledger witness keygen");
  std::string name, out;
  app.add_option("--name", name, "the witness's name, a schema-less URL (e.g. regulator.example/witness)")->required();
  app.add_option("--out", out, "key file to create (mode 0600); keep it outside any Ark")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto c = gov::Cosigner::Generate(name);
  if (!c.ok()) return ReportError(c.status());
  if (int rc = ReportError(c->Save(out))) return rc;
  std::printf("%s\n", c->VerifierKey().c_str());
  return 0;
}

int Latest(int argc, char** argv) {
  CLI::App app("Print the latest checkpoint this witness cosigned for a log (public: give it to verifiers).",
               "ark ledger witness latest");
  std::string state, origin, log_key;
  app.add_option("--state", state, "the witness's state directory")->required();
  app.add_option("--origin", origin, "the log's origin (e.g. ark.ledger/2969a8c00d6ed7f2)");
  app.add_option("--log-key", log_key, "or the log's verifier key (string or file)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (origin.empty() == log_key.empty()) {
    std::fprintf(stderr, "ark ledger witness latest: give exactly one of --origin or --log-key\n");
    return 2;
  }
  if (origin.empty()) {
    auto v = KeyArg(log_key);
    auto nv = v.ok() ? gov::NoteVerifier::Parse(*v) : Result<gov::NoteVerifier>(v.status());
    if (!nv.ok()) return ReportError(nv.status());
    origin = nv->name();
  }
  auto note = gov::Witness::WitnessLatest(state, origin);
  if (!note.ok()) return ReportError(note.status());
  if (!*note) return ReportError(Status::NotFound("this witness has cosigned no checkpoint of " + origin));
  std::fputs((*note)->c_str(), stdout);
  return 0;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Serve(int argc, char** argv) {
  CLI::App app("Serve the C2SP tlog-witness protocol (POST /add-checkpoint) until SIGINT/SIGTERM.", "ark ledger witness serve");
  std::string key, state, listen = "127.0.0.1:2024";
  std::vector<std::string> logs;
  app.add_option("--key", key, "the witness's key file (ark ledger witness keygen)")->required();
  app.add_option("--state", state, "state directory (latest cosigned checkpoint per log)")->required();
  app.add_option("--http", listen, "host:port to listen on");
  app.add_option("--log-key", logs, "trust this log's verifier key (string or file; remembered in the state)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto w = gov::Witness::Open(key, state);
  if (!w.ok()) return ReportError(w.status());
  if (int rc = ReportError(TrustLogs(*w, logs))) return rc;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return ReportError(Status::InvalidArgument("--http: expected host:port"));
  const int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) return ReportError(Status::InvalidArgument("--http: bad port"));
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  Status s = gov::ServeWitness(*w, listen.substr(0, colon), static_cast<uint16_t>(port), &g_stop, [&](uint16_t p) {
    std::fprintf(stderr, "ark ledger witness: %s listening on http://%s:%u (verifier key %s)\n", w->cosigner().name().c_str(),
                 listen.substr(0, colon).c_str(), p, w->cosigner().VerifierKey().c_str());
  });
  return ReportError(s);
}

int OneShot(int argc, char** argv) {
  CLI::App app("Cosign a log's checkpoint if it extends the last one this witness cosigned (one-shot tlog-witness).\n"
               "Prints the cosignature line; exit 4 (stdout: the witness's size) when the old size is not its own.",
               "ark ledger witness");
  std::string key, state, cp_file, proof_file;
  std::vector<std::string> logs;
  app.add_option("--key", key, "the witness's key file (ark ledger witness keygen)")->required();
  app.add_option("--state", state, "state directory (latest cosigned checkpoint per log)")->required();
  app.add_option("--log-key", logs, "trust this log's verifier key (string or file; remembered in the state)");
  app.add_option("checkpoint", cp_file, "the signed checkpoint (default: a whole add-checkpoint body on stdin)");
  app.add_option("proof", proof_file, "consistency proof from the last cosigned size (`ark ledger prove --from M` JSON)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto w = gov::Witness::Open(key, state);
  if (!w.ok()) return ReportError(w.status());
  if (int rc = ReportError(TrustLogs(*w, logs))) return rc;
  Result<gov::AddCheckpointRequest> req = Status::Internal("unset");
  if (cp_file.empty()) {
    std::string body((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    req = gov::ParseAddCheckpoint(body);
  } else {
    auto cp = ReadFile(cp_file);
    auto proof = proof_file.empty() ? Result<std::string>(std::string()) : ReadFile(proof_file);
    if (!cp.ok()) return ReportError(cp.status());
    if (!proof.ok()) return ReportError(proof.status());
    req = gov::RequestFromFiles(*cp, *proof);
  }
  if (!req.ok()) return ReportError(req.status());
  uint64_t latest = 0;
  auto line = w->Add(*req, static_cast<uint64_t>(std::time(nullptr)), &latest);
  if (!line.ok()) {
    ReportError(line.status());
    if (gov::WitnessHttpStatus(line.status()) != 409) return 1;
    std::printf("%llu\n", static_cast<unsigned long long>(latest));
    return kConflictExit;
  }
  std::fputs(line->c_str(), stdout);
  return 0;
}

// Runs a witness command with the request on stdin; its exit status is mapped to HTTP's.
Result<gov::WitnessHttpReply> AskCommand(const std::string& cmd, const std::string& body) {
  char tmpl[] = "/tmp/ark-cosign-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return Status::IOError("cannot create a temporary file for the witness request");
  const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  if (!written) {
    ::unlink(tmpl);
    return Status::IOError("cannot write the witness request");
  }
  FILE* p = ::popen((cmd + " < '" + tmpl + "'").c_str(), "r");
  if (!p) {
    ::unlink(tmpl);
    return Status::IOError("cannot run the witness command: " + cmd);
  }
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = ::pclose(p);
  ::unlink(tmpl);
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (code == 0) return gov::WitnessHttpReply{200, "text/plain", out};
  if (code == kConflictExit) return gov::WitnessHttpReply{409, "text/x.tlog.size", out};
  return gov::WitnessHttpReply{500, "text/plain", "the witness command failed (exit " + std::to_string(code) + "; its error is above)"};
}

Result<gov::WitnessHttpReply> Ask(const std::string& witness, const std::string& body) {
  if (witness.rfind("http://", 0) == 0) return gov::PostAddCheckpoint(witness, body);
  return AskCommand(witness, body);
}

// The largest size `witness_vkey` cosigned among the stored cosignatures (0 when unknown).
uint64_t StoredSize(const std::string& dir, const std::string& witness_vkey) {
  if (witness_vkey.empty()) return 0;
  auto log = gov::LoadLog(dir);
  auto notes = gov::StoredCosignatures(dir);
  auto pub = ReadFile(dir + "/ledger.pub");
  if (!log.ok() || !notes.ok() || !pub.ok() || notes->empty()) return 0;
  auto origin = gov::NoteVerifier::Parse(*pub);
  if (!origin.ok()) return 0;
  auto seen = gov::CheckWitnessed(log->tree, origin->name(), {witness_vkey}, *notes);
  return seen.ok() ? (*seen)[0].size : 0;
}

Status Cosign(const std::string& dir, const std::string& witness, const std::string& witness_vkey) {
  uint64_t old = StoredSize(dir, witness_vkey);
  for (int attempt = 0;; ++attempt) {
    ARK_ASSIGN_OR_RETURN(gov::AddCheckpointRequest req, gov::CosignRequest(dir, old));
    ARK_ASSIGN_OR_RETURN(gov::WitnessHttpReply r, Ask(witness, gov::FormatAddCheckpoint(req)));
    if (r.status == 409 && attempt == 0) {
      uint64_t theirs = std::strtoull(r.body.c_str(), nullptr, 10);
      if (theirs != old) {
        old = theirs;  // the witness's own size: prove consistency from it
        continue;
      }
    }
    if (r.status == 409) {
      return Status::FailedPrecondition("witness " + witness + " refused: it has cosigned size " + r.body.substr(0, r.body.find('\n')) +
                                        " of this ledger with a different history (a fork or a rollback of the Ark's ledger)");
    }
    if (r.status != 200) {
      return Status::PermissionDenied("witness " + witness + " refused (HTTP " + std::to_string(r.status) + "): " + r.body);
    }
    ARK_RETURN_IF_ERROR(gov::StoreCosignatures(dir, req.checkpoint, r.body, witness_vkey));
    ARK_ASSIGN_OR_RETURN(gov::SplitNoteResult n, gov::SplitNote(req.checkpoint));
    ARK_ASSIGN_OR_RETURN(gov::Checkpoint cp, gov::Checkpoint::ParseBody(n.body));
    std::printf("checkpoint of size %llu cosigned (stored in %s/cosignatures.log):\n%s", static_cast<unsigned long long>(cp.size),
                dir.c_str(), r.body.c_str());
    return Status::OK();
  }
}

}  // namespace

int LedgerWitness(int argc, char** argv) {
  if (argc >= 2 && !std::strcmp(argv[1], "keygen")) return Keygen(argc - 1, argv + 1);
  if (argc >= 2 && !std::strcmp(argv[1], "latest")) return Latest(argc - 1, argv + 1);
  if (argc >= 2 && !std::strcmp(argv[1], "serve")) return Serve(argc - 1, argv + 1);
  return OneShot(argc, argv);
}

int LedgerCosign(int argc, char** argv) {
  CLI::App app("Ask a witness to cosign the ledger's latest checkpoint; store the cosignature in ARK/ledger/cosignatures.log.",
               "ark ledger cosign");
  std::string ark, witness, wkey;
  app.add_option("ark", ark, "Ark directory")->required();
  app.add_option("--witness", witness, "http://host:port of a tlog-witness, or a command that reads the request on stdin "
                                       "(e.g. 'ark ledger witness --key W.key --state DIR')")->required();
  app.add_option("--witness-key", wkey, "the witness's verifier key (string or file): its reply must verify");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  std::string vkey;
  if (!wkey.empty()) {
    auto k = KeyArg(wkey);
    if (!k.ok()) return ReportError(k.status());
    vkey = *k;
    while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r')) vkey.pop_back();
  }
  return ReportError(Cosign(gov::LedgerDirOf(ark), witness, vkey));
}

}  // namespace ark::cli
