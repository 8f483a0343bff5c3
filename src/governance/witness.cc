#include "governance/witness.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/private_files.h"
#include "governance/checkpoint.h"
#include "governance/encoding.h"
#include "privacy/key.h"

namespace ark::gov {
namespace {

constexpr size_t kMaxProofLines = 63;

std::string OriginId(const std::string& origin) {
  merkle::Hash h = merkle::Sha256(origin);
  return ToHex(h.data(), 8);
}

Result<uint64_t> ParseOldLine(const std::string& line) {
  if (line.rfind("old ", 0) != 0) return Status::InvalidArgument("add-checkpoint: line 1 must be 'old <size>'");
  std::string d = line.substr(4);
  uint64_t v = 0;
  if (d.empty() || (d.size() > 1 && d[0] == '0') || d.find_first_not_of("0123456789") != std::string::npos ||
      std::from_chars(d.data(), d.data() + d.size(), v).ec != std::errc()) {
    return Status::InvalidArgument("add-checkpoint: line 1: bad old size '" + d + "'");
  }
  return v;
}

// Holds an exclusive flock on a file for its life.
class DirLock {
 public:
  static Result<DirLock> Take(const std::string& path) {
    DirLock l;
    l.fd_ = OpenPrivate(path, O_RDWR | O_CREAT);
    if (l.fd_ < 0 || ::flock(l.fd_, LOCK_EX) != 0) return Status::IOError("cannot lock " + path);
    return l;
  }
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  DirLock() = default;
  int fd_ = -1;
};

}  // namespace

Result<AddCheckpointRequest> ParseAddCheckpoint(const std::string& body) {
  AddCheckpointRequest r;
  size_t pos = body.find('\n');
  if (pos == std::string::npos) return Status::InvalidArgument("add-checkpoint: no 'old <size>' line");
  ARK_ASSIGN_OR_RETURN(r.old_size, ParseOldLine(body.substr(0, pos)));
  ++pos;
  for (size_t n = 2;; ++n) {
    size_t e = body.find('\n', pos);
    if (e == std::string::npos) return Status::InvalidArgument("add-checkpoint: no empty line before the checkpoint");
    std::string line = body.substr(pos, e - pos);
    pos = e + 1;
    if (line.empty()) break;
    auto h = Base64Decode(line);
    if (!h || h->size() != 32) return Status::InvalidArgument("add-checkpoint: line " + std::to_string(n) + ": not a base64 hash");
    if (r.proof.size() == kMaxProofLines) return Status::InvalidArgument("add-checkpoint: more than 63 proof lines");
    r.proof.push_back(std::move(*h));
  }
  r.checkpoint = body.substr(pos);
  if (r.old_size == 0 && !r.proof.empty()) return Status::InvalidArgument("add-checkpoint: a proof from old size 0 must be empty");
  return r;
}

std::string FormatAddCheckpoint(const AddCheckpointRequest& req) {
  std::string s = "old " + std::to_string(req.old_size) + "\n";
  for (const std::string& h : req.proof) s += Base64Encode(h) + "\n";
  return s + "\n" + req.checkpoint;
}

Result<AddCheckpointRequest> RequestFromFiles(const std::string& checkpoint, const std::string& proof_text) {
  size_t first = proof_text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return ParseAddCheckpoint("old 0\n\n" + checkpoint);
  if (proof_text[first] != '{') {
    std::string head = proof_text;
    while (head.size() >= 2 && head.compare(head.size() - 2, 2, "\n\n") == 0) head.pop_back();
    if (head.empty() || head.back() != '\n') head += "\n";
    return ParseAddCheckpoint(head + "\n" + checkpoint);
  }
  nlohmann::json j = nlohmann::json::parse(proof_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("size1") || !j["size1"].is_number_unsigned() || !j.contains("proof") ||
      !j["proof"].is_array()) {
    return Status::InvalidArgument("proof file: expected the JSON of `ark ledger prove --from` (size1, size2, proof)");
  }
  std::string head = "old " + std::to_string(j["size1"].get<uint64_t>()) + "\n";
  for (const auto& h : j["proof"]) {
    if (!h.is_string()) return Status::InvalidArgument("proof file: 'proof' must hold base64 strings");
    head += h.get<std::string>() + "\n";
  }
  ARK_ASSIGN_OR_RETURN(AddCheckpointRequest r, ParseAddCheckpoint(head + "\n" + checkpoint));
  ARK_ASSIGN_OR_RETURN(SplitNoteResult n, SplitNote(checkpoint));
  ARK_ASSIGN_OR_RETURN(Checkpoint cp, Checkpoint::ParseBody(n.body));
  if (j.contains("size2") && (!j["size2"].is_number_unsigned() || j["size2"].get<uint64_t>() != cp.size)) {
    return Status::InvalidArgument("proof file: size2 is not the checkpoint's size " + std::to_string(cp.size));
  }
  return r;
}

int WitnessHttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kCorruption: return 422;
    default: return 500;
  }
}

Result<Witness> Witness::Open(const std::string& key_path, const std::string& state_dir) {
  Witness w;
  ARK_ASSIGN_OR_RETURN(w.cosigner_, Cosigner::Load(key_path));
  w.dir_ = state_dir;
  ARK_RETURN_IF_ERROR(MakeDirs(state_dir + "/logs"));
  ARK_RETURN_IF_ERROR(MakeDirs(state_dir + "/latest"));
  return w;
}

Status Witness::TrustLog(const std::string& vkey) {
  ARK_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::Parse(vkey));
  const std::string path = dir_ + "/logs/" + OriginId(v.name()) + ".vkey";
  ARK_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_ + "/LOCK"));
  if (PathExists(path)) {
    ARK_ASSIGN_OR_RETURN(std::string known, ReadFile(path));
    ARK_ASSIGN_OR_RETURN(NoteVerifier k, NoteVerifier::Parse(known));
    if (k.VerifierKey() == v.VerifierKey()) return Status::OK();
    return Status::FailedPrecondition("this witness already trusts a different key for log " + v.name() + " (" + path + ")");
  }
  return WriteFileAtomic(path, v.VerifierKey() + "\n");
}

Result<std::optional<std::string>> Witness::WitnessLatest(const std::string& state_dir, const std::string& origin) {
  const std::string path = state_dir + "/latest/" + OriginId(origin);
  if (!PathExists(path)) return std::optional<std::string>();
  ARK_ASSIGN_OR_RETURN(std::string note, ReadFile(path));
  return std::optional<std::string>(std::move(note));
}

Result<std::string> Witness::Add(const AddCheckpointRequest& req, uint64_t now, uint64_t* latest_size) {
  ARK_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_ + "/LOCK"));
  return AddLocked(req, now, latest_size);
}

Result<std::string> Witness::AddLocked(const AddCheckpointRequest& req, uint64_t now, uint64_t* latest_size) {
  ARK_ASSIGN_OR_RETURN(SplitNoteResult note, SplitNote(req.checkpoint));
  ARK_ASSIGN_OR_RETURN(Checkpoint cp, Checkpoint::ParseBody(note.body));
  const std::string vkey_path = dir_ + "/logs/" + OriginId(cp.origin) + ".vkey";
  if (!PathExists(vkey_path)) return Status::NotFound("unknown log '" + cp.origin + "': this witness does not trust it");
  ARK_ASSIGN_OR_RETURN(std::string vkey, ReadFile(vkey_path));
  ARK_ASSIGN_OR_RETURN(NoteVerifier log, NoteVerifier::Parse(vkey));
  ARK_RETURN_IF_ERROR(log.Open(req.checkpoint).status());  // 403 unless the log signed it
  if (req.old_size > cp.size) {
    return Status::InvalidArgument("old size " + std::to_string(req.old_size) + " is beyond the checkpoint's size " + std::to_string(cp.size));
  }
  ARK_ASSIGN_OR_RETURN(std::optional<std::string> latest_note, Latest(cp.origin));
  std::optional<Checkpoint> latest;
  if (latest_note) {
    ARK_ASSIGN_OR_RETURN(SplitNoteResult ln, SplitNote(*latest_note));
    ARK_ASSIGN_OR_RETURN(latest, Checkpoint::ParseBody(ln.body));
  }
  const uint64_t have = latest ? latest->size : 0;
  if (latest_size) *latest_size = have;
  Status refused;
  if (cp.size < have) {
    refused = Status::FailedPrecondition("rollback refused: this witness has cosigned size " + std::to_string(have) + " of " + cp.origin +
                                         "; the checkpoint has size " + std::to_string(cp.size));
  } else if (req.old_size != have) {
    return Status::FailedPrecondition("old size " + std::to_string(req.old_size) + " is not the size this witness last cosigned (" +
                                      std::to_string(have) + "): send a consistency proof from " + std::to_string(have));
  } else if (latest && cp.size == have && cp.root != latest->root) {
    refused = Status::FailedPrecondition("fork refused: a different root for size " + std::to_string(have) + " of " + cp.origin +
                                         " than the one this witness cosigned");
  } else if (latest && have > 0 && cp.size > have) {
    Status ok = merkle::VerifyConsistency(have, cp.size, req.proof, merkle::View(latest->root), merkle::View(cp.root));
    if (!ok.ok()) {
      refused = Status::Corruption("the checkpoint of size " + std::to_string(cp.size) + " does not extend the one of size " +
                                   std::to_string(have) + " this witness cosigned (a fork or rewritten history): " + ok.message());
    }
  }
  if (!refused.ok()) {
    KeepEvidence(req, refused);
    return refused;
  }
  ARK_ASSIGN_OR_RETURN(std::string line, cosigner_.Cosign(note.body, now));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/latest/" + OriginId(cp.origin), req.checkpoint + line));
  return line;
}

void Witness::KeepEvidence(const AddCheckpointRequest& req, const Status& why) const {
  std::string body = FormatAddCheckpoint(req);
  auto f = AppendFile::Open(dir_ + "/evidence.log", false);
  if (!f.ok()) return;
  (void)f->Append("refused " + std::to_string(WitnessHttpStatus(why)) + " " + std::to_string(body.size()) + "\n" + body);
  (void)f->Sync();
  (void)f->Close();
}

}  // namespace ark::gov
