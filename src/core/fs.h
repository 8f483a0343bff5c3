// File-system helpers: whole-file reads, crash-safe writes, memory maps. Every engine file write
// goes through here so that durability rules live in one place.
//
// Durability contract: WriteFileAtomic and PublishDir leave either the old or the new content
// visible after a crash (write to a temporary name, fsync, rename, fsync the directory).
//
// Permissions: files created by WriteFileAtomic and AppendFile are 0600, directories created by
// MakeDirs 0700, whatever the umask (core/private_files.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ark/status.h"

namespace ark {

Result<std::string> ReadFile(const std::string& path);
Status WriteFileAtomic(const std::string& path, std::string_view data);
Status FsyncPath(const std::string& path);  // a file or a directory
Status MakeDirs(const std::string& path);
bool PathExists(const std::string& path);
// Renames the directory `tmp` to `final_path` (which must not exist) and fsyncs the parent.
Status PublishDir(const std::string& tmp, const std::string& final_path);
Status RemoveAll(const std::string& path);
// Sum of file sizes below `path` (0 if it does not exist).
uint64_t DiskUsage(const std::string& path);
// Reads up to `n` bytes at `offset` of the open file `fd` into `dst`, going on after short reads
// and EINTR: the number read, fewer than `n` only where the file ends. IOError naming `path` on a
// read error.
Result<size_t> PreadFull(int fd, uint64_t offset, void* dst, size_t n, const std::string& path);
// Writes all `n` bytes of `src` at `offset` of `fd`, going on after short writes and EINTR.
// IOError naming `path`.
Status PwriteFull(int fd, uint64_t offset, const void* src, size_t n, const std::string& path);

// A read-only memory map of a whole file. Movable, not copyable. An empty file maps to size 0.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // With `populate`, the whole file is mapped up front (one bulk operation instead of a page
  // fault per 4 KiB): right for files read once from end to end, such as CSV input; wrong for
  // a store that may be larger than memory.
  static Result<MappedFile> Open(const std::string& path, bool populate = false);
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

  // Drops the whole pages inside `text` (a view into a read-only map such as this one) from the
  // process's resident memory, keeping the mapping: a later read faults them in again from the
  // file. For text read once, so that what is resident does not grow with the file.
  static void DropPages(std::string_view text);

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// An append-only file written through a buffer; Sync() makes everything appended durable.
class AppendFile {
 public:
  AppendFile() = default;
  ~AppendFile();
  AppendFile(AppendFile&& o) noexcept { *this = std::move(o); }
  AppendFile& operator=(AppendFile&& o) noexcept;
  AppendFile(const AppendFile&) = delete;

  // Opens (creating, or truncating when `truncate`) the file at `path`.
  static Result<AppendFile> Open(const std::string& path, bool truncate);
  Status Append(std::string_view data);
  Status Flush();
  Status Sync();  // Flush + fdatasync
  Status Close();
  uint64_t size() const { return size_; }

 private:
  Status WriteAll(std::string_view data);

  int fd_ = -1;
  std::string path_;
  std::string buf_;
  uint64_t size_ = 0;
};

}  // namespace ark
