// Restart from the live snapshot (src/live/snapshot.h, Ingestor::Open): the same indicators,
// person keys and retransmit behaviour as a full replay of the live log; a damaged or half-written
// snapshot falls back to the full replay; records logged after the snapshot are replayed; the
// store gets each event exactly once.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "hl7/hl7.h"
#include "live/record.h"
#include "live/snapshot.h"
#include "server/test_util.h"
#include "store/store.h"
#include "store/wal.h"

namespace ark::live {
namespace {

using namespace testing;

std::unique_ptr<Ingestor> OpenIngestor(const std::string& ark, Metrics* m,
                                       uint64_t snapshot_records = 100000) {
  IngestOptions io;
  io.ark_dir = ark;
  io.key = TestKey();
  io.rules = *ParseRules(DefaultRulesYaml(), "rules");
  io.compact_interval_s = 0;
  io.snapshot_records = snapshot_records;
  auto in = Ingestor::Open(io, m);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  return in.ok() ? std::move(*in) : nullptr;
}

Outcome Feed(Ingestor& in, const std::string& msg) {
  auto m = hl7::Message::Parse(msg);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  auto rec = FromHl7(*m);
  EXPECT_TRUE(rec.ok()) << rec.status().ToString();
  std::promise<Outcome> done;
  in.Submit(*rec, NowMicros(), [&](const Outcome& o) { done.set_value(o); });
  return done.get_future().get();
}

std::string Nhs(int i) {  // valid NHS numbers (Modulus 11) 9000000009 + ...
  for (int base = 900000000 + i * 10;; ++base) {
    const std::string d = std::to_string(base);
    int sum = 0;
    for (int k = 0; k < 9; ++k) sum += (d[k] - '0') * (10 - k);
    const int check = 11 - sum % 11;
    if (check == 10) continue;
    return d + std::to_string(check == 11 ? 0 : check);
  }
}

// Admissions, creatinine results (AKI alerts), discharges and readmissions for persons
// [from, to), with control ids prefixed by `tag`.
std::vector<std::string> Messages(const std::string& tag, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    const std::string nhs = Nhs(i), mrn = "M" + std::to_string(i), ward = "W" + std::to_string(i % 4);
    out.push_back(Admit(tag + "A" + std::to_string(i), nhs, mrn, ward, "20250101100000"));
    out.push_back(Result(tag + "L" + std::to_string(i), nhs, "20250102080000",
                         {{"14682-9", 70.0, "umol/L"}}));
    out.push_back(Result(tag + "K" + std::to_string(i), nhs, "20250103080000",
                         {{"14682-9", i % 2 ? 250.0 : 75.0, "umol/L"}}));
    if (i % 3 == 0)
      out.push_back(Discharge(tag + "D" + std::to_string(i), nhs, mrn, ward, "20250101100000",
                              "20250104100000"));
  }
  return out;
}

void FeedAll(Ingestor& in, const std::vector<std::string>& msgs) {
  for (const auto& m : msgs) EXPECT_EQ(Feed(in, m).code, "AA");
}

uint64_t StoreEventCount(const std::string& ark) {
  auto s = Store::Open(ark + "/store");
  EXPECT_TRUE(s.ok());
  return s.ok() ? (*s)->num_events() : 0;
}

void CopyArk(const std::string& from, const std::string& to) {
  (void)RemoveAll(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// A start that restored nothing from a snapshot and replayed all of `msgs`: the same record count
// and indicators `ind`, and msgs[again] recognised as a retransmit.
void ExpectWholeReplay(Ingestor& in, const std::vector<std::string>& msgs, const std::string& ind, size_t again) {
  EXPECT_EQ(in.restored(), 0u);
  EXPECT_EQ(in.replayed(), msgs.size());
  EXPECT_EQ(in.records(), msgs.size());
  EXPECT_EQ(in.IndicatorsJson(), ind);
  EXPECT_TRUE(Feed(in, msgs[again]).duplicate);
}

// Between compaction periods, a compaction comes as soon as compact_max_events events were
// appended since the last one (the WAL delta a restart replays stays bounded); with no limit,
// none comes before the period. Every event stays in the store either way.
TEST(LiveSnapshot, CompactionComesWhenTheDeltaGrowsPastItsLimit) {
  const auto msgs = Messages("c", 0, 40);
  for (uint64_t limit : {uint64_t{30}, uint64_t{0}}) {
    const std::string ark = TempArk(limit ? "compact_limit" : "compact_nolimit");
    Metrics m;
    IngestOptions io;
    io.ark_dir = ark;
    io.key = TestKey();
    io.rules = *ParseRules(DefaultRulesYaml(), "rules");
    io.compact_interval_s = 3600;  // the first check comes at start (empty delta), the next in an hour
    io.compact_max_events = limit;
    {
      auto in = Ingestor::Open(io, &m);
      ASSERT_TRUE(in.ok()) << in.status().ToString();
      FeedAll(**in, msgs);
      ASSERT_TRUE((*in)->FlushStore().ok());
      // The store thread checks after each append: give it a moment past the last one.
      for (int i = 0; i < 200 && limit && m.compactions.load() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (limit)
      EXPECT_GE(m.compactions.load(), 1u) << "more than " << limit << " events appended, no compaction";
    else
      EXPECT_EQ(m.compactions.load(), 0u);
    EXPECT_EQ(StoreEventCount(ark), msgs.size());
  }
}

// After a clean stop the next start reads the snapshot and no log record.
TEST(LiveSnapshot, CleanStopWritesSnapshotRestartReadsNoLog) {
  const std::string ark = TempArk("snap_clean");
  Metrics m;
  const auto msgs = Messages("a", 0, 20);
  std::string ind;
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, msgs);
    ind = in->IndicatorsJson();
    ASSERT_TRUE(in->FlushStore().ok());
  }
  struct stat st {};
  ASSERT_EQ(stat((ark + "/live/snapshot").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto in = OpenIngestor(ark, &m);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->restored(), msgs.size());
  EXPECT_EQ(in->replayed(), 0u);
  EXPECT_EQ(in->records(), msgs.size());
  EXPECT_EQ(in->IndicatorsJson(), ind);
  EXPECT_FALSE(in->RecentAlerts().empty()) << "recent alerts come back with the snapshot";
  in.reset();
  EXPECT_EQ(StoreEventCount(ark), msgs.size());
}

// The snapshot of the first run, then more records in a second run (its own snapshot is thrown
// away, as if it had been killed before taking one): a restart from the old snapshot replays the
// second run's records and ends up exactly where a full replay of the log does.
TEST(LiveSnapshot, RecordsAfterTheSnapshotAreReplayedSameAsFullReplay) {
  const std::string ark = TempArk("snap_tail");
  Metrics m;
  const auto first = Messages("a", 0, 30), second = Messages("b", 30, 45);
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, first);
  }
  auto old_snapshot = ReadFile(ark + "/live/snapshot");
  ASSERT_TRUE(old_snapshot.ok());
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, second);
  }
  ASSERT_TRUE(WriteSnapshot(ark + "/live/snapshot", *old_snapshot).ok());
  const std::string full = ark + "_full";
  CopyArk(ark, full);
  ASSERT_TRUE(RemoveAll(full + "/live/snapshot").ok());

  auto a = OpenIngestor(ark, &m);   // snapshot + the second run's records
  auto b = OpenIngestor(full, &m);  // the whole log
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->restored(), first.size());
  EXPECT_EQ(a->replayed(), second.size());
  EXPECT_EQ(b->restored(), 0u);
  EXPECT_EQ(b->replayed(), first.size() + second.size());
  EXPECT_EQ(a->records(), b->records());
  EXPECT_EQ(a->IndicatorsJson(), b->IndicatorsJson());
  // Retransmits from either run are recognised in both; nothing is applied twice.
  for (const std::string& msg : {first[3], second[5]}) {
    const Outcome x = Feed(*a, msg), y = Feed(*b, msg);
    EXPECT_TRUE(x.duplicate);
    EXPECT_TRUE(y.duplicate);
  }
  // Known persons keep their keys; a new person gets the same next key in both.
  for (const std::string& msg : {Admit("c1", Nhs(3), "M3", "W9", "20250105100000"),
                                 Admit("c2", Nhs(40), "M40", "W9", "20250105100000"),
                                 Admit("c3", Nhs(99), "M99", "W9", "20250105100000")}) {
    const Outcome x = Feed(*a, msg), y = Feed(*b, msg);
    EXPECT_EQ(x.code, "AA");
    EXPECT_FALSE(x.duplicate);
    EXPECT_EQ(x.person, y.person);
    EXPECT_EQ(x.seq, y.seq);
  }
  EXPECT_EQ(a->IndicatorsJson(), b->IndicatorsJson());
  // An alert raised after the restart gets the same id in both (ids derive from record numbers).
  std::vector<uint64_t> ids_a, ids_b;
  a->Subscribe([&](const Alert& x, const std::string&) { ids_a.push_back(x.id); });
  b->Subscribe([&](const Alert& x, const std::string&) { ids_b.push_back(x.id); });
  const std::string aki = Result("c4", Nhs(1), "20250106080000", {{"14682-9", 400.0, "umol/L"}});
  EXPECT_EQ(Feed(*a, aki).code, "AA");
  EXPECT_EQ(Feed(*b, aki).code, "AA");
  EXPECT_FALSE(ids_a.empty()) << "a creatinine of 400 after 70 raises an AKI alert";
  EXPECT_EQ(ids_a, ids_b);
  EXPECT_EQ(a->IndicatorsJson(), b->IndicatorsJson());
  a.reset();
  b.reset();
  EXPECT_EQ(StoreEventCount(ark), first.size() + second.size() + 4);
  EXPECT_EQ(StoreEventCount(full), first.size() + second.size() + 4);
  (void)RemoveAll(full);
}

TEST(LiveSnapshot, CorruptSnapshotFallsBackToFullReplay) {
  const std::string ark = TempArk("snap_corrupt");
  Metrics m;
  const auto msgs = Messages("a", 0, 12);
  std::string ind;
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, msgs);
    ind = in->IndicatorsJson();
  }
  const std::string path = ark + "/live/snapshot";
  auto bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  for (const std::string& damaged :
       {bytes->substr(0, bytes->size() / 2), std::string(*bytes).replace(40, 1, "\x7f")}) {
    ASSERT_TRUE(WriteFileAtomic(path, damaged).ok());
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    ExpectWholeReplay(*in, msgs, ind, 4);
  }
  EXPECT_EQ(StoreEventCount(ark), msgs.size());
}

// The records `ark serve` logged in the store's WAL (Store::ReadNotes), decoded.
std::vector<PseudoRecord> LoggedRecords(const std::string& ark) {
  std::vector<PseudoRecord> out;
  Status s = Store::ReadNotes(ark + "/store", WalPosition{}, [&](std::string_view note, WalPosition) -> Status {
    ARK_ASSIGN_OR_RETURN(PseudoRecord r, DecodePseudo(note));
    out.push_back(std::move(r));
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Writes `records` (framed WAL records) as the live log an earlier release kept in ARK/live/log.
std::string WriteLegacyLog(const std::string& ark, const std::string& records) {
  EXPECT_TRUE(MakeDirs(ark + "/live/log").ok());
  const std::string path = ark + "/live/log/00000001.wal";
  auto w = store::WalWriter::Create(path);
  EXPECT_TRUE(w.ok());
  if (w.ok()) EXPECT_TRUE((*w)->WriteAndSync(records).ok());
  return path;
}

// Records and their events are one durable write in the store's WAL: every acknowledged record is
// there as a note, the live log of earlier releases is not written, and the events are in the
// store as soon as the records are acknowledged (no second log to reconcile).
TEST(LiveLog, RecordsAreLoggedInTheStoreWalWithTheirEvents) {
  const std::string ark = TempArk("one_log");
  Metrics m;
  const auto msgs = Messages("a", 0, 10);
  auto in = OpenIngestor(ark, &m);
  ASSERT_TRUE(in);
  FeedAll(*in, msgs);
  {  // a reader opened now, before any flush or stop, sees every acknowledged event
    auto s = Store::Open(ark + "/store");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->num_events(), msgs.size());
  }
  const auto logged = LoggedRecords(ark);
  ASSERT_EQ(logged.size(), msgs.size());
  for (size_t i = 0; i < logged.size(); ++i) EXPECT_EQ(logged[i].seq, i + 1);
  EXPECT_FALSE(PathExists(ark + "/live/log"));
  in.reset();
  EXPECT_EQ(StoreEventCount(ark), msgs.size());
}

// A message whose events cannot fit one WAL record (more than 65,536 observations) is refused
// with AE and not logged; the messages around it are acknowledged and stored as usual.
TEST(LiveLog, MessageTooLargeForOneWalRecordIsRefusedAndOthersGoOn) {
  const std::string ark = TempArk("one_log_big");
  Metrics m;
  auto in = OpenIngestor(ark, &m);
  ASSERT_TRUE(in);
  const auto before = Messages("a", 0, 2), after = Messages("b", 2, 4);
  FeedAll(*in, before);
  std::vector<std::tuple<std::string, double, std::string>> obs(65537, {"14682-9", 70.0, "umol/L"});
  const Outcome big = Feed(*in, Result("BIG1", Nhs(1), "20250102080000", obs));
  EXPECT_EQ(big.code, "AE");
  EXPECT_NE(big.error.message().find("65,536"), std::string::npos) << big.error.ToString();
  FeedAll(*in, after);
  in.reset();
  EXPECT_EQ(LoggedRecords(ark).size(), before.size() + after.size());
  EXPECT_EQ(StoreEventCount(ark), before.size() + after.size());
}

// A damaged "applied" marker in an earlier release's live log is Corruption naming the log file
// (std::stoull turned it into an uncaught exception before).
TEST(LiveSnapshot, DamagedAppliedMarkerIsCorruptionNamingTheLogFile) {
  const std::string ark = TempArk("snap_marker");
  Metrics m;
  std::string rec;
  store::AppendWalRecord(&rec, static_cast<store::WalRecordType>(17), "12x");
  const std::string last = WriteLegacyLog(ark, rec);
  IngestOptions io;
  io.ark_dir = ark;
  io.key = TestKey();
  io.rules = *ParseRules(DefaultRulesYaml(), "rules");
  io.compact_interval_s = 0;
  auto in = Ingestor::Open(io, &m);
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kCorruption) << in.status().ToString();
  EXPECT_NE(in.status().message().find(last), std::string::npos) << in.status().ToString();
  EXPECT_NE(in.status().message().find("'12x'"), std::string::npos) << in.status().ToString();
}

// kill -9 between writing snapshot.tmp and renaming it: the leftover is ignored (and removed),
// the previous snapshot is used.
TEST(LiveSnapshot, HalfWrittenSnapshotIsIgnored) {
  const std::string ark = TempArk("snap_tmp");
  Metrics m;
  const auto msgs = Messages("a", 0, 10), more = Messages("b", 10, 14);
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, msgs);
  }
  auto good = ReadFile(ark + "/live/snapshot");
  ASSERT_TRUE(good.ok());
  std::string ind;
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, more);
    ind = in->IndicatorsJson();
  }
  auto newer = ReadFile(ark + "/live/snapshot");
  ASSERT_TRUE(newer.ok());
  ASSERT_TRUE(WriteSnapshot(ark + "/live/snapshot", *good).ok());
  {  // the newer snapshot, cut short, under the temporary name
    auto f = AppendFile::Open(ark + "/live/snapshot.tmp", true);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Append(newer->substr(0, newer->size() / 3)).ok());
    ASSERT_TRUE(f->Sync().ok());
  }
  auto in = OpenIngestor(ark, &m);
  ASSERT_TRUE(in);
  EXPECT_FALSE(PathExists(ark + "/live/snapshot.tmp"));
  EXPECT_EQ(in->restored(), msgs.size());
  EXPECT_EQ(in->replayed(), more.size());
  EXPECT_EQ(in->IndicatorsJson(), ind);
}

// An Ark served by an earlier release: its records are in ARK/live/log (JSON records, type 16,
// and binary ones, type 18), and its store lacks the events of those after the last "applied"
// marker. The first start replays that log into the same state, re-appends exactly the missing
// events, and writes new records to the store's WAL; the next start reads nothing from the old
// log (its snapshot is in the store's WAL) and the store has every event once.
TEST(LiveSnapshot, LiveLogOfAnEarlierReleaseIsReplayedAndItsEventsRecovered) {
  Metrics m;
  const auto msgs = Messages("a", 0, 12), more = Messages("b", 12, 15);
  const std::string now = TempArk("snap_json_now");
  std::string ind;
  {
    auto in = OpenIngestor(now, &m);
    ASSERT_TRUE(in);
    FeedAll(*in, msgs);
    ind = in->IndicatorsJson();
  }
  const auto logged = LoggedRecords(now);
  ASSERT_EQ(logged.size(), msgs.size());
  // The earlier release's Ark: the same records in its live log, half JSON and half binary; the
  // first four records' events were in its store ("applied" marker 4).
  const std::string ark = TempArk("snap_json_old");
  std::string records;
  for (size_t i = 0; i < logged.size(); ++i) {
    if (i % 2 == 0) {
      store::AppendWalRecord(&records, static_cast<store::WalRecordType>(16), ToJson(logged[i]));
    } else {
      std::string bin;
      EncodePseudo(logged[i], &bin);
      store::AppendWalRecord(&records, static_cast<store::WalRecordType>(18), bin);
    }
    if (i == 3) store::AppendWalRecord(&records, static_cast<store::WalRecordType>(17), "4");
  }
  WriteLegacyLog(ark, records);
  {
    auto s = Store::Open(ark + "/store");
    ASSERT_TRUE(s.ok());
    std::vector<AppendEvent> first;
    for (size_t i = 0; i < 4; ++i)
      for (AppendEvent& e : StoreEvents(logged[i])) first.push_back(std::move(e));
    ASSERT_TRUE((*s)->Append(first).ok());
  }
  {
    auto in = OpenIngestor(ark, &m);
    ASSERT_TRUE(in);
    ExpectWholeReplay(*in, msgs, ind, 5);
    EXPECT_EQ(StoreEventCount(ark), msgs.size());
    FeedAll(*in, more);
  }
  auto in = OpenIngestor(ark, &m);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->replayed(), 0u);
  EXPECT_EQ(in->records(), msgs.size() + more.size());
  EXPECT_TRUE(Feed(*in, msgs[1]).duplicate);
  EXPECT_TRUE(Feed(*in, more[1]).duplicate);
  in.reset();
  EXPECT_EQ(StoreEventCount(ark), msgs.size() + more.size());
  EXPECT_EQ(LoggedRecords(ark).size(), more.size());
}

// Snapshots are taken while running (every N records), by the helper thread.
TEST(LiveSnapshot, TakenEveryNRecordsWhileRunning) {
  const std::string ark = TempArk("snap_running");
  Metrics m;
  auto in = OpenIngestor(ark, &m, /*snapshot_records=*/10);
  ASSERT_TRUE(in);
  const auto msgs = Messages("a", 0, 25);
  FeedAll(*in, msgs);
  for (int i = 0; i < 500 && in->snapshots() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(in->snapshots(), 2u);
  auto snap = ReadSnapshot(ark + "/live/snapshot");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_GE(snap->pos.last_seq, 10u);
  EXPECT_LE(snap->pos.last_seq, msgs.size());
}

// A snapshot taken while messages keep arriving (four senders at once, a snapshot every 5 records,
// each cut on the committer and encoded on the snapshot thread as the state moves on) is a
// consistent cut: restarting from it plus the log after it ends exactly where a full replay of
// the log does.
TEST(LiveSnapshot, TakenUnderLoadRestartsSameAsFullReplay) {
  const std::string ark = TempArk("snap_load");
  Metrics m;
  std::string mid;  // a snapshot written while the senders were still sending
  size_t total = 0;
  {
    auto in = OpenIngestor(ark, &m, /*snapshot_records=*/5);
    ASSERT_TRUE(in);
    std::vector<std::thread> senders;
    std::atomic<size_t> sent{0};
    for (int t = 0; t < 4; ++t) {
      senders.emplace_back([&, t] {
        for (const auto& msg : Messages("s" + std::to_string(t) + "_", t * 40, t * 40 + 40)) {
          EXPECT_EQ(Feed(*in, msg).code, "AA");
          ++sent;
        }
      });
    }
    for (int i = 0; i < 4000 && in->snapshots() < 4; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto bytes = ReadFile(ark + "/live/snapshot");
    ASSERT_TRUE(bytes.ok());
    mid = *bytes;
    for (auto& t : senders) t.join();
    total = sent;
  }
  auto snap = DecodeSnapshot(mid, "mid");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_LT(snap->pos.last_seq, total) << "the snapshot was taken before the last message";
  ASSERT_TRUE(WriteSnapshot(ark + "/live/snapshot", mid).ok());
  const std::string full = ark + "_full";
  CopyArk(ark, full);
  ASSERT_TRUE(RemoveAll(full + "/live/snapshot").ok());
  auto a = OpenIngestor(ark, &m);
  auto b = OpenIngestor(full, &m);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->restored(), snap->pos.last_seq);
  EXPECT_EQ(a->records(), total);
  EXPECT_EQ(b->records(), total);
  EXPECT_EQ(a->IndicatorsJson(), b->IndicatorsJson());
  for (const std::string& msg : {Messages("s0_", 0, 1)[0], Messages("s3_", 150, 151)[2]}) {
    EXPECT_TRUE(Feed(*a, msg).duplicate);
    EXPECT_TRUE(Feed(*b, msg).duplicate);
  }
  const std::string next = Admit("n1", Nhs(500), "M500", "W1", "20250105100000");
  const Outcome x = Feed(*a, next), y = Feed(*b, next);
  EXPECT_EQ(x.person, y.person);
  EXPECT_EQ(x.seq, y.seq);
  EXPECT_EQ(a->IndicatorsJson(), b->IndicatorsJson());
  a.reset();
  b.reset();
  EXPECT_EQ(StoreEventCount(ark), total + 1);
  EXPECT_EQ(StoreEventCount(full), total + 1);
  (void)RemoveAll(full);
}

}  // namespace
}  // namespace ark::live
