#include "governance/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/private_files.h"
#include "governance/cosign.h"
#include "governance/ledger_key.h"
#include "privacy/key.h"

namespace ark::gov {
namespace {

constexpr const char* kEntries = "/entries.jsonl";
constexpr const char* kCheckpoint = "/checkpoint";          // latest (bundles; a convenience copy in an Ark)
constexpr const char* kCheckpoints = "/checkpoints.log";    // every signed checkpoint, appended durably
constexpr const char* kPub = "/ledger.pub";
constexpr const char* kPending = "/pending";
constexpr const char* kLock = "/LOCK";
constexpr const char* kCosignaturesLog = "/cosignatures.log";  // the batch being appended (see Ledger::Append)

// Test hook: ARK_LEDGER_TEST_CRASH=after-pending|torn-entries|after-entries makes Append exit
// the process at that point, as a crash would (tests run it in a forked child).
void MaybeCrash(const char* point) {
  const char* v = std::getenv("ARK_LEDGER_TEST_CRASH");
  if (v && std::strcmp(v, point) == 0) ::_exit(9);
}

// Checks one entry line: a JSON object that opens with "seq" holding the line's number. (A full
// JSON parse per line would dominate verification time; the Merkle root covers every byte anyway.)
Status CheckLine(std::string_view line, uint64_t i) {
  constexpr std::string_view kOpen = "{\"seq\":";
  uint64_t seq = 0;
  size_t p = kOpen.size();
  bool ok = line.size() > p && line.substr(0, p) == kOpen && line.back() == '}';
  if (ok) {
    size_t d = p;
    while (p < line.size() && line[p] >= '0' && line[p] <= '9' && p - d < 19) seq = seq * 10 + (line[p++] - '0');
    ok = p > d && (line[p] == ',' || line[p] == '}');
  }
  if (!ok) return Status::Corruption("entry " + std::to_string(i) + " is malformed (altered)");
  if (seq != i) {
    return Status::Corruption("entry at position " + std::to_string(i) + " carries seq " + std::to_string(seq) +
                              ": entries were removed, inserted or reordered");
  }
  return Status::OK();
}

}  // namespace

// Records of checkpoints.log: "note <bytes>\n" then the note. A torn last record (a crash while
// appending) is ignored: its batch was not committed.
Result<std::vector<std::string>> ReadNoteLog(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string s, ReadFile(path));
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos || s.compare(pos, 5, "note ") != 0) break;
    size_t len = std::strtoull(s.c_str() + pos + 5, nullptr, 10);
    if (len == 0 || nl + 1 + len > s.size()) break;
    out.push_back(s.substr(nl + 1, len));
    pos = nl + 1 + len;
  }
  return out;
}

namespace {

// The checkpoints to check: every one in checkpoints.log (an Ark), or the single `checkpoint` file
// (a bundle). The last is the latest. An Ark's ledger directory (it has a LOCK) without its
// checkpoints.log is refused: the log was deleted.
Result<std::vector<std::string>> Checkpoints(const std::string& dir) {
  if (PathExists(dir + kCheckpoints)) {
    ARK_ASSIGN_OR_RETURN(auto v, ReadNoteLog(dir + kCheckpoints));
    if (v.empty()) return Status::Corruption(dir + kCheckpoints + ": no complete signed checkpoint");
    return v;
  }
  if (PathExists(dir + kLock)) {
    return Status::Corruption(dir + kCheckpoints + " is missing: an Ark's ledger keeps every signed checkpoint there (deleted?)");
  }
  ARK_ASSIGN_OR_RETURN(std::string note, ReadFile(dir + kCheckpoint));
  return std::vector<std::string>{note};
}

Result<std::string> ReadTrimmed(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string s, ReadFile(path));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string LedgerDirOf(const std::string& path) {
  if (PathExists(path + kEntries)) return path;
  return path + "/ledger";
}

Result<LoadedLog> LoadLog(const std::string& dir) {
  LoadedLog log;
  ARK_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(dir + kEntries));
  std::string_view v = f.view();
  if (!v.empty() && v.back() != '\n') return Status::Corruption(dir + kEntries + ": the last entry is torn (no final newline)");
  size_t pos = 0;
  while (pos < v.size()) {
    size_t e = v.find('\n', pos);
    std::string_view line = v.substr(pos, e - pos);
    log.tree.Append(merkle::LeafHash(line));
    log.lines.emplace_back(line);
    pos = e + 1;
  }
  return log;
}

Result<LedgerReport> VerifyLedger(const std::string& dir, const std::optional<std::string>& vkey_in,
                                  const std::optional<std::string>& earlier) {
  VerifyOptions opts;
  opts.vkey = vkey_in;
  opts.earlier = earlier;
  return VerifyLedger(dir, opts);
}

Result<LedgerReport> VerifyLedger(const std::string& dir, const VerifyOptions& opts) {
  const std::optional<std::string>& vkey_in = opts.vkey;
  const std::optional<std::string>& earlier = opts.earlier;
  if (!PathExists(dir + kEntries)) return Status::NotFound(dir + ": no ledger here (no entries.jsonl)");
  std::string vkey;
  if (vkey_in) {
    vkey = *vkey_in;
  } else {
    ARK_ASSIGN_OR_RETURN(vkey, ReadTrimmed(dir + kPub));
  }
  ARK_ASSIGN_OR_RETURN(NoteVerifier verifier, NoteVerifier::Parse(vkey));
  ARK_ASSIGN_OR_RETURN(auto notes, Checkpoints(dir));
  std::vector<Checkpoint> cps;
  for (auto& note : notes) {
    auto body = verifier.Open(note);
    if (!body.ok()) return body.status().WithContext("signed checkpoint " + std::to_string(cps.size()));
    ARK_ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(*body));
    if (c.origin != verifier.name()) return Status::PermissionDenied("checkpoint origin '" + c.origin + "' is not the key's log '" + verifier.name() + "'");
    if (!cps.empty() && c.size < cps.back().size) return Status::Corruption("signed checkpoints go backwards: entries were removed");
    cps.push_back(c);
  }
  const Checkpoint cp = cps.back();

  // Entries: parse each line; the tree over the checkpoint's prefix must give its root.
  ARK_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(dir + kEntries));
  std::string_view v = f.view();
  if (!v.empty() && v.back() != '\n') return Status::Corruption("the last entry is torn or was edited (no final newline)");
  // Line boundaries, then leaf hashes and line checks on two threads, then the tree's levels.
  std::vector<size_t> starts;
  starts.reserve(v.size() / 128 + 1);
  for (size_t pos = 0; pos < v.size();) {
    starts.push_back(pos);
    const void* nl = std::memchr(v.data() + pos, '\n', v.size() - pos);
    pos = static_cast<const char*>(nl) - v.data() + 1;
  }
  const uint64_t n = starts.size();
  std::vector<merkle::Hash> leaves(n);
  uint64_t bad_at = UINT64_MAX;  // the first malformed line
  std::mutex mu;
  merkle::ParallelRanges(n, 2, [&](uint64_t b, uint64_t e) {
    uint64_t first_bad_here = UINT64_MAX;
    for (uint64_t i = b; i < e; ++i) {
      size_t end = (i + 1 < n ? starts[i + 1] : v.size()) - 1;
      std::string_view line = v.substr(starts[i], end - starts[i]);
      leaves[i] = merkle::LeafHash(line);
      if (first_bad_here == UINT64_MAX && !CheckLine(line, i).ok()) first_bad_here = i;
    }
    std::lock_guard<std::mutex> lock(mu);
    bad_at = std::min(bad_at, first_bad_here);
  });
  Status first_bad;
  if (uint64_t b = bad_at; b != UINT64_MAX) {
    size_t end = (b + 1 < n ? starts[b + 1] : v.size()) - 1;
    first_bad = CheckLine(v.substr(starts[b], end - starts[b]), b);
  }
  merkle::MerkleTree tree = merkle::MerkleTree::Build(std::move(leaves), 2);
  LedgerReport rep;
  rep.entries = tree.size();
  rep.checkpoint = cp;
  rep.note = notes.back();
  rep.verifier_key = vkey;
  if (tree.size() < cp.size) {
    return Status::Corruption("the log has " + std::to_string(tree.size()) + " entries but the signed checkpoint covers " +
                              std::to_string(cp.size) + ": entries were removed");
  }
  // Every signed checkpoint, latest first, must be the root of its prefix of the log.
  for (size_t i = cps.size(); i-- > 0;) {
    if (*tree.Root(cps[i].size) == cps[i].root) continue;
    if (!first_bad.ok()) return first_bad;
    return Status::Corruption("the Merkle root of the first " + std::to_string(cps[i].size) +
                              " entries does not match the signed checkpoint: entries were altered or reordered");
  }
  if (!first_bad.ok()) return first_bad;  // beyond the checkpoint
  if (tree.size() > cp.size) {
    return Status::Corruption(std::to_string(tree.size() - cp.size) + " entries after the latest signed checkpoint (size " +
                              std::to_string(cp.size) + "): appended behind the ledger's back");
  }
  if (earlier) {
    auto eb = verifier.Open(*earlier);
    if (!eb.ok()) return eb.status().WithContext("earlier checkpoint");
    ARK_ASSIGN_OR_RETURN(Checkpoint ec, Checkpoint::ParseBody(*eb));
    if (ec.size > cp.size) return Status::Corruption("the log is shorter than an earlier published checkpoint: entries were removed");
    if (*tree.Root(ec.size) != ec.root) {
      return Status::Corruption("the log does not extend the earlier published checkpoint of size " + std::to_string(ec.size) +
                                ": history was rewritten");
    }
  }
  if (!opts.witnesses.empty()) {
    ARK_ASSIGN_OR_RETURN(std::vector<std::string> cosigned, StoredCosignatures(dir));
    cosigned.insert(cosigned.end(), opts.cosigned.begin(), opts.cosigned.end());
    ARK_ASSIGN_OR_RETURN(auto seen, CheckWitnessed(tree, cp.origin, opts.witnesses, cosigned));
    for (const Witnessed& w : seen) rep.witnessed.emplace_back(w.witness, w.size);
  }
  return rep;
}

namespace {

// The ledgers this process has open, by canonical directory: a second Ledger on the same
// directory would wait forever for the first one's lock, so AppendToArkLedger goes through it.
std::mutex g_open_mu;
std::map<std::string, Ledger*>& OpenLedgers() {
  static std::map<std::string, Ledger*> open;
  return open;
}
std::string CanonicalDir(const std::string& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  return ec ? dir : p.string();
}

}  // namespace

Ledger::~Ledger() {
  {
    std::lock_guard<std::mutex> l(g_open_mu);
    auto it = OpenLedgers().find(CanonicalDir(dir_));
    if (it != OpenLedgers().end() && it->second == this) OpenLedgers().erase(it);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<uint64_t> AppendToArkLedger(const std::string& ark_dir, Json entry) {
  return AppendBatchToArkLedger(ark_dir, std::vector<Json>{std::move(entry)});
}

Result<uint64_t> AppendBatchToArkLedger(const std::string& ark_dir, std::vector<Json> entries) {
  {
    std::lock_guard<std::mutex> l(g_open_mu);
    auto it = OpenLedgers().find(CanonicalDir(ark_dir + "/ledger"));
    if (it != OpenLedgers().end()) return it->second->Append(std::move(entries));
  }
  ARK_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(ark_dir));
  return ledger->Append(std::move(entries));
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& ark_dir) {
  std::unique_ptr<Ledger> l(new Ledger());
  l->dir_ = ark_dir + "/ledger";
  ARK_RETURN_IF_ERROR(MakeDirs(l->dir_));
  std::string lock = l->dir_ + kLock;
  l->lock_fd_ = OpenPrivate(lock, O_RDWR | O_CREAT);
  if (l->lock_fd_ < 0 || ::flock(l->lock_fd_, LOCK_EX) != 0) return Status::IOError("cannot lock " + lock);
  // New (or a first use that died before its first checkpoint): nothing signed, no entries.
  std::error_code ec;
  const bool fresh = !PathExists(l->dir_ + kCheckpoints) &&
                     (!PathExists(l->dir_ + kEntries) || std::filesystem::file_size(l->dir_ + kEntries, ec) == 0);
  if (fresh) {
    // First use: a fresh signing key (outside the Ark), an empty log and a signed checkpoint.
    ARK_ASSIGN_OR_RETURN(NoteSigner s, CreateLedgerKey(ark_dir));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(l->dir_ + kEntries, ""));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(l->dir_ + kPub, s.VerifierKey() + "\n"));
    l->signer_ = std::make_unique<NoteSigner>(std::move(s));
    ARK_RETURN_IF_ERROR(l->SignCheckpoint());
    ARK_RETURN_IF_ERROR(FsyncPath(l->dir_));
  } else {
    auto vkey = ReadTrimmed(l->dir_ + kPub);
    if (!vkey.ok()) return vkey.status().WithContext("the ledger has entries or checkpoints but no verifier key");
    ARK_ASSIGN_OR_RETURN(NoteSigner s, LoadLedgerKey(ark_dir, *vkey));
    l->signer_ = std::make_unique<NoteSigner>(std::move(s));
    ARK_RETURN_IF_ERROR(l->Recover());
    VerifyOptions opts;
    opts.vkey = l->signer_->VerifierKey();
    auto rep = VerifyLedger(l->dir_, opts);
    if (!rep.ok()) return rep.status().WithContext("the ledger does not verify; refusing to append (run `ark ledger verify`)");
    ARK_ASSIGN_OR_RETURN(LoadedLog log, LoadLog(l->dir_));
    l->tree_ = std::move(log.tree);
    ARK_ASSIGN_OR_RETURN(auto notes, Checkpoints(l->dir_));
    l->checkpoint_ = notes.back();
  }
  std::lock_guard<std::mutex> g(g_open_mu);
  OpenLedgers()[CanonicalDir(l->dir_)] = l.get();
  return l;
}

Status Ledger::Recover() {
  if (!PathExists(dir_ + kPending)) return Status::OK();
  ARK_ASSIGN_OR_RETURN(std::string intent, ReadFile(dir_ + kPending));
  uint64_t before = 0, after = 0;
  char root_hex[65] = {0};
  if (std::sscanf(intent.c_str(), "size %llu\nsize_after %llu\nroot %64s", reinterpret_cast<unsigned long long*>(&before),
                  reinterpret_cast<unsigned long long*>(&after), root_hex) != 3) {
    // A torn intent: its batch never started writing entries.
    std::remove((dir_ + kPending).c_str());
    return Status::OK();
  }
  ARK_ASSIGN_OR_RETURN(auto notes, Checkpoints(dir_));
  ARK_ASSIGN_OR_RETURN(NoteVerifier verifier, NoteVerifier::Parse(signer_->VerifierKey()));
  ARK_ASSIGN_OR_RETURN(std::string body, verifier.Open(notes.back()));
  ARK_ASSIGN_OR_RETURN(Checkpoint cp, Checkpoint::ParseBody(body));
  if (cp.size == after || cp.size != before) {  // the batch was committed, or the intent is not about this state
    std::remove((dir_ + kPending).c_str());
    return Status::OK();
  }
  // Entries: the complete lines, and where line `before` ends.
  ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(dir_ + kEntries));
  uint64_t lines = 0, cut = 0;
  merkle::MerkleTree t;
  for (size_t pos = 0; pos < data.size();) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;  // a torn last line
    t.Append(merkle::LeafHash(std::string_view(data).substr(pos, nl - pos)));
    ++lines;
    pos = nl + 1;
    if (lines == before) cut = pos;
  }
  if (before == 0) cut = 0;
  if (lines < before) return Status::OK();  // entries were removed: VerifyLedger says so
  const bool complete = lines == after && data.size() > 0 && data.back() == '\n' && ToHex(t.Root().data(), 32) == root_hex;
  if (complete) {
    tree_ = std::move(t);
    ARK_RETURN_IF_ERROR(SignCheckpoint());  // roll forward: the batch was durable, only its checkpoint was missing
  } else if (lines <= after) {
    // Roll back a batch that was cut short (it was never acknowledged).
    if (::truncate((dir_ + kEntries).c_str(), static_cast<off_t>(cut)) != 0) return Status::IOError("truncate " + dir_ + kEntries);
    ARK_RETURN_IF_ERROR(FsyncPath(dir_ + kEntries));
  } else {
    return Status::OK();  // more entries than the intent: appended behind the ledger's back
  }
  std::remove((dir_ + kPending).c_str());
  return Status::OK();
}

Status Ledger::SignCheckpoint() {
  Checkpoint cp;
  cp.origin = signer_->name();
  cp.size = tree_.size();
  cp.root = tree_.Root();
  ARK_ASSIGN_OR_RETURN(checkpoint_, signer_->SignNote(cp.Body()));
  // The durable record is the append to checkpoints.log (one fdatasync); `checkpoint` is a
  // convenience copy for people and tools, replaced without fsync (it is rewritten from the log
  // on the next commit, and verification reads the log).
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(dir_ + kCheckpoints, false));
  ARK_RETURN_IF_ERROR(f.Append("note " + std::to_string(checkpoint_.size()) + "\n" + checkpoint_));
  ARK_RETURN_IF_ERROR(f.Sync());
  ARK_RETURN_IF_ERROR(f.Close());
  std::string tmp = dir_ + kCheckpoint + ".tmp";
  {
    ARK_ASSIGN_OR_RETURN(AppendFile c, AppendFile::Open(tmp, true));
    ARK_RETURN_IF_ERROR(c.Append(checkpoint_));
    ARK_RETURN_IF_ERROR(c.Close());
  }
  if (std::rename(tmp.c_str(), (dir_ + kCheckpoint).c_str()) != 0) return Status::IOError("rename " + tmp);
  return Status::OK();
}

Result<uint64_t> Ledger::Append(std::vector<Json> entries) {
  uint64_t first = tree_.size();
  std::string now = UtcNow();
  std::string buf;
  std::vector<merkle::Hash> hashes;
  hashes.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].is_object()) return Status::InvalidArgument("a ledger entry must be a JSON object");
    Json e;
    e["seq"] = first + i;
    e["time"] = entries[i].contains("time") ? entries[i]["time"] : Json(now);
    for (auto& [k, val] : entries[i].items()) {
      if (k != "seq" && k != "time") e[k] = val;
    }
    std::string line = e.dump(-1, ' ', false, Json::error_handler_t::replace);
    hashes.push_back(merkle::LeafHash(line));
    buf += line;
    buf += '\n';
  }
  // The intent first (durable): the sizes before and after and the new root. If the process
  // dies after the entries are written but before the checkpoint is signed, the next Open finds
  // the intent and finishes the batch (roll forward), or removes a partly written batch (roll
  // back); entries beyond the checkpoint without a matching intent stay an error.
  merkle::MerkleTree next = tree_;
  for (const auto& h : hashes) next.Append(h);
  {
    ARK_ASSIGN_OR_RETURN(AppendFile p, AppendFile::Open(dir_ + kPending, true));
    ARK_RETURN_IF_ERROR(p.Append("size " + std::to_string(first) + "\nsize_after " + std::to_string(next.size()) +
                                 "\nroot " + ToHex(next.Root().data(), 32) + "\n"));
    ARK_RETURN_IF_ERROR(p.Sync());
    ARK_RETURN_IF_ERROR(p.Close());
  }
  MaybeCrash("after-pending");
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(dir_ + kEntries, false));
  if (std::getenv("ARK_LEDGER_TEST_CRASH") && std::strcmp(std::getenv("ARK_LEDGER_TEST_CRASH"), "torn-entries") == 0) {
    (void)f.Append(std::string_view(buf).substr(0, buf.size() / 2));
    (void)f.Sync();
    ::_exit(9);
  }
  ARK_RETURN_IF_ERROR(f.Append(buf));
  ARK_RETURN_IF_ERROR(f.Sync());
  ARK_RETURN_IF_ERROR(f.Close());
  MaybeCrash("after-entries");
  tree_ = std::move(next);
  ARK_RETURN_IF_ERROR(SignCheckpoint());
  std::remove((dir_ + kPending).c_str());  // no fsync needed: a stale intent is recognised as done
  return first;
}

Status ExportLedger(const std::string& ark_dir, const std::string& out_dir) {
  std::string dir = LedgerDirOf(ark_dir);
  ARK_ASSIGN_OR_RETURN(LedgerReport rep, VerifyLedger(dir));
  ARK_RETURN_IF_ERROR(MakeDirs(out_dir));
  ARK_ASSIGN_OR_RETURN(auto notes, Checkpoints(dir));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(out_dir + kCheckpoint, notes.back()));
  if (PathExists(dir + kCosignaturesLog)) {
    ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(dir + kCosignaturesLog));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(out_dir + kCosignaturesLog, data));
  }
  for (const char* name : {kEntries, kPub}) {
    ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(dir + name));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(out_dir + name, data));
  }
  return Status::OK();
}

}  // namespace ark::gov
