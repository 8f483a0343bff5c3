// Privacy-preserving encodings of identifiers (docs/linkage.md, docs/threat-model.md).
//
// What a custodian computes from one identity row, under the programme key, before anything
// leaves its walls (`ark pseudonymise`), and what `ark link-records --mode pprl` computes for
// both sides of a linkage:
//
//  - a CLK: one record-level Bloom filter of 1024 bits (Schnell et al.; clkhash practice):
//    every field's tokens hashed into the same filter with a per-field key derived by HKDF;
//    bigrams of padded names, positional unigrams for date of birth and postcode; about 200
//    bits per name / date field and 100 per postcode or address field (~50% of bits set).
//    Used for LSH blocking and reported as a Dice coefficient per pair.
//  - per-field hardened Bloom filters (256 bits each, their own HKDF keys, random bit flips
//    "BLIP" so that equal values do not give equal filters): compared field by field with the
//    Dice coefficient and combined in a Fellegi–Sunter model.
//  - blocking keys: keyed hashes (HMAC, 64 bits) of coarse codes such as Soundex(surname) +
//    birth year: they reveal equality of the code, never the code.
//
// Thread safety: an Encoder is immutable after construction except for its token cache, which
// is guarded; Encode may be called from several threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ark/status.h"
#include "privacy/key.h"

namespace ark {

// How a field is tokenised (plaintext comparison uses the same kinds).
enum class FieldKind : uint8_t {
  kName = 0,      // a person's name: letters only, lower case; bigrams of "_name_"
  kDate = 1,      // a date normalised to YYYYMMDD; positional unigrams
  kPostcode = 2,  // upper case, no spaces; positional unigrams
  kString = 3,    // any other text (address, email): bigrams of the lower-cased value
  kExact = 4,     // a category (sex): compared for equality only
};

struct FieldDef {
  std::string name;  // role, e.g. given_name, surname, date_of_birth, postcode, address_1
  FieldKind kind = FieldKind::kString;
};

// The kind a role name implies (given_name/first_name/surname/... -> kName, etc.).
FieldKind KindForRole(std::string_view role);

// Normalisation shared by both modes (empty = missing). Dates: accepts YYYYMMDD, YYYY-MM-DD,
// YYYY/MM/DD, DD/MM/YYYY, DD-MM-YYYY; anything else is missing.
std::string NormaliseValue(FieldKind kind, std::string_view raw);
std::string Soundex(std::string_view name);

inline constexpr int kClkBits = 1024;
inline constexpr int kClkWords = kClkBits / 64;
inline constexpr int kFieldBits = 256;
inline constexpr int kFieldWords = kFieldBits / 64;
inline constexpr const char* kEncodingVersion = "ark-pprl v1";

// Blocking rules, in order; a record yields one key per rule (0 = rule not applicable).
// Plaintext and encoded modes use the same rules.
inline constexpr int kNameRules = 8;  // see BlockingRuleNames()
inline constexpr int kLshBands = 10, kLshBits = 18;
const std::vector<std::string>& BlockingRuleNames();  // kNameRules + kLshBands names
// For each rule, the indexes of `fields` its key depends on (LSH bands: every field). The model
// does not estimate a field's m-probabilities from pairs that a rule on that field produced.
std::vector<std::vector<int>> BlockingRuleFields(const std::vector<FieldDef>& fields);

struct EncodingOptions {
  double blip = 0.01;  // probability of flipping each bit of a field filter (0 = no hardening)
};

// One record's encodings.
struct RecordEncoding {
  std::array<uint64_t, kClkWords> clk{};
  std::vector<uint64_t> fields;     // kFieldWords words per field, in FieldDef order
  std::vector<uint8_t> present;     // 1 if the field had a value
  std::vector<uint64_t> blocking;   // kNameRules + kLshBands keys
};

class Encoder {
 public:
  Encoder(const ProgrammeKey& key, std::vector<FieldDef> fields, EncodingOptions options = {});
  // `values` are normalised (NormaliseValue), one per field. `record_salt` seeds the BLIP
  // noise (the record's number in its file: equal values in different records get different
  // noise, and a rerun gives the same encodings).
  RecordEncoding Encode(const std::vector<std::string>& values, uint64_t record_salt) const;
  const std::vector<FieldDef>& fields() const { return fields_; }

 private:
  struct Positions { std::vector<uint16_t> clk, field; };
  const Positions& TokenPositions(size_t field, const std::string& token, int clk_k) const;

  std::vector<FieldDef> fields_;
  std::vector<Digest> clk_keys_, field_keys_;
  Digest block_key_{}, noise_key_{};
  EncodingOptions options_;
  std::vector<int> roles_;  // index of given, surname, dob, postcode (-1 if absent)
  mutable std::mutex mu_;
  mutable std::vector<std::unordered_map<std::string, Positions>> cache_;
};

// Blocking keys computed on plaintext (xxHash of the same strings the encoder HMACs); the LSH
// bands are left 0.
std::vector<uint64_t> PlainBlockingKeys(const std::vector<FieldDef>& fields, const std::vector<std::string>& values);

// Dice coefficient 2|A∧B|/(|A|+|B|) of two bit vectors of `words` 64-bit words (0 if both empty).
inline double Dice(const uint64_t* a, const uint64_t* b, int words) {
  int ab = 0, na = 0, nb = 0;
  for (int i = 0; i < words; ++i) {
    ab += __builtin_popcountll(a[i] & b[i]);
    na += __builtin_popcountll(a[i]);
    nb += __builtin_popcountll(b[i]);
  }
  return na + nb ? 2.0 * ab / (na + nb) : 0.0;
}

// What `ark pseudonymise` encodes, in order: given_name (first given name), surname,
// date_of_birth, postcode, sex.
const std::vector<FieldDef>& ArkEncodedFields();
// records.csv carries a record's encodings in two base64 columns: `clk` (the 128-byte CLK) and
// `pprl` (PackedFieldsBytes: a presence bitmask byte, the field filters, the blocking keys).
size_t PackedFieldsBytes(size_t fields);
std::string PackFields(const RecordEncoding& e);
// The staged blob of one record: the CLK followed by the packed fields.
size_t StagedEncodingBytes(size_t fields);
// Reads a staged blob (StagedEncodingBytes long) back.
RecordEncoding UnpackStaged(const uint8_t* blob, size_t fields);

// Compares one CLK `q` (popcount qc) with `n` CLKs stored contiguously (kClkWords words each,
// popcounts in `counts`) and writes the indexes with Dice >= t into `out` (appends); returns the
// number of hits. Uses AVX-512 VPOPCNTDQ when the CPU has it, else scalar POPCNT.
size_t DiceScanClk(const uint64_t* q, int qc, const uint64_t* base, const uint16_t* counts, size_t n, double t,
                   std::vector<uint32_t>* out);

std::string Base64Encode(const void* data, size_t n);
// False on a character outside the alphabet, bad padding or a wrong length.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace ark
