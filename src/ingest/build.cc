#include "ingest/build.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/event.h"
#include "core/fs.h"
#include "ingest/staging.h"
#include "catalog/person_key_files.h"
#include "store/parallel.h"
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

// One staged batch as the shards read it: its events chunk by chunk (StagedEventFile), its
// records' person keys, and how its dictionary ids map to the version's.
struct BatchSource {
  std::unique_ptr<StagedEventFile> file;
  std::vector<uint32_t> keys;  // by record
  uint16_t source = 0;
  std::vector<uint32_t> code_map, unit_map;
  uint32_t enc_base = 0;
  size_t num_records = 0;
};

// How far ahead (events) the loops over a chunk fetch the person key of a record.
constexpr size_t kAhead = 16;

// The shard holding person k: the first whose end is above k (`ends` ascending).
inline uint32_t ShardOf(const std::vector<uint32_t>& ends, uint32_t k) {
  return static_cast<uint32_t>(std::upper_bound(ends.begin(), ends.end(), k) - ends.begin());
}

// A chunk of a batch, in the order of all events (batch by batch); a thread's range of them.
struct ChunkRef {
  uint32_t batch = 0;
  uint64_t chunk = 0;
};

// An event in the run file: a flags byte, person, time, code and source, then only the fields
// that are not "none" (end, value, unit, encounter): 19 to 43 bytes instead of Event's 56.
constexpr size_t kMaxRunRecord = 43;
enum RunField : uint8_t { kHasEnd = 1, kHasValue = 2, kHasUnit = 4, kHasEncounter = 8 };
inline char* PackEvent(const Event& e, char* p) {
  const uint8_t f = (e.end != kNoTime ? kHasEnd : 0) | (e.has_value() ? kHasValue : 0) | (e.unit ? kHasUnit : 0) |
                    (e.encounter != kNoEncounter ? kHasEncounter : 0);
  *p = static_cast<char>(f);
  std::memcpy(p + 1, &e.person, 4);
  std::memcpy(p + 5, &e.time, 8);
  std::memcpy(p + 13, &e.code, 4);
  std::memcpy(p + 17, &e.source, 2);
  p += 19;
  if (f & kHasEnd) { std::memcpy(p, &e.end, 8); p += 8; }
  if (f & kHasValue) { std::memcpy(p, &e.value, 8); p += 8; }
  if (f & kHasUnit) { std::memcpy(p, &e.unit, 4); p += 4; }
  if (f & kHasEncounter) { std::memcpy(p, &e.encounter, 4); p += 4; }
  return p;
}
// Returns the end of the record at p, or nullptr when it runs past `end`.
inline const char* UnpackEvent(const char* p, const char* end, Event* e) {
  if (end - p < 19) return nullptr;
  const uint8_t f = static_cast<uint8_t>(*p);
  const ptrdiff_t size = 19 + ((f & kHasEnd) ? 8 : 0) + ((f & kHasValue) ? 8 : 0) + ((f & kHasUnit) ? 4 : 0) +
                         ((f & kHasEncounter) ? 4 : 0);
  if (end - p < size) return nullptr;
  std::memcpy(&e->person, p + 1, 4);
  std::memcpy(&e->time, p + 5, 8);
  std::memcpy(&e->code, p + 13, 4);
  std::memcpy(&e->source, p + 17, 2);
  p += 19;
  e->end = kNoTime;
  e->value = kNoValue;
  e->unit = 0;
  e->encounter = kNoEncounter;
  if (f & kHasEnd) { std::memcpy(&e->end, p, 8); p += 8; }
  if (f & kHasValue) { std::memcpy(&e->value, p, 8); p += 8; }
  if (f & kHasUnit) { std::memcpy(&e->unit, p, 4); p += 4; }
  if (f & kHasEncounter) { std::memcpy(&e->encounter, p, 4); p += 4; }
  return p;
}

// A run file: the staged events of one range (one thread's chunks), grouped by shard. Each shard
// has room for its events at the largest record size; holes are not allocated. Unnamed
// (O_TMPFILE, else unlinked at once): a crash leaves nothing behind, and closing it frees it.
class RunFile {
 public:
  ~RunFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& dir) {
    path_ = dir + "/build-runs";
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
      if (fd_ < 0) return Status::IOError(path_ + ": open: " + std::strerror(errno));
      ::unlink(path_.c_str());
    }
    return Status::OK();
  }
  Status Write(uint64_t offset, const char* p, size_t n) const { return PwriteFull(fd_, offset, p, n, path_); }
  Status Read(uint64_t offset, char* p, size_t n) const {
    ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, offset, p, n, path_));
    return got < n ? Status::IOError(path_ + ": short read") : Status::OK();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// A run of whole blocks (persons [first, end), blocks [first_block, end_block)) gathered, sorted
// and encoded by one thread at a time.
struct Shard {
  uint32_t first = 0, end = 0;
  size_t first_block = 0, end_block = 0;
};

// What one thread reuses from shard to shard (its memory is the largest shard's, not the sum).
struct ShardWorker {
  explicit ShardWorker(const WriterOptions& o) : encoder(o) {}
  std::vector<Event> events;
  std::vector<uint64_t> pos;
  std::string run;
  std::vector<Event> piece;
  TimelineWriter::BlockEncoder encoder;
  std::vector<EncodedBlock> blocks;
};

}  // namespace

Result<BuildReport> BuildTimelines(Catalog& cat, int threads) {
  BuildOptions o;
  o.threads = threads;
  return BuildTimelines(cat, o);
}

Result<BuildReport> BuildTimelines(Catalog& cat, const BuildOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  const std::string ark = cat.ark_dir();
  ARK_ASSIGN_OR_RETURN(auto batches, cat.Batches());
  if (batches.empty()) return Status::FailedPrecondition("nothing to build: run 'ark ingest' and 'ark link' first");
  ARK_ASSIGN_OR_RETURN(uint32_t n, cat.NextPerson());
  // The writer takes the store's LOCK first: no append can slip in between reading the appended
  // events and publishing the version that covers them.
  ARK_ASSIGN_OR_RETURN(auto w, TimelineWriter::Create(ark + "/store", opts.writer));

  Dictionaries dicts;
  Dict codes(&dicts.codes), units(&dicts.units), areas(&dicts.areas), practices(&dicts.practices),
      sources(&dicts.sources);
  std::vector<Person> persons(n);
  for (uint32_t i = 0; i < n; ++i) persons[i].key = i;
  std::unordered_map<uint32_t, uint8_t> imd_of_area;

  // Opt-out lists, by pseudonym.
  std::unordered_map<std::string, uint8_t> optout_flags;

  // Pass 1, batch by batch: person attributes from the records, dictionaries, and the number of
  // events of each person (from the record column only, a chunk at a time).
  std::vector<BatchSource> loaded;
  loaded.reserve(batches.size());
  std::vector<uint64_t> counts(n + 1, 0);
  {
    std::vector<int> rank_demo(n, 1 << 30), rank_area(n, 1 << 30);
    uint32_t enc_base = 0;
    for (auto& bi : batches) {
      BatchSource l;
      StagedBatch b;
      const std::string path = ark + "/" + bi.dir + "/batch.bin";
      ARK_ASSIGN_OR_RETURN(l.file, StagedEventFile::Open(path, &b));
      ARK_ASSIGN_OR_RETURN(l.keys, ReadPersonKeys(ark, bi.id, b.records.size()));
      l.source = static_cast<uint16_t>(sources.Id(bi.feed));
      for (auto& c : b.codes) l.code_map.push_back(codes.Id(c));
      for (auto& u : b.units) l.unit_map.push_back(u.empty() ? 0 : units.Id(u));
      l.enc_base = enc_base;
      enc_base += static_cast<uint32_t>(b.encounters.size());
      const int rank = FeedRank(bi.feed);  // lower wins
      // Imported batches whose source declared its opt-outs (import_batch.h): every record's
      // status is known, opted out when its digest is on the batch's list.
      const bool import_optouts = b.optout_kind == "import";
      std::unordered_set<std::string> import_listed;
      if (import_optouts) {
        for (auto& d : b.optouts) import_listed.insert(std::string(reinterpret_cast<const char*>(d.data()), d.size()));
      }
      std::vector<uint32_t> area_map, prac_map;
      for (auto& a : b.areas) area_map.push_back(a.empty() ? 0 : areas.Id(a));
      for (auto& p : b.practices) prac_map.push_back(p.empty() ? 0 : practices.Id(p));
      for (size_t i = 0; i < b.records.size(); ++i) {
        const StagedRecord& r = b.records[i];
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
        if (r.lsoa >= area_map.size()) return Status::Corruption(path + ": record " + std::to_string(i) + ": area out of range");
        const uint32_t area = area_map[r.lsoa];
        if (area && r.imd_decile) imd_of_area[area] = r.imd_decile;
        // Later records of the same feed win (newer registrations come later in an extract).
        if (area && rank <= rank_area[k]) {
          rank_area[k] = rank;
          p.lsoa = area;
          p.imd_decile = r.imd_decile;
        }
      }
      for (auto& d : b.optouts) {
        if (import_optouts) break;
        uint8_t f = b.optout_kind == "type1" ? kOptedOutType1 : kOptedOutNational;
        optout_flags[std::string(reinterpret_cast<const char*>(d.data()), d.size())] |= f;
      }
      l.num_records = b.records.size();
      loaded.push_back(std::move(l));
    }
  }
  // Every chunk of every batch in order, cut into one contiguous range per thread (by events):
  // the counting and the scatter below walk the same ranges.
  const int threads = std::max(1, opts.threads);
  std::vector<ChunkRef> chunks;
  uint64_t staged_events = 0;
  for (uint32_t bi = 0; bi < loaded.size(); ++bi) {
    for (uint64_t c = 0; c < loaded[bi].file->num_chunks(); ++c) chunks.push_back(ChunkRef{bi, c});
    staged_events += loaded[bi].file->num_events();
  }
  std::vector<size_t> range_first{0};
  {
    uint64_t seen = 0;
    size_t c = 0;
    for (int t = 1; t < threads; ++t) {
      const uint64_t target = staged_events * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads);
      while (c < chunks.size() && seen < target) {
        const BatchSource& l = loaded[chunks[c].batch];
        seen += std::min(StagedEventFile::kChunkEvents, l.file->num_events() - chunks[c].chunk * StagedEventFile::kChunkEvents);
        ++c;
      }
      range_first.push_back(c);
    }
    range_first.push_back(chunks.size());
  }
  const size_t ranges = range_first.size() - 1;
  // Events of each person in each range (from the record column only).
  std::vector<std::vector<uint32_t>> range_counts(ranges);
  ARK_RETURN_IF_ERROR(store::ParallelFor(ranges, threads, [&](size_t t, int) -> Status {
    std::vector<uint32_t>& cnt = range_counts[t];
    cnt.assign(n, 0);
    StagedEvents chunk;
    std::string scratch;
    for (size_t c = range_first[t]; c < range_first[t + 1]; ++c) {
      const BatchSource& l = loaded[chunks[c].batch];
      ARK_RETURN_IF_ERROR(l.file->ReadChunk(chunks[c].chunk, /*record_only=*/true, &chunk, &scratch));
      for (size_t i = 0; i < chunk.record.size(); ++i) {
        if (i + kAhead < chunk.record.size() && chunk.record[i + kAhead] < l.num_records) {
          __builtin_prefetch(&l.keys[chunk.record[i + kAhead]]);
        }
        const uint32_t r = chunk.record[i];
        if (r >= l.num_records) {
          return Status::Corruption(l.file->path() + ": event of record " + std::to_string(r) + " out of range");
        }
        ++cnt[l.keys[r]];
      }
    }
    return Status::OK();
  }));
  for (const auto& cnt : range_counts) {
    for (uint32_t k = 0; k < n; ++k) counts[k + 1] += cnt[k];
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
    for (const BatchSource& l : loaded) {
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
  for (uint32_t i = 0; i < n; ++i) counts[i + 1] += counts[i];
  // Appended events by person, each person's in the order they were acknowledged.
  std::stable_sort(appended.begin(), appended.end(), [](const Event& x, const Event& y) { return x.person < y.person; });

  // Practice and death from codes.
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

  // Blocks exactly where TimelineWriter::AddPerson would cut them, grouped into shards of at most
  // shard_events events (a block larger than that is a shard of its own).
  std::vector<uint32_t> block_first;
  {
    size_t pp = 0, pe = 0;
    for (uint32_t k = 0; k < n; ++k) {
      const size_t ev = counts[k + 1] - counts[k];
      if (k == 0 || TimelineWriter::StartsNewBlock(w->options(), pp, pe, ev)) {
        block_first.push_back(k);
        pp = 0;
        pe = 0;
      }
      ++pp;
      pe += ev;
    }
  }
  block_first.push_back(n);
  std::vector<Shard> shards;
  for (size_t b = 0; b + 1 < block_first.size(); ++b) {
    const bool fits = !shards.empty() &&
                      counts[block_first[b + 1]] - counts[shards.back().first] <= std::max<uint64_t>(opts.shard_events, 1);
    if (!fits) shards.push_back(Shard{block_first[b], block_first[b], b, b});
    shards.back().end = block_first[b + 1];
    shards.back().end_block = b + 1;
  }

  // Write the new version. next_person first covers the appended-only persons, so that linkage
  // never gives their keys to someone else.
  ARK_RETURN_IF_ERROR(cat.RaiseNextPerson(n));

  // Where each range's events of each shard go in that range's run file (shard by shard); a
  // shard reads its events range by range, so in the order of all events.
  std::vector<uint32_t> shard_end;  // for ShardOf: a few KiB that stay in cache
  for (const Shard& sh : shards) shard_end.push_back(sh.end);
  // run_at[t][si]: where range t writes shard si's events (bytes); run_len: how many it wrote.
  std::vector<std::vector<uint64_t>> run_at(ranges, std::vector<uint64_t>(shards.size(), 0));
  std::vector<std::vector<uint64_t>> run_len(ranges, std::vector<uint64_t>(shards.size(), 0));
  {
    const uint32_t staged_persons = static_cast<uint32_t>(range_counts.empty() ? 0 : range_counts[0].size());
    std::vector<std::vector<uint64_t>> in(ranges, std::vector<uint64_t>(shards.size(), 0));
    for (size_t t = 0; t < ranges; ++t) {
      for (size_t si = 0; si < shards.size(); ++si) {
        for (uint32_t k = shards[si].first; k < std::min(shards[si].end, staged_persons); ++k) in[t][si] += range_counts[t][k];
      }
    }
    range_counts = {};
    uint64_t total = 0;
    for (size_t t = 0; t < ranges; ++t) {
      uint64_t at = 0;
      for (size_t si = 0; si < shards.size(); ++si) {
        run_at[t][si] = at;
        at += in[t][si] * kMaxRunRecord;
        total += in[t][si];
      }
    }
    if (total != staged_events) return Status::Internal("build: events counted do not add up");
  }
  // Pass 2, range by range on `threads` threads: every staged event decoded once, mapped to the
  // version's ids and written to its place in the run file through one small buffer per shard.
  std::vector<RunFile> runs(ranges);  // one a range: threads never share a file's lock
  for (RunFile& r : runs) ARK_RETURN_IF_ERROR(r.Open(ark));
  ARK_RETURN_IF_ERROR(store::ParallelFor(ranges, threads, [&](size_t t, int) -> Status {
    constexpr size_t kBuffer = 16384;  // bytes per shard
    std::vector<char> buf(shards.size() * kBuffer);
    std::vector<uint32_t> used(shards.size(), 0);
    auto flush = [&](size_t si) -> Status {
      Status st = runs[t].Write(run_at[t][si] + run_len[t][si], buf.data() + si * kBuffer, used[si]);
      run_len[t][si] += used[si];
      used[si] = 0;
      return st;
    };
    StagedEvents e;
    std::string scratch;
    for (size_t c = range_first[t]; c < range_first[t + 1]; ++c) {
      const BatchSource& l = loaded[chunks[c].batch];
      ARK_RETURN_IF_ERROR(l.file->ReadChunk(chunks[c].chunk, /*record_only=*/false, &e, &scratch));
      for (size_t i = 0; i < e.size(); ++i) {
        // The records of a chunk are in no particular order: fetch their keys ahead.
        if (i + kAhead < e.size() && e.record[i + kAhead] < l.num_records) __builtin_prefetch(&l.keys[e.record[i + kAhead]]);
        if (e.record[i] >= l.num_records || e.code[i] >= l.code_map.size() || e.unit[i] >= l.unit_map.size()) {
          return Status::Corruption(l.file->path() + ": event with a record, code or unit out of range");
        }
        Event ev;
        ev.person = l.keys[e.record[i]];
        ev.time = e.time[i];
        ev.end = e.end[i];
        ev.code = l.code_map[e.code[i]];
        ev.value = e.value[i];
        ev.unit = l.unit_map[e.unit[i]];
        ev.source = l.source;
        const uint32_t enc = e.encounter[i];
        ev.encounter = (enc & kInternedEncounter) ? kInternedEncounter | (l.enc_base + (enc & ~kInternedEncounter)) : enc;
        const uint32_t si = ShardOf(shard_end, ev.person);
        if (used[si] + kMaxRunRecord > kBuffer) ARK_RETURN_IF_ERROR(flush(si));
        char* p = buf.data() + si * kBuffer + used[si];
        used[si] += static_cast<uint32_t>(PackEvent(ev, p) - p);
      }
    }
    for (size_t si = 0; si < shards.size(); ++si) {
      if (used[si] > 0) ARK_RETURN_IF_ERROR(flush(si));
    }
    return Status::OK();
  }));
  loaded.clear();

  // Pass 3, shard by shard on `threads` threads: read the shard's events from the run file and
  // gather each person's (the order of all events, then appends), order them by time (stable),
  // derive practice and death, encode the blocks; then, in shard order, hand the blocks to the
  // writer.
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(std::max<size_t>(shards.size(), 1))));
  std::vector<std::unique_ptr<ShardWorker>> pool;
  for (int i = 0; i < workers; ++i) pool.push_back(std::make_unique<ShardWorker>(w->options()));
  std::mutex mu;
  std::condition_variable turn;
  size_t next_write = 0;
  bool aborted = false;
  Status first_error;
  auto gather = [&](size_t si, ShardWorker& wk) -> Status {
    const Shard& sh = shards[si];
    const uint64_t base = counts[sh.first];
    // Grown, never shrunk: each worker's memory is its largest shard, faulted in once.
    if (wk.events.size() < counts[sh.end] - base) wk.events.resize(counts[sh.end] - base);
    wk.pos.resize(sh.end - sh.first);
    for (uint32_t k = sh.first; k < sh.end; ++k) wk.pos[k - sh.first] = counts[k] - base;
    constexpr uint64_t kPiece = uint64_t{1} << 18;  // bytes per read
    for (size_t t = 0; t < ranges; ++t) {
      const uint64_t first = run_at[t][si], last = first + run_len[t][si];
      size_t carry = 0;  // bytes of a record cut by the previous read
      for (uint64_t at = first; at < last;) {
        const uint64_t m = std::min<uint64_t>(kPiece, last - at);
        wk.run.resize(carry + m);
        ARK_RETURN_IF_ERROR(runs[t].Read(at, wk.run.data() + carry, m));
        at += m;
        // Unpacked into a small buffer first, so that each event's place in the shard (a random
        // write: persons come in no order) is fetched a few events ahead of the write.
        const char* p = wk.run.data();
        const char* end = p + wk.run.size();
        wk.piece.clear();
        Event ev;
        for (const char* next; (next = UnpackEvent(p, end, &ev)) != nullptr; p = next) {
          if (ev.person < sh.first || ev.person >= sh.end) return Status::Internal("build: run file out of order");
          wk.piece.push_back(ev);
        }
        carry = static_cast<size_t>(end - p);
        std::memmove(wk.run.data(), p, carry);
        const size_t np = wk.piece.size();
        for (size_t i = 0; i < np; ++i) {
          if (i + kAhead < np) __builtin_prefetch(&wk.events[wk.pos[wk.piece[i + kAhead].person - sh.first]], 1);
          const Event& e = wk.piece[i];
          uint64_t& at_k = wk.pos[e.person - sh.first];
          if (at_k >= counts[e.person + 1] - base) return Status::Internal("build: run file out of order");
          wk.events[at_k++] = e;
        }
      }
      if (carry != 0) return Status::Internal("build: run file ends inside a record");
    }
    auto a = std::lower_bound(appended.begin(), appended.end(), sh.first,
                              [](const Event& e, uint32_t k) { return e.person < k; });
    for (; a != appended.end() && a->person < sh.end; ++a) wk.events[wk.pos[a->person - sh.first]++] = *a;
    return Status::OK();
  };
  auto shard_fn = [&](size_t i, int worker) -> Status {
    const Shard& sh = shards[i];
    ShardWorker& wk = *pool[worker];
    ARK_RETURN_IF_ERROR(gather(i, wk));
    const uint64_t base = counts[sh.first];
    for (uint32_t k = sh.first; k < sh.end; ++k) {
      Event* b = wk.events.data() + (counts[k] - base);
      Event* e = wk.events.data() + (counts[k + 1] - base);
      auto by_time = [](const Event& x, const Event& y) { return x.time < y.time; };
      if (!std::is_sorted(b, e, by_time)) std::stable_sort(b, e, by_time);  // often in order already
      Person& p = persons[k];
      for (Event* it = b; it != e; ++it) {
        if (is_reg[it->code]) p.practice = reg_practice[it->code];  // the latest start wins
        if (is_death[it->code] && !p.has_death()) p.death_day = DayOf(it->time);
      }
      if (!p.imd_decile && p.lsoa) {
        auto it = imd_of_area.find(p.lsoa);
        if (it != imd_of_area.end()) p.imd_decile = it->second;
      }
    }
    wk.blocks.resize(sh.end_block - sh.first_block);
    for (size_t bl = sh.first_block; bl < sh.end_block; ++bl) {
      for (uint32_t k = block_first[bl]; k < block_first[bl + 1]; ++k) {
        ARK_RETURN_IF_ERROR(wk.encoder.Add(
            persons[k], std::span<const Event>(wk.events.data() + (counts[k] - base), counts[k + 1] - counts[k])));
      }
      ARK_RETURN_IF_ERROR(wk.encoder.Finish(&wk.blocks[bl - sh.first_block]));
    }
    std::unique_lock<std::mutex> lock(mu);
    turn.wait(lock, [&] { return next_write == i || aborted; });
    if (aborted) return Status::Internal("build stopped by an error in another shard");
    for (const EncodedBlock& eb : wk.blocks) ARK_RETURN_IF_ERROR(w->AddBlock(eb));
    ++next_write;
    turn.notify_all();
    return Status::OK();
  };
  Status run = store::ParallelFor(shards.size(), workers, [&](size_t i, int worker) -> Status {
    Status s = shard_fn(i, worker);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (!aborted) first_error = s;
      aborted = true;
      turn.notify_all();
    }
    return s;
  });
  if (!first_error.ok()) return first_error;
  ARK_RETURN_IF_ERROR(run);
  pool.clear();

  BuildReport rep;
  for (const Person& p : persons) {
    if (!(p.flags & kOptOutKnown)) ++rep.optout_unknown;
    else if (p.flags & (kOptedOutNational | kOptedOutType1)) ++rep.opted_out;
  }
  ARK_RETURN_IF_ERROR(w->Finish(dicts));
  ARK_RETURN_IF_ERROR(cat.SetMeta("built_at", UtcNow()));
  rep.persons = n;
  rep.events = counts[n];
  rep.batches = batches.size();
  rep.shards = shards.size();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace ark
