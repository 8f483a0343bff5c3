// Internal to the runs layer: the steps every governed run, pathway analysis and export shares.
// The callers pass the server's ledger mutex (held around each ledger append); the CLI passes none.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/gate.h"
#include "study/engine.h"

namespace ark::runs {

// Holds `mu`, when one is given, for one scope.
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

// gov::Admit with `mu` held (a refusal goes on the ledger).
inline Result<gov::Access> AdmitLocked(Catalog& cat, const gov::GateRequest& g, std::mutex* mu) {
  MaybeLock l(mu);
  return gov::Admit(cat, g);
}

// Entering stage `name` at `fraction` of the work: study::Cancelled when `cancelled` says so
// (nothing may be written or recorded after it), else reported through `progress`. Either may be empty.
inline Status EnterStage(const std::function<bool()>& cancelled,
                         const std::function<void(const std::string&, double)>& progress, const char* name,
                         double fraction) {
  if (cancelled && cancelled()) return study::Cancelled(name);
  if (progress) progress(name, fraction);
  return Status::OK();
}

}  // namespace ark::runs
