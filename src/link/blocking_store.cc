#include "link/blocking_store.h"

#include <unistd.h>

#include <algorithm>

#include "core/fs.h"
#include "link/pair_spill.h"

namespace ark {

Result<std::unique_ptr<KeyColumns>> KeyColumns::Create(size_t columns, const std::string& dir) {
  if (columns == 0) return Status::InvalidArgument("KeyColumns needs at least one column");
  std::unique_ptr<KeyColumns> k(new KeyColumns());
  k->cols_ = columns;
  k->buf_.resize(columns);
  if (!dir.empty()) {
    k->what_ = dir + " (temporary file of blocking keys)";
    ARK_ASSIGN_OR_RETURN(k->fd_, MakeUnnamedFile(dir));
    for (auto& b : k->buf_) b.reserve(kBlock);
  }
  return k;
}

KeyColumns::~KeyColumns() {
  if (fd_ >= 0) ::close(fd_);
}

Status KeyColumns::Append(const uint64_t* keys) {
  if (finished_) return Status::FailedPrecondition("KeyColumns::Append after Finish");
  for (size_t c = 0; c < cols_; ++c) buf_[c].push_back(keys[c]);
  ++n_;
  if (fd_ >= 0 && buf_[0].size() == kBlock) return FlushBlock();
  return Status::OK();
}

Status KeyColumns::FlushBlock() {
  for (size_t c = 0; c < cols_; ++c) {
    const uint64_t at = (uint64_t{blocks_written_} * cols_ + c) * kBlock * 8;
    ARK_RETURN_IF_ERROR(PwriteFull(fd_, at, buf_[c].data(), buf_[c].size() * 8, what_));
    buf_[c].clear();
  }
  ++blocks_written_;
  return Status::OK();
}

Status KeyColumns::Finish() {
  if (finished_) return Status::OK();
  finished_ = true;
  if (fd_ < 0) return Status::OK();
  if (!buf_[0].empty()) ARK_RETURN_IF_ERROR(FlushBlock());
  std::vector<std::vector<uint64_t>>().swap(buf_);
  return Status::OK();
}

Status KeyColumns::Read(size_t c, std::vector<uint64_t>* out) const {
  if (!finished_) return Status::FailedPrecondition("KeyColumns::Read before Finish");
  if (c >= cols_) return Status::InvalidArgument("KeyColumns::Read: no column " + std::to_string(c));
  if (fd_ < 0) {
    *out = buf_[c];
    return Status::OK();
  }
  out->resize(n_);
  for (size_t b = 0; b * kBlock < n_; ++b) {
    const size_t count = std::min(kBlock, n_ - b * kBlock);
    const uint64_t at = (uint64_t{b} * cols_ + c) * kBlock * 8;
    ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, at, out->data() + b * kBlock, count * 8, what_));
    if (got != count * 8) return Status::Corruption(what_ + ": column " + std::to_string(c) + " is cut short");
  }
  return Status::OK();
}

Result<std::unique_ptr<BlockStream>> BlockStream::Create(const std::string& dir) {
  std::unique_ptr<BlockStream> s(new BlockStream());
  if (!dir.empty()) {
    s->what_ = dir + " (temporary file of blocks)";
    ARK_ASSIGN_OR_RETURN(s->fd_, MakeUnnamedFile(dir));
  }
  return s;
}

BlockStream::~BlockStream() {
  if (fd_ >= 0) ::close(fd_);
}

Status BlockStream::Add(uint32_t rule, std::span<const uint32_t> members) {
  if (finished_) return Status::FailedPrecondition("BlockStream::Add after Finish");
  if (members.empty() || members.size() > UINT32_MAX) {
    return Status::InvalidArgument("BlockStream::Add: a block of 1 to 2^32-1 members");
  }
  buf_.push_back(rule);
  buf_.push_back(static_cast<uint32_t>(members.size()));
  buf_.insert(buf_.end(), members.begin(), members.end());
  ++blocks_;
  members_ += members.size();
  constexpr size_t kWriteWords = size_t{1} << 21;  // 8 MiB
  if (fd_ >= 0 && buf_.size() >= kWriteWords) return Flush();
  return Status::OK();
}

Status BlockStream::Flush() {
  ARK_RETURN_IF_ERROR(PwriteFull(fd_, written_ * 4, buf_.data(), buf_.size() * 4, what_));
  written_ += buf_.size();
  buf_.clear();
  return Status::OK();
}

Status BlockStream::Finish() {
  if (finished_) return Status::OK();
  finished_ = true;
  if (fd_ < 0) {
    buf_.shrink_to_fit();
    return Status::OK();
  }
  ARK_RETURN_IF_ERROR(Flush());
  std::vector<uint32_t>().swap(buf_);
  return Status::OK();
}

Status BlockStream::ReadWords(uint64_t first, size_t count, std::vector<uint32_t>* out) const {
  count = static_cast<size_t>(std::min<uint64_t>(count, written_ - std::min(first, written_)));
  out->resize(count);
  ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, first * 4, out->data(), count * 4, what_));
  if (got != count * 4) return Status::Corruption(what_ + ": cut short at word " + std::to_string(first + got / 4));
  return Status::OK();
}

}  // namespace ark
