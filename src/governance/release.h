// Output checking: a run's outputs are held inside the Ark; `SubmitOutput` runs the automatic
// disclosure checks and writes an ACRO-compatible results.json; a checker who is not the author
// approves or rejects each output with a reason; an output is released only when two different
// checkers, neither of them its author, have approved it (as OpenSAFELY: two independent reviews);
// only then is it copied to the release folder (ARK/releases/<project>/). Patient-level files are refused at submission, as is an
// output whose population differs from an earlier one of the project by 1..9 people.
//
//   ARK/outputs/<id>/<name>        the published (disclosure-controlled) form of the output
//   ARK/outputs/<id>/results.json  ACRO-style: uid, status, type, properties, files (with sha256
//                                  and checks), outcome, command, summary, timestamp, comments,
//                                  exception
#pragma once

#include <string>
#include <vector>

#include "disclosure/sdc.h"
#include "governance/governance.h"

namespace ark::gov {

struct OutputReview {
  std::string checker, decision, reason, at;  // decision: approve | reject
};

struct OutputRecord {
  int64_t id = 0;
  std::string project, author, name, path, sha256, kind, status, state, checker, reason, submitted_at, decided_at;
  int64_t run = 0, population = 0;
  std::vector<OutputReview> reviews;  // in order (gov_output_reviews)
};

// The output's population is always the run's, as the Ark recorded it (never a number given).
struct SubmitOptions {
  std::string kind = "table";  // table | regression
  sdc::SdcOptions sdc;         // the rule set (default opensafely)
  int64_t residual_dof = -1;   // regression outputs: required
  int64_t differencing_threshold = 10;
  // Differential privacy instead of redaction and rounding (tables only): every cell gets
  // discrete Laplace noise at this epsilon (a decimal, "0.5"; sensitivity 1: each person is in
  // one cell), spent from the project's budget (SpendDpBudget) — refused, and logged, when the
  // budget would be exceeded. Empty = off. The output goes to review (a checker still decides).
  std::string dp_epsilon;
};

Result<OutputRecord> SubmitOutput(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& project, int64_t run,
                                  const std::string& file, const SubmitOptions& o);
// A review by an output checker who is not the author; a reason is always required.
// approve=true: the first approval is recorded (gov_output_reviews, `output.reviewed` on the
// ledger) and the output stays "submitted"; the approval of a second, different checker releases
// it (state "approved", copied to ARK/releases/<project>/, `output.released`). The same checker
// approving twice is refused (PermissionDenied, logged). approve=false rejects at once (state
// "rejected", `output.rejected`). Failed automatic checks and a project that is not approved
// (suspended, revoked) release nothing; the file's hash is re-checked at every decision.
Result<OutputRecord> DecideOutput(Catalog& cat, Ledger& ledger, const Actor& by, int64_t output, bool approve,
                                  const std::string& reason);
// A measure table (`ark run`'s shape, in `file`) published under its check `t` (sdc::CheckTable of
// sdc::ReadCountCsv(file)): same columns and rows, numerator and denominator as the rules publish
// them, the ratio redacted where either count is hidden, else recomputed from the published counts.
// This is the released form (`ark release`), and what a network site answers (src/network/).
Result<std::string> PublishedMeasureCsv(const std::string& file, const sdc::TableCheck& t);
Result<std::vector<OutputRecord>> ListOutputs(Catalog& cat, const std::string& project = "");
nlohmann::ordered_json OutputJson(const OutputRecord& r);

}  // namespace ark::gov
