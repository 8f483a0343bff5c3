#include "store/store_state.h"

#include <algorithm>

#include "store/block_format.h"
#include "store/manifest.h"
#include "store/wal.h"

namespace ark::store {
namespace {

uint32_t InternIn(std::unordered_map<std::string, uint32_t>* index, std::vector<std::string>* list,
                  const std::string& s, bool* added) {
  auto [it, inserted] = index->try_emplace(s, static_cast<uint32_t>(list->size()));
  if (inserted) {
    list->push_back(s);
    *added = true;
  }
  return it->second;
}

void Index(const std::vector<std::string>& list, std::unordered_map<std::string, uint32_t>* index) {
  index->reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) index->emplace(list[i], static_cast<uint32_t>(i));
}

}  // namespace

Dictionaries& Interner::Mutable() {
  // Readers only copy the pointer while the owner holds the store's lock exclusively, so a
  // use_count of 1 means nobody else can see the dictionaries.
  if (dicts_.use_count() > 1) dicts_ = std::make_shared<Dictionaries>(*dicts_);
  return *dicts_;
}

Result<Event> Interner::Intern(const AppendEvent& a) {
  if (!indexed_) {
    Index(dicts_->codes, &codes_);
    Index(dicts_->units, &units_);
    Index(dicts_->sources, &sources_);
    indexed_ = true;
  }
  Event e;
  e.person = a.person;
  e.time = a.time;
  e.end = a.end;
  e.value = a.value;
  e.encounter = a.encounter;
  auto lookup = [&](std::unordered_map<std::string, uint32_t>& index, std::vector<std::string> Dictionaries::*list,
                    const std::string& s) -> uint32_t {
    if (s.empty()) return 0;
    auto it = index.find(s);
    if (it != index.end()) return it->second;
    bool added = false;
    return InternIn(&index, &(Mutable().*list), s, &added);
  };
  e.code = lookup(codes_, &Dictionaries::codes, a.code);
  e.unit = lookup(units_, &Dictionaries::units, a.unit);
  if (!a.source.empty() && !sources_.count(a.source) && dicts_->sources.size() > 0xffff) {
    return Status::InvalidArgument("more than 65535 sources");
  }
  e.source = static_cast<uint16_t>(lookup(sources_, &Dictionaries::sources, a.source));
  return e;
}

void Delta::Add(const Event& e) {
  events.push_back(e);
  if (e.source >= events_by_source.size()) events_by_source.resize(e.source + 1, 0);
  ++events_by_source[e.source];
  persons_floor = std::max<uint64_t>(persons_floor, uint64_t{e.person} + 1);
}

void Delta::DropFront(size_t n) {
  events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(std::min(n, events.size())));
  events_by_source.assign(events_by_source.size(), 0);
  for (const Event& e : events) ++events_by_source[e.source];
  // persons_floor stays: persons once appended remain (the new version covers them anyway).
}

Status CheckAppendEvent(const AppendEvent& a) {
  const std::string who = "event of person " + std::to_string(a.person);
  if (a.code.empty()) return Status::InvalidArgument(who + ": empty code");
  if (a.person == UINT32_MAX) return Status::InvalidArgument(who + ": person key out of range");
  Event e;
  e.time = a.time;
  e.end = a.end;
  Status s = CheckEventTimes(e);
  return s.ok() ? s : s.WithContext(who);
}

Result<std::unique_ptr<StoreState>> LoadState(const std::string& dir, const StoreOptions& opts) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ARK_ASSIGN_OR_RETURN(uint64_t current, ReadCurrent(dir));
    auto state = std::make_unique<StoreState>();
    if (current == 0) {
      state->version = Version::Empty();
    } else {
      auto v = Version::Open(dir, current);
      if (!v.ok()) {
        // A file may be gone because a newer version replaced this one meanwhile: then CURRENT
        // changed and we start over. Otherwise the store is damaged.
        if (v.status().code() != StatusCode::kNotFound) return v.status();
        ARK_ASSIGN_OR_RETURN(uint64_t now, ReadCurrent(dir));
        if (now == current) return Status::Corruption(v.status().message());
        continue;
      }
      state->version = std::move(v).value();
    }
    state->interner = std::make_unique<Interner>(state->version->manifest().dicts);
    bool vanished = false;
    std::vector<AppendEvent> batch;
    for (uint64_t w : ListStore(dir).wals) {
      if (w <= state->version->manifest().wal_through) continue;
      const std::string path = dir + "/" + WalFileName(w);
      WalTagReader tags;
      auto res = ReadWal(path, [&](uint8_t type, std::string_view payload) -> Status {
        if (type == kWalTag) return tags.OnTag(payload);
        if (type == kWalAppend) tags.OnAppend();
        ARK_RETURN_IF_ERROR(DecodeWalEvents(type, payload, &batch));
        for (const AppendEvent& a : batch) {
          ARK_RETURN_IF_ERROR(CheckAppendEvent(a));
          ARK_ASSIGN_OR_RETURN(Event e, state->interner->Intern(a));
          state->delta.Add(e);
        }
        return Status::OK();
      });
      state->max_tag = std::max(state->max_tag, tags.max);
      if (!res.ok()) {
        if (res.status().code() == StatusCode::kNotFound) {
          vanished = true;
          break;
        }
        return res.status().WithContext(path);
      }
      if (res->corrupt && !opts.skip_corrupt_wal) {
        return Status::Corruption(path + ": " + res->problem + " (records after it were not read)");
      }
      state->replayed.emplace_back(w, res->file_size);
      if (res->records <= 1) state->empty_wals.push_back(w);  // the header alone
    }
    if (vanished) continue;
    ARK_ASSIGN_OR_RETURN(uint64_t again, ReadCurrent(dir));
    if (again != current) continue;  // a version was published while we read: start over
    return state;
  }
  return Status::IOError(dir + ": the store kept changing while being opened");
}

}  // namespace ark::store
