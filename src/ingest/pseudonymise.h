// Pseudonymisation at source: run by a custodian on its own extract, inside its own walls.
//
// Reads the raw extract described by a feed spec and writes the pseudonymised extract
// (docs/feed-specs.md, "Pseudonymised layout"): NHS numbers become HMAC-SHA256 pseudonyms under
// the programme key; names, full dates of birth, postcodes and local identifiers are dropped;
// year and month of birth, sex and LSOA are kept; each identity row gets an opaque record
// number (its 1-based row in the identity file). Only columns the spec names are carried into
// the output, so an unexpected identifier column cannot leak through.
//
// The output directory appears complete or not at all (written beside it, then renamed).
#pragma once

#include <map>
#include <string>

#include "ark/status.h"
#include "ingest/feed_spec.h"
#include "privacy/key.h"

namespace ark {

struct PseudonymiseReport {
  uint64_t records = 0;
  uint64_t nhs_valid = 0, nhs_missing = 0, nhs_invalid = 0;
  uint64_t dob_invalid = 0;     // unparseable or impossible dates of birth (birth left unknown)
  uint64_t sex_unknown = 0;
  uint64_t optouts = 0;         // opt-out list entries with a valid NHS number
  uint64_t optouts_invalid = 0;
  std::string optouts_sha256;  // SHA-256 of the written optouts.csv (empty: the spec has no opt-out list)
  uint64_t orphan_rows = 0;     // event rows whose local id is not in the identity file (dropped)
  std::map<std::string, uint64_t> files;  // output file -> data rows
  std::string key_fingerprint;
};

// REQUIRES: `out_dir` does not exist (or `replace` is true). Files are processed on `threads`
// threads; the output is the same byte for byte whatever the thread count.
Result<PseudonymiseReport> Pseudonymise(const FeedSpec& spec, const ProgrammeKey& key, const std::string& in_dir,
                                        const std::string& out_dir, bool replace = false, int threads = 2);

}  // namespace ark
