#pragma once
// The person keys that linkage gives each record of a staged batch (ARK/link/<batch>.keys), and
// the moves of keys between re-links (catalog table person_key_moves). Written by the linkage
// layer, read by the build and the report: they sit in the catalog layer so that both can use
// them without the build depending on linkage.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark {

// ARK/link/<batch>.keys: one little-endian uint32 person key per record of the batch.
std::string KeysPath(const std::string& ark_dir, int64_t batch);

// Reads ARK/link/<batch>.keys; FailedPrecondition if the batch has not been linked.
Result<std::vector<uint32_t>> ReadPersonKeys(const std::string& ark_dir, int64_t batch, size_t records);

// Person keys that a re-link moved. When linkage gives none of a key's records that key any more
// (PPRL merged its records into another person), the catalog table person_key_moves maps the old
// key to the key most of those records now have (ties: the smaller), so that events appended
// under the old key (`ark append`, `ark serve`) follow the person at the next `ark build`. A key
// that records use again loses its move. `old_keys`/`new_keys`: per batch, the record keys before
// (empty for a batch not linked before) and after. Call inside the link's catalog transaction,
// before the new ARK/link/<batch>.keys are written.
Status RecordKeyMoves(Catalog& catalog, const std::vector<std::vector<uint32_t>>& old_keys,
                      const std::vector<std::vector<uint32_t>>& new_keys);
// person_key_moves as old key -> new key (empty when the Ark has no such table yet).
Result<std::unordered_map<uint32_t, uint32_t>> LoadKeyMoves(Catalog& catalog);
// The keys ARK/link/<batch>.keys holds now: empty when the batch is not linked or the file does
// not match `records` (then nothing is known about moves of its keys).
std::vector<uint32_t> ReadPreviousKeys(const std::string& ark_dir, int64_t batch, size_t records);

}  // namespace ark
