#include "privacy/bloom.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <xxhash.h>

#include <immintrin.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

namespace ark {
namespace {

bool IsRole(std::string_view r, const std::vector<std::string_view>& names) {
  for (auto n : names) if (r == n) return true;
  return false;
}

int RoleIndex(const std::vector<FieldDef>& f, const std::vector<std::string_view>& names) {
  for (size_t i = 0; i < f.size(); ++i) if (IsRole(f[i].name, names)) return static_cast<int>(i);
  return -1;
}

const std::vector<std::string_view> kGiven = {"given_name", "first_name", "forename", "given"};
const std::vector<std::string_view> kSurname = {"surname", "family_name", "last_name"};
const std::vector<std::string_view> kDob = {"date_of_birth", "dob", "birth_date"};
const std::vector<std::string_view> kPostcode = {"postcode", "zip", "postal_code"};
const std::vector<std::string_view> kAddress = {"address_1", "address", "street", "address_line_1"};
const std::vector<std::string_view> kLocality = {"suburb", "city", "town", "locality"};

// The strings the blocking keys hash, one per name rule ("" = not applicable).
std::vector<std::string> RuleStrings(const std::vector<FieldDef>& fields, const std::vector<std::string>& v) {
  const int g = RoleIndex(fields, kGiven), s = RoleIndex(fields, kSurname), d = RoleIndex(fields, kDob),
            p = RoleIndex(fields, kPostcode);
  auto val = [&](int i) -> std::string { return i >= 0 ? v[i] : std::string(); };
  const std::string sg = Soundex(val(g)), ss = Soundex(val(s)), dob = val(d), pc = val(p);
  const std::string addr = val(RoleIndex(fields, kAddress)), loc = val(RoleIndex(fields, kLocality));
  std::vector<std::string> out(kNameRules);
  auto set = [&](int r, std::initializer_list<std::string> parts) {
    std::string k = "rule" + std::to_string(r);
    for (auto& x : parts) {
      if (x.empty()) return;
      k += '|';
      k += x;
    }
    out[r] = k;
  };
  set(0, {ss, dob.size() == 8 ? dob.substr(0, 4) : ""});
  set(1, {sg, dob.size() == 8 ? dob.substr(4, 4) : ""});
  set(2, {dob});
  set(3, {std::min(sg, ss), std::max(sg, ss)});  // unordered: catches swapped names
  set(4, {sg, pc});
  set(5, {ss, pc});
  set(6, {ss, loc});
  set(7, {pc, addr.substr(0, addr.find(' '))});
  return out;
}

uint64_t NonZero(uint64_t h) { return h ? h : 1; }

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<std::string> Tokens(FieldKind kind, const std::string& v) {
  std::vector<std::string> t;
  if (v.empty()) return t;
  switch (kind) {
    case FieldKind::kName:
    case FieldKind::kString: {
      std::string p = "_" + v + "_";
      for (size_t i = 0; i + 1 < p.size(); ++i) t.push_back(p.substr(i, 2));
      break;
    }
    case FieldKind::kDate:
    case FieldKind::kPostcode:
      for (size_t i = 0; i < v.size(); ++i) t.push_back(std::to_string(i) + ":" + v[i]);
      break;
    case FieldKind::kExact: t.push_back("=" + v); break;
  }
  return t;
}

int ClkTarget(FieldKind k) {
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kDate: return 200;
    case FieldKind::kPostcode:
    case FieldKind::kString: return 100;
    case FieldKind::kExact: return 30;
  }
  return 100;
}

int FieldK(FieldKind k) { return k == FieldKind::kDate || k == FieldKind::kPostcode ? 12 : 6; }

}  // namespace

FieldKind KindForRole(std::string_view r) {
  if (IsRole(r, kGiven) || IsRole(r, kSurname) || IsRole(r, {"middle_name", "name"})) return FieldKind::kName;
  if (IsRole(r, kDob)) return FieldKind::kDate;
  if (IsRole(r, kPostcode)) return FieldKind::kPostcode;
  if (IsRole(r, {"sex", "gender", "state"})) return FieldKind::kExact;
  return FieldKind::kString;
}

std::string NormaliseValue(FieldKind kind, std::string_view raw) {
  std::string out;
  switch (kind) {
    case FieldKind::kName:
      for (char c : raw) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalpha(u)) out += static_cast<char>(std::tolower(u));
        else if ((c == ' ' || c == '-') && !out.empty() && out.back() != ' ') out += ' ';
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out;
    case FieldKind::kDate: {
      std::string digits;
      std::vector<std::string> parts(1);
      for (char c : raw) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
          digits += c;
          parts.back() += c;
        } else if (!parts.back().empty()) {
          parts.emplace_back();
        }
      }
      if (parts.back().empty()) parts.pop_back();
      auto pad = [](std::string s) { return s.size() == 1 ? "0" + s : s; };
      if (parts.size() == 1 && digits.size() == 8) out = digits;
      else if (parts.size() == 3 && parts[0].size() == 4) out = parts[0] + pad(parts[1]) + pad(parts[2]);
      else if (parts.size() == 3 && parts[2].size() == 4) out = parts[2] + pad(parts[1]) + pad(parts[0]);
      if (out.size() != 8) return "";
      return out;
    }
    case FieldKind::kPostcode:
      for (char c : raw) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u)) out += static_cast<char>(std::toupper(u));
      }
      return out;
    case FieldKind::kString: {
      bool space = false;
      for (char c : raw) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u)) {
          if (space && !out.empty()) out += ' ';
          out += static_cast<char>(std::tolower(u));
          space = false;
        } else {
          space = true;
        }
      }
      return out;
    }
    case FieldKind::kExact:
      for (char c : raw) if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
  }
  return out;
}

std::string Soundex(std::string_view name) {
  static const char* kCodes = "01230120022455012623010202";  // a..z
  std::string out;
  char last = 0;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
    if (u < 'a' || u > 'z') {
      if (!out.empty() && c == ' ') break;  // first word only
      continue;
    }
    char code = kCodes[u - 'a'];
    if (out.empty()) {
      out += static_cast<char>(std::toupper(u));
      last = code;
      continue;
    }
    if (u == 'h' || u == 'w') continue;
    if (code != '0' && code != last) out += code;
    last = code;
    if (out.size() == 4) break;
  }
  if (!out.empty()) out.resize(4, '0');
  return out;
}

const std::vector<std::string>& BlockingRuleNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"soundex(surname)+birth_year", "soundex(given)+birth_month_day", "date_of_birth",
                                  "{soundex(given),soundex(surname)}", "soundex(given)+postcode",
                                  "soundex(surname)+postcode", "soundex(surname)+locality",
                                  "postcode+address_first_word"};
    for (int b = 0; b < kLshBands; ++b) n.push_back("clk_lsh_band_" + std::to_string(b + 1));
    return n;
  }();
  return names;
}

std::vector<std::vector<int>> BlockingRuleFields(const std::vector<FieldDef>& fields) {
  const int g = RoleIndex(fields, kGiven), s = RoleIndex(fields, kSurname), d = RoleIndex(fields, kDob),
            p = RoleIndex(fields, kPostcode);
  const int ad = RoleIndex(fields, kAddress), lc = RoleIndex(fields, kLocality);
  std::vector<std::vector<int>> out = {{s, d}, {g, d}, {d}, {g, s}, {g, p}, {s, p}, {s, lc}, {p, ad}};
  for (auto& r : out) r.erase(std::remove(r.begin(), r.end(), -1), r.end());
  std::vector<int> all;
  for (size_t i = 0; i < fields.size(); ++i) all.push_back(static_cast<int>(i));
  for (int b = 0; b < kLshBands; ++b) out.push_back(all);
  return out;
}

std::vector<uint64_t> PlainBlockingKeys(const std::vector<FieldDef>& fields, const std::vector<std::string>& values) {
  std::vector<uint64_t> keys(kNameRules + kLshBands, 0);
  auto rs = RuleStrings(fields, values);
  for (int r = 0; r < kNameRules; ++r) {
    if (!rs[r].empty()) keys[r] = NonZero(XXH3_64bits(rs[r].data(), rs[r].size()));
  }
  return keys;
}

Encoder::Encoder(const ProgrammeKey& key, std::vector<FieldDef> fields, EncodingOptions options)
    : fields_(std::move(fields)), options_(options), cache_(fields_.size()) {
  for (auto& f : fields_) {
    clk_keys_.push_back(key.Derive(std::string(kEncodingVersion) + "/clk/" + f.name));
    // Name fields share one key so that swapped given and family names can be recognised.
    field_keys_.push_back(key.Derive(std::string(kEncodingVersion) + "/field/" +
                                     (f.kind == FieldKind::kName ? std::string("name") : f.name)));
  }
  block_key_ = key.Derive(std::string(kEncodingVersion) + "/blocking");
  noise_key_ = key.Derive(std::string(kEncodingVersion) + "/blip");
}

const Encoder::Positions& Encoder::TokenPositions(size_t field, const std::string& token, int clk_k) const {
  std::string ck = token;
  ck += '\x01';
  ck += std::to_string(clk_k);
  std::lock_guard<std::mutex> lock(mu_);
  auto& cache = cache_[field];
  if (auto it = cache.find(ck); it != cache.end()) return it->second;
  Positions p;
  auto positions = [&](const Digest& key, int k, int m, std::vector<uint16_t>* out) {
    Digest d{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const uint8_t*>(token.data()),
         token.size(), d.data(), &len);
    uint64_t h1, h2;
    std::memcpy(&h1, d.data(), 8);
    std::memcpy(&h2, d.data() + 8, 8);
    h2 |= 1;
    for (int i = 0; i < k; ++i) out->push_back(static_cast<uint16_t>((h1 + static_cast<uint64_t>(i) * h2) % m));
  };
  positions(clk_keys_[field], clk_k, kClkBits, &p.clk);
  positions(field_keys_[field], FieldK(fields_[field].kind), kFieldBits, &p.field);
  return cache.emplace(ck, std::move(p)).first->second;
}

RecordEncoding Encoder::Encode(const std::vector<std::string>& values, uint64_t record_salt) const {
  RecordEncoding e;
  const size_t nf = fields_.size();
  e.fields.assign(nf * kFieldWords, 0);
  e.present.assign(nf, 0);
  for (size_t f = 0; f < nf; ++f) {
    const std::string& v = values[f];
    if (v.empty()) continue;
    e.present[f] = 1;
    auto toks = Tokens(fields_[f].kind, v);
    const int clk_k = std::max(1, static_cast<int>(std::lround(static_cast<double>(ClkTarget(fields_[f].kind)) / toks.size())));
    uint64_t* fw = &e.fields[f * kFieldWords];
    for (auto& t : toks) {
      const Positions& p = TokenPositions(f, t, clk_k);
      for (uint16_t b : p.clk) e.clk[b >> 6] |= 1ULL << (b & 63);
      for (uint16_t b : p.field) fw[b >> 6] |= 1ULL << (b & 63);
    }
    if (options_.blip > 0 && fields_[f].kind != FieldKind::kExact) {
      // BLIP: flip each bit with probability `blip`, from a keyed per-record, per-field stream.
      Digest d{};
      unsigned int len = 0;
      uint8_t msg[16];
      uint64_t ff = f;
      std::memcpy(msg, &record_salt, 8);
      std::memcpy(msg + 8, &ff, 8);
      HMAC(EVP_sha256(), noise_key_.data(), 32, msg, 16, d.data(), &len);
      uint64_t s;
      std::memcpy(&s, d.data(), 8);
      const uint64_t cut = static_cast<uint64_t>(options_.blip * 18446744073709551615.0);
      for (int b = 0; b < kFieldBits; ++b) {
        if (SplitMix(&s) < cut) fw[b >> 6] ^= 1ULL << (b & 63);
      }
    }
  }
  // Blocking keys: keyed hashes of the rule strings; LSH bands over the CLK.
  e.blocking.assign(kNameRules + kLshBands, 0);
  auto rs = RuleStrings(fields_, values);
  for (int r = 0; r < kNameRules; ++r) {
    if (rs[r].empty()) continue;
    Digest d{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), block_key_.data(), 32, reinterpret_cast<const uint8_t*>(rs[r].data()), rs[r].size(), d.data(),
         &len);
    uint64_t k;
    std::memcpy(&k, d.data(), 8);
    e.blocking[r] = NonZero(k);
  }
  bool any = false;
  for (auto w : e.clk) any |= w != 0;
  if (any) {
    for (int b = 0; b < kLshBands; ++b) {
      // Band b samples kLshBits bit positions chosen by the blocking key.
      uint64_t s;
      std::memcpy(&s, block_key_.data() + 8, 8);
      s ^= 0x1234567ULL * (b + 1);
      uint64_t bits = 0;
      for (int j = 0; j < kLshBits; ++j) {
        uint32_t pos = SplitMix(&s) % kClkBits;
        bits = (bits << 1) | ((e.clk[pos >> 6] >> (pos & 63)) & 1);
      }
      e.blocking[kNameRules + b] = NonZero(XXH3_64bits_withSeed(&bits, 8, b + 1));
    }
  }
  return e;
}

namespace {

size_t DiceScanScalar(const uint64_t* q, int qc, const uint64_t* base, const uint16_t* counts, size_t n, double t,
                      std::vector<uint32_t>* out) {
  size_t hits = 0;
  // Dice >= t  <=>  2|A∧B| * 65536 >= t*65536 * (|A|+|B|): integers only.
  const uint64_t tk = static_cast<uint64_t>(t * 65536.0 + 0.5);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* b = base + i * kClkWords;
    uint64_t ab = 0;
    for (int w = 0; w < kClkWords; ++w) ab += __builtin_popcountll(q[w] & b[w]);
    if (ab * 131072 >= tk * (qc + counts[i])) {
      ++hits;
      if (out) out->push_back(static_cast<uint32_t>(i));
    }
  }
  return hits;
}

// GCC 12's AVX-512 reduction intrinsics trip -Wmaybe-uninitialized inside its own headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("avx512f,avx512vpopcntdq"))) size_t DiceScanAvx512(const uint64_t* q, int qc,
                                                                         const uint64_t* base,
                                                                         const uint16_t* counts, size_t n, double t,
                                                                         std::vector<uint32_t>* out) {
  const __m512i q0 = _mm512_loadu_si512(q), q1 = _mm512_loadu_si512(q + 8);
  const uint64_t tk = static_cast<uint64_t>(t * 65536.0 + 0.5);
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* b = base + i * kClkWords;
    __m512i c = _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_and_si512(q0, _mm512_loadu_si512(b))),
                                 _mm512_popcnt_epi64(_mm512_and_si512(q1, _mm512_loadu_si512(b + 8))));
    const uint64_t ab = static_cast<uint64_t>(_mm512_reduce_add_epi64(c));
    if (ab * 131072 >= tk * (qc + counts[i])) {
      ++hits;
      if (out) out->push_back(static_cast<uint32_t>(i));
    }
  }
  return hits;
}
#pragma GCC diagnostic pop

}  // namespace

size_t DiceScanClk(const uint64_t* q, int qc, const uint64_t* base, const uint16_t* counts, size_t n, double t,
                   std::vector<uint32_t>* out) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  return avx512 ? DiceScanAvx512(q, qc, base, counts, n, t, out) : DiceScanScalar(q, qc, base, counts, n, t, out);
}

const std::vector<FieldDef>& ArkEncodedFields() {
  static const std::vector<FieldDef> f = {{"given_name", FieldKind::kName},
                                          {"surname", FieldKind::kName},
                                          {"date_of_birth", FieldKind::kDate},
                                          {"postcode", FieldKind::kPostcode},
                                          {"sex", FieldKind::kExact}};
  return f;
}

size_t PackedFieldsBytes(size_t nf) { return 1 + nf * kFieldWords * 8 + (kNameRules + kLshBands) * 8; }
size_t StagedEncodingBytes(size_t nf) { return kClkWords * 8 + PackedFieldsBytes(nf); }

std::string PackFields(const RecordEncoding& e) {
  std::string out(PackedFieldsBytes(e.present.size()), '\0');
  uint8_t mask = 0;
  for (size_t f = 0; f < e.present.size() && f < 8; ++f) mask |= (e.present[f] ? 1 : 0) << f;
  out[0] = static_cast<char>(mask);
  std::memcpy(out.data() + 1, e.fields.data(), e.fields.size() * 8);
  std::memcpy(out.data() + 1 + e.fields.size() * 8, e.blocking.data(), e.blocking.size() * 8);
  return out;
}

RecordEncoding UnpackStaged(const uint8_t* blob, size_t nf) {
  RecordEncoding e;
  std::memcpy(e.clk.data(), blob, kClkWords * 8);
  blob += kClkWords * 8;
  e.present.resize(nf);
  for (size_t f = 0; f < nf; ++f) e.present[f] = (blob[0] >> f) & 1;
  e.fields.resize(nf * kFieldWords);
  std::memcpy(e.fields.data(), blob + 1, nf * kFieldWords * 8);
  e.blocking.resize(kNameRules + kLshBands);
  std::memcpy(e.blocking.data(), blob + 1 + nf * kFieldWords * 8, e.blocking.size() * 8);
  return e;
}

std::string Base64Encode(const void* data, size_t n) {
  static const char* kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint8_t* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = p[i] << 16;
    if (i + 1 < n) v |= p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += i + 1 < n ? kAlpha[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlpha[v & 63] : '=';
  }
  return out;
}

namespace {
// Base64 alphabet -> 6-bit value, 64 for '=', 255 for anything else.
struct Base64Table {
  uint8_t v[256];
  constexpr Base64Table() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 255;
    for (int i = 0; i < 26; ++i) v['A' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 26; ++i) v['a' + i] = static_cast<uint8_t>(26 + i);
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(52 + i);
    v[static_cast<int>('+')] = 62;
    v[static_cast<int>('/')] = 63;
    v[static_cast<int>('=')] = 64;
  }
};
constexpr Base64Table kBase64;
}  // namespace

bool Base64Decode(std::string_view t, std::string* out) {
  out->clear();
  if (t.size() % 4 != 0) return false;
  if (t.empty()) return true;
  const size_t pad = t.back() == '=' ? (t[t.size() - 2] == '=' ? 2 : 1) : 0;
  out->resize(t.size() / 4 * 3 - pad);
  char* o = out->data();
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  const size_t full = t.size() / 4 - (pad ? 1 : 0);
  for (size_t i = 0; i < full; ++i, p += 4) {
    const uint32_t a = kBase64.v[p[0]], b = kBase64.v[p[1]], c = kBase64.v[p[2]], d = kBase64.v[p[3]];
    if ((a | b | c | d) >= 64) return false;  // not in the alphabet, or '=' before the end
    const uint32_t x = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = static_cast<char>(x >> 16);
    o[1] = static_cast<char>(x >> 8);
    o[2] = static_cast<char>(x);
    o += 3;
  }
  if (pad) {
    const uint32_t a = kBase64.v[p[0]], b = kBase64.v[p[1]];
    const uint32_t c = pad == 2 ? 0 : kBase64.v[p[2]];
    if ((a | b | c) >= 64 || (pad == 2 && p[2] != '=') || p[3] != '=') return false;
    const uint32_t x = (a << 18) | (b << 12) | (c << 6);
    o[0] = static_cast<char>(x >> 16);
    if (pad == 1) o[1] = static_cast<char>(x >> 8);
  }
  return true;
}

}  // namespace ark
