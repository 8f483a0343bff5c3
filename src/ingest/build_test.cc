// `ark build` keeps every acknowledged append: appended events (Store::Append: `ark append`,
// `ark serve`) survive build, compact, re-link and kill -9 at any point, under the person key
// they have now; and everything created under an Ark is owner-only whatever the umask.
#include "ingest/build.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/ledger.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"
#include "link/link.h"
#include "live/ingestor.h"
#include "store/store.h"

namespace ark {
namespace {

namespace fs = std::filesystem;

constexpr Seconds kDay = 86400;
constexpr Seconds kJune2025 = 20240 * kDay;  // 2025-06-01

// A GP extract of four records: P1 and P2 are the same person (P2 without an NHS number: its
// own key after a deterministic link, P1's after a PPRL link).
class BuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/ark_build_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ + "/raw");
    const std::string hdr =
        "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
        "registered_from,registered_to\n";
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/patients.csv",
                                hdr +
                                    "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
                                    "P2,,Alice,Browne,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2016-05-01,\n"
                                    "P3,9434765870,Carol,White,1988-02-10,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
                                    "P4,9990000018,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,,B86002,2018-01-01,\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/events.csv",
                                "patient_id,event_date,snomed_code,value,unit\nP1,2020-01-02,44054006,,\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/optouts.csv", "nhs_number\n").ok());
    auto k = ProgrammeKey::Generate();
    ASSERT_TRUE(k.ok());
    auto spec = BuiltinFeedSpec("gp");
    ASSERT_TRUE(spec.ok());
    ASSERT_TRUE(Pseudonymise(*spec, *k, root_ + "/raw", root_ + "/out/gp").ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string ark() const { return root_ + "/ark"; }

  // init + ingest + deterministic link + build.
  void MakeBuiltArk() {
    auto cat = Catalog::Create(ark());
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    auto in = Ingest(**cat, {root_ + "/out/gp"}, IngestOptions{});
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    ASSERT_TRUE(LinkDeterministic(**cat, "").ok());
    Build();
  }
  void Build() {
    auto cat = Catalog::Open(ark());
    ASSERT_TRUE(cat.ok());
    auto r = BuildTimelines(**cat, 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void AppendAck(PersonKey person, const std::string& code = "TEST/ACK1") {
    auto s = Store::Open(ark() + "/store");
    ASSERT_TRUE(s.ok());
    AppendEvent e;
    e.person = person;
    e.time = kJune2025;
    e.code = code;
    ASSERT_TRUE((*s)->Append(std::span<const AppendEvent>(&e, 1)).ok());
  }
  void Compact() {
    auto s = Store::Open(ark() + "/store");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Compact().ok());
  }
  std::vector<uint32_t> RecordKeys() {
    auto cat = Catalog::Open(ark());
    auto b = (*cat)->Batches();
    auto keys = ReadPersonKeys(ark(), (*b)[0].id, 4);
    EXPECT_TRUE(keys.ok());
    return keys.ok() ? *keys : std::vector<uint32_t>();
  }

  std::string root_;
};

// The persons holding events with `code`, one entry per event (so duplicates show).
std::vector<PersonKey> Holders(const std::string& store_dir, const std::string& code) {
  std::vector<PersonKey> out;
  auto s = Store::Open(store_dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return out;
  auto d = (*s)->dicts();
  Status st = (*s)->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    for (const Event& e : ev) {
      if (d->codes[e.code] == code) out.push_back(p.key);
    }
    return Status::OK();
  });
  EXPECT_TRUE(st.ok());
  return out;
}

// Every file of the current version but its MANIFEST (which names the version), by content.
std::vector<std::string> VersionSegments(const std::string& store_dir) {
  std::vector<std::string> out;
  std::vector<std::string> names;
  auto cur = ReadFile(store_dir + "/CURRENT");
  EXPECT_TRUE(cur.ok());
  if (!cur.ok()) return out;
  std::string v = *cur;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  const std::string dir = store_dir + "/" + v;
  if (!fs::is_directory(dir)) {
    ADD_FAILURE() << "no version directory " << dir;
    return out;
  }
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (n == "MANIFEST") continue;
    auto data = ReadFile(dir + "/" + n);
    out.push_back(data.ok() ? *data : "");
  }
  return out;
}

// Persons and events as the store reads them, as text.
std::string Dump(const std::string& store_dir) {
  std::string out;
  auto s = Store::Open(store_dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return out;
  Status st = (*s)->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    out += "person " + std::to_string(p.key) + " " + std::string(1, p.sex) + " " + std::to_string(p.birth_year) + " " +
           std::to_string(p.lsoa) + " " + std::to_string(p.practice) + " " + std::to_string(p.death_day) + " " +
           std::to_string(p.flags) + "\n";
    for (const Event& e : ev) {
      out += "  " + std::to_string(e.time) + " " + std::to_string(e.code) + " " + std::to_string(e.source) + " " +
             std::to_string(e.encounter) + "\n";
    }
    return Status::OK();
  });
  EXPECT_TRUE(st.ok());
  return out;
}

// Shards (person ranges gathered and encoded one at a time) and threads change nothing: the same
// segment files, byte for byte, whether one shard holds everything or each block is a shard, on
// one thread or three; appended events keep their place among equal times.
TEST_F(BuildTest, ShardsAndThreadsGiveTheSameVersion) {
  MakeBuiltArk();
  // Appends at equal and unequal times, to record persons and to a person known only from them.
  for (PersonKey k : {0u, 1u, 2u, 3u, 0u, 2u, 7u}) AppendAck(k, "TEST/A" + std::to_string(k));
  {
    auto s = Store::Open(ark() + "/store");
    ASSERT_TRUE(s.ok());
    std::vector<AppendEvent> more;
    for (int i = 0; i < 40; ++i) {
      AppendEvent e;
      e.person = static_cast<PersonKey>(i % 5);
      e.time = kJune2025 - (i % 7) * kDay;
      e.code = "TEST/M" + std::to_string(i % 3);
      e.source = i % 2 ? "app" : "";
      more.push_back(e);
    }
    ASSERT_TRUE((*s)->Append(more).ok());
  }
  auto build = [&](int threads, uint64_t shard_events) {
    auto cat = Catalog::Open(ark());
    ASSERT_TRUE(cat.ok());
    BuildOptions o;
    o.threads = threads;
    o.shard_events = shard_events;
    o.writer.block_events = 3;  // many blocks and segments from a few events
    o.writer.segment_events = 7;
    auto r = BuildTimelines(**cat, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->persons, 8u);
    EXPECT_GE(r->events, 47u);
  };
  build(1, uint64_t{1} << 40);
  const auto one = VersionSegments(ark() + "/store");
  const std::string dump = Dump(ark() + "/store");
  ASSERT_GT(one.size(), 2u);
  EXPECT_NE(dump.find("person 7"), std::string::npos);
  for (int threads : {1, 2, 3}) {
    build(threads, 1);
    EXPECT_TRUE(VersionSegments(ark() + "/store") == one) << threads << " threads, one block per shard";
    EXPECT_EQ(Dump(ark() + "/store"), dump);
  }
  build(2, 5);
  EXPECT_TRUE(VersionSegments(ark() + "/store") == one) << "two threads, shards of a few blocks";
  // Every appended event is still there once.
  EXPECT_EQ(Holders(ark() + "/store", "TEST/A0").size(), 2u);
  EXPECT_EQ(Holders(ark() + "/store", "TEST/A7"), std::vector<PersonKey>{7});
}

TEST_F(BuildTest, AppendCompactBuildKeepsTheEvent) {
  MakeBuiltArk();
  const uint64_t before = (*Store::Open(ark() + "/store"))->num_events();
  AppendAck(1);
  Compact();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{1});
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{1});
  Build();  // twice: still there, still once
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{1});
  EXPECT_EQ((*Store::Open(ark() + "/store"))->num_events(), before + 1);
  // The fast path (what `ark scan` runs) finds it.
  auto s = Store::Open(ark() + "/store");
  const auto d = (*s)->dicts();
  CodeId id = 0;
  for (CodeId c = 0; c < d->codes.size(); ++c) {
    if (d->codes[c] == "TEST/ACK1") id = c;
  }
  ASSERT_NE(id, 0u);
  auto n = (*s)->CountPersonsWithAnyCode({id}, kJune2025 - kDay, kJune2025 + kDay, 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
}

TEST_F(BuildTest, AppendBuildWithoutCompactKeepsTheEvent) {
  MakeBuiltArk();
  AppendAck(2);
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{2});
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{2});
  // Appends after a build, then compaction and another build.
  AppendAck(2, "TEST/ACK2");
  Compact();
  AppendAck(3, "TEST/ACK3");
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{2});
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK2"), std::vector<PersonKey>{2});
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK3"), std::vector<PersonKey>{3});
  auto s = Store::Open(ark() + "/store");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->Verify().ok());
}

// A person known only from appends keeps its key, and linkage never gives that key to another.
TEST_F(BuildTest, AppendedOnlyPersonSurvivesAndReservesItsKey) {
  MakeBuiltArk();
  AppendAck(40);
  Compact();
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{40});
  auto cat = Catalog::Open(ark());
  auto next = (*cat)->NextPerson();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 41u);
}

// Re-linking with PPRL merges P2 (own key after the deterministic link) into P1: the event
// appended under P2's old key follows it to P1's key at the next build.
TEST_F(BuildTest, AppendedEventFollowsItsPersonAfterRelink) {
  MakeBuiltArk();
  const auto det = RecordKeys();
  ASSERT_EQ(det.size(), 4u);
  ASSERT_NE(det[0], det[1]);
  AppendAck(det[1]);
  Compact();
  {
    auto cat = Catalog::Open(ark());
    auto l = LinkPprl(**cat, "");
    ASSERT_TRUE(l.ok()) << l.status().ToString();
  }
  const auto pprl = RecordKeys();
  ASSERT_EQ(pprl[1], pprl[0]) << "PPRL did not merge the twin records (test premise)";
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{pprl[0]});
  // Link then build again (keys stable now): unchanged.
  {
    auto cat = Catalog::Open(ark());
    ASSERT_TRUE(LinkPprl(**cat, "").ok());
  }
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{pprl[0]});
}

// A live HL7 admission acknowledged by the server (AA) is in the store after a rebuild, under the
// key the server gave the new patient, and that key stays reserved.
TEST_F(BuildTest, LiveEventSurvivesBuild) {
  MakeBuiltArk();
  live::LiveRecord r;
  r.kind = live::LiveRecord::Kind::kAdmit;
  r.message_type = "ADT^A01";
  r.control_id = "MSG1";
  r.sending_facility = "RXX";
  r.patient.mrn = "M12345";
  r.admit_time = kJune2025;
  PersonKey key = live::kNoPerson;
  {
    live::Metrics metrics;
    live::IngestOptions io;
    io.ark_dir = ark();
    auto k = ProgrammeKey::Generate();
    ASSERT_TRUE(k.ok());
    io.key = *k;
    io.compact_interval_s = 0;
    auto in = live::Ingestor::Open(io, &metrics);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    std::promise<live::Outcome> done;
    (*in)->Submit(r, 0, [&](const live::Outcome& o) { done.set_value(o); });
    const live::Outcome o = done.get_future().get();
    ASSERT_EQ(o.code, "AA");
    key = o.person;
    ASSERT_TRUE((*in)->FlushStore().ok());
  }
  ASSERT_NE(key, live::kNoPerson);
  EXPECT_EQ(Holders(ark() + "/store", "HL7/ADT_A01"), std::vector<PersonKey>{key});
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "HL7/ADT_A01"), std::vector<PersonKey>{key});
  Compact();
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "HL7/ADT_A01"), std::vector<PersonKey>{key});
  auto cat = Catalog::Open(ark());
  EXPECT_GT(*(*cat)->NextPerson(), key);
}

TEST_F(BuildTest, CorruptNextPersonIsCorruptionNamingTheField) {
  MakeBuiltArk();
  auto cat = Catalog::Open(ark());
  ASSERT_TRUE((*cat)->SetMeta("next_person", "12x").ok());
  auto r = BuildTimelines(**cat, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("catalog.db"), std::string::npos);
  EXPECT_NE(r.status().message().find("next_person"), std::string::npos);
  auto l = LinkDeterministic(**cat, "");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kCorruption);
}

// kill -9 of compactions, builds and links at many moments: the acknowledged event is there
// exactly once after every crash (store reopened), and after a final build.
TEST_F(BuildTest, KilledCompactionsBuildsAndLinksKeepTheEvent) {
  MakeBuiltArk();
  AppendAck(1);
  for (int round = 0; round < 12; ++round) {
    if (round % 3 == 1) AppendAck(2, "TEST/MORE");  // something for compaction to fold
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (;;) {
        {
          auto s = Store::Open(ark() + "/store");
          if (s.ok()) (void)(*s)->Compact();
        }
        auto cat = Catalog::Open(ark());
        if (!cat.ok()) continue;
        (void)BuildTimelines(**cat, 1);
        (void)LinkDeterministic(**cat, "");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + round * 7));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{1}) << "round " << round;
  }
  Build();
  EXPECT_EQ(Holders(ark() + "/store", "TEST/ACK1"), std::vector<PersonKey>{1});
  EXPECT_EQ(Holders(ark() + "/store", "TEST/MORE").size(), 4u);
  auto s = Store::Open(ark() + "/store");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->Verify().ok());
  // No temporary of the killed writers is left.
  for (const auto& e : fs::recursive_directory_iterator(ark() + "/store")) {
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
}

// umask 000: every file the pipeline creates under the Ark is 0600, every directory 0700.
TEST_F(BuildTest, ArkFilesAreOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  MakeBuiltArk();
  AppendAck(1);
  Compact();
  AppendAck(2);
  {
    auto ledger = gov::Ledger::Open(ark());
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ASSERT_TRUE((*ledger)->Append(gov::Json{{"type", "test"}}).ok());
  }
  ::umask(old);
  int checked = 0;
  auto check = [&](const fs::path& p) {
    struct stat st;
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 07777, 0700u) << p;
    } else if (S_ISREG(st.st_mode)) {
      EXPECT_EQ(st.st_mode & 07777, 0600u) << p;
    }
    ++checked;
  };
  check(ark());
  for (const auto& e : fs::recursive_directory_iterator(ark())) check(e.path());
  EXPECT_GT(checked, 15);
  EXPECT_TRUE(fs::exists(ark() + "/catalog.db"));
  EXPECT_TRUE(fs::exists(ark() + "/store/appended"));
}

}  // namespace
}  // namespace ark
