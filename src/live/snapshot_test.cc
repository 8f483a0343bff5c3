// The live snapshot's codecs: LiveState::Encode/Decode (state_codec.cc) and the snapshot file
// (snapshot.h).
#include "live/snapshot.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <map>

#include "core/fs.h"
#include "hl7/hl7.h"
#include "store/coding.h"

namespace ark::live {
namespace {

using K = LiveRecord::Kind;

Seconds T(const char* ts) { return *hl7::ParseTimestamp(ts); }
RuleSet Default() { return *ParseRules(DefaultRulesYaml(), "default"); }

PseudoRecord Rec(uint64_t seq, K kind, PersonKey person, const char* when) {
  PseudoRecord r;
  r.seq = seq;
  r.kind = kind;
  r.person = person;
  r.event_time = T(when);
  r.message_type = "ADT^A01";
  r.site = "RXX01";
  r.ward = "WARD" + std::to_string(person % 3);
  r.bed = "B" + std::to_string(person);
  r.patient_class = "I";
  return r;
}

PseudoRecord Lab(uint64_t seq, PersonKey person, const char* when,
                 std::vector<std::pair<std::string, double>> obs) {
  PseudoRecord r = Rec(seq, K::kResult, person, when);
  r.message_type = "ORU^R01";
  for (auto& [code, v] : obs) r.observations.push_back({"LN", code, "umol/L", "", v, T(when)});
  return r;
}

// Every kind of per-person and global state: beds, A&E, readmissions, creatinine, NEWS2, merge.
std::vector<PseudoRecord> History() {
  std::vector<PseudoRecord> h;
  uint64_t seq = 0;
  for (PersonKey p = 1; p <= 6; ++p) {
    auto a = Rec(++seq, K::kAdmit, p, "20250101100000");
    a.admission_type = "EM";
    h.push_back(a);
  }
  h.push_back(Rec(++seq, K::kDischarge, 2, "20250103100000"));
  auto ae = Rec(++seq, K::kRegister, 9, "20250104080000");
  ae.patient_class = "E";
  h.push_back(ae);
  auto ae2 = Rec(++seq, K::kRegister, 10, "20250104081000");
  ae2.patient_class = "E";
  h.push_back(ae2);
  h.push_back(Lab(++seq, 3, "20250104090000", {{"14682-9", 80}}));  // creatinine baseline
  h.push_back(Lab(++seq, 4, "20250104090000",
                  {{"9279-1", 26}, {"59408-5", 90}, {"8480-6", 95}, {"8867-4", 125}}));
  auto m = Rec(++seq, K::kMerge, 5, "20250104100000");
  m.merged_person = 6;
  h.push_back(m);
  return h;
}

TEST(LiveStateCodec, RoundTripKeepsIndicatorsAndPerPersonState) {
  LiveState a(Default());
  for (const auto& r : History()) a.Apply(r);
  std::string bytes;
  a.Encode(&bytes);
  LiveState b(Default());
  ASSERT_TRUE(b.Decode(bytes).ok());
  EXPECT_EQ(a.IndicatorsJson(), b.IndicatorsJson());
  EXPECT_EQ(a.persons(), b.persons());
  // The per-person state came across too: the same later records give the same alerts.
  std::vector<PseudoRecord> later;
  later.push_back(Lab(100, 3, "20250105090000", {{"14682-9", 250}}));  // AKI stage 3 vs baseline
  auto re = Rec(101, K::kAdmit, 2, "20250110100000");                 // readmission of 2
  re.admission_type = "EM";
  later.push_back(re);
  later.push_back(Rec(102, K::kDischarge, 1, "20250110110000"));  // frees a bed
  auto d = Rec(103, K::kDischarge, 9, "20250104150000");          // A&E breach
  d.patient_class = "E";
  later.push_back(d);
  for (const auto& r : later) {
    auto x = a.Apply(r);
    auto y = b.Apply(r);
    ASSERT_EQ(x.size(), y.size()) << "record " << r.seq;
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(AlertJson(x[i]), AlertJson(y[i]));
  }
  EXPECT_EQ(a.IndicatorsJson(), b.IndicatorsJson());
  // Re-encoding the decoded state gives the same indicators again.
  std::string again;
  b.Encode(&again);
  LiveState c(Default());
  ASSERT_TRUE(c.Decode(again).ok());
  EXPECT_EQ(b.IndicatorsJson(), c.IndicatorsJson());
}

TEST(LiveStateCodec, DecodeRefusesDamagedBytesAndKeepsTheState) {
  LiveState a(Default());
  for (const auto& r : History()) a.Apply(r);
  std::string bytes;
  a.Encode(&bytes);
  LiveState b(Default());
  b.Apply(Rec(1, K::kAdmit, 42, "20250101100000"));
  const std::string before = b.IndicatorsJson();
  for (size_t cut : {size_t{0}, size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    Status s = b.Decode(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << "cut at " << cut;
    EXPECT_EQ(b.IndicatorsJson(), before);
  }
  EXPECT_EQ(b.Decode(bytes + "x").code(), StatusCode::kCorruption);
}

struct Parts {
  SnapshotCut cut;
  LiveState state{Default()};
};

Parts SampleParts() {
  Parts p;
  p.cut.pos = {12, 10, "00000002.wal", 4096};
  p.cut.next_key = 77;
  p.cut.keys.Set(std::string(64, 'a'), 3);  // raw form
  p.cut.keys.Set("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 4);
  p.cut.keys.Set("ABCDEF", 5);  // not a lowercase 64-hex pseudonym: kept as text
  p.cut.window = {1, 2, 0xffffffffffffffffull};
  p.cut.catalog_backlog = {{std::string(64, 'b'), 9}};
  p.cut.alerts = {"{\"id\":65}", "{\"id\":130}"};
  for (const auto& r : History()) p.state.Apply(r);
  return p;
}

std::map<std::string, PersonKey> Entries(const KeyTable& t) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::map<std::string, PersonKey> out;
  t.ForEach(
      [&](const char* raw, PersonKey v) {
        std::string hex;
        for (size_t i = 0; i < KeyTable::kRawBytes; ++i) {
          hex.push_back(kDigits[static_cast<uint8_t>(raw[i]) >> 4]);
          hex.push_back(kDigits[static_cast<uint8_t>(raw[i]) & 15]);
        }
        out[hex] = v;
      },
      [&](const std::string& k, PersonKey v) { out[k] = v; });
  return out;
}

void ExpectSameAsSample(const LiveSnapshot& s, const Parts& p) {
  EXPECT_EQ(s.pos.last_seq, 12u);
  EXPECT_EQ(s.pos.applied, 10u);
  EXPECT_EQ(s.pos.log_file, "00000002.wal");
  EXPECT_EQ(s.pos.replay_offset, 4096u);
  EXPECT_EQ(s.next_key, 77u);
  EXPECT_EQ(Entries(s.keys), Entries(p.cut.keys));
  EXPECT_EQ(s.keys.size(), 3u);
  EXPECT_EQ(s.window, p.cut.window);
  EXPECT_EQ(s.catalog_backlog, p.cut.catalog_backlog);
  EXPECT_EQ(s.alerts, p.cut.alerts);
  LiveState st(Default());
  ASSERT_TRUE(st.Decode(s.state).ok());
  EXPECT_EQ(st.IndicatorsJson(), p.state.IndicatorsJson());
}

TEST(LiveSnapshotFile, RoundTrip) {
  const Parts p = SampleParts();
  const std::string bytes = EncodeSnapshot(p.cut, p.state);
  EXPECT_EQ(store::LoadU32(bytes.data() + 8), kSnapshotFormatVersion);
  auto s = DecodeSnapshot(bytes, "snap");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSameAsSample(*s, p);
}

// The header and body around `body` (a snapshot body of format `version`).
std::string Framed(uint32_t version, const std::string& body) {
  std::string out("ARKLSNP1", 8);
  store::PutU32(&out, version);
  store::PutU64(&out, body.size());
  store::PutU64(&out, XXH3_64bits(body.data(), body.size()));
  return out + body;
}

// A snapshot written by the previous release (format 1: one PutKey entry per pseudonym) is read.
TEST(LiveSnapshotFile, ReadsFormatOne) {
  const Parts p = SampleParts();
  std::string body;
  for (uint64_t v : {uint64_t{12}, uint64_t{10}}) store::PutVarint(&body, v);
  store::PutString(&body, "00000002.wal");
  store::PutVarint(&body, 4096);
  store::PutVarint(&body, 77);
  store::PutVarint(&body, 3);
  store::PutU8(&body, 0);
  body.append(32, static_cast<char>(0xaa));
  store::PutVarint(&body, 3);
  store::PutU8(&body, 0);
  for (int i = 0; i < 4; ++i) body += "\x01\x23\x45\x67\x89\xab\xcd\xef";
  store::PutVarint(&body, 4);
  store::PutU8(&body, 1);
  store::PutString(&body, "ABCDEF");
  store::PutVarint(&body, 5);
  store::PutVarint(&body, 3);
  for (uint64_t h : p.cut.window) store::PutU64(&body, h);
  store::PutVarint(&body, 1);
  store::PutU8(&body, 0);
  body.append(32, static_cast<char>(0xbb));
  store::PutVarint(&body, 9);
  store::PutVarint(&body, 2);
  for (const std::string& a : p.cut.alerts) store::PutString(&body, a);
  std::string state;
  p.state.Encode(&state);
  store::PutString(&body, state);
  auto s = DecodeSnapshot(Framed(1, body), "old");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectSameAsSample(*s, p);
}

// Bytes that pass the checksum but break the key map (a key of kNoPerson, a count past the end)
// are refused by name, not loaded.
TEST(LiveSnapshotFile, MalformedKeyMapIsCorruption) {
  const Parts p = SampleParts();
  const std::string bytes = EncodeSnapshot(p.cut, p.state);
  std::string body = bytes.substr(28);
  // Body: 12, 10, "00000002.wal" (1 + 12), 4096 (2 bytes), 77, then the raw-entry count.
  const size_t run = 1 + 1 + 13 + 2 + 1;
  ASSERT_EQ(body[run], 2) << "two raw entries";
  std::string no_person = body;
  store::StoreU32(no_person.data() + run + 1 + 32, kNoPerson);
  auto s = DecodeSnapshot(Framed(kSnapshotFormatVersion, no_person), "ARK/live/snapshot");
  ASSERT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("ARK/live/snapshot: bad person-key map"),
            std::string::npos)
      << s.status().message();
  std::string too_many = body;
  too_many[run] = 0x7f;
  EXPECT_EQ(DecodeSnapshot(Framed(kSnapshotFormatVersion, too_many), "f").status().code(),
            StatusCode::kCorruption);
}

TEST(LiveSnapshotFile, DamageIsCorruptionNamingTheFile) {
  const Parts p = SampleParts();
  const std::string bytes = EncodeSnapshot(p.cut, p.state);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  auto s = DecodeSnapshot(flipped, "ARK/live/snapshot");
  ASSERT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("ARK/live/snapshot: checksum mismatch"), std::string::npos)
      << s.status().message();
  EXPECT_NE(DecodeSnapshot(bytes.substr(0, bytes.size() - 5), "f").status().message().find(
                "size mismatch"),
            std::string::npos);
  EXPECT_NE(DecodeSnapshot("ARKWAL01xxxxxxxxxxxxxxxxxxxxxx", "f").status().message().find(
                "bad magic"),
            std::string::npos);
  std::string version = bytes;
  version[8] = 9;
  EXPECT_NE(DecodeSnapshot(version, "f").status().message().find("version 9"), std::string::npos);
}

TEST(LiveSnapshotFile, WrittenWithMode0600) {
  const std::string path = ::testing::TempDir() + "ark_snapshot_mode_" + std::to_string(getpid());
  ASSERT_TRUE(WriteSnapshot(path, EncodeSnapshot(SampleParts().cut, SampleParts().state)).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(ReadSnapshot(path).ok());
  EXPECT_EQ(ReadSnapshot(path + ".none").status().code(), StatusCode::kNotFound);
  (void)RemoveAll(path);
}

}  // namespace
}  // namespace ark::live
