#include "link/pair_spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>

#include "core/fs.h"

namespace ark {

int OpenUnnamedFile(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR)) return fd;
  std::string path = dir + "/.pairs-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

Result<int> MakeUnnamedFile(const std::string& dir) {
  const int fd = OpenUnnamedFile(dir);
  if (fd < 0) return Status::IOError("cannot make a temporary file in " + dir + ": " + std::strerror(errno));
  return fd;
}

PairSpill::~PairSpill() {
  if (fd_ >= 0) ::close(fd_);
}

void PairSpill::Release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -2;  // neither in memory nor in a file
  std::vector<uint64_t>().swap(pairs_);
  std::vector<uint8_t>().swap(levels_);
}

Status PairSpill::SpillTo(const std::string& dir) {
  if (n_ != 0 || fd_ >= 0) return Status::FailedPrecondition("PairSpill::SpillTo after pairs were added");
  path_ = dir + " (temporary file of candidate pairs)";
  ARK_ASSIGN_OR_RETURN(fd_, MakeUnnamedFile(dir));
  return Status::OK();
}

Status PairSpill::Append(std::vector<uint64_t>* pair_vec, std::vector<uint8_t>* level_vec) {
  const size_t k = pair_vec->size();
  if (level_vec->size() != k * nf_) return Status::InvalidArgument("PairSpill::Append: levels do not match the pairs");
  if (fd_ < 0) {
    if (n_ == 0) {
      pairs_.swap(*pair_vec);
      pairs_.shrink_to_fit();
      levels_.swap(*level_vec);
    } else {
      pairs_.insert(pairs_.end(), pair_vec->begin(), pair_vec->end());
      levels_.insert(levels_.end(), level_vec->begin(), level_vec->end());
    }
    n_ += k;
    pair_vec->clear();
    level_vec->clear();
    return Status::OK();
  }
  const uint64_t* pairs = pair_vec->data();
  const uint8_t* levels = level_vec->data();
  // Pair-major records (8 bytes of pair, then its levels), written in pieces of at most ~8 MiB.
  const size_t step = std::max<size_t>(1, (size_t{8} << 20) / width_);
  std::vector<uint8_t> buf;
  for (size_t lo = 0; lo < k; lo += step) {
    const size_t m = std::min(step, k - lo);
    buf.resize(m * width_);
    for (size_t i = 0; i < m; ++i) {
      std::memcpy(&buf[i * width_], &pairs[lo + i], 8);
      std::memcpy(&buf[i * width_ + 8], &levels[(lo + i) * nf_], nf_);
    }
    ARK_RETURN_IF_ERROR(PwriteFull(fd_, uint64_t{n_ + lo} * width_, buf.data(), buf.size(), path_));
  }
  n_ += k;
  std::vector<uint64_t>().swap(*pair_vec);
  std::vector<uint8_t>().swap(*level_vec);
  return Status::OK();
}

Status PairSpill::Read(size_t first, size_t count, std::vector<uint64_t>* pairs, std::vector<uint8_t>* levels) const {
  if (first + count > n_) return Status::InvalidArgument("PairSpill::Read past the pairs held");
  if (fd_ == -2) return Status::FailedPrecondition("PairSpill::Read after Release");
  pairs->resize(count);
  levels->resize(count * nf_);
  if (fd_ < 0) {
    std::copy_n(pairs_.begin() + first, count, pairs->begin());
    std::copy_n(levels_.begin() + first * nf_, count * nf_, levels->begin());
    return Status::OK();
  }
  std::vector<uint8_t> buf(count * width_);
  ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, uint64_t{first} * width_, buf.data(), buf.size(), path_));
  if (got != buf.size()) return Status::IOError(path_ + ": short read");
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(&(*pairs)[i], &buf[i * width_], 8);
    std::memcpy(&(*levels)[i * nf_], &buf[i * width_ + 8], nf_);
  }
  return Status::OK();
}

WeakPairFile::~WeakPairFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status WeakPairFile::Open(const std::string& dir) {
  if (fd_ >= 0) return Status::FailedPrecondition("WeakPairFile::Build twice");
  path_ = dir + " (temporary file of weak pairs)";
  ARK_ASSIGN_OR_RETURN(fd_, MakeUnnamedFile(dir));
  return Status::OK();
}

Status WeakPairFile::Write(uint64_t first_end, const std::vector<End>& ends) {
  static_assert(sizeof(End) == 8);
  return PwriteFull(fd_, first_end * sizeof(End), ends.data(), ends.size() * sizeof(End), path_);
}

WeakPairFile::RangeStager::~RangeStager() {
  if (fd_ >= 0) ::close(fd_);
}

Status WeakPairFile::RangeStager::Open(const std::string& dir) {
  path_ = dir + " (temporary file of weak pairs by range)";
  ARK_ASSIGN_OR_RETURN(fd_, MakeUnnamedFile(dir));
  buf_.resize(ranges());
  written_.assign(ranges(), 0);
  return Status::OK();
}

void WeakPairFile::RangeStager::Put(uint32_t m, uint32_t other, float p) {
  constexpr size_t kBuffered = size_t{1} << 16;  // ends a range buffers (768 KiB)
  if (!status_.ok()) return;  // a write failed: Finish reports it (nothing more is buffered)
  const size_t r = static_cast<size_t>(std::upper_bound(cuts_.begin(), cuts_.end(), size_t{m}) - cuts_.begin()) - 1;
  buf_[r].push_back(Staged{m, other, p});
  if (buf_[r].size() >= kBuffered) status_ = Flush(r);
}

Status WeakPairFile::RangeStager::Flush(size_t r) {
  std::vector<Staged>& b = buf_[r];
  const uint64_t at = start_[cuts_[r]] + written_[r];
  if (written_[r] + b.size() > start_[cuts_[r + 1]] - start_[cuts_[r]]) {
    return Status::Internal(path_ + ": more ends put in a range than were counted");
  }
  ARK_RETURN_IF_ERROR(PwriteFull(fd_, at * sizeof(Staged), b.data(), b.size() * sizeof(Staged), path_));
  written_[r] += b.size();
  b.clear();
  return Status::OK();
}

Status WeakPairFile::RangeStager::Finish() {
  for (size_t r = 0; r < ranges() && status_.ok(); ++r) {
    status_ = Flush(r);
    std::vector<Staged>().swap(buf_[r]);
  }
  return status_;
}

Status WeakPairFile::RangeStager::ReadPiece(uint64_t first, size_t count, std::vector<Staged>* out) const {
  out->resize(count);
  ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, first * sizeof(Staged), out->data(), count * sizeof(Staged), path_));
  if (got != count * sizeof(Staged)) return Status::IOError(path_ + ": short read");
  return Status::OK();
}

bool WeakPairFile::Of(uint32_t m, std::vector<End>* out) const {
  out->clear();
  if (fd_ < 0 || m + 1 >= start_.size()) return true;
  out->resize(start_[m + 1] - start_[m]);
  if (out->empty()) return true;
  auto got = PreadFull(fd_, start_[m] * sizeof(End), out->data(), out->size() * sizeof(End), path_);
  if (!got.ok() || *got != out->size() * sizeof(End)) {
    status_ = got.ok() ? Status::IOError(path_ + ": short read") : got.status();
    out->clear();
    return false;
  }
  return true;
}

}  // namespace ark
