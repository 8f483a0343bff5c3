// Version: one published, immutable state of the store — its manifest and its memory-mapped
// segments. Shared by readers through std::shared_ptr<const Version>; the maps stay valid while
// any reader holds the pointer, even after a newer version replaced it and its directory was
// deleted. Thread-safe (immutable after Open).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ark/status.h"
#include "store/manifest.h"
#include "store/segment.h"

namespace ark::store {

// A block of the version, in global person order.
struct BlockRef {
  uint32_t segment = 0;  // index into Version::segments
  uint32_t index = 0;    // block index inside that segment
  uint32_t first_person = 0;
  uint32_t num_persons = 0;
  uint32_t num_events = 0;
  int32_t min_day = 0;
  int32_t max_day = -1;
};

class Version {
 public:
  // Opens <store_dir>/v-<number>: reads and checks the manifest, maps and checks every segment.
  static Result<std::shared_ptr<const Version>> Open(const std::string& store_dir, uint64_t number);
  // The state of a store with no published version.
  static std::shared_ptr<const Version> Empty();

  uint64_t number() const { return manifest_.version; }
  const std::string& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  uint64_t num_persons() const { return manifest_.num_persons; }
  uint64_t num_events() const { return manifest_.num_events; }
  const std::vector<std::unique_ptr<Segment>>& segments() const { return segments_; }
  const std::vector<BlockRef>& blocks() const { return blocks_; }

  // Index into blocks() of the block holding `key`, or -1 if key >= num_persons().
  int64_t FindBlock(PersonKey key) const;
  Result<BlockView> Block(const BlockRef& b) const { return segments_[b.segment]->Block(b.index); }

 private:
  std::string dir_;
  Manifest manifest_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::vector<BlockRef> blocks_;
};

}  // namespace ark::store
