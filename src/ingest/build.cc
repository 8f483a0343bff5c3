#include "ingest/build.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/event.h"
#include "ingest/staging.h"
#include "catalog/person_key_files.h"
#include "store/store.h"
#include "store/timeline_writer.h"

namespace ark {
namespace {

const std::vector<std::string> kFeedOrder = {"gp", "acute", "community", "social_care", "deaths"};

int FeedRank(const std::string& feed) {
  auto it = std::find(kFeedOrder.begin(), kFeedOrder.end(), feed);
  return it == kFeedOrder.end() ? static_cast<int>(kFeedOrder.size()) : static_cast<int>(it - kFeedOrder.begin());
}

class Dict {
 public:
  explicit Dict(std::vector<std::string>* v) : v_(v) {
    if (v_->empty()) v_->push_back("");
    for (size_t i = 0; i < v_->size(); ++i) ids_.emplace((*v_)[i], static_cast<uint32_t>(i));
  }
  uint32_t Id(const std::string& s) {
    auto [it, fresh] = ids_.try_emplace(s, static_cast<uint32_t>(v_->size()));
    if (fresh) v_->push_back(s);
    return it->second;
  }

 private:
  std::vector<std::string>* v_;
  std::unordered_map<std::string, uint32_t> ids_;
};

// The key an appended event belongs to now: its own while records carry it (or it was never a
// record's key: a person known only from appends), else where re-linkage moved that key's
// records (person_key_moves, followed to the end of the chain).
uint32_t CurrentKey(uint32_t key, const std::vector<uint8_t>& is_record_key,
                    const std::unordered_map<uint32_t, uint32_t>& moves) {
  for (int hop = 0; hop < 64; ++hop) {
    if (key < is_record_key.size() && is_record_key[key]) return key;
    auto it = moves.find(key);
    if (it == moves.end() || it->second == key) return key;
    key = it->second;
  }
  return key;
}

}  // namespace

Result<BuildReport> BuildTimelines(Catalog& cat, int threads) {
  auto t0 = std::chrono::steady_clock::now();
  const std::string ark = cat.ark_dir();
  ARK_ASSIGN_OR_RETURN(auto batches, cat.Batches());
  if (batches.empty()) return Status::FailedPrecondition("nothing to build: run 'ark ingest' and 'ark link' first");
  ARK_ASSIGN_OR_RETURN(uint32_t n, cat.NextPerson());
  // The writer takes the store's LOCK first: no append can slip in between reading the appended
  // events and publishing the version that covers them.
  WriterOptions wo;
  ARK_ASSIGN_OR_RETURN(auto w, TimelineWriter::Create(ark + "/store", wo));

  Dictionaries dicts;
  Dict codes(&dicts.codes), units(&dicts.units), areas(&dicts.areas), practices(&dicts.practices),
      sources(&dicts.sources);
  std::vector<Person> persons(n);
  for (uint32_t i = 0; i < n; ++i) persons[i].key = i;
  std::vector<int> rank_demo(n, 1 << 30), rank_area(n, 1 << 30);
  std::unordered_map<uint32_t, uint8_t> imd_of_area;

  // Opt-out lists, by pseudonym.
  std::unordered_map<std::string, uint8_t> optout_flags;

  struct Loaded {
    StagedBatch b;
    std::vector<uint32_t> keys;
    uint16_t source;
    std::vector<uint32_t> code_map, unit_map;
    uint32_t enc_base;
  };
  std::vector<Loaded> loaded;
  loaded.reserve(batches.size());
  std::vector<uint64_t> counts(n + 1, 0);
  uint32_t enc_base = 0;
  for (auto& bi : batches) {
    Loaded l;
    ARK_ASSIGN_OR_RETURN(l.b, ReadStagedBatch(ark + "/" + bi.dir + "/batch.bin", /*with_events=*/true,
                                                 /*with_encodings=*/false));
    ARK_ASSIGN_OR_RETURN(l.keys, ReadPersonKeys(ark, bi.id, l.b.records.size()));
    l.source = static_cast<uint16_t>(sources.Id(bi.feed));
    for (auto& c : l.b.codes) l.code_map.push_back(codes.Id(c));
    for (auto& u : l.b.units) l.unit_map.push_back(u.empty() ? 0 : units.Id(u));
    l.enc_base = enc_base;
    enc_base += static_cast<uint32_t>(l.b.encounters.size());
    const int rank = FeedRank(bi.feed);  // lower wins
    // Imported batches whose source declared its opt-outs (import_batch.h): every record's
    // status is known, opted out when its digest is on the batch's list.
    const bool import_optouts = l.b.optout_kind == "import";
    std::unordered_set<std::string> import_listed;
    if (import_optouts) {
      for (auto& d : l.b.optouts) import_listed.insert(std::string(reinterpret_cast<const char*>(d.data()), d.size()));
    }
    std::vector<uint32_t> area_map, prac_map;
    for (auto& a : l.b.areas) area_map.push_back(a.empty() ? 0 : areas.Id(a));
    for (auto& p : l.b.practices) prac_map.push_back(p.empty() ? 0 : practices.Id(p));
    for (size_t i = 0; i < l.b.records.size(); ++i) {
      const StagedRecord& r = l.b.records[i];
      const uint32_t k = l.keys[i];
      if (k >= n) return Status::Corruption("person key " + std::to_string(k) + " out of range: run 'ark link' again");
      Person& p = persons[k];
      if (r.nhs_status == NhsStatusCode::kValid) {
        p.flags |= kLinkedByNhsNumber | kOptOutKnown;
      }
      if (import_optouts) {
        p.flags |= kOptOutKnown;
        if (import_listed.count(std::string(reinterpret_cast<const char*>(r.pseudonym.data()), r.pseudonym.size())))
          p.flags |= kOptedOutNational;
      }
      if (rank < rank_demo[k] && (r.sex != 'U' || r.birth_year != 0)) {
        rank_demo[k] = rank;
        if (r.sex != 'U') p.sex = r.sex;
        if (r.birth_year) {
          p.birth_year = r.birth_year;
          p.birth_month = r.birth_month;
        }
      }
      const uint32_t area = area_map[r.lsoa];
      if (area && r.imd_decile) imd_of_area[area] = r.imd_decile;
      // Later records of the same feed win (newer registrations come later in an extract).
      if (area && rank <= rank_area[k]) {
        rank_area[k] = rank;
        p.lsoa = area;
        p.imd_decile = r.imd_decile;
      }
    }
    for (auto& d : l.b.optouts) {
      if (import_optouts) break;
      uint8_t f = l.b.optout_kind == "type1" ? kOptedOutType1 : kOptedOutNational;
      optout_flags[std::string(reinterpret_cast<const char*>(d.data()), d.size())] |= f;
    }
    for (uint32_t r : l.b.events.record) ++counts[l.keys[r] + 1];
    loaded.push_back(std::move(l));
  }
  // Opt-outs: pseudonym -> person key from the catalog.
  if (!optout_flags.empty()) {
    ARK_ASSIGN_OR_RETURN(auto st, cat.Prepare("SELECT pseudonym, person FROM person_keys"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      auto it = optout_flags.find(st->Blob(0));
      const int64_t k = st->Int(1);
      if (it != optout_flags.end() && k >= 0 && k < n) persons[k].flags |= it->second;
    }
  }
  // Appended events (ark append, ark serve): every one acknowledged, under its current person key.
  std::vector<Event> appended;
  {
    std::vector<uint8_t> is_record_key(n, 0);
    for (const Loaded& l : loaded) {
      for (uint32_t k : l.keys) is_record_key[k] = 1;
    }
    ARK_ASSIGN_OR_RETURN(auto moves, LoadKeyMoves(cat));
    ARK_RETURN_IF_ERROR(w->TakeAppended([&](const AppendEvent& a) -> Status {
      Event ev;
      ev.person = CurrentKey(a.person, is_record_key, moves);
      ev.time = a.time;
      ev.end = a.end;
      ev.code = codes.Id(a.code);
      ev.value = a.value;
      ev.unit = a.unit.empty() ? 0 : units.Id(a.unit);
      const uint32_t src = sources.Id(a.source);
      if (src > 0xffff) return Status::InvalidArgument("more than 65535 sources");
      ev.source = static_cast<uint16_t>(src);
      ev.encounter = a.encounter;
      appended.push_back(ev);
      return Status::OK();
    }));
  }
  uint32_t n_all = n;
  for (const Event& e : appended) n_all = std::max<uint32_t>(n_all, e.person + 1);
  if (n_all > n) {
    // Persons known only from appends: keys no linkage may hand out again.
    persons.resize(n_all);
    for (uint32_t i = n; i < n_all; ++i) persons[i].key = i;
    counts.resize(uint64_t{n_all} + 1, 0);
    n = n_all;
  }
  for (const Event& e : appended) ++counts[e.person + 1];
  // Gather events per person (counting sort keeps input order within a person).
  for (uint32_t i = 0; i < n; ++i) counts[i + 1] += counts[i];
  std::vector<Event> events(counts[n]);
  {
    std::vector<uint64_t> pos(counts.begin(), counts.end() - 1);
    for (auto& l : loaded) {
      const StagedEvents& e = l.b.events;
      for (size_t i = 0; i < e.size(); ++i) {
        const uint32_t k = l.keys[e.record[i]];
        Event& ev = events[pos[k]++];
        ev.person = k;
        ev.time = e.time[i];
        ev.end = e.end[i];
        ev.code = l.code_map[e.code[i]];
        ev.value = e.value[i];
        ev.unit = l.unit_map[e.unit[i]];
        ev.source = l.source;
        const uint32_t enc = e.encounter[i];
        ev.encounter = (enc & kInternedEncounter) ? kInternedEncounter | (l.enc_base + (enc & ~kInternedEncounter)) : enc;
      }
      l.b = StagedBatch();  // free as we go
    }
    for (const Event& e : appended) events[pos[e.person]++] = e;
  }
  loaded.clear();
  appended = std::vector<Event>();
  // Per person: order by time, then derive practice and death from events.
  std::vector<uint8_t> is_reg(dicts.codes.size(), 0), is_death(dicts.codes.size(), 0);
  std::vector<uint32_t> reg_practice(dicts.codes.size(), 0);
  for (size_t c = 0; c < dicts.codes.size(); ++c) {
    const std::string& s = dicts.codes[c];
    if (s.rfind("REG/", 0) == 0) {
      is_reg[c] = 1;
      reg_practice[c] = practices.Id(s.substr(4));
    }
    if (s.rfind("DEATH/", 0) == 0) is_death[c] = 1;
  }
  BuildReport rep;
  for (uint32_t k = 0; k < n; ++k) {
    Event* b = events.data() + counts[k];
    Event* e = events.data() + counts[k + 1];
    std::stable_sort(b, e, [](const Event& x, const Event& y) { return x.time < y.time; });
    Person& p = persons[k];
    for (Event* it = b; it != e; ++it) {
      if (is_reg[it->code]) p.practice = reg_practice[it->code];  // the latest start wins
      if (is_death[it->code] && !p.has_death()) p.death_day = DayOf(it->time);
    }
    if (!p.imd_decile && p.lsoa) {
      auto it = imd_of_area.find(p.lsoa);
      if (it != imd_of_area.end()) p.imd_decile = it->second;
    }
    if (!(p.flags & kOptOutKnown)) ++rep.optout_unknown;
    else if (p.flags & (kOptedOutNational | kOptedOutType1)) ++rep.opted_out;
  }
  // Write the new version. next_person first covers the appended-only persons, so that linkage
  // never gives their keys to someone else.
  ARK_RETURN_IF_ERROR(cat.RaiseNextPerson(n));
  for (uint32_t k = 0; k < n; ++k) {
    ARK_RETURN_IF_ERROR(w->AddPerson(persons[k], std::span<const Event>(events.data() + counts[k], counts[k + 1] - counts[k])));
  }
  ARK_RETURN_IF_ERROR(w->Finish(dicts));
  ARK_RETURN_IF_ERROR(cat.SetMeta("built_at", UtcNow()));
  rep.persons = n;
  rep.events = events.size();
  rep.batches = batches.size();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  (void)threads;
  return rep;
}

}  // namespace ark
