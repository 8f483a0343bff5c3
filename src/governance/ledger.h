// The transparency ledger: an append-only RFC 6962 Merkle log of every significant event in an
// Ark (project approved, run executed, output released, opt-out list loaded, ...), with signed
// C2SP checkpoints. Format: docs/ledger-format.md.
//
//   ARK/ledger/entries.jsonl   one entry per line: compact JSON object, "seq" = line number from 0;
//                              the Merkle leaf input is the line's bytes without its "\n"
//   ARK/ledger/checkpoint      the latest signed checkpoint (tlog-checkpoint + Ed25519 note)
//   ARK/ledger/checkpoints.log every signed checkpoint, in order (an Ark's ledger must have it)
//   ARK/ledger/ledger.pub      the verifier key (signed-note vkey string; public)
//   ARK/ledger/cosignatures.log witnesses' cosignatures of checkpoints (cosign.h; public)
//   ARK/ledger/LOCK            serialises writers across processes (flock)
// The Ed25519 signing key lives outside the Ark (ledger_key.h), never in ARK/ledger.
//
// Append is durable when it returns: an intent (ARK/ledger/pending: sizes and the new root) is
// fdatasync'ed, then the lines, then a new checkpoint covering them is signed and appended. Open
// repairs a batch interrupted by a crash: complete and matching its intent → its checkpoint is
// signed (roll forward); cut short → the partial lines are removed (roll back; that Append never
// returned). Any other entries beyond the latest checkpoint are not legitimate: `VerifyLedger`
// reports them as appended behind the ledger's back, and Open refuses to append.
//
// Thread safety: one Ledger object per process and directory; it holds the writer lock while open.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "governance/checkpoint.h"
#include "governance/merkle.h"

namespace ark::gov {

using Json = nlohmann::ordered_json;

class Ledger {
 public:
  ~Ledger();
  // Opens ARK/ledger for appending, creating it (and its signing key) on first use. Refuses a
  // ledger whose entries do not match its latest checkpoint (run `ark ledger verify`).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& ark_dir);

  // Appends entries (JSON objects; "seq" and, if absent, "time" are filled in) durably as one
  // batch and signs a checkpoint over the new tree. Returns the first entry's seq.
  Result<uint64_t> Append(std::vector<Json> entries);
  Result<uint64_t> Append(Json entry) { return Append(std::vector<Json>{std::move(entry)}); }

  uint64_t size() const { return tree_.size(); }
  const merkle::MerkleTree& tree() const { return tree_; }
  const std::string& checkpoint() const { return checkpoint_; }
  std::string verifier_key() const { return signer_->VerifierKey(); }
  const std::string& dir() const { return dir_; }

 private:
  Ledger() = default;
  Status SignCheckpoint();
  // Finishes or undoes a batch interrupted between its intent and its checkpoint (Append).
  Status Recover();

  std::string dir_;
  int lock_fd_ = -1;
  std::unique_ptr<NoteSigner> signer_;
  merkle::MerkleTree tree_;
  std::string checkpoint_;
  uint64_t file_size_ = 0;
};

// Appends one entry to the ledger of the Ark at `ark_dir`: through the Ledger this process already
// has open on it (so a refusal or a role change inside an operation that holds the ledger does not
// wait for its own lock), else through one opened for the call. Returns the entry's seq.
Result<uint64_t> AppendToArkLedger(const std::string& ark_dir, Json entry);
// The same for several entries, appended durably as one batch (one intent, one checkpoint).
Result<uint64_t> AppendBatchToArkLedger(const std::string& ark_dir, std::vector<Json> entries);

struct LedgerReport {
  uint64_t entries = 0;
  Checkpoint checkpoint;
  std::string note;  // the latest signed checkpoint, as signed
  std::string verifier_key;
  std::vector<std::pair<std::string, uint64_t>> witnessed;  // (witness, largest size it cosigned)
};

struct VerifyOptions {
  std::optional<std::string> vkey;     // the ledger's verifier key; default: the directory's ledger.pub
  std::optional<std::string> earlier;  // an earlier published checkpoint this log must extend
  // Witness verifier keys (tlog-cosignature/v1): each must have cosigned a checkpoint of this
  // ledger, and the log must extend every checkpoint they cosigned (cosign.h CheckWitnessed).
  std::vector<std::string> witnesses;
  // Cosigned checkpoints obtained outside the Ark (e.g. a witness's latest), checked with those
  // stored in cosignatures.log.
  std::vector<std::string> cosigned;
};

// Verifies a ledger directory (ARK/ledger, or an exported bundle): the checkpoints' signatures with
// the verifier key, every entry's form and sequence number, the entry count against the
// checkpoint, and the Merkle root against each signed root. An Ark's ledger (one with a LOCK) must
// have its checkpoints.log; a bundle has only `checkpoint`. With `earlier`, also checks that this
// log extends an earlier published checkpoint (same key); with `witnesses`, checks the log against
// what they cosigned. Errors name the reason: "forged", "removed", "appended behind", "altered or
// reordered", "rolled back", "rewritten".
Result<LedgerReport> VerifyLedger(const std::string& ledger_dir, const VerifyOptions& opts);
Result<LedgerReport> VerifyLedger(const std::string& ledger_dir, const std::optional<std::string>& vkey = std::nullopt,
                                  const std::optional<std::string>& earlier_checkpoint = std::nullopt);

// Records "note <bytes>\n<note>" of checkpoints.log or cosignatures.log; a torn last record (a
// crash while appending) is ignored.
Result<std::vector<std::string>> ReadNoteLog(const std::string& path);

// The ledger directory of an Ark, or the directory itself if it already holds entries.jsonl.
std::string LedgerDirOf(const std::string& path);

// Loads the entries (lines) and builds the tree (no signature check). Used by prove/export.
struct LoadedLog {
  std::vector<std::string> lines;
  merkle::MerkleTree tree;
};
Result<LoadedLog> LoadLog(const std::string& ledger_dir);

// Writes a public bundle: entries.jsonl, checkpoint, ledger.pub and cosignatures.log (if any)
// into `out_dir` (the signing key is never in the Ark).
Status ExportLedger(const std::string& ark_dir, const std::string& out_dir);

}  // namespace ark::gov
