// Internal to the runs layer: holds a mutex, when one is given, for one scope (the callers pass
// the server's ledger mutex around each ledger append; the CLI passes none).
#pragma once

#include <mutex>

namespace ark::runs {

class MaybeLock {
 public:
  explicit MaybeLock(std::mutex* mu) : mu_(mu) {
    if (mu_) mu_->lock();
  }
  ~MaybeLock() {
    if (mu_) mu_->unlock();
  }
  MaybeLock(const MaybeLock&) = delete;
  MaybeLock& operator=(const MaybeLock&) = delete;

 private:
  std::mutex* mu_;
};

}  // namespace ark::runs
