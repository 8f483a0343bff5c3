// Character sets (MSH-18) and hex escapes: every value a Message returns is UTF-8, whatever the
// sender's bytes; the ACK goes back in the sender's charset. Messages are built inline.
#include "hl7/charset.h"

#include <gtest/gtest.h>

#include "hl7/hl7.h"

namespace ark::hl7 {
namespace {

// An ADT^A01 with MSH-18 `charset` (omitted when empty), control id `cid`, sending facility
// `facility`, patient name `family^given` and ward `ward`, all given as raw bytes.
std::string Adt(const std::string& charset, const std::string& cid, const std::string& facility,
                const std::string& family, const std::string& given, const std::string& ward) {
  std::string msh = "MSH|^~\\&|PAS|" + facility + "|HUB|REG|20250101120000||ADT^A01^ADT_A01|" + cid +
                    "|P|2.4";
  if (!charset.empty()) msh += "||||||" + charset;
  return msh + "\rEVN|A01|20250101115500\rPID|1||9990000018^^^NHS^NH||" + family + "^" + given +
         "||19700101|M\rPV1|1|I|" + ward + "^BED2^^RXX01\r";
}

TEST(Hl7Charset, DeclaredLatin1IsReadAsUtf8) {
  auto m = Message::Parse(Adt("8859/1", "LAT\xC9" "1", "H\xD4PITAL", "M\xFCLLER", "J\xD6RG",
                              "SAINT J\xC9R\xD4ME"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->charset().declared, "8859/1");
  EXPECT_EQ(m->Get("PID", 5, 1), "M\xC3\xBCLLER");  // MüLLER
  EXPECT_EQ(m->Get("PID", 5, 2), "J\xC3\x96RG");
  EXPECT_EQ(m->Get("PV1", 3, 1), "SAINT J\xC3\x89R\xC3\x94ME");
  EXPECT_EQ(m->Get("MSH", 4), "H\xC3\x94PITAL");
  EXPECT_EQ(m->control_id(), "LAT\xC3\x89" "1");
  EXPECT_EQ(m->Get("PV1", 3, 2), "BED2");  // separators after a converted byte keep their places
}

TEST(Hl7Charset, UndeclaredBytesAreUtf8WhenValidElseLatin1) {
  auto latin = Message::Parse(Adt("", "C1", "RXX01", "M\xFCLLER", "J", "W\xC9"));
  ASSERT_TRUE(latin.ok()) << latin.status().ToString();
  EXPECT_EQ(latin->Get("PID", 5), "M\xC3\xBCLLER");
  EXPECT_EQ(latin->Get("PV1", 3), "W\xC3\x89");
  auto utf8 = Message::Parse(Adt("", "C1", "RXX01", "M\xC3\xBCLLER", "J", "W"));
  ASSERT_TRUE(utf8.ok());
  EXPECT_EQ(utf8->Get("PID", 5), "M\xC3\xBCLLER");
  auto ascii = Message::Parse(Adt("ASCII", "C1", "RXX01", "M\xFCLLER", "J", "W"));
  ASSERT_TRUE(ascii.ok());
  EXPECT_EQ(ascii->Get("PID", 5), "M\xC3\xBCLLER");
}

TEST(Hl7Charset, DeclaredUtf8WithAStrayByteStaysValid) {
  auto m = Message::Parse(Adt("UNICODE UTF-8", "C1", "RXX01", "M\xC3\xBCLLER\xFF", "J", "W"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Get("PID", 5), "M\xC3\xBCLLER\xC3\xBF");
}

TEST(Hl7Charset, OtherLatinCharsetsThroughIconv) {
  auto m = Message::Parse(Adt("8859/2", "C1", "RXX01", "\xA3" "ODZ", "J", "W"));  // Ł (U+0141)
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Get("PID", 5), "\xC5\x81ODZ");
  auto ack = MakeAck(&*m, "", "AA", Status::OK());
  EXPECT_NE(ack.find("|8859/2\r"), std::string::npos) << ack;
}

TEST(Hl7Charset, UnsupportedCharsetIsAnErrorNamingMsh18) {
  auto m = Message::Parse(Adt("UNICODE UTF-16", "C1", "RXX01", "A", "B", "W"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("segment 1 (MSH), field 18: unsupported character set"),
            std::string::npos)
      << m.status().message();
}

TEST(Hl7Charset, HexEscapesAreCharactersOfTheMessageCharset) {
  // \XC9\ is É in 8859/1 (the default for an undeclared, ASCII-only message) ...
  auto m = Message::Parse(Adt("", "C1", "RXX01", "A", "B", "SAINT J\\XC9\\R\\XD4\\ME"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->Get("PV1", 3), "SAINT J\xC3\x89R\xC3\x94ME");
  // ... and in a declared 8859/1 message; in UTF-8, \XC389\ is É too.
  auto l = Message::Parse(Adt("8859/1", "C1", "RXX01", "A", "B", "J\\XC9\\R"));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->Get("PV1", 3), "J\xC3\x89R");
  auto u = Message::Parse(Adt("UNICODE UTF-8", "C1", "RXX01", "A", "B", "J\\XC389\\R"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Get("PV1", 3), "J\xC3\x89R");
  // A lone byte that is not UTF-8 in a UTF-8 message is read as 8859/1 rather than kept invalid.
  auto bad = Message::Parse(Adt("UNICODE UTF-8", "C1", "RXX01", "A", "B", "J\\XC9\\R"));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->Get("PV1", 3), "J\xC3\x89R");
  EXPECT_EQ(Unescape("\\XC9\\"), "\xC3\x89");
}

TEST(Hl7Charset, EveryValueIsValidUtf8WhateverTheBytes) {
  for (int b = 0x80; b <= 0xFF; b++) {
    for (const char* cs : {"", "ASCII", "8859/1", "UNICODE UTF-8", "8859/15"}) {
      const std::string byte(1, static_cast<char>(b));
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\X%02X\\", b);
      auto m = Message::Parse(Adt(cs, "C" + byte, "F" + byte, "N" + byte, byte + byte, std::string("W") + hex + byte));
      ASSERT_TRUE(m.ok()) << b << " " << cs << ": " << m.status().ToString();
      for (int f = 1; f <= 5; f++) EXPECT_TRUE(IsValidUtf8(m->Get("PID", 5, f))) << b << cs;
      EXPECT_TRUE(IsValidUtf8(m->Get("PV1", 3))) << b << cs;
      EXPECT_TRUE(IsValidUtf8(m->Get("MSH", 4))) << b << cs;
      EXPECT_TRUE(IsValidUtf8(std::string(m->control_id()))) << b << cs;
    }
  }
}

TEST(Hl7Charset, AckIsInTheSendersCharsetSoMsa2MatchesItsBytes) {
  const std::string cid = "LAT\xC9" "1";
  auto m = Message::Parse(Adt("8859/1", cid, "H\xD4PITAL", "M\xFCLLER", "J", "W"));
  ASSERT_TRUE(m.ok());
  const std::string ack = MakeAck(&*m, "", "AA", Status::OK());
  EXPECT_NE(ack.find("\rMSA|AA|" + cid + "\r"), std::string::npos) << ack;
  EXPECT_NE(ack.find("|HUB|REG|PAS|H\xD4PITAL|"), std::string::npos) << ack;
  EXPECT_NE(ack.find("|2.4||||||8859/1\r"), std::string::npos) << ack;
  auto parsed = Message::Parse(ack);  // and it reads back
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Get("MSA", 2), "LAT\xC3\x89" "1");
  // Undeclared Latin-1: the ACK echoes the same bytes, without an MSH-18.
  auto u = Message::Parse(Adt("", cid, "RXX01", "A", "B", "W"));
  ASSERT_TRUE(u.ok());
  const std::string uack = MakeAck(&*u, "", "AA", Status::OK());
  EXPECT_NE(uack.find("\rMSA|AA|" + cid + "\r"), std::string::npos) << uack;
  EXPECT_EQ(uack.find("8859"), std::string::npos) << uack;
}

TEST(Hl7Charset, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC9"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  Charset latin1;
  EXPECT_EQ(FromUtf8("\xC3\xA9\xE2\x82\xAC", latin1), "\xE9?");  // € is not in 8859/1
}

TEST(Hl7Parse, ManyRepetitionsAreSplitInOnePass) {
  std::string ids;
  for (int i = 0; i < 100000; i++) ids += "ID" + std::to_string(i) + "^^^RXX^MR~";
  ids += "9990000018^^^NHS^NH";
  auto m = Message::Parse(Adt("", "C1", "RXX01", "A", "B", "W") + "ZID|1|" + ids + "\r");
  ASSERT_TRUE(m.ok());
  const int z = m->IndexOf("ZID");
  auto reps = m->RepetitionTexts(z, 2);
  ASSERT_EQ(reps.size(), 100001u);
  EXPECT_EQ(m->ComponentOf(reps[7], 1), "ID7");
  EXPECT_EQ(m->ComponentOf(reps.back(), 5), "NH");
  EXPECT_EQ(m->RepetitionsAt(z, 2), 100001);
}

}  // namespace
}  // namespace ark::hl7
