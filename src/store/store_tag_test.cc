// Store::Append's tag and Store::max_tag(): persisted with the events, counted only when all of
// the append's events are durable, carried across compaction.
#include <gtest/gtest.h>

#include "core/fs.h"
#include "store/manifest.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "store/timeline_writer.h"
#include "store/wal.h"

namespace ark::store {
namespace {

std::vector<AppendEvent> Events(PersonKey person, int n) {
  std::vector<AppendEvent> out;
  for (int i = 0; i < n; ++i) {
    AppendEvent e;
    e.person = person;
    e.time = 1700000000 + i * 60;
    e.code = "HL7/ADT_A01";
    e.source = "live";
    out.push_back(e);
  }
  return out;
}

TEST(StoreTag, MaxTagSurvivesReopenAndCompaction) {
  const std::string dir = testing::TempDir("tag");
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->max_tag(), 0u);
    ASSERT_TRUE((*s)->Append(Events(1, 3), 5).ok());
    ASSERT_TRUE((*s)->Append(Events(2, 2), 9).ok());
    ASSERT_TRUE((*s)->Append(Events(3, 1)).ok());  // untagged: no change
    EXPECT_EQ((*s)->max_tag(), 9u);
  }
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->max_tag(), 9u);
    EXPECT_EQ((*s)->num_events(), 6u);
    ASSERT_TRUE((*s)->Compact().ok());  // retires the WAL files that held the tag
    EXPECT_EQ((*s)->max_tag(), 9u);
    EXPECT_TRUE((*s)->Verify().ok());
  }
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->max_tag(), 9u) << "the tag was lost by compaction";
    EXPECT_EQ((*s)->num_events(), 6u);
    ASSERT_TRUE((*s)->Append(Events(4, 1), 12).ok());
    ASSERT_TRUE((*s)->Compact().ok());
    ASSERT_TRUE((*s)->Compact().ok());  // empty delta: no-op
  }
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->max_tag(), 12u);
  (void)RemoveAll(dir);
}

// `ark build` rebuilds the store through TimelineWriter::TakeAppended: the WAL files it reads hold
// tag records (it refused them as an unknown type before), and the tag must survive the rebuild,
// or a restarted `ark serve` would re-append records the store already holds.
TEST(StoreTag, RebuildReadsTagsAndKeepsTheLargest) {
  const std::string dir = testing::TempDir("tag_rebuild");
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(Events(0, 2), 5).ok());
    ASSERT_TRUE((*s)->Compact().ok());  // folded file (tag 5) to appended/, tag carried
    ASSERT_TRUE((*s)->Append(Events(1, 1), 8).ok());
  }
  auto w = TimelineWriter::Create(dir);
  ASSERT_TRUE(w.ok());
  size_t taken = 0;
  ASSERT_TRUE((*w)->TakeAppended([&](const AppendEvent&) {
    ++taken;
    return Status::OK();
  }).ok());
  EXPECT_EQ(taken, 3u);
  Dictionaries d;
  ASSERT_TRUE((*w)->Finish(d).ok());
  w->reset();
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->max_tag(), 8u) << "the rebuild lost the appenders' tag";
  EXPECT_EQ((*s)->num_events(), 0u);  // the caller adds appended events as persons; none here
  EXPECT_TRUE((*s)->Verify().ok());
  (void)RemoveAll(dir);
}

// A crash tore the write after the tag record: the tag must not count (its events are missing).
TEST(StoreTag, TagWithoutItsEventsDoesNotCount) {
  const std::string dir = testing::TempDir("tag_torn");
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append(Events(1, 2), 5).ok());
  }
  const auto wals = ListStore(dir).wals;
  ASSERT_FALSE(wals.empty());
  const std::string path = dir + "/" + WalFileName(wals.back());
  // What Append(events, 7) writes, cut inside its event record.
  std::string rec;
  AppendWalRecord(&rec, kWalTag, EncodeWalTag(7, 1));
  std::string batch;
  const auto ev = Events(2, 2);
  EncodeAppendBatch(ev, &batch);
  std::string events;
  AppendWalRecord(&events, kWalAppend, batch);
  rec += events.substr(0, events.size() - 3);
  {
    auto f = AppendFile::Open(path, /*truncate=*/false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Append(rec).ok());
    ASSERT_TRUE(f->Sync().ok());
  }
  {
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->max_tag(), 5u);
    EXPECT_EQ((*s)->num_events(), 2u);
  }
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store
