// Tests of the HL7 v2 parser, escapes, timestamps and ACKs, on the samples in tests/data/hl7.
#include "hl7/hl7.h"

#include <gtest/gtest.h>

#include <random>

#include "core/fs.h"

namespace ark::hl7 {
namespace {

std::string Sample(const std::string& name) {
  auto r = ReadFile(std::string(ARK_SOURCE_DIR) + "/tests/data/hl7/" + name);
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? *r : std::string();
}

TEST(Hl7Parse, SampleA01CrAndCrlfAgree) {
  for (const char* name : {"adt_a01.cr.hl7", "adt_a01.hl7"}) {
    auto m = Message::Parse(Sample(name));
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    EXPECT_EQ(m->type(), "ADT");
    EXPECT_EQ(m->trigger(), "A01");
    EXPECT_EQ(m->control_id(), "MSG00001");
    EXPECT_EQ(m->version(), "2.4");
    EXPECT_EQ(m->segment_count(), 4);
    EXPECT_EQ(m->Get("MSH", 1), "|");
    EXPECT_EQ(m->Get("MSH", 2), "^~\\&");
    EXPECT_EQ(m->Get("MSH", 9, 3), "ADT_A01");
    EXPECT_EQ(m->Get("PID", 3, 1, 0), "9990000018");
    EXPECT_EQ(m->Get("PID", 3, 5, 0), "NH");
    EXPECT_EQ(m->Get("PID", 3, 1, 1), "RXX1234567");
    EXPECT_EQ(m->Get("PID", 3, 4, 1), "RXX");
    EXPECT_EQ(m->Repetitions("PID", 3), 2);
    EXPECT_EQ(m->Get("PID", 5, 1), "TEST");
    EXPECT_EQ(m->Get("PID", 5, 2), "PATIENT");
    EXPECT_EQ(m->Get("PID", 11, 5), "LS1 1AA");
    EXPECT_EQ(m->Get("PV1", 3, 4), "RXX01");
    EXPECT_EQ(m->Get("PV1", 44), "20250101115500");
    EXPECT_EQ(m->Get("EVN", 6), "20250101115500");
    EXPECT_EQ(m->Get("PV1", 99), "");
    EXPECT_EQ(m->Get("ZZZ", 1), "");
    EXPECT_EQ(m->Count("PID"), 1);
    EXPECT_EQ(m->Count("OBX"), 0);
  }
}

TEST(Hl7Parse, EscapesInSample) {
  auto m = Message::Parse(Sample("adt_a03_escape.hl7"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->trigger(), "A03");
  EXPECT_EQ(m->Get("NTE", 3), "Seen in A&E; pipe | caret ^ tilde ~ backslash \\");
  EXPECT_EQ(m->Get("PV1", 45), "20250103165500");
}

TEST(Hl7Parse, MergeSample) {
  auto m = Message::Parse(Sample("adt_a40.hl7"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->trigger(), "A40");
  EXPECT_EQ(m->Get("MRG", 1, 1), "RXX7654321");
  EXPECT_EQ(m->Get("MRG", 1, 5), "MR");
}

TEST(Hl7Parse, CustomSeparatorsSubcomponentsAndHex) {
  std::string text =
      "MSH#*!$@#APP#FAC#RCV#RFAC#20250101120000##ORU*R01#C9#P#2.5\r"
      "OBX#1#NM#14682-9*Creatinine*LN##123.5#umol/L\r"
      "NTE#1##a$X41$$F$b!c*d@e@f$.br$g$Z12$\n";
  auto m = Message::Parse(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Get("MSH", 1), "#");
  EXPECT_EQ(m->type(), "ORU");
  EXPECT_EQ(m->trigger(), "R01");
  EXPECT_EQ(m->Get("OBX", 3, 2), "Creatinine");
  EXPECT_EQ(m->Get("NTE", 3, 1, 0, 1), "aA#b");
  EXPECT_EQ(m->Get("NTE", 3, 1, 1), "c");
  EXPECT_EQ(m->Get("NTE", 3, 2, 1, 2), "e");
  EXPECT_EQ(m->Get("NTE", 3, 2, 1, 3), "f\ng$Z12$");
  EXPECT_EQ(m->Repetitions("NTE", 3), 2);
}

TEST(Hl7Parse, OccurrencesAndBlankLines) {
  std::string text = "\r\nMSH|^~\\&|A|B|C|D|20250101||ORU^R01|X1|P|2.4\r\n\r\nOBR|1\rOBX|1|NM|A||1\rOBX|2|NM|B||2\r\n";
  auto m = Message::Parse(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Count("OBX"), 2);
  EXPECT_EQ(m->Get("OBX", 3, 1, 0, 1, 1), "B");
  EXPECT_EQ(m->IndexOf("OBX", 1), 3);
  EXPECT_EQ(m->IndexOf("OBX", 2), -1);
}

TEST(Hl7Parse, ErrorsNameSegmentAndField) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"", "segment 1: message does not start with MSH"},
      {"PID|1||123\r", "segment 1: message does not start with MSH"},
      {"MSH|^~\r", "segment 1 (MSH), field 2"},
      {"MSH|^~|A|B\r", "segment 1 (MSH), field 2: expected 4 encoding characters"},
      {"MSH|^^\\&|A\r", "segment 1 (MSH), field 2: encoding characters"},
      {"MSHA^~\\&|A\r", "segment 1 (MSH), field 1: bad field separator"},
      {"MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|2.4\rpid|1\r", "segment 2: bad segment id 'pid'"},
      {"MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|2.4\rPIDX|1\r", "segment 2: bad segment id"},
      {"MSH|^~\\&|A|B|C|D|2025||||P|2.4\r", "segment 1 (MSH), field 9: missing message type"},
      {"MSH|^~\\&|A|B|C|D|2025||ADT^A01||P|2.4\r", "segment 1 (MSH), field 10: missing message control id"},
      {"MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P\rMSH|^~\\&|A|B|C|D|2025||ADT^A01|2|P\r",
       "segment 2 (MSH): second MSH"},
  };
  for (const Case& c : cases) {
    auto m = Message::Parse(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(c.expect), std::string::npos)
        << "got: " << m.status().message() << "\nwant: " << c.expect;
  }
}

TEST(Hl7Timestamp, FormatsAndOffsets) {
  struct Case {
    const char* ts;
    const char* want;  // FormatTimestamp of the result, or nullptr for an error
  } cases[] = {
      {"2025", "20250101000000"},
      {"202503", "20250301000000"},
      {"20250315", "20250315000000"},
      {"2025031512", "20250315120000"},
      {"202503151234", "20250315123400"},
      {"20250315123456", "20250315123456"},
      {"20250315123456.1234", "20250315123456"},
      {"20250315123456+0100", "20250315113456"},
      {"20250315123456.5-0500", "20250315173456"},
      {"202503151234+0000", "20250315123400"},
      {"20240229", "20240229000000"},
      {"20250229", nullptr},
      {"20251301", nullptr},
      {"20250101246000", nullptr},
      {"2025011", nullptr},
      {"2025010112345", nullptr},
      {"20250101123456+01", nullptr},
      {"20250101123456+0160", nullptr},
      {"2025-01-01", nullptr},
      {"", nullptr},
      {"20250101.5", nullptr},
      {"20250101123456.", nullptr},
  };
  for (const Case& c : cases) {
    auto t = ParseTimestamp(c.ts);
    if (c.want) {
      ASSERT_TRUE(t.ok()) << c.ts << ": " << t.status().ToString();
      EXPECT_EQ(FormatTimestamp(*t), c.want) << c.ts;
    } else {
      EXPECT_FALSE(t.ok()) << c.ts;
    }
  }
  EXPECT_EQ(FormatTimestamp(0), "19700101000000");
  EXPECT_EQ(*ParseTimestamp("19691231235959"), -1);
}

TEST(Hl7Escape, RoundTrip) {
  std::string s = "a|b^c~d\\e&f\rg\nh";
  EXPECT_EQ(Unescape(Escape(s)), s);
  EXPECT_EQ(Escape("a|b"), "a\\F\\b");
  EXPECT_EQ(Unescape("\\X0D0A\\"), "\r\n");
  EXPECT_EQ(Unescape("unterminated \\F"), "unterminated \\F");
  EXPECT_EQ(Unescape("bad hex \\XZZ\\"), "bad hex \\XZZ\\");
}

std::vector<std::string> Segments(const std::string& ack) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < ack.size()) {
    size_t e = ack.find('\r', pos);
    EXPECT_NE(e, std::string::npos) << "segments end with CR";
    if (e == std::string::npos) break;
    out.push_back(ack.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

TEST(Hl7Ack, AcceptSwapsSenderAndReceiver) {
  std::string raw = Sample("adt_a01.hl7");
  auto m = Message::Parse(raw);
  ASSERT_TRUE(m.ok());
  std::string ack = MakeAck(&*m, raw, "AA", Status::OK());
  auto segs = Segments(ack);
  ASSERT_EQ(segs.size(), 2u) << ack;
  auto a = Message::Parse(ack);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->Get("MSH", 3), "CITYHUB");
  EXPECT_EQ(a->Get("MSH", 4), "CITYREG");
  EXPECT_EQ(a->Get("MSH", 5), "PAS");
  EXPECT_EQ(a->Get("MSH", 6), "RXX01");
  EXPECT_EQ(a->type(), "ACK");
  EXPECT_EQ(a->trigger(), "A01");
  EXPECT_EQ(a->Get("MSH", 9, 3), "ACK");
  EXPECT_EQ(a->control_id(), "ACKMSG00001");
  EXPECT_EQ(a->version(), "2.4");
  EXPECT_EQ(a->Get("MSH", 11), "P");
  EXPECT_EQ(a->Get("MSA", 1), "AA");
  EXPECT_EQ(a->Get("MSA", 2), "MSG00001");
  EXPECT_EQ(a->Count("ERR"), 0);
  EXPECT_TRUE(ParseTimestamp(a->Get("MSH", 7)).ok());
}

TEST(Hl7Ack, ErrorCarriesPosition) {
  std::string raw = "MSH|^~\\&|LAB|RXX|HUB|REG|20250101||ORU^R01|C77|P|2.5\rPID|1||123^^^RXX^MR\rOBX|1|NM|X||abc\r";
  auto m = Message::Parse(raw);
  ASSERT_TRUE(m.ok());
  Status err = Status::InvalidArgument("segment 3 (OBX), field 5: not a number 'a|b'");
  auto a = Message::Parse(MakeAck(&*m, raw, "AE", err));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->Get("MSA", 1), "AE");
  EXPECT_EQ(a->Get("MSA", 2), "C77");
  EXPECT_EQ(a->Get("MSA", 3), "segment 3 (OBX), field 5: not a number 'a|b'");
  EXPECT_EQ(a->Get("ERR", 2, 1), "OBX");
  EXPECT_EQ(a->Get("ERR", 2, 2), "3");
  EXPECT_EQ(a->Get("ERR", 2, 3), "5");
  EXPECT_EQ(a->Get("ERR", 3, 1), "102");
  EXPECT_EQ(a->Get("ERR", 4), "E");
  EXPECT_EQ(a->Get("ERR", 8), "segment 3 (OBX), field 5: not a number 'a|b'");
}

TEST(Hl7Ack, UnparseableInputStillGetsAnAck) {
  std::string raw = "MSH|^~|SND|SFAC|RCV|RFAC|2025||ADT^A01|K1|P|2.3\rPID|1\r";
  auto m = Message::Parse(raw);
  ASSERT_FALSE(m.ok());
  auto a = Message::Parse(MakeAck(nullptr, raw, "AR", m.status()));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->Get("MSA", 1), "AR");
  EXPECT_EQ(a->Get("MSA", 2), "K1");
  EXPECT_EQ(a->Get("MSH", 5), "SND");
  EXPECT_EQ(a->Get("ERR", 2, 1), "MSH");
  EXPECT_EQ(a->Get("ERR", 2, 3), "2");
  // Garbage: still a well-formed ACK.
  for (std::string g : {std::string(), std::string("\x0b\x1c"), std::string("MSH"), std::string("hello|world")}) {
    auto b = Message::Parse(MakeAck(nullptr, g, "AR", Status::InvalidArgument("x")));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
  }
}

// Fuzz-ish: truncations, byte flips and random separators never crash (ASan run checks).
TEST(Hl7Parse, RobustToTruncationAndCorruption) {
  std::vector<std::string> seeds = {Sample("adt_a01.hl7"), Sample("adt_a01.cr.hl7"),
                                    Sample("adt_a03_escape.hl7"), Sample("adt_a40.hl7")};
  std::mt19937 rng(7);
  const char alphabet[] = "|^~\\&\r\nMSHPIDX0123456789 ";
  int parsed = 0;
  for (const std::string& s : seeds) {
    for (size_t n = 0; n <= s.size(); n++) {
      auto m = Message::Parse(std::string_view(s).substr(0, n));
      if (m.ok()) {
        parsed++;
        for (int f = 0; f < 50; f++) (void)m->Get("PID", f, 1 + f % 3, f % 2, 1 + f % 2);
        (void)MakeAck(&*m, s, "AA", Status::OK());
      } else {
        (void)MakeAck(nullptr, s.substr(0, n), "AR", m.status());
      }
    }
    for (int i = 0; i < 2000; i++) {
      std::string t = s;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; k++) {
        size_t p = rng() % t.size();
        t[p] = (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % (sizeof(alphabet) - 1)];
      }
      auto m = Message::Parse(t);
      if (m.ok()) {
        for (int f = 0; f < 20; f++) (void)m->Get(m->segment_id(f % m->segment_count()), f, 1 + f % 4, f % 3);
        (void)m->Repetitions("PID", 3);
      }
      (void)MakeAck(m.ok() ? &*m : nullptr, t, m.ok() ? "AA" : "AE", m.status());
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace ark::hl7
