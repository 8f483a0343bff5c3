// One writer of ARK/staging at a time. `ark ingest` and the imports (OMOP, MEDS, FHIR) hold a
// StagingGuard while they write a batch: an exclusive lock on ARK/staging.lock (flock, released
// when the guard goes or the process dies, kill -9 included).
//
// Taking the guard also removes what a killed writer left behind, which no command ever
// acknowledged: ".tmp-*" directories (killed before publishing) and published batch directories
// ("NNNNNN-feed") that the catalog does not list (killed between the rename and the catalog's
// commit). Without this, the next batch would get the same number and fail with "already exists"
// forever. Other names in ARK/staging are left alone. Each removal is reported through `removed`.
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "store/file_lock.h"

namespace ark {

class StagingGuard {
 public:
  // FailedPrecondition naming ARK when another ingest or import holds the lock.
  static Result<StagingGuard> Acquire(Catalog& cat, std::vector<std::string>* removed = nullptr);

 private:
  store::FileLock lock_;
};

// Prints each removed path on stderr ("removed ARK-relative path left by an interrupted ...").
void ReportRemoved(const std::vector<std::string>& removed);

}  // namespace ark
