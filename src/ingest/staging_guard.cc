#include "ingest/staging_guard.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

#include "core/fs.h"

namespace ark {
namespace {

// "000012-gp_extract": what ingest and import name a published batch directory.
bool IsBatchName(const std::string& name) {
  if (name.size() < 8 || name[6] != '-') return false;
  for (int i = 0; i < 6; ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

}  // namespace

Result<StagingGuard> StagingGuard::Acquire(Catalog& cat, std::vector<std::string>* removed) {
  const std::string staging = cat.ark_dir() + "/staging";
  ARK_RETURN_IF_ERROR(MakeDirs(staging));
  StagingGuard g;
  auto lock = store::FileLock::TryLock(cat.ark_dir() + "/staging.lock");
  if (!lock.ok()) {
    return Status::FailedPrecondition(cat.ark_dir() +
                                      ": another ingest or import is writing to this Ark; try "
                                      "again when it has finished");
  }
  g.lock_ = std::move(*lock);
  ARK_ASSIGN_OR_RETURN(auto listed, cat.Prepare("SELECT dir FROM batches"));
  std::set<std::string> known;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, listed->Step());
    if (!row) break;
    known.insert(std::filesystem::path(listed->Text(0)).filename().string());
  }
  std::error_code ec;
  std::vector<std::string> stale;
  for (const auto& e : std::filesystem::directory_iterator(staging, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory(ec)) continue;
    if (name.rfind(".tmp-", 0) == 0 || (IsBatchName(name) && !known.count(name))) {
      stale.push_back(name);
    }
  }
  if (ec) return Status::IOError("list " + staging + ": " + ec.message());
  for (const std::string& name : stale) {
    ARK_RETURN_IF_ERROR(RemoveAll(staging + "/" + name));
    if (removed) removed->push_back("staging/" + name);
  }
  return g;
}

void ReportRemoved(const std::vector<std::string>& removed) {
  for (const std::string& r : removed) {
    std::fprintf(stderr, "removed %s, left by an ingest or import that was interrupted\n", r.c_str());
  }
}

}  // namespace ark
