// MLLP framing (SPECS.md "HL7 v2 and MLLP"): a frame is 0x0B, the message, 0x1C 0x0D.
//
// MllpDecoder accepts bytes as they arrive (frames split across reads, several frames per read)
// and yields whole messages. Bytes outside a frame (before a 0x0B) are skipped and counted; a
// 0x0B inside a frame restarts the frame (the sender gave up on the partial one); a 0x1C not
// followed by 0x0D is kept as message content. A frame longer than `max_frame` bytes is an error:
// the caller closes the connection.
//
// Not thread-safe: one decoder per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::live {

constexpr char kMllpStart = 0x0B;
constexpr char kMllpEnd1 = 0x1C;
constexpr char kMllpEnd2 = 0x0D;

// Appends 0x0B message 0x1C 0x0D to *out.
void AppendMllpFrame(std::string_view message, std::string* out);
inline std::string MllpFrame(std::string_view message) {
  std::string s;
  AppendMllpFrame(message, &s);
  return s;
}

class MllpDecoder {
 public:
  explicit MllpDecoder(size_t max_frame = 16u << 20) : max_frame_(max_frame) {}
  // Feeds bytes; calls on_message for every completed frame, in order. Errors: InvalidArgument
  // when a frame exceeds max_frame (the decoder is then reset and skips to the next 0x0B).
  Status Feed(std::string_view bytes, const std::function<void(std::string_view)>& on_message);
  // As above, but a frame longer than max_frame is not an error: on_oversized gets its first
  // bytes (up to 4 KiB, enough for the MSH) in its place, in order with the other frames, the
  // rest of it is skipped up to the next 0x0B, and decoding goes on. Memory stays below
  // max_frame + the size of one `bytes`, whatever the peer sends.
  void Feed(std::string_view bytes, const std::function<void(std::string_view)>& on_message,
            const std::function<void(std::string_view prefix)>& on_oversized);
  size_t max_frame() const { return max_frame_; }
  uint64_t skipped_bytes() const { return skipped_; }
  bool in_frame() const { return in_frame_; }
  size_t buffered_bytes() const { return buf_.capacity(); }  // memory held for a partial frame

 private:
  size_t max_frame_;
  bool in_frame_ = false;
  bool saw_end1_ = false;
  std::string buf_;
  uint64_t skipped_ = 0;
};

// Splits a file's text into HL7 messages: a message starts at each line beginning "MSH"; segment
// ends CR, LF or CRLF become CR; empty lines are dropped.
std::vector<std::string> SplitHl7Messages(std::string_view text);

}  // namespace ark::live
