// A transparency-log witness (C2SP tlog-witness): run by someone outside the Ark (a regulator, or
// another Ark of the network) with its own key. For each log it trusts (by the log's verifier
// key) it remembers the latest checkpoint it cosigned, and cosigns a new checkpoint only if a
// consistency proof shows that one extends it: a rollback, a fork or a rewritten history is
// refused (and kept as evidence when the log signed it).
//
// add-checkpoint request body (the HTTP protocol's, also read by the one-shot CLI):
//   old <size>\n <zero or more base64 proof hashes, one per line> \n <checkpoint signed note>
// Reply: the cosignature line(s) (tlog-cosignature/v1).
//
// State directory:
//   logs/<oid>.vkey   the log's verifier key (oid = 16 hex digits of SHA-256(origin))
//   latest/<oid>      the latest cosigned checkpoint: the log's note plus this witness's line
//   evidence.log      refused requests that the log signed: "refused <http> <bytes>\n<request>"
//   LOCK              flock'ed while a request is checked and recorded (atomic compare-and-set)
//
// Thread safety: Add serialises on the state directory's lock (processes and threads).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "governance/cosignature.h"

namespace ark::gov {

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<std::string> proof;  // raw 32-byte hashes
  std::string checkpoint;          // the signed note
};
Result<AddCheckpointRequest> ParseAddCheckpoint(const std::string& body);
std::string FormatAddCheckpoint(const AddCheckpointRequest& req);
// The request from a checkpoint file and a proof file (the one-shot CLI): the proof is either the
// JSON of `ark ledger prove --from M` (size1 = the old size, size2 = the checkpoint's size, proof)
// or the add-checkpoint form's head ("old N" and base64 lines). An empty `proof_text` means old 0.
Result<AddCheckpointRequest> RequestFromFiles(const std::string& checkpoint, const std::string& proof_text);

// The HTTP status of a witness error: InvalidArgument 400, PermissionDenied 403, NotFound 404,
// FailedPrecondition 409 (old size is not the witness's; a rollback or a fork), Corruption 422
// (the consistency proof does not verify), anything else 500.
int WitnessHttpStatus(const Status& s);

class Witness {
 public:
  static Result<Witness> Open(const std::string& key_path, const std::string& state_dir);
  const Cosigner& cosigner() const { return cosigner_; }

  // Trusts the log whose verifier key is `vkey` (remembered in the state). Refuses a second,
  // different key for an origin the witness already knows.
  Status TrustLog(const std::string& vkey);

  // Checks `req` against the latest checkpoint cosigned for its origin, records the new one and
  // returns its cosignature line, timestamped `now`. On a 409, *latest_size is set to the size of
  // the latest cosigned checkpoint (the reply body the protocol asks for).
  Result<std::string> Add(const AddCheckpointRequest& req, uint64_t now, uint64_t* latest_size);

  // The latest checkpoint cosigned for `origin` (the note with the cosignature), if any.
  Result<std::optional<std::string>> Latest(const std::string& origin) const { return WitnessLatest(dir_, origin); }
  // The same, read from a witness's state directory (no key needed: it is public).
  static Result<std::optional<std::string>> WitnessLatest(const std::string& state_dir, const std::string& origin);

 private:
  Result<std::string> AddLocked(const AddCheckpointRequest& req, uint64_t now, uint64_t* latest_size);
  void KeepEvidence(const AddCheckpointRequest& req, const Status& why) const;

  std::string dir_;
  Cosigner cosigner_;
};

}  // namespace ark::gov
