// Tests of HL7 v2 → LiveRecord on the samples in tests/data/hl7 and hand-made ORU/A02 messages.
#include <gtest/gtest.h>

#include <random>

#include "core/fs.h"
#include "live/record.h"

namespace ark::live {
namespace {

Result<LiveRecord> FromText(const std::string& text) {
  auto m = hl7::Message::Parse(text);
  if (!m.ok()) return m.status();
  return FromHl7(*m);
}

std::string Sample(const std::string& name) {
  auto r = ReadFile(std::string(ARK_SOURCE_DIR) + "/tests/data/hl7/" + name);
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? *r : std::string();
}

Seconds T(const char* ts) { return *hl7::ParseTimestamp(ts); }

TEST(LiveRecordHl7, AdmitSample) {
  auto r = FromText(Sample("adt_a01.cr.hl7"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, LiveRecord::Kind::kAdmit);
  EXPECT_EQ(r->message_type, "ADT^A01");
  EXPECT_EQ(r->control_id, "MSG00001");
  EXPECT_EQ(r->sending_facility, "RXX01");
  EXPECT_EQ(r->message_time, T("20250101120000"));
  EXPECT_EQ(r->event_time, T("20250101115500"));  // EVN-6 before EVN-2
  EXPECT_EQ(r->patient.nhs_number, "9990000018");
  EXPECT_EQ(r->patient.mrn, "RXX1234567");
  EXPECT_EQ(r->patient.family, "TEST");
  EXPECT_EQ(r->patient.given, "PATIENT");
  EXPECT_EQ(r->patient.date_of_birth, "19700101");
  EXPECT_EQ(r->patient.sex, "M");
  EXPECT_EQ(r->patient.postcode, "LS1 1AA");
  EXPECT_EQ(r->patient_class, "I");
  EXPECT_EQ(r->ward, "WARD1");
  EXPECT_EQ(r->room, "BED2");  // the sample puts the bed in PL.2 (room)
  EXPECT_EQ(r->site, "RXX01");
  EXPECT_EQ(r->specialty, "180");
  EXPECT_EQ(r->admission_source, "19");
  EXPECT_EQ(r->visit_number, "V0001");
  EXPECT_EQ(r->admit_time, T("20250101115500"));
  EXPECT_EQ(r->discharge_time, kNoTime);
}

TEST(LiveRecordHl7, DischargeAndMergeSamples) {
  auto d = FromText(Sample("adt_a03_escape.hl7"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, LiveRecord::Kind::kDischarge);
  EXPECT_EQ(d->event_time, T("20250103170000"));  // EVN-2 (no EVN-6)
  EXPECT_EQ(d->discharge_time, T("20250103165500"));
  EXPECT_EQ(d->patient.mrn, "");
  auto m = FromText(Sample("adt_a40.hl7"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, LiveRecord::Kind::kMerge);
  EXPECT_EQ(m->patient.nhs_number, "9990000018");
  EXPECT_EQ(m->patient.mrn, "RXX1234567");
  EXPECT_EQ(m->merged.mrn, "RXX7654321");
  EXPECT_EQ(m->merged.nhs_number, "");
}

TEST(LiveRecordHl7, TransferAndKinds) {
  std::string base = "MSH|^~\\&|PAS|RXX|HUB|REG|20250105100000+0100||ADT^A02|T1|P|2.4\r"
                     "EVN|A02|20250105100000\r"
                     "PID|1||555^^^RXX^MR~943 476 5919^^^NHS^NH||DOE^JANE||19800230|F\r";
  auto bad_dob = FromText(base + "PV1|1|I|W2^R1^B3^RXX|EM||W1^^B9\r");
  ASSERT_FALSE(bad_dob.ok());
  EXPECT_NE(bad_dob.status().message().find("segment 3 (PID), field 7"), std::string::npos);
  std::string ok = base;
  ok.replace(ok.find("19800230"), 8, "19800228");
  auto r = FromText(ok + "PV1|1|I|W2^R1^B3^RXX|EM||W1^^B9\r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, LiveRecord::Kind::kTransfer);
  EXPECT_EQ(r->message_time, T("20250105090000"));  // offset +0100 → UTC
  EXPECT_EQ(r->patient.nhs_number, "9434765919");
  EXPECT_EQ(r->patient.mrn, "555");
  EXPECT_EQ(r->patient.sex, "F");
  EXPECT_EQ(r->ward, "W2");
  EXPECT_EQ(r->room, "R1");
  EXPECT_EQ(r->bed, "B3");
  EXPECT_EQ(r->site, "RXX");
  EXPECT_EQ(r->admission_type, "EM");
  EXPECT_EQ(r->prior_ward, "W1");
  EXPECT_EQ(r->prior_bed, "B9");
  {  // v2.2 style: the event only in EVN-1
    std::string v22 = ok + "PV1|1|I\r";
    v22.replace(v22.find("ADT^A02"), 7, "ADT");
    auto k = FromText(v22);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->kind, LiveRecord::Kind::kTransfer);
    EXPECT_EQ(k->message_type, "ADT^A02");
  }
  for (auto [trig, kind] : {std::pair{"A04", LiveRecord::Kind::kRegister}, std::pair{"A08", LiveRecord::Kind::kUpdate}}) {
    std::string t = ok + "PV1|1|E\r";
    t.replace(t.find("ADT^A02"), 7, std::string("ADT^") + trig);
    auto k = FromText(t);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->kind, kind);
  }
}

TEST(LiveRecordHl7, ResultsWithObrAndObxTimes) {
  std::string text =
      "MSH|^~\\&|LIMS|RXX|HUB|REG|20250110093000||ORU^R01^ORU_R01|L1|P|2.4\r"
      "PID|1||9990000018^^^NHS^NH||TEST^PATIENT||19700101|M\r"
      "OBR|1|||U&E|||20250110080000\r"
      "OBX|1|NM|14682-9^Creatinine^LN||182|umol/L|59-104|H|||F\r"
      "OBX|2|NM|2823-3^Potassium^LN||4.1|mmol/L||N|||F|||20250110081500\r"
      "OBX|3|SN|CRP^C-reactive protein^L||<^5|mg/L\r"
      "OBX|4|ST|COMMENT^Comment^L||haemolysed\r";
  auto r = FromText(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, LiveRecord::Kind::kResult);
  EXPECT_EQ(r->event_time, T("20250110093000"));
  ASSERT_EQ(r->observations.size(), 4u);
  const Observation& c = r->observations[0];
  EXPECT_EQ(c.system, "LN");
  EXPECT_EQ(c.code, "14682-9");
  EXPECT_EQ(c.text, "Creatinine");
  EXPECT_DOUBLE_EQ(c.value, 182);
  EXPECT_EQ(c.unit, "umol/L");
  EXPECT_EQ(c.abnormal_flag, "H");
  EXPECT_EQ(c.status, "F");
  EXPECT_EQ(c.time, T("20250110080000"));
  EXPECT_EQ(r->observations[1].time, T("20250110081500"));
  EXPECT_DOUBLE_EQ(r->observations[2].value, 5);
  EXPECT_TRUE(std::isnan(r->observations[3].value));
}

TEST(LiveRecordHl7, ErrorsNameSegmentAndField) {
  const std::string msh = "MSH|^~\\&|A|B|C|D|20250101||";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {msh + "ADT^A05|1|P|2.4\rPID|1||1^^^X^MR\r", "segment 1 (MSH), field 9: unsupported message type ADT^A05"},
      {msh + "ORM^O01|1|P|2.4\rPID|1||1^^^X^MR\r", "segment 1 (MSH), field 9: unsupported message type ORM^O01"},
      {msh + "ADT^A01|1|P|2.4\rEVN|A01|2025\rPV1|1|I\r", "missing PID segment"},
      {msh + "ADT^A01|1|P|2.4\rPID|1||1^^^X^MR\r", "missing PV1 segment"},
      {msh + "ADT^A40|1|P|2.4\rPID|1||1^^^X^MR\r", "missing MRG segment"},
      {msh + "ADT^A40|1|P|2.4\rPID|1||1^^^X^MR\rMRG|\r", "segment 3 (MRG), field 1: missing prior patient identifier"},
      {msh + "ADT^A08|1|P|2.4\rPID|1\r", "segment 2 (PID), field 3: missing patient identifier"},
      {msh + "ADT^A01|1|P|2.4\rEVN|A01|20251301\rPID|1||1^^^X^MR\rPV1|1|I\r",
       "segment 2 (EVN), field 2: bad timestamp '20251301': month 13"},
      {msh + "ADT^A03|1|P|2.4\rPID|1||1^^^X^MR\rPV1|1|I|||||||||||||||||||||||||||||||||||||||||||20250101123\r",
       "segment 3 (PV1), field 45: bad timestamp"},
      {"MSH|^~\\&|A|B|C|D|2025x||ADT^A08|1|P|2.4\rPID|1||1^^^X^MR\r", "segment 1 (MSH), field 7: bad timestamp"},
      {msh + "ORU^R01|1|P|2.4\rPID|1||1^^^X^MR\rOBR|1\rOBX|1|NM|X||12,5\r", "segment 4 (OBX), field 5: not a number '12,5'"},
      {msh + "ORU^R01|1|P|2.4\rPID|1||1^^^X^MR\rOBR|1\rOBX|1|NM|||12\r", "segment 4 (OBX), field 3: missing observation identifier"},
      {msh + "ORU^R01|1|P|2.4\rPID|1||1^^^X^MR\rOBR|1\r", "missing OBX segment"},
      {msh + "ORU^R01|1|P|2.4\rPID|1||1^^^X^MR\rOBR|1\rOBX|1|NM|A||1\rPID|2||2^^^X^MR\rOBR|1\rOBX|1|NM|A||2\r",
       "segment 5 (PID): more than one patient in one message is not supported"},
      {msh + "ADT|1|P|2.2\rEVN|A05\rPID|1||1^^^X^MR\r", "unsupported message type ADT^A05"},
  };
  for (const Case& c : cases) {
    auto r = FromText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "got: " << r.status().message() << "\nwant: " << c.expect;
  }
}

// Fuzz-ish: mutated messages of every supported kind never crash the mapping (ASan run checks).
TEST(LiveRecordHl7, RobustToCorruption) {
  std::vector<std::string> seeds = {Sample("adt_a01.hl7"), Sample("adt_a03_escape.hl7"), Sample("adt_a40.hl7"),
      "MSH|^~\\&|LIMS|RXX|HUB|REG|20250110093000||ORU^R01|L1|P|2.4\r"
      "PID|1||9990000018^^^NHS^NH||TEST^PATIENT||19700101|M\r"
      "OBR|1|||U&E|||20250110080000\r"
      "OBX|1|NM|14682-9^Creatinine^LN||182|umol/L|59-104|H|||F|||20250110081500\r"
      "OBX|2|SN|CRP^CRP^L||<^5|mg/L\r"};
  std::mt19937 rng(11);
  const char alphabet[] = "|^~\\&\r\nMSHPIDPV1MRGOBXEVN0123456789+-.";
  int mapped = 0;
  for (const std::string& s : seeds) {
    for (size_t n = 0; n <= s.size(); n++) {
      auto m = hl7::Message::Parse(s.substr(0, n));
      if (m.ok()) mapped += FromHl7(*m).ok();
    }
    for (int i = 0; i < 3000; i++) {
      std::string t = s;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; k++) {
        t[rng() % t.size()] = (rng() % 5 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % (sizeof(alphabet) - 1)];
      }
      auto m = hl7::Message::Parse(t);
      if (m.ok()) mapped += FromHl7(*m).ok();
    }
  }
  EXPECT_GT(mapped, 0);
}

// PID-3 with 100k repetitions: read in one pass (it was quadratic: 84 s for 100k), and the NHS
// number in the last repetition is still found.
TEST(LiveRecordHl7, ManyIdentifierRepetitionsAreReadInOnePass) {
  std::string ids;
  for (int i = 0; i < 100000; i++) ids += "L" + std::to_string(i) + "^^^RXX^PI~";
  ids += "9990000018^^^NHS^NH";
  auto r = FromText("MSH|^~\\&|PAS|RXX01|HUB|REG|20250101120000||ADT^A08^ADT_A08|R1|P|2.4\rPID|1||" + ids +
                    "||DOE^JO||19700101|F\r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->patient.nhs_number, "9990000018");
  EXPECT_EQ(r->patient.mrn, "L0");
}

// Latin-1 bytes (declared in MSH-18) in the facility, control id, ward and an OBX code and unit
// come out as UTF-8 in the record.
TEST(LiveRecordHl7, Latin1FieldsBecomeUtf8) {
  auto r = FromText(
      "MSH|^~\\&|LIMS|H\xD4P|HUB|REG|20250101120000||ORU^R01^ORU_R01|R\xC9" "1|P|2.4||||||8859/1\r"
      "PID|1||9990000018^^^NHS^NH||M\xDCLLER^J\r"
      "PV1|1|I|SAINT J\xC9R\xD4ME^B1\r"
      "OBX|1|NM|GLUC\xC9^Glucose^L||5.5|\xB5mol/L|||||F|||20250101110000\r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sending_facility, "H\xC3\x94P");
  EXPECT_EQ(r->control_id, "R\xC3\x89" "1");
  EXPECT_EQ(r->ward, "SAINT J\xC3\x89R\xC3\x94ME");
  EXPECT_EQ(r->patient.family, "M\xC3\x9CLLER");
  ASSERT_EQ(r->observations.size(), 1u);
  EXPECT_EQ(r->observations[0].code, "GLUC\xC3\x89");
  EXPECT_EQ(r->observations[0].unit, "\xC2\xB5mol/L");
}

}  // namespace
}  // namespace ark::live
