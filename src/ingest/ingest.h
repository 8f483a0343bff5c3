// `ark ingest`: loads pseudonymised extracts (the output of `ark pseudonymise`) into an Ark's
// staging area. Each extract is parsed with its feed spec, validated, dictionary-encoded and
// written as one staged batch (staging.h).
//
// Atomicity: one call is all or nothing. Every extract is parsed and written beside the staging
// area first; only when all succeeded are they renamed into place and recorded in the catalog
// in one transaction. A malformed row fails the call with file, line, column and field named —
// unless a quarantine directory is given, where bad rows are then set aside and reported.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark {

struct IngestOptions {
  std::string quarantine_dir;  // empty: a bad row fails the load
  int threads = 2;             // parser threads per file
};

struct IngestReport {
  std::string feed;
  int64_t batch = 0;
  uint64_t records = 0, events = 0, optouts = 0, quarantined = 0;
  std::map<std::string, uint64_t> rows;  // file -> data rows read
};

Result<std::vector<IngestReport>> Ingest(Catalog& catalog, const std::vector<std::string>& extract_dirs,
                                         const IngestOptions& options);

}  // namespace ark
