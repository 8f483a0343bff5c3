// Internal to src/sql: reads a store person by person in key order, a chunk of persons at a time,
// so that pull-style loaders (Connection::LoadValues) can consume a push-style scan.
#pragma once

#include <span>
#include <vector>

#include "store/store.h"

namespace ark::sql {

class StoreChunks {
 public:
  explicit StoreChunks(const Store& store, uint32_t chunk_persons = 8192)
      : store_(store), chunk_(chunk_persons), total_(store.num_persons()) {}

  // The next person with its events (valid until the next call); false at the end or on error
  // (then status() is not OK).
  bool Next(const Person** p, std::span<const Event>* events) {
    while (pos_ >= persons_.size()) {
      if (next_key_ >= total_ || !status_.ok()) return false;
      persons_.clear();
      starts_.assign(1, 0);
      events_.clear();
      pos_ = 0;
      const uint64_t end = std::min<uint64_t>(total_, next_key_ + chunk_);
      status_ = store_.ForEachPersonInRange(static_cast<PersonKey>(next_key_), static_cast<PersonKey>(end),
                                           [&](const Person& person, std::span<const Event> ev) {
                                             persons_.push_back(person);
                                             events_.insert(events_.end(), ev.begin(), ev.end());
                                             starts_.push_back(events_.size());
                                             return Status::OK();
                                           });
      next_key_ = end;
    }
    *p = &persons_[pos_];
    *events = std::span<const Event>(events_.data() + starts_[pos_], starts_[pos_ + 1] - starts_[pos_]);
    ++pos_;
    return true;
  }
  const Status& status() const { return status_; }

 private:
  const Store& store_;
  uint32_t chunk_;
  uint64_t total_;
  uint64_t next_key_ = 0;
  size_t pos_ = 0;
  std::vector<Person> persons_;
  std::vector<size_t> starts_{0};
  std::vector<Event> events_;
  Status status_;
};

}  // namespace ark::sql
