#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "core/fs.h"
#include "store/manifest.h"
#include "store/store_test_util.h"
#include "store/timeline_writer.h"

namespace ark::store {
namespace {

using testing::Data;
using testing::MakeData;
using testing::ReadAll;
using testing::SameEvent;
using testing::SamePerson;
using testing::TempDir;

void ExpectSame(const Data& want, const Data& got) {
  ASSERT_EQ(got.persons.size(), want.persons.size());
  for (size_t k = 0; k < want.persons.size(); ++k) {
    ASSERT_TRUE(SamePerson(got.persons[k], want.persons[k])) << "person " << k;
    ASSERT_EQ(got.events[k].size(), want.events[k].size()) << "person " << k;
    for (size_t i = 0; i < want.events[k].size(); ++i) {
      ASSERT_TRUE(SameEvent(got.events[k][i], want.events[k][i])) << "person " << k << " event " << i;
    }
  }
}

// Small blocks and segments so that tests cross many block and segment boundaries.
WriterOptions SmallOptions() {
  WriterOptions o;
  o.block_events = 500;
  o.segment_events = 3000;
  return o;
}

TEST(Store, EmptyStoreOpens) {
  const std::string dir = TempDir("empty");
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->num_persons(), 0u);
  EXPECT_EQ((*s)->num_events(), 0u);
  EXPECT_EQ(*(*s)->CountPersonsWithAnyCode({1, 2}, 0, 1LL << 40, 2), 0u);
  EXPECT_TRUE((*s)->Verify().ok());
  EXPECT_EQ((*s)->Stats().version, 0u);
}

TEST(Store, RoundTripThroughWriterAndOpen) {
  const std::string dir = TempDir("roundtrip");
  const Data d = MakeData(400, 80, 600, 11);
  ASSERT_TRUE(testing::WriteData(dir, d, SmallOptions()).ok());
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->num_persons(), d.persons.size());
  EXPECT_EQ((*s)->num_events(), d.num_events());
  EXPECT_EQ((*s)->dicts()->codes, d.dicts.codes);
  EXPECT_EQ((*s)->dicts()->practices, d.dicts.practices);
  ExpectSame(d, ReadAll(**s));
  ExpectSame(d, ReadAll(**s, 2));
  EXPECT_TRUE(SamePerson((*s)->person(123), d.persons[123]));
  const StoreStats st = (*s)->Stats();
  EXPECT_GT(st.segments, 1u);
  EXPECT_GT(st.blocks, st.segments);
  uint64_t by_source = 0;
  for (const auto& [name, n] : st.events_by_source) by_source += n;
  EXPECT_EQ(by_source, d.num_events());
  EXPECT_TRUE((*s)->Verify().ok());
  // A key range visits just those persons.
  std::vector<PersonKey> seen;
  ASSERT_TRUE((*s)->ForEachPersonInRange(100, 105, [&](const Person& p, std::span<const Event>) {
                   seen.push_back(p.key);
                   return Status::OK();
                 }).ok());
  EXPECT_EQ(seen, (std::vector<PersonKey>{100, 101, 102, 103, 104}));
  (void)RemoveAll(dir);
}

// The files of the current version (segments by content, MANIFEST with its version number
// dropped by comparing everything but the names), in name order.
std::vector<std::string> VersionFiles(const std::string& dir) {
  std::vector<std::string> out;
  auto cur = ReadCurrent(dir);
  if (!cur.ok()) return out;
  const std::string v = dir + "/" + VersionDirName(*cur);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(v)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (n == "MANIFEST") continue;  // names the version
    auto data = ReadFile(v + "/" + n);
    out.push_back(data.ok() ? *data : "");
  }
  return out;
}

// Blocks encoded by BlockEncoders (as on several threads) and added in order with AddBlock give
// the same bytes as AddPerson, when cut where StartsNewBlock says.
TEST(Store, EncodedBlocksMatchAddPerson) {
  const Data d = MakeData(300, 60, 400, 21);
  const WriterOptions o = SmallOptions();
  const std::string one = TempDir("by_person"), blocks = TempDir("by_block");
  ASSERT_TRUE(testing::WriteData(one, d, o).ok());
  {
    auto w = TimelineWriter::Create(blocks, o);
    ASSERT_TRUE(w.ok());
    TimelineWriter::BlockEncoder enc[2] = {TimelineWriter::BlockEncoder(o), TimelineWriter::BlockEncoder(o)};
    std::vector<EncodedBlock> out;
    int which = 0;
    size_t pp = 0, pe = 0;
    for (size_t k = 0; k < d.persons.size(); ++k) {
      if (k > 0 && TimelineWriter::StartsNewBlock(o, pp, pe, d.events[k].size())) {
        out.emplace_back();
        ASSERT_TRUE(enc[which].Finish(&out.back()).ok());
        which ^= 1;
        pp = pe = 0;
      }
      ASSERT_TRUE(enc[which].Add(d.persons[k], d.events[k]).ok());
      ++pp;
      pe += d.events[k].size();
    }
    out.emplace_back();
    ASSERT_TRUE(enc[which].Finish(&out.back()).ok());
    ASSERT_GT(out.size(), 4u);
    // Out of order: refused, and nothing is added.
    EXPECT_EQ((*w)->AddBlock(out[1]).code(), StatusCode::kInvalidArgument);
    for (const EncodedBlock& b : out) ASSERT_TRUE((*w)->AddBlock(b).ok());
    EXPECT_EQ((*w)->num_persons(), d.persons.size());
    EXPECT_EQ((*w)->num_events(), d.num_events());
    ASSERT_TRUE((*w)->Finish(d.dicts).ok());
  }
  const auto a = VersionFiles(one), b = VersionFiles(blocks);
  ASSERT_GT(a.size(), 1u);
  EXPECT_TRUE(a == b) << "segment files differ";
  auto s = Store::Open(blocks);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSame(d, ReadAll(**s));
  auto so = Store::Open(one);
  ASSERT_TRUE(so.ok());
  EXPECT_EQ((*s)->Stats().events_by_source, (*so)->Stats().events_by_source);
  EXPECT_TRUE((*s)->Verify().ok());
  (void)RemoveAll(one);
  (void)RemoveAll(blocks);
}

// An encoder checks persons as AddPerson does; AddBlock is refused while AddPerson's block is open.
TEST(Store, BlockEncoderChecksLikeAddPerson) {
  Data d = MakeData(3, 10, 5, 12);
  const std::string dir = TempDir("encoder_checks");
  TimelineWriter::BlockEncoder enc{WriterOptions{}};
  ASSERT_TRUE(enc.Add(d.persons[1], d.events[1]).ok());  // any first key
  EXPECT_EQ(enc.Add(d.persons[0], d.events[0]).code(), StatusCode::kInvalidArgument);  // then consecutive
  std::vector<Event> unsorted = {Event{}, Event{}};
  unsorted[0].person = unsorted[1].person = 2;
  unsorted[0].time = 100 * testing::kDay;
  unsorted[1].time = 50 * testing::kDay;
  EXPECT_EQ(enc.Add(d.persons[2], unsorted).code(), StatusCode::kInvalidArgument);
  EncodedBlock b1;
  ASSERT_TRUE(enc.Finish(&b1).ok());
  EXPECT_EQ(b1.info.first_person, 1u);
  auto w = TimelineWriter::Create(dir);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddPerson(d.persons[0], d.events[0]).ok());
  EXPECT_EQ((*w)->AddBlock(b1).code(), StatusCode::kFailedPrecondition);
  (void)RemoveAll(dir);
}

TEST(Store, WriterRejectsBadInput) {
  const std::string dir = TempDir("bad_input");
  Data d = MakeData(3, 10, 5, 12);
  auto w = TimelineWriter::Create(dir);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->AddPerson(d.persons[1], d.events[1]).code(), StatusCode::kInvalidArgument);  // key 1 first
  std::vector<Event> unsorted = {d.events[0].empty() ? Event{} : d.events[0][0]};
  unsorted[0].time = 100 * testing::kDay;
  unsorted.push_back(unsorted[0]);
  unsorted[1].time = 50 * testing::kDay;
  EXPECT_EQ((*w)->AddPerson(d.persons[0], unsorted).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*w)->AddPerson(d.persons[0], {}).ok());
  // A second writer cannot take the lock.
  EXPECT_EQ(TimelineWriter::Create(dir).status().code(), StatusCode::kFailedPrecondition);
  Dictionaries small;
  Person p = d.persons[1];
  p.practice = 3;
  ASSERT_TRUE((*w)->AddPerson(p, {}).ok());
  EXPECT_EQ((*w)->Finish(small).code(), StatusCode::kInvalidArgument);  // practice 3 not in dicts
  (void)RemoveAll(dir);
}

TEST(Store, VerifyDetectsFlippedByteInSegment) {
  const std::string dir = TempDir("verify");
  ASSERT_TRUE(testing::WriteData(dir, MakeData(200, 50, 100, 13), SmallOptions()).ok());
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Verify().ok());
  }
  const std::string vdir = dir + "/" + VersionDirName(*ReadCurrent(dir));
  const std::string seg = vdir + "/" + SegmentFileName(*ReadCurrent(dir), 1);
  std::string bytes = *ReadFile(seg);
  bytes[bytes.size() / 3] ^= 0x40;  // inside some block
  ASSERT_TRUE(WriteFileAtomic(seg, bytes).ok());
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  Status v = (*s)->Verify();
  EXPECT_EQ(v.code(), StatusCode::kCorruption);
  EXPECT_NE(v.message().find(SegmentFileName(*ReadCurrent(dir), 1)), std::string::npos) << v.ToString();
  EXPECT_NE(v.message().find("block"), std::string::npos) << v.ToString();
  (void)RemoveAll(dir);
}

std::vector<AppendEvent> RandomAppends(const Data& d, uint32_t max_person, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<AppendEvent> out;
  for (int i = 0; i < n; ++i) {
    AppendEvent a;
    a.person = static_cast<PersonKey>(rng() % max_person);
    a.time = (testing::kFirstDay + static_cast<int64_t>(rng() % 7300)) * testing::kDay + (rng() % 2 ? 0 : rng() % 86400);
    a.code = rng() % 10 == 0 ? "NEW/" + std::to_string(rng() % 20) : d.dicts.codes[1 + rng() % (d.dicts.codes.size() - 1)];
    if (rng() % 3 == 0) a.value = static_cast<double>(rng() % 1000) / 10.0;
    if (rng() % 3 == 0) a.unit = rng() % 2 ? "kg" : "mg/dL";
    a.source = rng() % 2 ? "hl7" : "gp";
    a.encounter = static_cast<uint32_t>(i + 1);
    out.push_back(a);
  }
  return out;
}

// The expected content after appending `adds` to `d` (new persons get unknown attributes).
Data Apply(Data d, const std::vector<AppendEvent>& adds, const Dictionaries& dicts) {
  auto id = [](const std::vector<std::string>& list, const std::string& s) {
    return static_cast<uint32_t>(std::find(list.begin(), list.end(), s) - list.begin());
  };
  for (const AppendEvent& a : adds) {
    while (d.persons.size() <= a.person) {
      Person p;
      p.key = static_cast<PersonKey>(d.persons.size());
      d.persons.push_back(p);
      d.events.emplace_back();
    }
    Event e;
    e.person = a.person;
    e.time = a.time;
    e.end = a.end;
    e.code = id(dicts.codes, a.code);
    e.value = a.value;
    e.unit = a.unit.empty() ? 0 : id(dicts.units, a.unit);
    e.source = static_cast<uint16_t>(a.source.empty() ? 0 : id(dicts.sources, a.source));
    e.encounter = a.encounter;
    auto& ev = d.events[a.person];
    ev.insert(std::upper_bound(ev.begin(), ev.end(), e, [](const Event& x, const Event& y) { return x.time < y.time; }), e);
  }
  return d;
}

TEST(Store, AppendReadCompactReopen) {
  const std::string dir = TempDir("append");
  const Data d = MakeData(300, 40, 200, 14);
  ASSERT_TRUE(testing::WriteData(dir, d, SmallOptions()).ok());
  StoreOptions opts;
  opts.writer = SmallOptions();
  auto s = Store::Open(dir, opts);
  ASSERT_TRUE(s.ok());
  // Appends to existing persons (a few only, so that compaction links untouched segments) and to
  // new persons beyond the version.
  auto adds = RandomAppends(d, 40, 300, 1);
  auto more = RandomAppends(d, 330, 200, 2);
  ASSERT_TRUE((*s)->Append(adds).ok());
  ASSERT_TRUE((*s)->Append(more).ok());
  adds.insert(adds.end(), more.begin(), more.end());
  const Data want = Apply(d, adds, *(*s)->dicts());
  EXPECT_EQ((*s)->num_persons(), want.persons.size());
  EXPECT_EQ((*s)->num_events(), want.num_events());
  ExpectSame(want, ReadAll(**s));
  // Reopen: the WAL is replayed.
  s->reset();
  s = Store::Open(dir, opts);
  ASSERT_TRUE(s.ok());
  ExpectSame(want, ReadAll(**s));
  EXPECT_GT((*s)->Stats().delta_events, 0u);
  // Compact: same content, empty delta, WAL retired, untouched segments hard-linked.
  ASSERT_TRUE((*s)->Compact().ok());
  EXPECT_EQ((*s)->Stats().delta_events, 0u);
  ExpectSame(want, ReadAll(**s));
  EXPECT_TRUE((*s)->Verify().ok());
  s->reset();
  s = Store::Open(dir, opts);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Stats().delta_events, 0u);
  ExpectSame(want, ReadAll(**s));
  EXPECT_EQ(ListStore(dir).versions.size(), 1u);
  (void)RemoveAll(dir);
}

TEST(Store, GroupCommitWithConcurrentAppenders) {
  const std::string dir = TempDir("group");
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AppendEvent a;
        a.person = static_cast<PersonKey>(t);
        a.time = 1000000 + i;
        a.code = "C/" + std::to_string(i % 7);
        a.encounter = static_cast<uint32_t>(i + 1);
        if (!(*s)->Append(std::span<const AppendEvent>(&a, 1)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*s)->num_events(), uint64_t{kThreads} * kPerThread);
  // Fewer WAL records than appends would show group commit; at least the data must all be there,
  // in per-thread order, after a reopen.
  s->reset();
  s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  Data got = ReadAll(**s);
  ASSERT_EQ(got.events.size(), static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(got.events[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(got.events[t][i].encounter, static_cast<uint32_t>(i + 1));
  }
  (void)RemoveAll(dir);
}

TEST(Store, ConcurrentReadersAppendersAndCompaction) {
  const std::string dir = TempDir("concurrent");
  const Data d = MakeData(300, 30, 100, 15);
  ASSERT_TRUE(testing::WriteData(dir, d, SmallOptions()).ok());
  StoreOptions opts;
  opts.writer = SmallOptions();
  auto s = Store::Open(dir, opts);
  ASSERT_TRUE(s.ok());
  Store& store = **s;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 40; ++b) {
        auto batch = RandomAppends(d, 350, 10, static_cast<uint64_t>(t * 1000 + b));
        if (!store.Append(batch).ok()) ++errors;
      }
    });
  }
  threads.emplace_back([&] {
    for (int c = 0; c < 5; ++c) {
      if (!store.Compact().ok()) ++errors;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::thread reader([&] {
    uint64_t last = 0;
    while (!stop) {
      const uint64_t n = store.num_events();
      if (n < last) ++errors;  // events never disappear, even across a compaction
      last = n;
      uint64_t seen = 0;
      Status st = store.ForEachPerson([&](const Person&, std::span<const Event> ev) {
        seen += ev.size();
        return Status::OK();
      });
      if (!st.ok() || seen < n) ++errors;
      if (!store.CountPersonsWithAnyCode({1, 2, 3}, 0, INT64_MAX, 2).ok()) ++errors;
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store.num_events(), d.num_events() + 3 * 40 * 10);
  ASSERT_TRUE(store.Compact().ok());
  EXPECT_TRUE(store.Verify().ok());
  const Data before = ReadAll(store);
  s->reset();
  auto again = Store::Open(dir, opts);
  ASSERT_TRUE(again.ok());
  ExpectSame(before, ReadAll(**again));
  (void)RemoveAll(dir);
}

TEST(Store, SecondWriterIsRefused) {
  const std::string dir = TempDir("second_writer");
  auto a = Store::Open(dir);
  auto b = Store::Open(dir);
  ASSERT_TRUE(a.ok() && b.ok());
  AppendEvent e;
  e.code = "X/1";
  ASSERT_TRUE((*a)->Append(std::span<const AppendEvent>(&e, 1)).ok());
  EXPECT_EQ((*b)->Append(std::span<const AppendEvent>(&e, 1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*b)->num_events(), 0u);  // b opened before a appended
  a->reset();
  // b takes over: it sees a's event before appending its own.
  ASSERT_TRUE((*b)->Append(std::span<const AppendEvent>(&e, 1)).ok());
  EXPECT_EQ((*b)->num_events(), 2u);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store

namespace ark::store {
namespace {

AppendEvent Ev(PersonKey p, Seconds t, const std::string& code) {
  AppendEvent e;
  e.person = p;
  e.time = t;
  e.code = code;
  return e;
}

// The codes of every appended event TakeAppended hands over, in order.
void TakeCodes(TimelineWriter& w, std::vector<std::string>* codes) {
  ASSERT_TRUE(w.TakeAppended([&](const AppendEvent& e) {
    codes->push_back(e.code);
    return Status::OK();
  }).ok());
}

// Compaction keeps the WAL files it folds (store/appended/): they are the record of every
// acknowledged append that `ark build` re-reads; TakeAppended hands all of them over, and the
// version it publishes covers them (nothing replayed twice).
TEST(StoreAppended, CompactionKeepsFoldedWalAndWriterTakesEverything) {
  const std::string dir = ::ark::store::testing::TempDir("appended");
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    std::vector<AppendEvent> a = {Ev(0, 86400, "A/1"), Ev(1, 2 * 86400, "A/2")};
    ASSERT_TRUE((*s)->Append(a).ok());
    ASSERT_TRUE((*s)->Compact().ok());
    std::vector<AppendEvent> b = {Ev(1, 3 * 86400, "A/3")};
    ASSERT_TRUE((*s)->Append(b).ok());
    EXPECT_TRUE((*s)->Verify().ok());
  }
  EXPECT_EQ(ListAppended(dir).size(), 1u);
  EXPECT_EQ(ListStore(dir).wals.size(), 1u);
  auto w = TimelineWriter::Create(dir);
  ASSERT_TRUE(w.ok());
  std::vector<std::string> codes;
  ASSERT_NO_FATAL_FAILURE(TakeCodes(**w, &codes));
  EXPECT_EQ(codes, (std::vector<std::string>{"A/1", "A/2", "A/3"}));
  // Write one person with one event of its own: the appended ones are the caller's to add.
  Dictionaries d;
  d.codes.push_back("B/1");
  Person p;
  Event e;
  e.time = 86400;
  e.code = 1;
  ASSERT_TRUE((*w)->AddPerson(p, std::span<const Event>(&e, 1)).ok());
  ASSERT_TRUE((*w)->Finish(d).ok());
  w->reset();
  EXPECT_TRUE(ListStore(dir).wals.empty());  // all folded, all kept in appended/
  EXPECT_EQ(ListAppended(dir).size(), 2u);
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->num_events(), 1u);  // nothing replayed on top
  EXPECT_TRUE((*s)->Verify().ok());
  (void)RemoveAll(dir);
}

// Notes (Store::AppendNoted) share one WAL record with their events: every reader of events gets
// the events (delta at Open, Verify, TakeAppended for `ark build`), only ReadNotes gets the notes,
// from any position it returned, after compaction moved the file to appended/ and after a build.
// A torn record loses its notes and its events together.
TEST(StoreAppended, NotesTravelWithTheirEventsAndAreReadFromAnyPosition) {
  const std::string dir = ::ark::store::testing::TempDir("noted");
  auto notes_from = [&](WalPosition from) {
    std::vector<std::string> got;
    Status s = Store::ReadNotes(dir, from, [&](std::string_view n, WalPosition) {
      got.emplace_back(n);
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return got;
  };
  WalPosition after_first, after_second;
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    std::vector<AppendEvent> a = {Ev(0, 86400, "A/1"), Ev(1, 2 * 86400, "A/2")};
    const std::vector<std::string> n1 = {"one", std::string("t\0wo", 4)};
    ASSERT_TRUE((*s)->AppendNoted(a, n1, &after_first).ok());
    EXPECT_EQ((*s)->wal_end().offset, after_first.offset);
    ASSERT_TRUE((*s)->Append(std::vector<AppendEvent>{Ev(2, 86400, "A/9")}).ok());  // no notes
    ASSERT_TRUE((*s)->Compact().ok());  // moves the file to appended/
    const std::vector<std::string> n2 = {"three"};
    ASSERT_TRUE((*s)->AppendNoted({}, n2, &after_second).ok());  // notes alone
    std::vector<AppendEvent> c = {Ev(1, 3 * 86400, "A/3")};
    const std::vector<std::string> n3 = {"four"};
    ASSERT_TRUE((*s)->AppendNoted(c, n3).ok());
    EXPECT_EQ((*s)->num_events(), 4u);
    EXPECT_TRUE((*s)->Verify().ok());
    // More than one record's worth of events is refused, with nothing written.
    std::vector<AppendEvent> big(65537, Ev(0, 86400, "A/1"));
    EXPECT_EQ((*s)->AppendNoted(big, n3).code(), StatusCode::kInvalidArgument);
    const std::vector<std::string> huge = {std::string(65u << 20, 'x')};  // over 64 MiB
    EXPECT_EQ((*s)->AppendNoted({}, huge).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ListAppended(dir).size(), 1u);
  EXPECT_EQ(notes_from({}), (std::vector<std::string>{"one", std::string("t\0wo", 4), "three", "four"}));
  EXPECT_EQ(notes_from(after_first), (std::vector<std::string>{"three", "four"}));
  EXPECT_EQ(notes_from(after_second), (std::vector<std::string>{"four"}));
  EXPECT_TRUE(Store::PositionReadable(dir, after_second));
  EXPECT_FALSE(Store::PositionReadable(dir, WalPosition{after_second.file, after_second.offset + 1000}));
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->num_events(), 4u);
  }
  // A torn last record: its note and its event are gone together.
  const std::string last = dir + "/" + WalFileName(ListStore(dir).wals.back());
  ASSERT_EQ(::truncate(last.c_str(), static_cast<off_t>(DiskUsage(last) - 3)), 0);
  EXPECT_EQ(notes_from({}), (std::vector<std::string>{"one", std::string("t\0wo", 4), "three"}));
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->num_events(), 3u);
  }
  // `ark build` takes the events and keeps the files, so the notes stay readable.
  auto w = TimelineWriter::Create(dir);
  ASSERT_TRUE(w.ok());
  std::vector<std::string> codes;
  ASSERT_NO_FATAL_FAILURE(TakeCodes(**w, &codes));
  EXPECT_EQ(codes, (std::vector<std::string>{"A/1", "A/2", "A/9"}));
  ASSERT_TRUE((*w)->Finish(Dictionaries{}).ok());
  w->reset();
  EXPECT_EQ(notes_from(after_first), (std::vector<std::string>{"three"}));
  (void)RemoveAll(dir);
}

// A compaction killed mid-way leaves v-N.tmp: the next Open removes it when no writer runs, and
// leaves it alone while one holds the LOCK.
TEST(StoreAppended, OpenRemovesStaleTemporariesOnlyWithoutAWriter) {
  const std::string dir = ::ark::store::testing::TempDir("stale");
  {
    auto s = Store::Open(dir);
    std::vector<AppendEvent> a = {Ev(0, 86400, "A/1")};
    ASSERT_TRUE((*s)->Append(a).ok());
    ASSERT_TRUE((*s)->Compact().ok());
  }
  const std::string tmp = dir + "/v-000009.tmp";
  ASSERT_TRUE(MakeDirs(tmp).ok());
  ASSERT_TRUE(WriteFileAtomic(tmp + "/seg-000009-00000.ark", std::string(1000, 'x')).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/CURRENT.tmp", "v-000009\n").ok());
  {
    auto writer = TimelineWriter::Create(dir);
    ASSERT_TRUE(writer.ok());
    // (Create itself cleans; put the leftover back while it holds the LOCK.)
    ASSERT_TRUE(MakeDirs(tmp).ok());
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(PathExists(tmp)) << "removed while a writer held the LOCK";
  }
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(PathExists(tmp));
  EXPECT_FALSE(PathExists(dir + "/CURRENT.tmp"));
  EXPECT_EQ((*s)->num_events(), 1u);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store
