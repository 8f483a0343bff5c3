#include "live/mllp.h"

#include <algorithm>

namespace ark::live {

void AppendMllpFrame(std::string_view message, std::string* out) {
  out->reserve(out->size() + message.size() + 3);
  out->push_back(kMllpStart);
  out->append(message);
  out->push_back(kMllpEnd1);
  out->push_back(kMllpEnd2);
}

Status MllpDecoder::Feed(std::string_view bytes,
                         const std::function<void(std::string_view)>& on_message) {
  bool oversized = false;
  Feed(bytes, on_message, [&](std::string_view) { oversized = true; });
  if (oversized) {
    return Status::InvalidArgument("MLLP frame longer than " + std::to_string(max_frame_) +
                                   " bytes");
  }
  return Status::OK();
}

void MllpDecoder::Feed(std::string_view bytes,
                       const std::function<void(std::string_view)>& on_message,
                       const std::function<void(std::string_view prefix)>& on_oversized) {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    if (!in_frame_) {
      const size_t start = bytes.find(kMllpStart, i);
      if (start == std::string_view::npos) {
        skipped_ += n - i;
        return;
      }
      skipped_ += start - i;
      in_frame_ = true;
      saw_end1_ = false;
      buf_.clear();
      i = start + 1;
      continue;
    }
    if (saw_end1_) {
      saw_end1_ = false;
      const char c = bytes[i];
      if (c == kMllpEnd2) {
        ++i;
        in_frame_ = false;
        on_message(buf_);
        buf_.clear();
        continue;
      }
      buf_.push_back(kMllpEnd1);  // a lone 0x1C is content
      continue;
    }
    // Scan a run of content up to the next control byte.
    size_t j = i;
    while (j < n && bytes[j] != kMllpEnd1 && bytes[j] != kMllpStart) ++j;
    buf_.append(bytes.data() + i, j - i);
    if (buf_.size() > max_frame_) {  // skip the rest of it: outside a frame until the next 0x0B
      in_frame_ = false;
      skipped_ += buf_.size();
      buf_.resize(std::min<size_t>(buf_.size(), 4096));
      on_oversized(buf_);
      buf_.clear();
      buf_.shrink_to_fit();
      i = j;
      continue;
    }
    i = j;
    if (i == n) break;
    if (bytes[i] == kMllpStart) {  // restart: the partial frame is dropped
      skipped_ += buf_.size();
      buf_.clear();
      ++i;
      continue;
    }
    saw_end1_ = true;  // 0x1C
    ++i;
  }
}

std::vector<std::string> SplitHl7Messages(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] != '\r' && text[j] != '\n') ++j;
    std::string_view line = text.substr(i, j - i);
    if (j < text.size() && text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ++j;
    i = j + 1;
    if (line.empty()) continue;
    if (line.substr(0, 3) == "MSH" || out.empty()) out.emplace_back();
    out.back().append(line);
    out.back().push_back('\r');
  }
  return out;
}

}  // namespace ark::live
