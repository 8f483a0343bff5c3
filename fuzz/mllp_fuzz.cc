// MLLP framing (live/mllp.h): the input's first two bytes choose the frame limit and the read
// size, the rest is fed to one decoder in reads of that size, as a connection would deliver it;
// each completed frame is parsed and mapped as the listener does. Also the file splitter
// (live/mllp.h SplitHl7Messages) over the same bytes.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "hl7/hl7.h"
#include "live/mllp.h"
#include "live/record.h"
#include "live/mllp.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_frame = 1 + data[0] * 16u;  // 1 .. 4081 bytes
  const size_t chunk = 1 + data[1] % 64;
  const std::string_view bytes = fuzz::AsText(data + 2, size - 2);
  live::MllpDecoder dec(max_frame);
  size_t frames = 0;
  for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
    Status s = dec.Feed(bytes.substr(pos, chunk), [&](std::string_view msg) {
      ++frames;
      if (msg.size() > max_frame) __builtin_trap();  // the decoder promised a limit
      auto m = hl7::Message::Parse(msg);
      if (m.ok()) (void)live::FromHl7(*m);
    });
    (void)s;
  }
  (void)dec.skipped_bytes();
  for (const std::string& msg : live::SplitHl7Messages(bytes)) (void)hl7::Message::Parse(msg);
  // Framing round trip: a frame of any message (without the end marker) decodes to itself.
  std::string one = std::string(bytes.substr(0, 256));
  if (one.find(live::kMllpStart) == std::string::npos &&
      one.find(std::string{live::kMllpEnd1, live::kMllpEnd2}) == std::string::npos &&
      (one.empty() || one.back() != live::kMllpEnd1)) {
    live::MllpDecoder d2;
    std::string got;
    int n = 0;
    (void)d2.Feed(live::MllpFrame(one), [&](std::string_view m) {
      got = std::string(m);
      ++n;
    });
    if (n != 1 || got != one) __builtin_trap();
  }
  return 0;
}
