// MLLP framing edge cases (src/live/mllp.h) and the splitting of HL7 files into messages.
#include <gtest/gtest.h>

#include "live/mllp.h"
#include "live/sender.h"
#include "live/mllp.h"

namespace ark::live {
namespace {

std::vector<std::string> FeedAll(MllpDecoder& d, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const auto& c : chunks) {
    EXPECT_TRUE(d.Feed(c, [&](std::string_view m) { out.emplace_back(m); }).ok());
  }
  return out;
}

TEST(LiveMllp, OneFrame) {
  MllpDecoder d;
  EXPECT_EQ(FeedAll(d, {MllpFrame("MSH|a\rPID|1")}), std::vector<std::string>{"MSH|a\rPID|1"});
  EXPECT_FALSE(d.in_frame());
}

TEST(LiveMllp, SplitAcrossReadsByteByByte) {
  const std::string f = MllpFrame("MSH|one") + MllpFrame("MSH|two");
  MllpDecoder d;
  std::vector<std::string> chunks;
  for (char c : f) chunks.emplace_back(1, c);
  EXPECT_EQ(FeedAll(d, chunks), (std::vector<std::string>{"MSH|one", "MSH|two"}));
}

TEST(LiveMllp, EndMarkerSplitBetweenReads) {
  MllpDecoder d;
  EXPECT_EQ(FeedAll(d, {"\x0bMSH|x\x1c", "\r"}), std::vector<std::string>{"MSH|x"});
}

TEST(LiveMllp, SeveralFramesInOneRead) {
  std::string all;
  for (int i = 0; i < 100; ++i) AppendMllpFrame("MSH|" + std::to_string(i), &all);
  MllpDecoder d;
  auto got = FeedAll(d, {all});
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[57], "MSH|57");
}

TEST(LiveMllp, JunkBetweenFramesIsSkipped) {
  MllpDecoder d;
  auto got = FeedAll(d, {"garbage\r\n" + MllpFrame("MSH|a") + "\r\n", "xx" + MllpFrame("MSH|b")});
  EXPECT_EQ(got, (std::vector<std::string>{"MSH|a", "MSH|b"}));
  EXPECT_EQ(d.skipped_bytes(), 13u);
}

TEST(LiveMllp, StartByteInsideFrameRestartsIt) {
  MllpDecoder d;
  auto got = FeedAll(d, {"\x0bMSH|partial", "\x0bMSH|whole\x1c\r"});
  EXPECT_EQ(got, std::vector<std::string>{"MSH|whole"});
}

TEST(LiveMllp, LoneFileSeparatorIsContent) {
  MllpDecoder d;
  auto got = FeedAll(d, {std::string("\x0b") + "A\x1c" + "B\x1c\r"});
  EXPECT_EQ(got, std::vector<std::string>{"A\x1c"
                                          "B"});
}

TEST(LiveMllp, EmptyFrame) {
  MllpDecoder d;
  EXPECT_EQ(FeedAll(d, {"\x0b\x1c\r"}), std::vector<std::string>{""});
}

TEST(LiveMllp, OversizedFrameIsAnError) {
  MllpDecoder d(16);
  Status s = d.Feed("\x0b" + std::string(40, 'x'), [](std::string_view) {});
  EXPECT_FALSE(s.ok());
  // It recovers at the next frame.
  std::vector<std::string> got;
  EXPECT_TRUE(d.Feed(MllpFrame("ok"), [&](std::string_view m) { got.emplace_back(m); }).ok());
  EXPECT_EQ(got, std::vector<std::string>{"ok"});
}

// With an on_oversized handler the decoder answers for the oversized frame (its first bytes) and
// goes on in the same read: the next frame is not lost.
TEST(LiveMllp, OversizedFrameIsReportedAndDecodingGoesOn) {
  MllpDecoder d(64);
  std::vector<std::string> got, big;
  const std::string bytes = MllpFrame("MSH|^~\\&|A|B|C|D|1||ADT^A01|BIG1|P|2.4\r" + std::string(500, 'x')) +
                            MllpFrame("MSH|small");
  d.Feed(bytes, [&](std::string_view m) { got.emplace_back(m); },
         [&](std::string_view prefix) { big.emplace_back(prefix); });
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].rfind("MSH|^~\\&|A|B|C|D|1||ADT^A01|BIG1", 0), 0u) << big[0];
  EXPECT_EQ(got, std::vector<std::string>{"MSH|small"});
}

// A frame that never ends, and garbage outside frames, hold no more than the limit plus one read.
TEST(LiveMllp, EndlessFrameAndGarbageDoNotGrowMemory) {
  MllpDecoder d(1 << 16);
  int oversized = 0;
  const std::string chunk(1 << 16, 'y');
  d.Feed("\x0bMSH|", [](std::string_view) {}, [&](std::string_view) { oversized++; });
  for (int i = 0; i < 200; i++) {  // 13 MB of one frame
    d.Feed(chunk, [](std::string_view) {}, [&](std::string_view) { oversized++; });
    EXPECT_LE(d.buffered_bytes(), 3u << 16);
  }
  EXPECT_EQ(oversized, 1);
  for (int i = 0; i < 200; i++) {  // garbage between frames (no 0x0B): skipped, not kept
    d.Feed(chunk, [](std::string_view) {}, [&](std::string_view) { oversized++; });
    EXPECT_LE(d.buffered_bytes(), 3u << 16);
  }
  EXPECT_GE(d.skipped_bytes(), 400u << 16);
  std::vector<std::string> got;
  d.Feed(MllpFrame("MSH|ok"), [&](std::string_view m) { got.emplace_back(m); }, [](std::string_view) {});
  EXPECT_EQ(got, std::vector<std::string>{"MSH|ok"});
}

// An AE whose ERR text is Latin-1 (a server answering in the sender's 8859/1) must not make
// `ark send-hl7 --json` throw (nlohmann type_error 316).
TEST(LiveMllp, SendReportJsonToleratesNonUtf8Problems) {
  SendReport r;
  r.sent = 1;
  r.errors = 1;
  r.problems.push_back("AE: segment 3 (PV1), field 44: bad timestamp 'J\xC9R\xD4ME'");
  std::string j;
  ASSERT_NO_THROW(j = SendReportJson(r));
  EXPECT_NE(j.find("\"errors\": 1"), std::string::npos) << j;
  EXPECT_NE(j.find("bad timestamp"), std::string::npos) << j;
}

TEST(LiveMllp, SplitHl7MessagesHandlesCrLfAndCrlf) {
  auto m = SplitHl7Messages("MSH|^~\\&|A\nPID|1\r\nMSH|^~\\&|B\rPID|2\r\n\r\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], "MSH|^~\\&|A\rPID|1\r");
  EXPECT_EQ(m[1], "MSH|^~\\&|B\rPID|2\r");
}

TEST(LiveMllp, AckCodeAndHostPort) {
  EXPECT_EQ(AckCode("MSH|^~\\&|X\rMSA|AE|MSG1\rERR||PV1^4^44"), "AE");
  EXPECT_EQ(AckCode("MSH|^~\\&|X\rMSA|AA|1\r"), "AA");
  EXPECT_EQ(AckControlId("MSH|^~\\&|X\rMSA|AA|MSG7|ok\r"), "MSG7");
  EXPECT_EQ(AckControlId("MSH|^~\\&|X\rMSA|AE\r"), "");
  EXPECT_EQ(AckCode("MSH|^~\\&|X\r"), "");
  std::string h;
  uint16_t p = 0;
  EXPECT_TRUE(ParseHostPort("127.0.0.1:2575", &h, &p).ok());
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 2575);
  EXPECT_FALSE(ParseHostPort("nohost", &h, &p).ok());
  EXPECT_FALSE(ParseHostPort("h:99999", &h, &p).ok());
}

}  // namespace
}  // namespace ark::live
