// Staged batches round-trip exactly, whatever encoding each event column gets.
#include "ingest/staging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/event.h"
#include "core/fs.h"

namespace ark {
namespace {

namespace fs = std::filesystem;

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / ("ark_staging_" + std::to_string(::getpid()) + "_" + name)).string();
}

StagedEvents MakeEvents(size_t n, size_t first) {
  StagedEvents e;
  for (size_t j = 0; j < n; ++j) {
    const size_t i = first + j;
    e.record.push_back(static_cast<uint32_t>(i * 7919 % 100003));                     // plain
    e.time.push_back(1'500'000'000 + static_cast<int64_t>(i) * 37);                    // offset
    e.end.push_back(i % 50 == 0 ? 1'600'000'000 + static_cast<int64_t>(i) : kNoTime);  // sparse
    e.code.push_back(static_cast<uint32_t>(i % 700));                                  // narrow
    e.unit.push_back(i % 9 == 0 ? 3 : 0);                                              // sparse
    e.encounter.push_back(i % 3 == 0 ? kInternedEncounter | static_cast<uint32_t>(i) : static_cast<uint32_t>(i));  // plain
    e.value.push_back(i % 4 == 0 ? static_cast<double>(i) / 8 : kNoValue);            // sparse
  }
  return e;
}

template <typename T>
void ExpectSameBits(const std::vector<T>& a, const std::vector<T>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(T)), 0) << what << " at " << i;
  }
}

TEST(Staging, EventColumnsRoundTripInEveryEncoding) {
  StagedBatch b;
  b.feed = "gp";
  b.key_fingerprint = "abc";
  b.records.resize(3);
  b.codes = {"", "snomed/1", "snomed/2"};
  b.encoding_version = "ark-pprl v1";
  b.encodings.assign(3 * 16, 0x5A);
  // Events arrive in parts (one per parsed chunk); a column's encoding spans all of them.
  b.parts.push_back(MakeEvents(1000, 0));
  b.parts.push_back(MakeEvents(1, 1000));
  b.parts.push_back(MakeEvents(2345, 1001));
  const std::string path = TempPath("roundtrip.bin");
  ASSERT_TRUE(WriteStagedBatch(b, path).ok());
  auto r = ReadStagedBatch(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  StagedEvents want = MakeEvents(3346, 0);
  ExpectSameBits(r->events.record, want.record, "record");
  ExpectSameBits(r->events.time, want.time, "time");
  ExpectSameBits(r->events.end, want.end, "end");
  ExpectSameBits(r->events.code, want.code, "code");
  ExpectSameBits(r->events.unit, want.unit, "unit");
  ExpectSameBits(r->events.encounter, want.encounter, "encounter");
  ExpectSameBits(r->events.value, want.value, "value");
  EXPECT_EQ(r->codes, b.codes);
  EXPECT_EQ(r->encodings, b.encodings);
  // Far smaller than plain columns (40 bytes an event).
  EXPECT_LT(fs::file_size(path), 3346u * 20);
  // Without events, the columns are skipped and the records and encodings still read.
  auto lean = ReadStagedBatch(path, /*with_events=*/false);
  ASSERT_TRUE(lean.ok()) << lean.status().ToString();
  EXPECT_EQ(lean->events.size(), 0u);
  EXPECT_EQ(lean->encodings, b.encodings);
  // Without encodings (building timelines), the events still read.
  auto no_enc = ReadStagedBatch(path, /*with_events=*/true, /*with_encodings=*/false);
  ASSERT_TRUE(no_enc.ok()) << no_enc.status().ToString();
  EXPECT_TRUE(no_enc->encodings.empty());
  EXPECT_EQ(no_enc->events.size(), 3346u);
  fs::remove(path);
}

TEST(Staging, WideValuesFallBackToPlainColumns) {
  StagedBatch b;
  StagedEvents e;
  for (uint32_t i = 0; i < 100; ++i) {
    e.record.push_back(i);
    e.time.push_back(i % 2 ? INT64_MAX / 2 : -INT64_MAX / 2);  // spans more than 2^32: plain
    e.end.push_back(static_cast<int64_t>(i) << 40);
    e.code.push_back(100000 + i);  // not narrow
    e.unit.push_back(i + 1);
    e.encounter.push_back(0);      // all default: sparse with no values
    e.value.push_back(i % 2 ? 1e300 : -0.0);  // never the default: plain
  }
  b.parts.push_back(e);
  const std::string path = TempPath("wide.bin");
  ASSERT_TRUE(WriteStagedBatch(b, path).ok());
  auto r = ReadStagedBatch(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameBits(r->events.time, e.time, "time");
  ExpectSameBits(r->events.end, e.end, "end");
  ExpectSameBits(r->events.code, e.code, "code");
  ExpectSameBits(r->events.encounter, e.encounter, "encounter");
  ExpectSameBits(r->events.value, e.value, "value");
  fs::remove(path);
}

// Damages the file at `path`: one bit of its middle byte flipped.
void FlipAByteInTheMiddle(const std::string& path) {
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  std::string t = *text;
  t[t.size() / 2] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(path, t).ok());
}

// A batch of 500 events at `path` with one byte in the middle flipped.
void WriteDamagedBatch(const std::string& path) {
  StagedBatch b;
  b.parts.push_back(MakeEvents(500, 0));
  ASSERT_TRUE(WriteStagedBatch(b, path).ok());
  FlipAByteInTheMiddle(path);
}

TEST(Staging, CorruptionIsCaught) {
  const std::string path = TempPath("corrupt.bin");
  ASSERT_NO_FATAL_FAILURE(WriteDamagedBatch(path));
  auto r = ReadStagedBatch(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos);
  fs::remove(path);
}

// StagedEventFile reads, chunk by chunk and in any order, exactly what ReadStagedBatch reads.
void ExpectChunksMatch(const std::string& path) {
  auto whole = ReadStagedBatch(path);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  StagedBatch header;
  auto f = StagedEventFile::Open(path, &header);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(header.records.size(), whole->records.size());
  EXPECT_EQ(header.codes, whole->codes);
  EXPECT_TRUE(header.encodings.empty());
  EXPECT_EQ(header.events.size(), 0u);
  ASSERT_EQ((*f)->num_events(), whole->events.size());
  const uint64_t chunks = (*f)->num_chunks();
  std::vector<StagedEvents> got(chunks);
  std::string scratch;
  StagedEvents reused;
  for (uint64_t c = chunks; c-- > 0;) {  // last chunk first, into one reused set of vectors
    ASSERT_TRUE((*f)->ReadChunk(c, false, &reused, &scratch).ok());
    got[c] = reused;
    StagedEvents rec;
    ASSERT_TRUE((*f)->ReadChunk(c, true, &rec, &scratch).ok());
    EXPECT_EQ(rec.record, reused.record);
    EXPECT_TRUE(rec.time.empty());
  }
  StagedEvents all;
  for (const StagedEvents& g : got) {
    all.record.insert(all.record.end(), g.record.begin(), g.record.end());
    all.time.insert(all.time.end(), g.time.begin(), g.time.end());
    all.end.insert(all.end.end(), g.end.begin(), g.end.end());
    all.code.insert(all.code.end(), g.code.begin(), g.code.end());
    all.unit.insert(all.unit.end(), g.unit.begin(), g.unit.end());
    all.encounter.insert(all.encounter.end(), g.encounter.begin(), g.encounter.end());
    all.value.insert(all.value.end(), g.value.begin(), g.value.end());
  }
  ExpectSameBits(all.record, whole->events.record, "record");
  ExpectSameBits(all.time, whole->events.time, "time");
  ExpectSameBits(all.end, whole->events.end, "end");
  ExpectSameBits(all.code, whole->events.code, "code");
  ExpectSameBits(all.unit, whole->events.unit, "unit");
  ExpectSameBits(all.encounter, whole->events.encounter, "encounter");
  ExpectSameBits(all.value, whole->events.value, "value");
  EXPECT_EQ((*f)->ReadChunk(chunks, false, &reused, &scratch).code(), StatusCode::kInvalidArgument);
}

TEST(Staging, ChunksReadLikeTheWholeBatchInEveryEncoding) {
  // Three chunks, the last one short, across every encoding (MakeEvents) ...
  StagedBatch b;
  b.records.resize(100003);
  b.codes = {"", "snomed/1"};
  b.encoding_version = "ark-pprl v1";
  b.encodings.assign(100003 * 4, 0x11);
  const size_t n = 2 * StagedEventFile::kChunkEvents + 1234;
  b.parts.push_back(MakeEvents(n / 2, 0));
  b.parts.push_back(MakeEvents(n - n / 2, n / 2));
  const std::string path = TempPath("chunks.bin");
  ASSERT_TRUE(WriteStagedBatch(b, path).ok());
  ExpectChunksMatch(path);
  // ... plain columns, and a sparse column without values.
  StagedBatch wide;
  wide.records.resize(1);
  StagedEvents e;
  for (uint32_t i = 0; i < StagedEventFile::kChunkEvents + 7; ++i) {
    e.record.push_back(0);
    e.time.push_back(i % 2 ? INT64_MAX / 2 : -INT64_MAX / 2);
    e.end.push_back(static_cast<int64_t>(i) << 40);
    e.code.push_back(100000 + i);
    e.unit.push_back(i + 1);
    e.encounter.push_back(0);
    e.value.push_back(i % 2 ? 1e300 : -0.0);
  }
  wide.parts.push_back(e);
  ASSERT_TRUE(WriteStagedBatch(wide, path).ok());
  ExpectChunksMatch(path);
  // An empty batch has no chunks.
  ASSERT_TRUE(WriteStagedBatch(StagedBatch(), path).ok());
  ExpectChunksMatch(path);
  fs::remove(path);
}

TEST(Staging, ChunkedReaderChecksTheChecksum) {
  const std::string path = TempPath("corrupt_chunks.bin");
  ASSERT_NO_FATAL_FAILURE(WriteDamagedBatch(path));
  StagedBatch header;
  auto f = StagedEventFile::Open(path, &header);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("checksum mismatch"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(path, ReadFile(path)->substr(0, 10)).ok());  // a truncated file
  EXPECT_EQ(StagedEventFile::Open(path, &header).status().code(), StatusCode::kCorruption);
  fs::remove(path);
}

// Records located without being read (what deterministic linkage does) come back a range at a
// time exactly as the whole batch holds them; a range past the end is refused.
TEST(Staging, RecordsReadARangeAtATime) {
  StagedBatch b;
  for (uint32_t i = 0; i < 70001; ++i) {
    StagedRecord r;
    r.pseudonym[0] = static_cast<uint8_t>(i);
    r.pseudonym[31] = static_cast<uint8_t>(i >> 8);
    r.nhs_status = i % 5 == 0 ? NhsStatusCode::kMissing : NhsStatusCode::kValid;
    r.birth_year = static_cast<int16_t>(1900 + i % 120);
    r.lsoa = i * 3;
    r.practice = i % 17;
    b.records.push_back(r);
  }
  b.areas = {"", "E01"};
  b.parts.push_back(MakeEvents(1000, 0));
  b.encoding_version = "ark-pprl v1";
  for (size_t i = 0; i < b.records.size(); ++i) {  // 3 bytes a record, each record's its own
    for (int k = 0; k < 3; ++k) b.encodings.push_back(static_cast<uint8_t>(i * 7 + k));
  }
  const std::string path = TempPath("records.bin");
  ASSERT_TRUE(WriteStagedBatch(b, path).ok());
  StagedBatch header;
  auto f = StagedEventFile::Open(path, &header, /*with_records=*/false);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(header.records.empty());
  EXPECT_EQ(header.areas, b.areas);
  ASSERT_EQ((*f)->num_records(), b.records.size());
  std::vector<StagedRecord> got, piece;
  for (uint64_t at = 0; at < b.records.size(); at += 65536) {
    ASSERT_TRUE((*f)->ReadRecords(at, std::min<uint64_t>(65536, b.records.size() - at), &piece).ok());
    got.insert(got.end(), piece.begin(), piece.end());
  }
  ExpectSameBits(got, b.records, "records");
  ASSERT_TRUE((*f)->ReadRecords(b.records.size(), 0, &piece).ok());
  EXPECT_TRUE(piece.empty());
  EXPECT_EQ((*f)->ReadRecords(b.records.size() - 1, 2, &piece).code(), StatusCode::kInvalidArgument);
  // The encodings too, a range at a time.
  EXPECT_EQ(header.encoding_version, "ark-pprl v1");
  ASSERT_EQ((*f)->encoding_bytes_per_record(), 3u);
  std::vector<uint8_t> encodings, bytes;
  for (uint64_t at = 0; at < b.records.size(); at += 65536) {
    ASSERT_TRUE((*f)->ReadEncodings(at, std::min<uint64_t>(65536, b.records.size() - at), &bytes).ok());
    encodings.insert(encodings.end(), bytes.begin(), bytes.end());
  }
  EXPECT_EQ(encodings, b.encodings);
  EXPECT_EQ((*f)->ReadEncodings(b.records.size() - 1, 2, &bytes).code(), StatusCode::kInvalidArgument);
  // Opened with its records, the same batch says the same.
  auto whole = StagedEventFile::Open(path, &header);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ((*whole)->num_records(), b.records.size());
  ExpectSameBits(header.records, b.records, "records read whole");
  fs::remove(path);
}

// What `ark ingest` writes from spilled events is byte for byte what the in-memory writer
// writes for the same events: the format does not depend on how the events were held. The
// events span several read pieces (1 MiB) of each spilled column.
TEST(Staging, SpilledEventsWriteTheSameFile) {
  for (size_t total : {size_t{0}, size_t{1}, size_t{300001}}) {
    StagedBatch b;
    b.feed = "acute";
    b.key_fingerprint = "abc";
    b.records.resize(5);
    b.codes = {"", "icd10/A01"};
    b.encoding_version = "ark-pprl v1";
    b.encodings.assign(5 * 16, 0x33);
    const std::string dir = TempPath("spill_" + std::to_string(total));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto spill = EventSpill::Create(dir);
    ASSERT_TRUE(spill.ok()) << spill.status().ToString();
    StagedBatch mem = b;
    for (size_t first = 0; first < total;) {
      const size_t n = std::min<size_t>(total - first, 70000 + first % 13);
      StagedEvents part = MakeEvents(n, first);
      ASSERT_TRUE((*spill)->Append(part).ok());
      mem.parts.push_back(std::move(part));
      first += n;
    }
    EXPECT_EQ((*spill)->size(), total);
    // The encodings too, in two appends, when there are events (else they stay in the batch).
    StagedBatch spilled = b;
    if (total > 0) {
      ASSERT_TRUE((*spill)->AppendEncodings({b.encodings.begin(), b.encodings.begin() + 7}).ok());
      ASSERT_TRUE((*spill)->AppendEncodings({b.encodings.begin() + 7, b.encodings.end()}).ok());
      EXPECT_EQ((*spill)->encodings_size(), b.encodings.size());
      spilled.encodings.clear();
    }
    const std::string a = dir + "/mem.bin", c = dir + "/spilled.bin";
    ASSERT_TRUE(WriteStagedBatch(mem, a).ok());
    Status w = WriteStagedBatch(spilled, spill->get(), c);
    ASSERT_TRUE(w.ok()) << w.ToString();
    auto want = ReadFile(a), got = ReadFile(c);
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_TRUE(*want == *got) << total << " events";
    auto r = ReadStagedBatch(c);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->events.size(), total);
    EXPECT_EQ(r->encodings, b.encodings);
    // A batch that holds events of its own is refused: they would be lost.
    StagedBatch both = spilled;
    both.parts.push_back(MakeEvents(1, 0));
    EXPECT_FALSE(WriteStagedBatch(both, spill->get(), dir + "/both.bin").ok());
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace ark
