// An exclusive advisory lock on a file (flock), held by the one process that may append to,
// compact or publish versions of a store. The lock is released when the FileLock is destroyed or
// the process dies (kill -9 included), so a crashed writer never leaves a stale lock behind.
// Note that flock locks belong to an open file description: two FileLocks on the same path
// conflict even inside one process. Movable, not copyable; not thread-safe.
#pragma once

#include <string>

#include "ark/status.h"

namespace ark::store {

class FileLock {
 public:
  FileLock() = default;
  ~FileLock();
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Creates `path` if needed and locks it without waiting. FailedPrecondition if another holder
  // has it.
  static Result<FileLock> TryLock(const std::string& path);
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace ark::store
