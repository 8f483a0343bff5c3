// `ark import-clks`: a batch of pre-encoded CLKs (anonlink/clkhash's clks.json: base64, 1024 bits
// each) staged into an Ark for `ark link --mode pprl`, for a custodian that holds only CLKs (no
// per-field Bloom filters, no plaintext). docs/linkage.md "Pre-encoded CLKs in an Ark".
//
// The batch is an ordinary staged batch (ingest/staging.h) with one record per CLK, no events,
// the Ark's encoding layout with no field present (only the CLK), and a catalog manifest with
// "kind": "clks". `ark link --mode pprl` compares its records with every other record on the CLK
// (LinkInput::clk_only) and blocks them by LSH bands of sampled CLK bits.
//
// Optional ids file (CSV, one row per CLK in clks.json order): column `id` (required, non-empty,
// unique: the custodian's record id, checked and then dropped — it never enters the Ark) and
// column `nhs_pseudonym` (optional: 64 hex digits, the keyed NHS-number pseudonym made with the
// programme key, as `ark pseudonymise` writes it; empty = none). Records with a pseudonym take
// part in the rule that two different valid pseudonyms never merge.
//
// All or nothing: every check runs before anything is written; then the batch is written beside
// the staging area, renamed into place and recorded in the catalog in one transaction (removed
// again if the commit fails). Errors name the file, the entry or line, and the field.
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark {

struct ClkImportOptions {
  std::string source;      // the batch's feed name: [a-z0-9_]+
  std::string clks_path;   // clks.json
  std::string ids_path;    // optional ids CSV (see above)
  bool one_record_per_person = false;  // the source holds at most one record per person
};

struct ClkImportReport {
  int64_t batch = 0;
  uint64_t records = 0, with_pseudonym = 0;
};

Result<ClkImportReport> ImportClks(Catalog& catalog, const ClkImportOptions& options);

}  // namespace ark
