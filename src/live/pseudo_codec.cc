// The binary form of a PseudoRecord in the live log (record type 18; docs/live.md, "The live
// log"). store/coding.h varints and strings; pseudonyms of 64 lowercase hex digits as 32 raw bytes.
#include "live/pseudo.h"

#include "store/coding.h"

namespace ark::live {
namespace {

using store::ByteReader;

constexpr uint8_t kFormat = 1;

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// u8 form: 0 empty, 1 + 32 raw bytes (64 lowercase hex digits), 2 + string (anything else).
void PutPseudonym(std::string* out, const std::string& s) {
  if (s.empty()) return store::PutU8(out, 0);
  char raw[32];
  bool hex = s.size() == 64;
  for (size_t i = 0; hex && i < 32; ++i) {
    const int hi = Nibble(s[2 * i]), lo = Nibble(s[2 * i + 1]);
    hex = (hi | lo) >= 0;
    raw[i] = static_cast<char>(hi << 4 | lo);
  }
  if (hex) {
    store::PutU8(out, 1);
    out->append(raw, sizeof raw);
  } else {
    store::PutU8(out, 2);
    store::PutString(out, s);
  }
}

bool GetPseudonym(ByteReader& r, std::string* s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  switch (r.U8()) {
    case 0:
      s->clear();
      return r.ok();
    case 1: {
      const std::string_view raw = r.Bytes(32);
      if (!r.ok()) return false;
      s->resize(64);
      for (size_t i = 0; i < 32; ++i) {
        const auto b = static_cast<uint8_t>(raw[i]);
        (*s)[2 * i] = kDigits[b >> 4];
        (*s)[2 * i + 1] = kDigits[b & 15];
      }
      return true;
    }
    case 2:
      *s = std::string(r.String());
      return r.ok();
    default:
      return false;
  }
}

// 0 for kNoTime, else zigzag(t) + 1 (kNoTime is the only value whose zigzag is UINT64_MAX).
void PutTime(std::string* out, Seconds t) {
  store::PutVarint(out, t == kNoTime ? 0 : store::ZigZag(t) + 1);
}
Seconds GetTime(ByteReader& r) {
  const uint64_t v = r.Varint();
  return v == 0 ? kNoTime : store::UnZigZag(v - 1);
}

}  // namespace

void EncodePseudo(const PseudoRecord& r, std::string* out) {
  store::PutU8(out, kFormat);
  store::PutVarint(out, r.seq);
  store::PutU8(out, static_cast<uint8_t>(r.kind));
  for (const std::string* s : {&r.message_type, &r.control_id, &r.sender}) store::PutString(out, *s);
  PutTime(out, r.message_time);
  PutTime(out, r.event_time);
  store::PutVarint(out, store::ZigZag(r.received_us));
  for (const std::string* s :
       {&r.nhs_pseudonym, &r.mrn_pseudonym, &r.merged_nhs_pseudonym, &r.merged_mrn_pseudonym})
    PutPseudonym(out, *s);
  store::PutVarint(out, r.person);
  store::PutVarint(out, r.merged_person);
  store::PutVarint(out, store::ZigZag(r.birth_year));
  store::PutVarint(out, store::ZigZag(r.birth_month));
  store::PutU8(out, static_cast<uint8_t>(r.sex));
  for (const std::string* s : {&r.patient_class, &r.admission_type, &r.specialty, &r.site, &r.ward,
                               &r.room, &r.bed, &r.prior_ward, &r.prior_bed, &r.visit,
                               &r.disposition})
    store::PutString(out, *s);
  PutTime(out, r.admit_time);
  PutTime(out, r.discharge_time);
  store::PutVarint(out, r.observations.size());
  for (const PseudoObs& o : r.observations) {
    for (const std::string* s : {&o.system, &o.code, &o.unit, &o.flag}) store::PutString(out, *s);
    store::PutDouble(out, o.value);
    PutTime(out, o.time);
  }
}

Result<PseudoRecord> DecodePseudo(std::string_view bytes) {
  auto bad = [](const char* what) {
    return Status::Corruption(std::string("live log record (binary): ") + what);
  };
  ByteReader r(bytes);
  if (r.U8() != kFormat) return bad("unknown record format");
  PseudoRecord p;
  p.seq = r.Varint();
  const uint8_t kind = r.U8();
  if (kind > static_cast<uint8_t>(LiveRecord::Kind::kResult)) return bad("bad kind");
  p.kind = static_cast<LiveRecord::Kind>(kind);
  for (std::string* s : {&p.message_type, &p.control_id, &p.sender}) *s = std::string(r.String());
  p.message_time = GetTime(r);
  p.event_time = GetTime(r);
  p.received_us = r.ZigZagVarint();
  for (std::string* s :
       {&p.nhs_pseudonym, &p.mrn_pseudonym, &p.merged_nhs_pseudonym, &p.merged_mrn_pseudonym}) {
    if (!GetPseudonym(r, s)) return bad("bad pseudonym");
  }
  const uint64_t person = r.Varint(), merged = r.Varint();
  if (person > kNoPerson || merged > kNoPerson) return bad("bad person key");
  p.person = static_cast<PersonKey>(person);
  p.merged_person = static_cast<PersonKey>(merged);
  p.birth_year = static_cast<int>(r.ZigZagVarint());
  p.birth_month = static_cast<int>(r.ZigZagVarint());
  p.sex = static_cast<char>(r.U8());
  for (std::string* s : {&p.patient_class, &p.admission_type, &p.specialty, &p.site, &p.ward,
                         &p.room, &p.bed, &p.prior_ward, &p.prior_bed, &p.visit, &p.disposition})
    *s = std::string(r.String());
  p.admit_time = GetTime(r);
  p.discharge_time = GetTime(r);
  const uint64_t n = r.Varint();
  if (!r.ok() || n > r.remaining()) return bad("bad observation count");
  p.observations.resize(n);
  for (PseudoObs& o : p.observations) {
    for (std::string* s : {&o.system, &o.code, &o.unit, &o.flag}) *s = std::string(r.String());
    o.value = r.Double();
    o.time = GetTime(r);
  }
  if (!r.ok()) return bad("truncated");
  if (r.remaining() != 0) return bad("trailing bytes");
  return p;
}

}  // namespace ark::live
