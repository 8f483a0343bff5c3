// Proofs in the JSON form of the transparency-dev test vectors (tests/data/transparency/):
//   inclusion:   {"leafIdx", "treeSize", "root", "leafHash", "proof": [...]}
//   consistency: {"size1", "size2", "root1", "root2", "proof": [...]}
// Hashes are standard base64; "proof" may be null or absent (no hashes). Other keys ("desc",
// "wantErr") are ignored. `ark ledger prove` writes this form; `ark ledger verify-proof` reads it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ark/status.h"

namespace ark::gov {

// OK only for a well-formed, valid proof; otherwise the reason.
Status VerifyProofJson(const nlohmann::json& j);
Status VerifyProofFile(const std::string& path);

}  // namespace ark::gov
