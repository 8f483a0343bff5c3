// The Ark's side of witnessing: asking for cosignatures of the ledger's latest checkpoint, keeping
// them beside it (ARK/ledger/cosignatures.log, public), and checking a log against the checkpoints
// its witnesses cosigned (docs/ledger-format.md "Witnesses").
//
// cosignatures.log: records "note <bytes>\n<note>", each the ledger's signed checkpoint with the
// cosignature line(s) a witness returned; appended, never rewritten.
//
// Thread safety: free functions; appends are single write(2)s.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "governance/merkle.h"
#include "governance/witness.h"

namespace ark::gov {

// The add-checkpoint request for the latest signed checkpoint of the ledger in `ledger_dir`, with
// a consistency proof from `old_size` (empty when 0). The ledger must verify.
Result<AddCheckpointRequest> CosignRequest(const std::string& ledger_dir, uint64_t old_size);

// Appends `checkpoint` with a witness's reply `lines` (signature lines) to cosignatures.log. With
// `witness_vkey`, only when one of the lines is that witness's valid cosignature.
Status StoreCosignatures(const std::string& ledger_dir, const std::string& checkpoint, const std::string& lines,
                         const std::string& witness_vkey);

// Every cosigned checkpoint stored beside the ledger, oldest first (none when the file is absent).
Result<std::vector<std::string>> StoredCosignatures(const std::string& ledger_dir);

struct Witnessed {
  std::string witness;
  uint64_t size = 0;  // the largest size this witness cosigned
  uint64_t time = 0;  // and when
};

// Checks the log (`tree`, of the ledger named `origin`) against every cosignature in `notes` by
// each witness in `witness_vkeys`: a witness that cosigned a larger tree than the log means a
// rollback (entries removed, or checkpoints.log replaced by an older one); one that cosigned a
// different root for a size means a fork (history rewritten, even if re-signed with the Ark's own
// key). Each witness must have cosigned at least one checkpoint of this ledger (NotFound
// otherwise): cosignatures deleted from the Ark are noticed. Returns each witness's largest.
Result<std::vector<Witnessed>> CheckWitnessed(const merkle::MerkleTree& tree, const std::string& origin,
                                              const std::vector<std::string>& witness_vkeys,
                                              const std::vector<std::string>& notes);

}  // namespace ark::gov
