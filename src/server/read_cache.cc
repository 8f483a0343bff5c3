#include "server/read_cache.h"

#include <sys/stat.h>

#include <unordered_map>

#include "core/fs.h"
#include "governance/ledger.h"

namespace ark::server {

namespace {
struct Kept {
  ino_t ino = 0;
  dev_t dev = 0;
  std::unique_ptr<Catalog> cat;
};
}  // namespace

Result<Catalog*> ThreadCatalog(const std::string& ark_dir) {
  thread_local std::unordered_map<std::string, Kept> kept;
  const std::string path = ark_dir + "/catalog.db";
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    kept.erase(ark_dir);
    return Catalog::Open(ark_dir).status();  // the Open's own error (not an Ark, ...)
  }
  Kept& k = kept[ark_dir];
  if (!k.cat || k.ino != st.st_ino || k.dev != st.st_dev) {
    k.cat.reset();
    ARK_ASSIGN_OR_RETURN(k.cat, Catalog::Open(ark_dir));
    k.ino = st.st_ino;
    k.dev = st.st_dev;
  }
  return k.cat.get();
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
