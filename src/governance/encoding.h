// Standard base64 (RFC 4648 §4, with padding), used by checkpoints, proofs and bundles.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ark::gov {

std::string Base64Encode(std::string_view bytes);
// Strict: only the standard alphabet, length a multiple of 4, correct padding. nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ark::gov
