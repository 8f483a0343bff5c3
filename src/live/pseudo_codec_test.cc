// The live log's binary record (pseudo_codec.cc): every field comes back exactly; damaged bytes
// are Corruption, never a crash or a silently different record.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "live/pseudo.h"

namespace ark::live {
namespace {

PseudoRecord Full() {
  PseudoRecord r;
  r.seq = 123456789012ULL;
  r.kind = LiveRecord::Kind::kMerge;
  r.message_type = "ADT^A40";
  r.control_id = "C\xc3\xa9-1";  // UTF-8 é
  r.sender = "RXX01";
  r.message_time = 1735725600;
  r.event_time = -86400 * 365;  // before 1970
  r.received_us = 1764146400123456;
  r.nhs_pseudonym = std::string(64, 'a');
  r.mrn_pseudonym = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  r.merged_nhs_pseudonym = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
  r.merged_mrn_pseudonym = "not-hex";
  r.person = 42;
  r.merged_person = kNoPerson;
  r.birth_year = 1950;
  r.birth_month = 7;
  r.sex = 'F';
  r.patient_class = "E";
  r.admission_type = "EM";
  r.specialty = "300";
  r.site = "RXX01";
  r.ward = "W\xc3\x89ST";
  r.room = "R1";
  r.bed = "B2";
  r.prior_ward = "AMU";
  r.prior_bed = "B9";
  r.visit = "0011223344556677";
  r.disposition = "01";
  r.admit_time = 1735725600;
  r.discharge_time = kNoTime;
  r.observations.push_back({"LN", "14682-9", "umol/L", "H", 250.5, 1735729200});
  r.observations.push_back({"SCT", "22298006", "", "", kNoValue, kNoTime});
  r.observations.push_back({"LN", "8310-5", "Cel", "", -0.0, std::numeric_limits<int64_t>::max()});
  return r;
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(LivePseudoCodec, RoundTripsEveryField) {
  for (PseudoRecord r : {Full(), PseudoRecord{}}) {
    std::string bytes;
    EncodePseudo(r, &bytes);
    auto back = DecodePseudo(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(ToJson(*back), ToJson(r));  // ToJson writes every field
    ASSERT_EQ(back->observations.size(), r.observations.size());
    for (size_t i = 0; i < r.observations.size(); ++i)
      EXPECT_EQ(Bits(back->observations[i].value), Bits(r.observations[i].value)) << i;
    EXPECT_EQ(back->merged_person, r.merged_person);
    EXPECT_EQ(back->discharge_time, r.discharge_time);
  }
}

TEST(LivePseudoCodec, DamagedBytesAreCorruption) {
  std::string bytes;
  EncodePseudo(Full(), &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodePseudo(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "a record cut to " << n << " bytes was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  auto longer = DecodePseudo(bytes + "x");
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.status().message().find("trailing"), std::string::npos);
  std::string wrong_format = bytes;
  wrong_format[0] = 9;
  EXPECT_FALSE(DecodePseudo(wrong_format).ok());
}

}  // namespace
}  // namespace ark::live
