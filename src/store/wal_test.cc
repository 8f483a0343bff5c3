#include "store/wal.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace ark::store {
namespace {

std::vector<AppendEvent> Batch(int n, int seed) {
  std::vector<AppendEvent> v;
  for (int i = 0; i < n; ++i) {
    AppendEvent e;
    e.person = static_cast<PersonKey>(seed * 100 + i);
    e.time = 1600000000 + i;
    e.code = "SNOMED/" + std::to_string(seed + i);
    if (i % 2) e.value = 1.5 * i;
    if (i % 3) e.unit = "mg";
    if (i % 4) e.source = "hl7";
    if (i % 5) e.end = e.time + 60;
    e.encounter = static_cast<uint32_t>(i);
    v.push_back(e);
  }
  return v;
}

// Writes `batches` records and returns the file's bytes.
std::string WriteWal(const std::string& path, int batches) {
  auto w = WalWriter::Create(path);
  EXPECT_TRUE(w.ok());
  for (int b = 0; b < batches; ++b) {
    std::string payload, rec;
    EncodeAppendBatch(Batch(5, b), &payload);
    AppendWalRecord(&rec, kWalAppend, payload);
    EXPECT_TRUE((*w)->WriteAndSync(rec).ok());
  }
  return *ReadFile(path);
}

int CountRecords(const std::string& path, WalReadResult* res) {
  int n = 0;
  auto r = ReadWal(path, [&](uint8_t type, std::string_view payload) {
    std::vector<AppendEvent> events;
    EXPECT_EQ(type, kWalAppend);
    EXPECT_TRUE(DecodeAppendBatch(payload, &events).ok());
    EXPECT_EQ(events.size(), 5u);
    ++n;
    return Status::OK();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *res = *r;
  return n;
}

TEST(Wal, RoundTripBatch) {
  std::string payload;
  const auto in = Batch(7, 3);
  EncodeAppendBatch(in, &payload);
  std::vector<AppendEvent> out;
  ASSERT_TRUE(DecodeAppendBatch(payload, &out).ok());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].person, in[i].person);
    EXPECT_EQ(out[i].time, in[i].time);
    EXPECT_EQ(out[i].end, in[i].end);
    EXPECT_EQ(out[i].code, in[i].code);
    EXPECT_EQ(out[i].unit, in[i].unit);
    EXPECT_EQ(out[i].source, in[i].source);
    EXPECT_EQ(out[i].encounter, in[i].encounter);
    EXPECT_EQ(std::isnan(out[i].value), std::isnan(in[i].value));
  }
}

TEST(Wal, TornTailIsIgnored) {
  const std::string dir = testing::TempDir("wal_torn");
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string path = dir + "/wal-000001.log";
  const std::string full = WriteWal(path, 4);
  WalReadResult res;
  EXPECT_EQ(CountRecords(path, &res), 4);
  EXPECT_FALSE(res.torn_tail);
  // Cut the file at every length inside the last record: 3 records survive, no corruption.
  const size_t last = full.size();
  for (size_t cut = 1; cut < 40; ++cut) {
    ASSERT_TRUE(WriteFileAtomic(path, full.substr(0, last - cut)).ok());
    EXPECT_EQ(CountRecords(path, &res), 3);
    EXPECT_TRUE(res.torn_tail);
    EXPECT_FALSE(res.corrupt);
  }
  // A tail of zeros (a crash after the file grew but before data reached the disk) is torn too.
  ASSERT_TRUE(WriteFileAtomic(path, full + std::string(100, '\0')).ok());
  EXPECT_EQ(CountRecords(path, &res), 4);
  EXPECT_TRUE(res.torn_tail);
  (void)RemoveAll(dir);
}

TEST(Wal, CorruptionInTheMiddleIsReported) {
  const std::string dir = testing::TempDir("wal_corrupt");
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string path = dir + "/wal-000001.log";
  std::string bytes = WriteWal(path, 4);
  bytes[60] ^= 0x10;  // inside the first append record
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  WalReadResult res;
  EXPECT_EQ(CountRecords(path, &res), 0);
  EXPECT_TRUE(res.corrupt);
  EXPECT_NE(res.problem.find("checksum"), std::string::npos);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store
