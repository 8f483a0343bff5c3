#include "store/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fs.h"
#include "core/private_files.h"

namespace ark::store {

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Result<FileLock> FileLock::TryLock(const std::string& path) {
  const int fd = OpenPrivate(path, O_RDWR | O_CREAT);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition(path + " is held by another writer (an 'ark append', 'ark compact', "
                                        "'ark build' or server using this store)");
    }
    return Status::IOError("flock " + path + ": " + std::strerror(err));
  }
  FileLock l;
  l.fd_ = fd;
  return l;
}

}  // namespace ark::store
