// The citizen's receipt, with proof of who asks (docs/governance.md, "The citizen's receipt").
//
// The custodian (the GP practice, which knows the citizen and computes their pseudonym from the
// NHS number with the programme key) issues a receipt code bound to that pseudonym
// (IssueReceiptCode: a user with the `custodian` or `admin` role). The Ark stores only the code's
// SHA-256 beside the pseudonym (table gov_receipt_codes); the code is shown once. The citizen then
// asks with the code alone (CitizenReceipt): the projects whose runs included them and when, and
// nothing about anyone else. `ark citizen issue-code|receipt` call these functions.
//
// A wrong (or spent one-time) code is refused and the refusal is on the ledger, throttled: at most
// kLedgeredRefusals refusals per kWindowSeconds go on the ledger (the rest are counted, and the
// next ledgered refusal carries the count), and after kLockoutFailures wrong codes in a window every
// code is refused until the window has passed (a code has 128 random bits, so guessing is hopeless
// anyway; this keeps a flood of guesses from flooding the ledger).
//
// Thread safety: one Catalog per thread, as for the catalog.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/governance.h"

namespace ark::gov {

inline constexpr int64_t kWindowSeconds = 600;
inline constexpr int64_t kLedgeredRefusals = 5;
inline constexpr int64_t kLockoutFailures = 20;

// Issues a code for `pseudonym_hex` (64 hex); returns it (shown once). `one_time`: the code works
// once. PermissionDenied (logged) unless `by` holds `custodian` or `admin`. Appends
// "citizen.code_issued" (by, one_time; never the pseudonym) to the ledger.
Result<std::string> IssueReceiptCode(Catalog& cat, const Actor& by, const std::string& pseudonym_hex, bool one_time);

// The receipt for the citizen whose code this is (CitizenUses of the code's pseudonym).
// PermissionDenied for a wrong or spent code (ledgered, throttled as above).
Result<std::vector<Use>> CitizenReceipt(Catalog& cat, const std::string& code, int64_t now_unix);

// True while wrong codes have locked every code out (kLockoutFailures in the last window): the
// API answers 429 rather than 403 then.
Result<bool> ReceiptLockedOut(Catalog& cat, int64_t now_unix);

// What a citizen sees with their code: the uses (as CitizenReceipt), and the opt-outs on record
// for them: "local" (an objection they recorded here), "national", "type1" (lists loaded from
// custodians).
struct CitizenView {
  std::vector<Use> uses;
  std::vector<std::string> optouts;
  bool objected() const;  // "local" is among optouts
};
// CitizenReceipt with the opt-outs on record. Refusals as CitizenReceipt.
Result<CitizenView> CitizenLookup(Catalog& cat, const std::string& code, int64_t now_unix);
// The citizen records a local objection (opt-out, kind "local"): from the next run on, every
// population of a project whose opt-outs apply (OptOutsApply) leaves them out (FilterPopulation),
// and a run whose population includes them is refused (RecordRun) — fail closed: the objection is
// written before the function returns OK. Appends "citizen.objected" (kind; never the pseudonym
// nor the code) to the ledger; recording it again changes nothing and adds no entry. A one-time
// code is spent by this call. Refusals as CitizenReceipt.
Result<CitizenView> RecordObjection(Catalog& cat, const std::string& code, int64_t now_unix);

// Seconds since 1970 (for CitizenReceipt).
int64_t UnixNow();

}  // namespace ark::gov
