#include "store/version.h"

#include <algorithm>

#include "core/fs.h"

namespace ark::store {

Result<std::shared_ptr<const Version>> Version::Open(const std::string& store_dir, uint64_t number) {
  auto v = std::make_shared<Version>();
  v->dir_ = store_dir + "/" + VersionDirName(number);
  const std::string path = v->dir_ + "/MANIFEST";
  ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  ARK_ASSIGN_OR_RETURN(v->manifest_, DecodeManifest(data, path));
  if (v->manifest_.version != number) return Status::Corruption(path + ": names another version");
  for (const SegmentInfo& si : v->manifest_.segments) {
    ARK_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg, Segment::Open(v->dir_ + "/" + si.file, si));
    const uint32_t s = static_cast<uint32_t>(v->segments_.size());
    for (uint32_t i = 0; i < seg->blocks().size(); ++i) {
      const BlockEntry& e = seg->blocks()[i];
      v->blocks_.push_back({s, i, e.first_person, e.num_persons, e.num_events, e.min_day, e.max_day});
    }
    v->segments_.push_back(std::move(seg));
  }
  return std::shared_ptr<const Version>(std::move(v));
}

std::shared_ptr<const Version> Version::Empty() {
  static const std::shared_ptr<const Version> empty = std::make_shared<Version>();
  return empty;
}

int64_t Version::FindBlock(PersonKey key) const {
  if (key >= manifest_.num_persons) return -1;
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), key,
                             [](PersonKey k, const BlockRef& b) { return k < b.first_person; });
  return static_cast<int64_t>(it - blocks_.begin()) - 1;
}

}  // namespace ark::store
