// Segment files: a run of blocks covering consecutive persons, with a footer that indexes the
// blocks (person range, event count, day range, offset, size, CRC-32C) and a fixed trailer.
// Layout in docs/store-format.md, "Segment file".
//
// SegmentWriter writes one file sequentially (not thread-safe). Segment is an immutable,
// memory-mapped reader: after Open it is safe to use from many threads at once. A Segment owns its
// map; BlockViews it returns point into the map and must not outlive it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/fs.h"
#include "store/block_format.h"

namespace ark::store {

constexpr uint64_t kSegmentMagic = 0x31304745534b5241ull;  // "ARKSEG01"
constexpr uint32_t kSegmentFormatVersion = 1;
constexpr size_t kSegmentHeaderSize = 16;
constexpr size_t kSegmentTrailerSize = 24;
constexpr size_t kBlockIndexEntrySize = 40;
constexpr size_t kFooterHeaderSize = 24;

// What a manifest records about a segment; Open checks the file against it.
struct SegmentInfo {
  std::string file;  // name inside the version directory
  uint32_t first_person = 0;
  uint32_t num_persons = 0;
  uint64_t num_events = 0;
  uint32_t num_blocks = 0;
  uint64_t file_size = 0;
  uint32_t footer_crc = 0;  // masked CRC-32C of the footer
  std::vector<uint64_t> events_by_source;  // index = source id (kept in the manifest only)
};

struct BlockEntry : BlockInfo {
  uint64_t offset = 0;
  uint32_t size = 0;
  uint32_t crc = 0;  // masked CRC-32C of the block's bytes
};

class SegmentWriter {
 public:
  // Creates (truncating) the file at `path`; `name` is what SegmentInfo::file will say.
  static Result<std::unique_ptr<SegmentWriter>> Create(const std::string& path, const std::string& name);
  // REQUIRES: blocks are added in person order, each starting where the previous one ended.
  Status AddBlock(std::string_view block, const BlockInfo& info);
  uint64_t num_events() const { return num_events_; }
  uint32_t num_persons() const { return num_persons_; }
  // Writes the footer and trailer, syncs and closes the file.
  Result<SegmentInfo> Finish();

 private:
  SegmentWriter() = default;
  AppendFile file_;
  std::string name_;
  std::vector<BlockEntry> blocks_;
  uint64_t offset_ = 0;
  uint64_t num_events_ = 0;
  uint32_t first_person_ = 0;
  uint32_t num_persons_ = 0;
};

class Segment {
 public:
  // Maps the file, checks the trailer, the footer checksum and that the footer matches `expect`.
  static Result<std::unique_ptr<Segment>> Open(const std::string& path, const SegmentInfo& expect);

  const SegmentInfo& info() const { return info_; }
  const std::string& path() const { return path_; }
  const std::vector<BlockEntry>& blocks() const { return blocks_; }
  // Parses block i's header (cheap; does not touch the block's data pages beyond the header).
  Result<BlockView> Block(size_t i) const;
  // Checks block i's CRC-32C; Corruption names the file and block.
  Status VerifyBlock(size_t i) const;

 private:
  Segment() = default;
  std::string path_;
  SegmentInfo info_;
  MappedFile map_;
  std::vector<BlockEntry> blocks_;
};

}  // namespace ark::store
