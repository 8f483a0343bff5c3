#include "catalog/person_key_files.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/fs.h"

namespace ark {

std::string KeysPath(const std::string& ark, int64_t batch) {
  return ark + "/link/" + std::to_string(batch) + ".keys";
}

Result<std::vector<uint32_t>> ReadPersonKeys(const std::string& ark_dir, int64_t batch, size_t records) {
  auto data = ReadFile(KeysPath(ark_dir, batch));
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition("batch " + std::to_string(batch) + " is not linked yet: run 'ark link " + ark_dir + "' first");
    }
    return data.status();
  }
  if (data->size() != records * 4) return Status::Corruption(KeysPath(ark_dir, batch) + ": wrong size");
  std::vector<uint32_t> keys(records);
  if (!keys.empty()) std::memcpy(keys.data(), data->data(), data->size());
  return keys;
}

std::vector<uint32_t> ReadPreviousKeys(const std::string& ark_dir, int64_t batch, size_t records) {
  auto keys = ReadPersonKeys(ark_dir, batch, records);
  return keys.ok() ? std::move(*keys) : std::vector<uint32_t>();
}

Status RecordKeyMoves(Catalog& cat, const std::vector<std::vector<uint32_t>>& old_keys,
                      const std::vector<std::vector<uint32_t>>& new_keys) {
  ARK_RETURN_IF_ERROR(cat.Exec(
      "CREATE TABLE IF NOT EXISTS person_key_moves (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)"));
  // Keys that records have now, as one bit per key (keys are dense, from 0 to the next person).
  std::vector<bool> in_use;
  for (const auto& keys : new_keys) {
    for (uint32_t k : keys) {
      if (k >= in_use.size()) in_use.resize(std::max<size_t>(size_t{k} + 1, in_use.size() * 2));
      in_use[k] = true;
    }
  }
  auto used = [&](uint32_t k) { return k < in_use.size() && in_use[k]; };
  std::map<uint32_t, std::map<uint32_t, uint64_t>> went_to;  // old key -> new key -> records
  for (size_t b = 0; b < old_keys.size() && b < new_keys.size(); ++b) {
    if (old_keys[b].size() != new_keys[b].size()) continue;
    for (size_t i = 0; i < old_keys[b].size(); ++i) {
      const uint32_t was = old_keys[b][i], now = new_keys[b][i];
      if (was != now && !used(was)) ++went_to[was][now];
    }
  }
  ARK_ASSIGN_OR_RETURN(auto del, cat.Prepare("DELETE FROM person_key_moves WHERE old = ?"));
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT OR REPLACE INTO person_key_moves(old, new) VALUES (?, ?)"));
  ARK_ASSIGN_OR_RETURN(auto moves, LoadKeyMoves(cat));
  for (const auto& [old, to] : moves) {
    if (used(old)) ARK_RETURN_IF_ERROR(del->Bind(1, static_cast<int64_t>(old)).Run());
  }
  for (const auto& [old, targets] : went_to) {
    uint32_t best = 0;
    uint64_t most = 0;
    for (const auto& [to, n] : targets) {
      if (n > most) most = n, best = to;
    }
    ARK_RETURN_IF_ERROR(ins->Bind(1, static_cast<int64_t>(old)).Bind(2, static_cast<int64_t>(best)).Run());
  }
  return Status::OK();
}

Result<std::unordered_map<uint32_t, uint32_t>> LoadKeyMoves(Catalog& cat) {
  std::unordered_map<uint32_t, uint32_t> out;
  ARK_ASSIGN_OR_RETURN(auto has, cat.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'person_key_moves'"));
  ARK_ASSIGN_OR_RETURN(bool exists, has->Step());
  if (!exists) return out;
  ARK_ASSIGN_OR_RETURN(auto st, cat.Prepare("SELECT old, new FROM person_key_moves"));
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    const int64_t from = st->Int(0), to = st->Int(1);
    if (from < 0 || to < 0 || from >= UINT32_MAX || to >= UINT32_MAX) {
      return Status::Corruption(cat.ark_dir() + "/catalog.db: person_key_moves: key out of range (" +
                                std::to_string(from) + " -> " + std::to_string(to) + ")");
    }
    out[static_cast<uint32_t>(from)] = static_cast<uint32_t>(to);
  }
  return out;
}

}  // namespace ark
