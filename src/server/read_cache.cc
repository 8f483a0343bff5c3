#include "server/read_cache.h"

#include <sys/stat.h>

#include <atomic>
#include <unordered_map>

#include "core/fs.h"
#include "governance/ledger.h"

namespace ark::server {

namespace {
struct Answer {
  uint64_t opened = 0;   // Kept::opened when it was made
  int64_t version = -1;  // PRAGMA data_version when it was made
  std::string body;
};

struct Kept {
  ino_t ino = 0;
  dev_t dev = 0;
  uint64_t opened = 0;  // which opening of the file: a new number each time it is (re)opened
  std::unique_ptr<Catalog> cat;
  std::unique_ptr<Stmt> data_version;  // PRAGMA data_version on `cat`, prepared once (dies first)
  std::unordered_map<std::string, Answer> answers;
};

uint64_t NextOpening() {
  static std::atomic<uint64_t> n{0};
  return ++n;
}

// This thread's kept connection to ark_dir's catalog, (re)opened as ThreadCatalog says.
Result<Kept*> KeptFor(const std::string& ark_dir) {
  thread_local std::unordered_map<std::string, Kept> kept;
  const std::string path = ark_dir + "/catalog.db";
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    kept.erase(ark_dir);
    return Catalog::Open(ark_dir).status();  // the Open's own error (not an Ark, ...)
  }
  Kept& k = kept[ark_dir];
  if (!k.cat || k.ino != st.st_ino || k.dev != st.st_dev) {
    k.data_version.reset();
    k.answers.clear();
    k.cat.reset();
    ARK_ASSIGN_OR_RETURN(k.cat, Catalog::Open(ark_dir));
    k.ino = st.st_ino;
    k.dev = st.st_dev;
    k.opened = NextOpening();
  }
  return &k;
}
}  // namespace

Result<Catalog*> ThreadCatalog(const std::string& ark_dir) {
  ARK_ASSIGN_OR_RETURN(Kept * k, KeptFor(ark_dir));
  return k->cat.get();
}

Result<std::string> CatalogAnswer(const std::string& ark_dir, const std::string& key,
                                  const std::function<Result<std::string>(Catalog&)>& compute) {
  ARK_ASSIGN_OR_RETURN(Kept * k, KeptFor(ark_dir));
  if (!k->data_version) {
    ARK_ASSIGN_OR_RETURN(k->data_version, k->cat->Prepare("PRAGMA data_version"));
  }
  const Result<bool> row = k->data_version->Step();
  const int64_t version = row.ok() && *row ? k->data_version->Int(0) : -1;
  k->data_version->Reset();  // no read transaction is left open between requests
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(ark_dir + "/catalog.db: PRAGMA data_version returned no row");
  auto it = k->answers.find(key);
  if (it != k->answers.end() && it->second.opened == k->opened && it->second.version == version) return it->second.body;
  ARK_ASSIGN_OR_RETURN(std::string body, compute(*k->cat));
  if (k->answers.size() >= 256) k->answers.clear();
  k->answers[key] = Answer{k->opened, version, body};
  return body;
}

Result<std::shared_ptr<const SignedCheckpoint>> CheckpointCache::Get(const std::string& ark_dir) {
  const std::string dir = gov::LedgerDirOf(ark_dir);
  const std::string files[2] = {dir + "/checkpoint", dir + "/ledger.pub"};
  Key key;
  for (int i = 0; i < 2; ++i) {
    struct stat st{};
    if (::stat(files[i].c_str(), &st) != 0) {
      if (i == 0) return Status::NotFound("this Ark has no ledger yet");
      return Status::IOError(files[i] + ": cannot be read");
    }
    key.ino[i] = st.st_ino;
    key.size[i] = st.st_size;
    key.mtime_ns[i] = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (value_ && key == key_) return value_;
  }
  auto s = std::make_shared<SignedCheckpoint>();
  ARK_ASSIGN_OR_RETURN(s->note, ReadFile(files[0]));
  ARK_ASSIGN_OR_RETURN(s->vkey, ReadFile(files[1]));
  while (!s->vkey.empty() && (s->vkey.back() == '\n' || s->vkey.back() == '\r')) s->vkey.pop_back();
  ARK_ASSIGN_OR_RETURN(auto verifier, gov::NoteVerifier::Parse(s->vkey));
  ARK_ASSIGN_OR_RETURN(std::string body, verifier.Open(s->note));
  ARK_ASSIGN_OR_RETURN(s->cp, gov::Checkpoint::ParseBody(body));
  std::lock_guard<std::mutex> l(mu_);
  key_ = key;
  value_ = std::move(s);
  return value_;
}

}  // namespace ark::server
