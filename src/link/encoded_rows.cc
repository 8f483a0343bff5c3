#include "link/encoded_rows.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

#include "core/fs.h"
#include "link/pair_spill.h"

namespace ark {
namespace {

size_t PageBytes() {
  static const size_t page = [] {
    const long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<size_t>(p) : size_t{4096};
  }();
  return page;
}

// Rows are written to the file once this many bytes are buffered.
constexpr size_t kWriteBytes = size_t{8} << 20;

}  // namespace

Result<std::unique_ptr<EncodedRows>> EncodedRows::Create(size_t fields, bool with_clk, const std::string& dir) {
  if (fields > 64) return Status::InvalidArgument("at most 64 encoded fields, not " + std::to_string(fields));
  std::unique_ptr<EncodedRows> r(new EncodedRows());
  r->nf_ = fields;
  r->with_clk_ = with_clk;
  r->stride_ = fields * kFieldWords + 1 + (with_clk ? kClkWords : 0);
  if (!dir.empty()) {
    r->what_ = dir + " (temporary file of encoded records)";
    ARK_ASSIGN_OR_RETURN(r->fd_, MakeUnnamedFile(dir));
  }
  return r;
}

EncodedRows::~EncodedRows() {
  if (map_) ::munmap(const_cast<uint64_t*>(map_), map_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

Status EncodedRows::Append(const uint64_t* filters, uint64_t present_bits, const uint64_t* clk) {
  if (finished_) return Status::FailedPrecondition("EncodedRows::Append after Finish");
  buf_.insert(buf_.end(), filters, filters + nf_ * kFieldWords);
  buf_.push_back(present_bits);
  if (with_clk_) buf_.insert(buf_.end(), clk, clk + kClkWords);
  ++n_;
  if (fd_ >= 0 && buf_.size() * 8 >= kWriteBytes) return Flush();
  return Status::OK();
}

Status EncodedRows::Flush() {
  // Written a page at a time: the page cache then holds the file in single pages, not in large
  // folios that a fault would map whole.
  const char* bytes = reinterpret_cast<const char*>(buf_.data());
  const size_t total = buf_.size() * 8, page = PageBytes();
  for (size_t at = 0; at < total; at += page) {
    ARK_RETURN_IF_ERROR(PwriteFull(fd_, written_ + at, bytes + at, std::min(page, total - at), what_));
  }
  written_ += total;
  buf_.clear();
  return Status::OK();
}

Status EncodedRows::Finish(size_t resident_budget, int threads) {
  if (finished_) return Status::OK();
  finished_ = true;
  if (fd_ < 0 || n_ == 0) {
    buf_.shrink_to_fit();
    rec_ = buf_.data();
    return Status::OK();
  }
  ARK_RETURN_IF_ERROR(Flush());
  std::vector<uint64_t>().swap(buf_);
  map_bytes_ = written_;
  void* p = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return Status::IOError("cannot map " + what_ + ": " + std::strerror(errno));
  map_ = static_cast<const uint64_t*>(p);
  rec_ = map_;
  (void)::madvise(p, map_bytes_, MADV_RANDOM);  // no read-ahead
  // A fault maps the pages around it that are in the page cache too ("fault-around", 64 KiB by
  // default, which MADV_RANDOM does not turn off on current kernels): count 16 pages a record
  // and 32 a lookup (a pair's first record is mostly mapped already: the pairs go in its order).
  const size_t pages = resident_budget / PageBytes();
  drop_every_ = map_bytes_ <= resident_budget ? SIZE_MAX : std::max<size_t>(1024, pages / 32 / std::max(1, threads));
  return Status::OK();
}

void EncodedRows::Pace() const {
  if (!map_ || drop_every_ == SIZE_MAX) return;
  thread_local size_t calls = 0;
  if (++calls >= drop_every_) {
    calls = 0;
    Drop();
  }
}

void EncodedRows::DropRows(size_t lo, size_t hi) const {
  if (!map_ || hi <= lo) return;
  const size_t page = PageBytes();
  const size_t from = (lo * stride_ * 8 + page - 1) / page * page, to = std::min(hi * stride_ * 8, map_bytes_) / page * page;
  if (to > from) {
    (void)::madvise(const_cast<char*>(reinterpret_cast<const char*>(map_)) + from, to - from, MADV_DONTNEED);
  }
}

void EncodedRows::Drop() const {
  if (map_) (void)::madvise(const_cast<uint64_t*>(map_), map_bytes_, MADV_DONTNEED);
}

}  // namespace ark
