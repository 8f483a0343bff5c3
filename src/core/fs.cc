#include "core/fs.h"
#include "core/private_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ark {
namespace fs = std::filesystem;

namespace {
Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

// Files and directories the engine creates hold pseudonymised data: owner-only, whatever the
// umask (fchmod after creating, since the umask may clear bits of the mode passed to open).
void OwnerOnly(int fd) {
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) != kPrivateFileMode) {
    (void)::fchmod(fd, kPrivateFileMode);
  }
}
}  // namespace

int OpenPrivate(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, kPrivateFileMode);
  if (fd >= 0 && (flags & O_CREAT)) OwnerOnly(fd);
  return fd;
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::NotFound(path + ": no such file") : Errno("open", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<size_t> PreadFull(int fd, uint64_t offset, void* dst, size_t n, const std::string& path) {
  char* p = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IOError(path + ": read: " + std::strerror(errno));
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

Status PwriteFull(int fd, uint64_t offset, const void* src, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(src);
  for (size_t done = 0; done < n;) {
    const ssize_t got = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IOError(path + ": write: " + std::strerror(errno));
    done += static_cast<size_t>(got);
  }
  return Status::OK();
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync", path);
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = OpenPrivate(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0) return Errno("create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Errno("write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Errno("fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
  std::string dir = fs::path(path).parent_path().string();
  return FsyncPath(dir.empty() ? "." : dir);
}

Status MakeDirs(const std::string& path) {
  // Component by component, so that every directory created here is 0700 (an existing one is
  // left as it is).
  std::error_code ec;
  fs::path so_far;
  for (const fs::path& part : fs::path(path)) {
    so_far /= part;
    if (part.empty() || part == "/" || fs::is_directory(so_far, ec)) continue;
    if (::mkdir(so_far.c_str(), kPrivateDirMode) != 0) {
      if (errno == EEXIST && fs::is_directory(so_far, ec)) continue;
      return Errno("create directory", so_far.string());
    }
    if (::chmod(so_far.c_str(), kPrivateDirMode) != 0) return Errno("chmod", so_far.string());
  }
  return Status::OK();
}

bool PathExists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Status PublishDir(const std::string& tmp, const std::string& final_path) {
  if (PathExists(final_path)) return Status::FailedPrecondition(final_path + " already exists");
  ARK_RETURN_IF_ERROR(FsyncPath(tmp));
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return Errno("rename", tmp);
  std::string dir = fs::path(final_path).parent_path().string();
  return FsyncPath(dir.empty() ? "." : dir);
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("remove " + path + ": " + ec.message());
  return Status::OK();
}

uint64_t DiskUsage(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return 0;
  if (fs::is_regular_file(path, ec)) return fs::file_size(path, ec);
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && size_ > 0) ::munmap(const_cast<char*>(data_), size_);
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr && size_ > 0) ::munmap(const_cast<char*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Result<MappedFile> MappedFile::Open(const std::string& path, bool populate) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::NotFound(path + ": no such file") : Errno("open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Errno("stat", path);
  }
  MappedFile m;
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      m.size_ = 0;
      return Errno("mmap", path);
    }
    m.data_ = static_cast<const char*>(p);
  }
  ::close(fd);
  return m;
}

void MappedFile::DropPages(std::string_view text) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(text.data()) + page - 1) & ~(page - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(text.data()) + text.size()) & ~(page - 1);
  if (hi > lo) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

AppendFile::~AppendFile() { (void)Close(); }

AppendFile& AppendFile::operator=(AppendFile&& o) noexcept {
  if (this != &o) {
    (void)Close();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    buf_ = std::move(o.buf_);
    size_ = o.size_;
    o.fd_ = -1;
  }
  return *this;
}

Result<AppendFile> AppendFile::Open(const std::string& path, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND);
  int fd = OpenPrivate(path, flags);
  if (fd < 0) return Errno("open", path);
  AppendFile f;
  f.fd_ = fd;
  f.path_ = path;
  struct stat st;
  if (::fstat(fd, &st) == 0) f.size_ = static_cast<uint64_t>(st.st_size);
  return f;
}

Status AppendFile::Append(std::string_view data) {
  size_ += data.size();
  if (data.size() >= (1 << 20)) {  // large: written straight from the caller's memory
    ARK_RETURN_IF_ERROR(Flush());
    return WriteAll(data);
  }
  buf_.append(data);
  if (buf_.size() >= (1 << 20)) return Flush();
  return Status::OK();
}

Status AppendFile::WriteAll(std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path_);
    }
    off += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status AppendFile::Flush() {
  Status s = WriteAll(buf_);
  buf_.clear();
  return s;
}

Status AppendFile::Sync() {
  ARK_RETURN_IF_ERROR(Flush());
  if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
  return Status::OK();
}

Status AppendFile::Close() {
  if (fd_ < 0) return Status::OK();
  Status s = Flush();
  ::close(fd_);
  fd_ = -1;
  return s;
}

}  // namespace ark
