// Probabilistic linkage and PPRL encodings: string comparators, encodings, the model on FEBRL.
#include <gtest/gtest.h>

#include <set>

#include <cmath>
#include <filesystem>
#include <random>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "ingest/feed_spec.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"
#include "link/link.h"
#include "link/link_records.h"
#include "link/outcome_testing.h"
#include "link/probabilistic.h"
#include "privacy/bloom.h"
#include "privacy/key.h"

namespace ark {
namespace {

const std::string kFebrl = std::string(ARK_SOURCE_DIR) + "/tests/data/linkage/febrl/";

TEST(JaroWinkler, KnownValues) {
  EXPECT_NEAR(JaroWinkler("martha", "marhta"), 0.9611, 1e-3);
  EXPECT_NEAR(JaroWinkler("dwayne", "duane"), 0.84, 1e-3);
  EXPECT_NEAR(JaroWinkler("dixon", "dicksonx"), 0.8133, 1e-3);
  EXPECT_EQ(JaroWinkler("same", "same"), 1.0);
  EXPECT_EQ(JaroWinkler("", "x"), 0.0);
}

TEST(Soundex, KnownCodes) {
  EXPECT_EQ(Soundex("Robert"), "R163");
  EXPECT_EQ(Soundex("Rupert"), "R163");
  EXPECT_EQ(Soundex("Tymczak"), "T522");
  EXPECT_EQ(Soundex("Pfister"), "P236");
  EXPECT_EQ(Soundex("Ashcraft"), "A261");
  EXPECT_EQ(Soundex(""), "");
}

TEST(Normalise, Dates) {
  EXPECT_EQ(NormaliseValue(FieldKind::kDate, "19081209"), "19081209");
  EXPECT_EQ(NormaliseValue(FieldKind::kDate, "1971-06-24"), "19710624");
  EXPECT_EQ(NormaliseValue(FieldKind::kDate, "24/06/1971"), "19710624");
  EXPECT_EQ(NormaliseValue(FieldKind::kDate, "4-6-1971"), "19710604");
  EXPECT_EQ(NormaliseValue(FieldKind::kDate, "1971"), "");
  EXPECT_EQ(NormaliseValue(FieldKind::kPostcode, "ls7 3qb"), "LS73QB");
  EXPECT_EQ(NormaliseValue(FieldKind::kName, " O'Brien-Smith "), "obrien smith");
}

TEST(Base64, RoundTripAndBadInput) {
  std::string out;
  for (size_t n = 0; n < 10; ++n) {
    std::string raw(n, '\0');
    for (size_t i = 0; i < n; ++i) raw[i] = static_cast<char>(i * 37 + 1);
    ASSERT_TRUE(Base64Decode(Base64Encode(raw.data(), raw.size()), &out));
    EXPECT_EQ(out, raw);
  }
  EXPECT_FALSE(Base64Decode("abc", &out));    // length
  EXPECT_FALSE(Base64Decode("ab!d", &out));   // alphabet
  EXPECT_FALSE(Base64Decode("a===", &out));   // padding
}

TEST(Encoder, ClkAboutHalfFullAndBlipHidesEquality) {
  Digest kb{};
  kb.fill(3);
  Encoder enc(ProgrammeKey::FromBytes(kb), ArkEncodedFields());
  std::vector<std::string> v = {"elizabeth", "sykes", "19710624", "LS73QB", "f"};
  RecordEncoding a = enc.Encode(v, 1), b = enc.Encode(v, 2);
  int bits = 0;
  for (auto w : a.clk) bits += __builtin_popcountll(w);
  EXPECT_GT(bits, 350);
  EXPECT_LT(bits, 650);
  EXPECT_EQ(a.clk, b.clk);            // the CLK carries no noise
  EXPECT_EQ(a.blocking, b.blocking);  // nor do the blocking keys
  // Field filters: different bits for equal values (BLIP), but a high Dice.
  EXPECT_NE(std::vector<uint64_t>(a.fields.begin() + kFieldWords, a.fields.begin() + 2 * kFieldWords),
            std::vector<uint64_t>(b.fields.begin() + kFieldWords, b.fields.begin() + 2 * kFieldWords));
  EXPECT_GT(Dice(&a.fields[kFieldWords], &b.fields[kFieldWords], kFieldWords), 0.85);
  // A different key gives unrelated encodings.
  kb.fill(4);
  Encoder other(ProgrammeKey::FromBytes(kb), ArkEncodedFields());
  RecordEncoding c = other.Encode(v, 1);
  EXPECT_LT(Dice(a.clk.data(), c.clk.data(), kClkWords), 0.7);
  // Packing round trip.
  std::string packed = PackFields(a);
  std::string blob(reinterpret_cast<const char*>(a.clk.data()), kClkWords * 8);
  blob += packed;
  RecordEncoding d = UnpackStaged(reinterpret_cast<const uint8_t*>(blob.data()), ArkEncodedFields().size());
  EXPECT_EQ(d.clk, a.clk);
  EXPECT_EQ(d.fields, a.fields);
  EXPECT_EQ(d.blocking, a.blocking);
  EXPECT_EQ(d.present, a.present);
}

TEST(DiceScan, MatchesScalarDice) {
  std::mt19937_64 rng(5);
  const size_t n = 500;
  std::vector<uint64_t> base(n * kClkWords);
  std::vector<uint16_t> counts(n);
  for (size_t i = 0; i < n; ++i) {
    int c = 0;
    for (int w = 0; w < kClkWords; ++w) {
      base[i * kClkWords + w] = (i % 7 == 0 && i) ? base[w] ^ (rng() & rng() & rng() & rng()) : rng();
      c += __builtin_popcountll(base[i * kClkWords + w]);
    }
    counts[i] = static_cast<uint16_t>(c);
  }
  std::vector<uint32_t> hits;
  DiceScanClk(base.data(), counts[0], base.data(), counts.data(), n, 0.8, &hits);
  std::vector<uint32_t> want;
  for (size_t i = 0; i < n; ++i) {
    if (Dice(base.data(), &base[i * kClkWords], kClkWords) >= 0.8) want.push_back(static_cast<uint32_t>(i));
  }
  EXPECT_EQ(hits, want);
  EXPECT_GT(want.size(), 10u);
}

// Splink's term-frequency adjustment: two pairs agreeing exactly on given name, surname and date
// of birth, one on "smith" (half the records), one on a surname no one else has.
TEST(TermFrequency, RareSurnameMatchWeighsMore) {
  const std::vector<std::string> given = {"john", "mary", "ahmed", "li", "olga", "sean", "priya", "tom"};
  LinkInput in;
  in.fields = {{"given_name", FieldKind::kName}, {"surname", FieldKind::kName}, {"date_of_birth", FieldKind::kDate}};
  in.values.resize(3);
  auto add = [&](const std::string& g, const std::string& s, const std::string& d) {
    in.values[0].push_back(g);
    in.values[1].push_back(s);
    in.values[2].push_back(d);
    ++in.n;
  };
  for (int i = 0; i < 300; ++i) {
    std::string rare = {char('a' + i % 26), char('a' + i / 26 % 26), 'q', 'x'};
    char dob[9];
    std::snprintf(dob, sizeof dob, "%04d%02d%02d", 1940 + i % 60, 1 + i % 12, 1 + i % 28);
    add(given[i % given.size()], i % 2 ? "smith" : rare, dob);
  }
  add("john", "smith", "19800101");  // 300, 301: common surname
  add("john", "smith", "19800101");
  add("john", "zebedee", "19810202");  // 302, 303: rare surname
  add("john", "zebedee", "19810202");
  auto weight = [](const LinkOutcome& o, uint32_t a, uint32_t b) {
    for (auto& p : o.pairs)
      if (p.a == a && p.b == b) return static_cast<double>(p.weight);
    return -1e9;
  };
  LinkOptions opt;
  auto with = LinkProbabilistic(in, opt);
  ASSERT_TRUE(with.ok()) << with.status().message();
  EXPECT_EQ(with->tf_fields, (std::vector<std::string>{"given_name", "surname"}));
  EXPECT_GT(weight(*with, 302, 303), weight(*with, 300, 301) + 1.0);
  for (auto& p : with->pairs)
    if (p.a == 302 && p.b == 303) EXPECT_NE(ExplainPair(*with, p).find("; term frequency (+"), std::string::npos);
  opt.term_frequencies = false;
  auto without = LinkProbabilistic(in, opt);
  ASSERT_TRUE(without.ok());
  EXPECT_NEAR(weight(*without, 302, 303), weight(*without, 300, 301), 1e-4);
}

class FebrlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PathExists(kFebrl + "dataset1.csv")) FAIL() << "no FEBRL data at " << kFebrl;
    dir_ = ::testing::TempDir() + "/febrl_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    spec_ = dir_ + "/spec.yaml";
    ASSERT_TRUE(WriteFileAtomic(spec_,
                                "columns:\n  given_name: given_name\n  surname: surname\n  street_number: street_number\n"
                                "  address_1: address_1\n  address_2: address_2\n  suburb: suburb\n  postcode: postcode\n"
                                "  state: state\n  date_of_birth: date_of_birth\nid: rec_id\n")
                    .ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  LinkRecordsOptions Options(const std::string& mode) {
    LinkRecordsOptions o;
    o.left = kFebrl + "dataset1.csv";
    o.spec_path = spec_;
    o.mode = mode;
    o.truth_column = "rec_id";
    o.truth_pattern = "rec-(\\d+)";
    o.out_pairs = dir_ + "/pairs.csv";
    return o;
  }
  std::string dir_, spec_;
};

TEST_F(FebrlTest, PlaintextDedupeReachesTarget) {
  auto r = LinkRecords(Options("plaintext"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->quality);
  EXPECT_GE(r->quality->f1, 0.995);
  EXPECT_GT(r->outcome.threshold_weight, 0);  // estimated, and printed by the command
  auto pairs = ReadFile(dir_ + "/pairs.csv");
  ASSERT_TRUE(pairs.ok());
  EXPECT_NE(pairs->find("explanation"), std::string::npos);
  EXPECT_NE(pairs->find("surname: exact"), std::string::npos);
}

TEST_F(FebrlTest, PprlDedupeReachesTarget) {
  auto r = LinkRecords(Options("pprl"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GE(r->quality->f1, 0.98);
}

// Memory budget (LinkOptions::chunk_pairs): candidate pairs made a few hundred at a time and
// spilled to a file give the same outcome, to the bit, as one chunk in memory.
TEST_F(FebrlTest, TinyChunksGiveTheSameOutcomeAsOneChunk) {
  LinkRecordsOptions whole = Options("pprl");
  whole.key_path = dir_ + "/chunk.key";
  whole.out_pairs.clear();
  whole.review_band = std::array<double, 2>{0.01, 0.5};
  whole.review_out = dir_ + "/review_whole.csv";
  Digest kb{};
  kb.fill(5);
  ASSERT_TRUE(ProgrammeKey::FromBytes(kb).Save(whole.key_path).ok());
  auto a = LinkRecords(whole);
  ASSERT_TRUE(a.ok()) << a.status().message();
  LinkRecordsOptions tiny = whole;
  tiny.review_out = dir_ + "/review_tiny.csv";
  tiny.chunk_pairs = 300;
  tiny.spill_dir = dir_ + "/spill";
  // The comparer's copy of the records in a file, its pages dropped every 1024 lookups a thread.
  tiny.comparer_resident_bytes = 1;
  std::filesystem::create_directories(tiny.spill_dir);
  auto b = LinkRecords(tiny);
  ASSERT_TRUE(b.ok()) << b.status().message();
  const LinkOutcome& x = a->outcome;
  const LinkOutcome& y = b->outcome;
  ASSERT_GT(x.candidate_pairs, 20u * tiny.chunk_pairs);  // many chunks, so the spill was used
  ASSERT_GT(x.pairs.size(), 0u);
  ExpectSameLinkOutcome(x, y);
  EXPECT_EQ(a->quality->f1, b->quality->f1);
  EXPECT_EQ(*ReadFile(whole.review_out), *ReadFile(tiny.review_out));
  // The spill file had no name and is gone with the linkage.
  EXPECT_TRUE(std::filesystem::is_empty(tiny.spill_dir));
  // A spill folder that does not exist is an error, not a crash.
  tiny.spill_dir = dir_ + "/no/such/folder";
  auto bad = LinkRecords(tiny);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no/such/folder"), std::string::npos) << bad.status().message();
}

// Splink's fake_1000 with its spec and a fixed key (seed 11), in the test's folder.
void SetUpFake1000(const std::string& dir, std::string* data, std::string* spec, std::string* key) {
  *data = std::string(ARK_SOURCE_DIR) + "/tests/data/linkage/splink_fake_1000/fake_1000.csv";
  *spec = dir + "/fake.yaml";
  *key = dir + "/fake.key";
  ASSERT_TRUE(WriteFileAtomic(*spec, "columns:\n  given_name: first_name\n  surname: surname\n  date_of_birth: dob\n"
                                     "  city: city\n  email: email\nid: unique_id\n").ok());
  Digest kb{};
  kb.fill(11);
  ASSERT_TRUE(ProgrammeKey::FromBytes(kb).Save(*key).ok());
}

// Without the weak kept pairs in LinkOutcome::pairs (LinkOptions::keep_weak_pairs false, as `ark
// link` runs), the clustering reads them from a file and makes the same clusters; with a score
// limit of 0 every merge sums its cross pairs from the kept pairs, weak ones included.
TEST_F(FebrlTest, WeakPairsFromAFileGiveTheSameClusters) {
  std::string data, spec, key;
  ASSERT_NO_FATAL_FAILURE(SetUpFake1000(dir_, &data, &spec, &key));
  LinkRecordsOptions all;
  all.left = data;
  all.spec_path = spec;
  all.mode = "pprl";
  all.key_path = key;
  all.truth_column = "cluster";
  all.cluster_score_limit = 0;
  all.review_band = std::array<double, 2>{0.05, 0.5};
  all.review_out = dir_ + "/review_all.csv";
  auto a = LinkRecords(all);
  ASSERT_TRUE(a.ok()) << a.status().message();
  LinkRecordsOptions strong = all;
  strong.keep_weak_pairs = false;
  strong.chunk_pairs = 1000;
  strong.spill_dir = dir_ + "/spill";
  strong.review_out = dir_ + "/review_strong.csv";
  std::filesystem::create_directories(strong.spill_dir);
  auto b = LinkRecords(strong);
  ASSERT_TRUE(b.ok()) << b.status().message();
  const LinkOutcome& x = a->outcome;
  const LinkOutcome& y = b->outcome;
  // y.pairs: the pairs of x.pairs at or above the threshold, in the band or decided, in order.
  std::vector<const ScoredPair*> held;
  for (const ScoredPair& p : x.pairs) {
    if (p.weight >= x.threshold_weight || (p.probability >= 0.05f && p.probability < 0.5f)) held.push_back(&p);
  }
  ASSERT_LT(held.size(), x.pairs.size());  // some weak pairs were left out
  ASSERT_EQ(held.size(), y.pairs.size());
  for (size_t i = 0; i < held.size(); ++i) {
    ASSERT_TRUE(held[i]->a == y.pairs[i].a && held[i]->b == y.pairs[i].b && held[i]->probability == y.pairs[i].probability)
        << i;
  }
  EXPECT_EQ(x.cluster, y.cluster);
  EXPECT_EQ(x.clusters, y.clusters);
  EXPECT_GT(x.clustering.merges, 0u);
  EXPECT_GT(x.clustering.incoherent_merges, 0u);
  EXPECT_EQ(x.clustering.merges, y.clustering.merges);
  EXPECT_EQ(x.clustering.incoherent_merges, y.clustering.incoherent_merges);
  EXPECT_EQ(x.clustering.expected_false_merges, y.clustering.expected_false_merges);
  EXPECT_EQ(x.refused_merges, y.refused_merges);
  EXPECT_EQ(x.review.size(), y.review.size());
  EXPECT_EQ(*ReadFile(all.review_out), *ReadFile(strong.review_out));
  EXPECT_EQ(a->quality->f1, b->quality->f1);
  EXPECT_TRUE(std::filesystem::is_empty(strong.spill_dir));
}

// Splink's fake_1000 (heavy corruption, no address): union-find over accepted pairs chained
// clusters (F1 0.89); the coherence check keeps them apart. Fixed key: deterministic.
TEST_F(FebrlTest, SplinkFake1000ClustersWithoutChaining) {
  std::string data, spec, key;
  ASSERT_NO_FATAL_FAILURE(SetUpFake1000(dir_, &data, &spec, &key));
  for (const char* mode : {"plaintext", "pprl"}) {
    LinkRecordsOptions o;
    o.left = data;
    o.spec_path = spec;
    o.mode = mode;
    o.key_path = key;
    o.truth_column = "cluster";
    auto r = LinkRecords(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_GE(r->quality->f1, 0.95) << mode;
    EXPECT_LE(r->outcome.clustering.largest, 5u * 7u) << mode;  // the largest true cluster has 7
    EXPECT_GT(r->outcome.clustering.incoherent_merges, 0u) << mode;
  }
}

// CLKs round-trip through anonlink's clks.json: written by pprl mode (--write-clks), read back
// equal to the CLKs the encoder makes, written again byte for byte.
TEST_F(FebrlTest, ClksJsonRoundTrip) {
  LinkRecordsOptions o = Options("pprl");
  const std::string key = dir_ + "/clk.key", clks = dir_ + "/clks.json";
  Digest kb{};
  kb.fill(5);
  ASSERT_TRUE(ProgrammeKey::FromBytes(kb).Save(key).ok());
  o.key_path = key;
  o.write_clks = clks;
  o.out_pairs.clear();
  auto full = LinkRecords(o);
  ASSERT_TRUE(full.ok()) << full.status().message();
  auto read = ReadClksJson(clks);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->size(), 1000u * kClkWords);
  int bits = 0;  // a CLK, not zeros: about half its bits set
  for (int w = 0; w < kClkWords; ++w) bits += __builtin_popcountll((*read)[w]);
  EXPECT_GT(bits, 300);
  EXPECT_LT(bits, 700);
  ASSERT_TRUE(WriteClksJson(dir_ + "/again.json", *read).ok());
  EXPECT_EQ(*ReadFile(dir_ + "/again.json"), *ReadFile(clks));
  auto text = ReadFile(clks);
  EXPECT_EQ(text->rfind("{\"clks\": [\"", 0), 0u);

  // Linked alone, CLKs find FEBRL1's duplicates.
  LinkRecordsOptions c;
  c.clks_left = clks;
  auto alone = LinkRecords(c);
  ASSERT_TRUE(alone.ok()) << alone.status().message();
  auto csv = ReadFile(kFebrl + "dataset1.csv");
  std::vector<uint64_t> truth, pred(alone->outcome.cluster.begin(), alone->outcome.cluster.end());
  for (size_t pos = csv->find('\n') + 1; pos < csv->size();) {
    const size_t end = std::min(csv->find('\n', pos), csv->size());
    truth.push_back(std::stoull(csv->substr(pos + 4, csv->find('-', pos + 4) - pos - 4)));  // rec-N-...
    pos = end + 1;
  }
  ASSERT_EQ(truth.size(), pred.size());
  const PairwiseQuality q = ScorePairs(pred, truth);
  EXPECT_GE(q.f1, 0.95) << q.precision << " " << q.recall;

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad.json", "{\"clks\": [\"AAAA\"]}").ok());
  auto bad = ReadClksJson(dir_ + "/bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.json: clks[0]: 3 bytes"), std::string::npos) << bad.status().message();
}

// Two files, with ten right-hand records present twice: each of the ten left partners scores the
// same above the threshold against both copies, and one-to-one keeps one link. The pairs file
// marks as linked exactly the links kept, as many as the JSON's linked_pairs and found_pairs.
TEST_F(FebrlTest, PairsFileMarksOnlyTheLinksKept) {
  auto text = ReadFile(kFebrl + "dataset1.csv");
  ASSERT_TRUE(text.ok());
  std::string left, right, copies;
  size_t at = 0, line = 0;
  int dups = 0;
  while (at < text->size()) {
    size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    const std::string l = text->substr(at, end - at) + "\n";
    at = end + 1;
    if (line++ == 0) {
      left = right = l;
      continue;
    }
    if (l.find("-org,") != std::string::npos) {
      left += l;
    } else {
      right += l;
      if (dups++ < 10) copies += l.substr(0, l.find(',')) + "-copy" + l.substr(l.find(','));
    }
  }
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/left.csv", left).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/right.csv", right + copies).ok());
  auto o = Options("plaintext");
  o.left = dir_ + "/left.csv";
  o.right = dir_ + "/right.csv";
  auto r = LinkRecords(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto pairs = ReadFile(dir_ + "/pairs.csv");
  ASSERT_TRUE(pairs.ok());
  uint64_t marked = 0, above = 0;
  for (const ScoredPair& p : r->outcome.pairs) above += p.weight >= r->outcome.threshold_weight;
  size_t pos = pairs->find('\n') + 1;
  while (pos < pairs->size()) {
    const size_t end = pairs->find('\n', pos);
    const std::string row = pairs->substr(pos, end - pos);
    size_t c = 0;
    for (int k = 0; k < 4; ++k) c = row.find(',', c) + 1;  // the fifth column: linked
    marked += row[c] == '1';
    pos = end + 1;
  }
  EXPECT_GE(above, marked + 10) << "the ten copies should each lose a link to one-to-one";
  EXPECT_EQ(marked, r->linked_pairs);
  EXPECT_EQ(r->linked_pairs, r->records - r->outcome.clusters);  // each kept link joins two records
  ASSERT_TRUE(r->quality);
  EXPECT_EQ(r->linked_pairs, r->quality->found_pairs);
}

// Rows of a CSV file as fields (no quoted commas in the files read here).
std::vector<std::vector<std::string>> CsvRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::vector<std::string> row;
    for (size_t a = pos;;) {
      const size_t c = std::min(text.find(',', a), end);
      row.push_back(text.substr(a, c - a));
      if (c >= end) break;
      a = c + 1;
    }
    rows.push_back(row);
    pos = end + 1;
  }
  return rows;
}

// Clerical review on Splink's fake_1000 (plaintext, deterministic): pairs in the band are written
// to the review file and not linked; decisions fed back change the clusters exactly as given.
TEST_F(FebrlTest, ReviewBandAndDecisionsOnFake1000) {
  const std::string data = std::string(ARK_SOURCE_DIR) + "/tests/data/linkage/splink_fake_1000/fake_1000.csv";
  const std::string spec = dir_ + "/fake.yaml", review = dir_ + "/review.csv", dec = dir_ + "/decisions.csv";
  ASSERT_TRUE(WriteFileAtomic(spec, "columns:\n  given_name: first_name\n  surname: surname\n  date_of_birth: dob\n"
                                    "  city: city\n  email: email\nid: unique_id\n").ok());
  LinkRecordsOptions o;
  o.left = data;
  o.spec_path = spec;
  o.truth_column = "cluster";
  auto plain = LinkRecords(o);  // no band
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  o.review_band = {0.2, 0.9};
  o.review_out = review;
  auto r = LinkRecords(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const LinkOutcome& lo = r->outcome;
  uint64_t in_band = 0;
  for (const ScoredPair& p : lo.pairs) in_band += p.probability >= 0.2f && p.probability < 0.9f;
  EXPECT_GT(in_band, 20u);
  EXPECT_EQ(lo.review.size(), in_band);
  for (uint32_t i : lo.linked) EXPECT_GE(lo.pairs[i].probability, 0.9f);
  EXPECT_LT(r->linked_pairs, plain->linked_pairs);  // the band held links back
  auto rows = CsvRows(*ReadFile(review));
  ASSERT_EQ(rows.size(), in_band + 1);
  EXPECT_EQ(rows[0][0], "left_id");
  EXPECT_EQ(rows[0][5], "level_given_name");
  EXPECT_EQ(rows[0].back(), "reviewer");
  for (size_t i = 1; i < rows.size(); ++i) {
    const double p = std::stod(rows[i][3]);
    EXPECT_TRUE(p >= 0.2 && p < 0.9) << p;
  }
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  auto j = ReviewJson(o.review_band, lo.review.size(), review, r->decisions, lo.decisions);
  EXPECT_EQ(j["pairs_in_band"], in_band);

  // Decisions: the first held pair (not yet together) is a match; the strongest link of the
  // banded run a non-match; two records nothing alike a match. The review file itself is the
  // decisions file: rows left undecided are skipped.
  size_t held = 0;
  for (size_t i = 1; i < rows.size() && !held; ++i) if (rows[i][4] == "0") held = i;
  ASSERT_GT(held, 0u);
  uint32_t strongest = lo.linked[0];
  for (uint32_t i : lo.linked) if (lo.pairs[i].weight > lo.pairs[strongest].weight) strongest = i;
  const std::string sa = std::to_string(lo.pairs[strongest].a), sb = std::to_string(lo.pairs[strongest].b);
  std::string text = *ReadFile(review);
  const std::string before = rows[held][0] + "," + rows[held][1] + ",";
  const size_t at = text.find(before);
  const size_t eol = text.find('\n', at);
  text.replace(eol - 2, 2, ",match,alice");  // fills decision,reviewer (the row ends with ",,")
  const std::string blanks(rows[0].size() - 3, ',');  // the columns between the ids and the decision
  text += sa + "," + sb + blanks + "non-match,bob\n";
  text += "0,999" + blanks + "match,carol\n";
  ASSERT_TRUE(WriteFileAtomic(dec, text).ok());
  o.decisions_path = dec;
  auto d = LinkRecords(o);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->decisions.size(), 3u);
  const auto& c = d->outcome.cluster;
  EXPECT_EQ(c[std::stoul(rows[held][0])], c[std::stoul(rows[held][1])]);
  EXPECT_NE(c[lo.pairs[strongest].a], c[lo.pairs[strongest].b]);
  EXPECT_EQ(c[0], c[999]);
  EXPECT_NE(lo.cluster[0], lo.cluster[999]);
  using R = LinkOutcome::DecisionResult;
  EXPECT_EQ(d->outcome.decisions[0].result, R::kLinked);
  EXPECT_EQ(d->outcome.decisions[1].result, R::kKeptApart);
  EXPECT_EQ(d->outcome.decisions[2].result, R::kLinked);
  EXPECT_EQ(d->outcome.review.size(), in_band - 1);  // the decided pair is no longer held
  // Only clusters reached from the decided records changed: outside the records linked to them
  // before or after (closed under both), every pair is together exactly when it was.
  std::set<uint32_t> touched = {0u, 999u, lo.pairs[strongest].a, lo.pairs[strongest].b,
                                static_cast<uint32_t>(std::stoul(rows[held][0])),
                                static_cast<uint32_t>(std::stoul(rows[held][1]))};
  for (size_t size = 0; size != touched.size();) {
    size = touched.size();
    for (uint32_t y = 0; y < c.size(); ++y)
      for (uint32_t x : std::vector<uint32_t>(touched.begin(), touched.end()))
        if (lo.cluster[y] == lo.cluster[x] || c[y] == c[x]) touched.insert(y);
  }
  EXPECT_LT(touched.size(), 60u);
  for (uint32_t x = 0; x < c.size(); ++x)
    for (uint32_t y = x + 1; y < c.size(); ++y)
      if (!touched.count(x) && !touched.count(y)) ASSERT_EQ(lo.cluster[x] == lo.cluster[y], c[x] == c[y]) << x << " " << y;
}

// A bad decisions line is named by file, line and column.
TEST_F(FebrlTest, BadDecisionsLineIsNamed) {
  auto o = Options("plaintext");
  o.out_pairs.clear();
  const std::string dec = dir_ + "/d.csv";
  auto expect = [&](const std::string& body, const std::string& want) {
    ASSERT_TRUE(WriteFileAtomic(dec, "left_id,right_id,decision,reviewer\n" + body).ok());
    o.decisions_path = dec;
    auto r = LinkRecords(o);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  };
  expect("rec-1-org,rec-1-dup-0,match,ann\nrec-2-org,rec-2-dup-0,maybe,ann\n",
         "d.csv:3: column 'decision': 'maybe' is not match or non-match");
  expect("rec-1-org,rec-1-dup-0,match,\n", "d.csv:2: column 'reviewer': empty");
  expect("rec-1-org,nobody,match,ann\n", "d.csv:2: column 'right_id': no record 'nobody' in");
  expect("rec-1-org,rec-1-dup-0,match,ann\nrec-1-dup-0,rec-1-org,non-match,bob\n",
         "d.csv:3: column 'decision': contradicts");
  ASSERT_TRUE(WriteFileAtomic(dec, "left,right_id,decision,reviewer\n").ok());
  auto r = LinkRecords(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("d.csv:1: no column 'left_id'"), std::string::npos) << r.status().message();
}

TEST_F(FebrlTest, SpecNamingMissingColumnIsAnError) {
  ASSERT_TRUE(WriteFileAtomic(spec_, "columns:\n  given_name: nickname\n").ok());
  auto r = LinkRecords(Options("plaintext"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dataset1.csv:1: no column 'nickname'"), std::string::npos)
      << r.status().message();
}

TEST_F(FebrlTest, TruthPatternMustMatch) {
  auto o = Options("plaintext");
  o.truth_pattern = "person-(\\d+)";
  auto r = LinkRecords(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match --truth-pattern"), std::string::npos);
}

// Pseudonymise writes encodings; ingest checks them; `link --mode pprl` links the record without
// an NHS number to its twin and keeps two different valid NHS numbers apart.
class PprlArkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/ark_pprl_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ + "/raw");
    const std::string hdr =
        "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
        "registered_from,registered_to\n";
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/patients.csv",
                                hdr +
                                    "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
                                    "P2,,Alice,Browne,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2016-05-01,\n"
                                    "P3,9434765870,Carol,White,1988-02-10,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
                                    "P4,9990000018,Carol,White,1988-02-10,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/events.csv", "patient_id,event_date,snomed_code,value,unit\n").ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/raw/optouts.csv", "nhs_number\n").ok());
    auto k = ProgrammeKey::Generate();
    ASSERT_TRUE(k.ok());
    auto spec = BuiltinFeedSpec("gp");
    ASSERT_TRUE(spec.ok());
    auto r = Pseudonymise(*spec, *k, root_ + "/raw", root_ + "/out/gp");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(PprlArkTest, EncodingsLinkAndRespectNhsConstraint) {
  auto text = ReadFile(root_ + "/out/gp/records.csv");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(",clk,pprl"), std::string::npos);
  EXPECT_EQ(text->find("Alice"), std::string::npos);
  EXPECT_EQ(text->find("LS1 1AA"), std::string::npos);
  auto cat = Catalog::Create(root_ + "/ark");
  ASSERT_TRUE(cat.ok());
  auto in = Ingest(**cat, {root_ + "/out/gp"}, IngestOptions{});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  auto rep = LinkPprl(**cat, "");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  auto batches = (*cat)->Batches();
  ASSERT_TRUE(batches.ok());
  auto keys = ReadPersonKeys(root_ + "/ark", (*batches)[0].id, 4);
  ASSERT_TRUE(keys.ok());
  EXPECT_NE((*keys)[2], (*keys)[3]);  // identical identities, different valid NHS numbers: never merged
  // Linking again gives the same keys (stable).
  auto rep2 = LinkPprl(**cat, "");
  ASSERT_TRUE(rep2.ok());
  auto keys2 = ReadPersonKeys(root_ + "/ark", (*batches)[0].id, 4);
  EXPECT_EQ(*keys, *keys2);
}

// `ark link --mode pprl` with a memory budget of one candidate pair per chunk: every chunk is
// spilled to a temporary file in ARK/link and read back; the keys are those of an unchunked link
// of the same extract, and nothing but the keys is left in ARK/link.
TEST_F(PprlArkTest, TinyChunksGiveTheSameKeys) {
  auto one = Catalog::Create(root_ + "/ark_one");
  auto tiny = Catalog::Create(root_ + "/ark_tiny");
  ASSERT_TRUE(one.ok() && tiny.ok());
  ASSERT_TRUE(Ingest(**one, {root_ + "/out/gp"}, IngestOptions{}).ok());
  ASSERT_TRUE(Ingest(**tiny, {root_ + "/out/gp"}, IngestOptions{}).ok());
  auto r1 = LinkPprl(**one, "");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  LinkReviewOptions budget;
  budget.chunk_pairs = 1;
  auto r2 = LinkPprl(**tiny, "", 2, budget);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_GT(r1->pprl->candidate_pairs, 1u);  // more than one chunk
  EXPECT_EQ(r1->pprl->candidate_pairs, r2->pprl->candidate_pairs);
  EXPECT_EQ(r1->pprl->lambda, r2->pprl->lambda);
  EXPECT_EQ(r1->pprl->expected_missed_matches, r2->pprl->expected_missed_matches);
  EXPECT_EQ(r1->persons, r2->persons);
  auto b1 = (*one)->Batches();
  auto b2 = (*tiny)->Batches();
  ASSERT_TRUE(b1.ok() && b2.ok());
  auto k1 = ReadPersonKeys(root_ + "/ark_one", (*b1)[0].id, 4);
  auto k2 = ReadPersonKeys(root_ + "/ark_tiny", (*b2)[0].id, 4);
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(*k1, *k2);
  for (auto& e : std::filesystem::directory_iterator(root_ + "/ark_tiny/link")) {
    EXPECT_EQ(e.path().extension(), ".keys") << e.path();
  }
}

// A custodian that states one record per person (feed spec `one_record_per_person`): linkage
// never puts two of its records in one person, however alike their encodings.
TEST_F(PprlArkTest, OneRecordPerPersonSourceNeverMergesItsRecords) {
  auto k = ProgrammeKey::Generate();
  ASSERT_TRUE(k.ok());
  auto spec = BuiltinFeedSpec("gp");
  ASSERT_TRUE(spec.ok());
  spec->identity.one_record_per_person = true;
  auto r = Pseudonymise(*spec, *k, root_ + "/raw", root_ + "/out/gp1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto manifest = ReadFile(root_ + "/out/gp1/manifest.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find("\"one_record_per_person\": true"), std::string::npos) << *manifest;
  auto cat = Catalog::Create(root_ + "/ark1");
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE(Ingest(**cat, {root_ + "/out/gp1"}, IngestOptions{}).ok());
  auto rep = LinkPprl(**cat, "");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  auto batches = (*cat)->Batches();
  ASSERT_TRUE(batches.ok());
  auto keys = ReadPersonKeys(root_ + "/ark1", (*batches)[0].id, 4);
  ASSERT_TRUE(keys.ok());
  std::set<uint32_t> distinct(keys->begin(), keys->end());
  EXPECT_EQ(distinct.size(), 4u);  // Alice Brown / Alice Browne stay two people here
  // The flag must be a boolean.
  auto bad = ParseFeedSpec("feed: x\nidentity: {file: a.csv, id: i, one_record_per_person: maybe}\n", "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("x.yaml:2"), std::string::npos) << bad.status().message();
}

// PPRL mode counts, per custodian, the records whose NHS number was missing or failed its check
// digit (the nhs_status pseudonymise recorded), as deterministic mode does.
TEST_F(PprlArkTest, CountsMissingAndInvalidNhsNumbersLikeDeterministic) {
  const std::string hdr =
      "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
      "registered_from,registered_to\n";
  std::filesystem::create_directories(root_ + "/raw2");
  ASSERT_TRUE(WriteFileAtomic(root_ + "/raw2/patients.csv",
                              hdr +
                                  "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
                                  "P2,,Alice,Browne,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2016-05-01,\n"
                                  "P3,1234567890,Carol,White,1988-02-10,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
                                  "P4,943 476 5918,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,,B86002,2018-01-01,\n"
                                  "P5,,Eve,Green,1970-12-31,F,LS2 2BB,E01000002,7,B86001,2016-05-01,\n"
                                  "P6,,Fay,Grey,1971-01-31,F,LS2 2BC,E01000002,7,B86001,2016-05-01,\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/raw2/events.csv", "patient_id,event_date,snomed_code,value,unit\n").ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/raw2/optouts.csv", "nhs_number\n").ok());
  auto k = ProgrammeKey::Generate();
  ASSERT_TRUE(k.ok());
  auto spec = BuiltinFeedSpec("gp");
  ASSERT_TRUE(spec.ok());
  auto ps = Pseudonymise(*spec, *k, root_ + "/raw2", root_ + "/out2/gp");
  ASSERT_TRUE(ps.ok()) << ps.status().ToString();
  ASSERT_EQ(ps->nhs_missing, 3u);
  ASSERT_EQ(ps->nhs_invalid, 2u);
  auto cat = Catalog::Create(root_ + "/ark2");
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE(Ingest(**cat, {root_ + "/out2/gp"}, IngestOptions{}).ok());
  auto pprl = LinkPprl(**cat, "");
  ASSERT_TRUE(pprl.ok()) << pprl.status().ToString();
  const FeedLinkCounts& p = pprl->feeds["gp"];
  EXPECT_EQ(p.records, 6u);
  EXPECT_EQ(p.missing_nhs, 3u);
  EXPECT_EQ(p.invalid_nhs, 2u);
  EXPECT_EQ(pprl->pprl->records_without_nhs, 5u);
  auto det = LinkDeterministic(**cat, "");
  ASSERT_TRUE(det.ok()) << det.status().ToString();
  EXPECT_EQ(det->feeds["gp"].missing_nhs, p.missing_nhs);
  EXPECT_EQ(det->feeds["gp"].invalid_nhs, p.invalid_nhs);
}

// Writes a gp extract with these patients.csv rows and pseudonymises it under `key` into `out`.
void GpExtract(const std::string& root, const std::string& name, const std::string& rows, const ProgrammeKey& key) {
  const std::string raw = root + "/raw_" + name;
  std::filesystem::create_directories(raw);
  ASSERT_TRUE(WriteFileAtomic(raw + "/patients.csv",
                              "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,"
                              "practice_code,registered_from,registered_to\n" + rows).ok());
  ASSERT_TRUE(WriteFileAtomic(raw + "/events.csv", "patient_id,event_date,snomed_code,value,unit\n").ok());
  ASSERT_TRUE(WriteFileAtomic(raw + "/optouts.csv", "nhs_number\n").ok());
  auto spec = BuiltinFeedSpec("gp");
  ASSERT_TRUE(spec.ok());
  auto r = Pseudonymise(*spec, key, raw, root + "/out/" + name);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// Clerical decisions on the Ark: recorded in the catalog, applied to this and later links. A
// split leaves the person key with the larger part, a merge keeps one of the two keys (the other
// moves), and persons the decisions do not touch keep their keys.
TEST_F(PprlArkTest, ReviewDecisionsRecordedAppliedAndKeysStable) {
  auto key = ProgrammeKey::Generate();
  ASSERT_TRUE(key.ok());
  GpExtract(root_, "d", "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
                        "P2,,Alice,Browne,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2016-05-01,\n"
                        "P3,9434765870,Carol,White,1988-02-10,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
                        "P4,,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,5,B86002,2018-01-01,\n"
                        "P5,,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,5,B86002,2018-01-01,\n"
                        "P6,,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,5,B86002,2018-01-01,\n"
                        "P7,,Eve,Green,1970-12-31,F,LS2 2BB,E01000002,7,B86001,2016-05-01,\n"
                        "P8,,Fay,Grey,1971-01-31,F,LS2 2BC,E01000002,7,B86001,2016-05-01,\n"
                        "P9,,George,King,1960-06-06,M,LS9 9GG,E01000004,2,B86001,2016-05-01,\n", *key);
  auto cat = Catalog::Create(root_ + "/ark");
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE(Ingest(**cat, {root_ + "/out/d"}, IngestOptions{}).ok());
  ASSERT_TRUE(LinkPprl(**cat, "").ok());
  const int64_t b = (*(*cat)->Batches())[0].id;
  auto k1 = ReadPersonKeys(root_ + "/ark", b, 9);
  ASSERT_TRUE(k1.ok());
  ASSERT_EQ((*k1)[0], (*k1)[1]);  // Alice Browne joins Alice Brown
  ASSERT_EQ((*k1)[3], (*k1)[4]);  // the three Dan Blacks are one person
  ASSERT_EQ((*k1)[3], (*k1)[5]);
  ASSERT_NE((*k1)[6], (*k1)[7]);  // Eve Green and Fay Grey are two

  // Dan 1 is not Dan 2 nor Dan 3; Eve and Fay are one person.
  const std::string bs = std::to_string(b), dec = root_ + "/decisions.csv";
  ASSERT_TRUE(WriteFileAtomic(dec, "left_id,right_id,decision,reviewer\n" + bs + ":4," + bs + ":5,non-match,ann\n" +
                                       bs + ":6," + bs + ":4,non-match,ann\n" + bs + ":7," + bs + ":8,match,bob\n")
                  .ok());
  LinkReviewOptions review;
  review.decisions_path = dec;
  auto r2 = LinkPprl(**cat, "", 2, review);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_TRUE(r2->review);
  EXPECT_EQ(r2->review->recorded, 3u);
  ASSERT_EQ(r2->review->outcomes.size(), 3u);
  EXPECT_EQ(r2->review->outcomes[2].result, LinkOutcome::DecisionResult::kLinked);
  auto k2 = ReadPersonKeys(root_ + "/ark", b, 9);
  ASSERT_TRUE(k2.ok());
  EXPECT_NE((*k2)[3], (*k2)[4]);
  EXPECT_EQ((*k2)[4], (*k2)[5]);
  EXPECT_EQ((*k2)[4], (*k1)[4]);  // the larger part keeps the key (Dan 1 comes first, and gets a new one)
  EXPECT_NE((*k2)[3], (*k1)[3]);
  EXPECT_EQ((*k2)[6], (*k2)[7]);
  EXPECT_EQ((*k2)[6], std::min((*k1)[6], (*k1)[7]));
  auto moves = LoadKeyMoves(**cat);
  ASSERT_TRUE(moves.ok());
  EXPECT_EQ(moves->at(std::max((*k1)[6], (*k1)[7])), (*k2)[6]);
  for (int i : {0, 1, 2, 8}) EXPECT_EQ((*k2)[i], (*k1)[i]) << i;  // untouched persons keep their keys

  // Recorded: a later link without the file applies them again.
  auto q = (*cat)->Prepare("SELECT COUNT(*), SUM(reviewer = 'bob') FROM link_decisions");
  ASSERT_TRUE(q.ok() && *(*q)->Step());
  EXPECT_EQ((*q)->Int(0), 3);
  EXPECT_EQ((*q)->Int(1), 1);
  ASSERT_TRUE(LinkPprl(**cat, "").ok());
  EXPECT_EQ(*ReadPersonKeys(root_ + "/ark", b, 9), *k2);

  // A band writes pseudonymous record ids and levels only.
  review = {};
  review.band = {0.001, 1.0};
  auto r4 = LinkPprl(**cat, "", 2, review);
  ASSERT_TRUE(r4.ok()) << r4.status().ToString();
  auto text = ReadFile(root_ + "/ark/link/review.csv");
  ASSERT_TRUE(text.ok());
  EXPECT_GT(r4->review->pairs_in_band, 0u);
  EXPECT_EQ(text->find("Dan"), std::string::npos);
  EXPECT_EQ(text->find("LS4"), std::string::npos);
  EXPECT_NE(text->find("\n" + bs + ":"), std::string::npos) << *text;
  // A bad decisions line is named.
  ASSERT_TRUE(WriteFileAtomic(dec, "left_id,right_id,decision,reviewer\n" + bs + ":4," + bs + ":99,match,ann\n").ok());
  review = {};
  review.decisions_path = dec;
  auto bad = LinkPprl(**cat, "", 2, review);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("decisions.csv:2: column 'right_id': batch " + bs + " has no record 99"),
            std::string::npos)
      << bad.status().message();
}

// FEBRL dataset1 and Splink's fake_1000, each as two gp extracts A (400 records) and B (600), no
// NHS numbers: every link is by encodings. Linking after each batch arrives, in either order,
// gives the same persons as linking both at once (ingested as A, B or as B, A).
TEST_F(PprlArkTest, IncrementalLinkEqualsFullRelinkInAnyBatchOrder) {
  auto trim = [](std::string v) {
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  };
  auto febrl = ReadFile(kFebrl + "dataset1.csv");
  auto fake = ReadFile(std::string(ARK_SOURCE_DIR) + "/tests/data/linkage/splink_fake_1000/fake_1000.csv");
  ASSERT_TRUE(febrl.ok() && fake.ok());
  auto key = ProgrammeKey::Generate();
  ASSERT_TRUE(key.ok());
  for (const std::string data : {"febrl", "fake"}) {
    auto rows = CsvRows(data == "febrl" ? *febrl : *fake);
    std::string a, b;
    for (size_t i = 1; i < rows.size(); ++i) {
      std::string row;
      if (data == "febrl" && rows[i].size() == 11) {  // rec_id, given_name, surname, ..., postcode, ..., date_of_birth
        std::string dob = trim(rows[i][9]);
        dob = dob.size() == 8 ? dob.substr(0, 4) + "-" + dob.substr(4, 2) + "-" + dob.substr(6, 2) : "";
        row = trim(rows[i][0]) + ",," + trim(rows[i][1]) + "," + trim(rows[i][2]) + "," + dob + ",," + trim(rows[i][7]);
      } else if (data == "fake" && rows[i].size() == 7) {  // unique_id,first_name,surname,dob,city,email,cluster
        row = "F" + rows[i][0] + ",," + rows[i][1] + "," + rows[i][2] + "," + rows[i][3] + ",,";
      } else {
        continue;
      }
      (i % 5 < 2 ? a : b) += row + ",E01000001,5,B86001,2015-01-01,\n";  // interleaved: persons span both
    }
    GpExtract(root_, data + "a", a, *key);
    GpExtract(root_, data + "b", b, *key);
    // Persons as sets of (extract, record); an extract is told by its record count (400 / 600).
    auto persons = [&](Catalog& cat, const std::string& ark) {
      std::map<uint32_t, std::set<std::pair<int64_t, size_t>>> by_key;
      auto batches = cat.Batches();
      EXPECT_TRUE(batches.ok());
      for (const BatchInfo& bi : *batches) {
        auto keys = ReadPersonKeys(ark, bi.id, static_cast<size_t>(bi.records));
        if (!keys.ok()) {
          ADD_FAILURE() << keys.status().ToString();
          continue;
        }
        for (size_t i = 0; i < keys->size(); ++i) by_key[(*keys)[i]].insert({bi.records, i});
      }
      std::set<std::set<std::pair<int64_t, size_t>>> out;
      for (auto& [k, members] : by_key) out.insert(members);
      return out;
    };
    std::vector<std::set<std::set<std::pair<int64_t, size_t>>>> results;
    for (const auto& order : std::vector<std::vector<std::string>>{{"a", "b"}, {"b", "a"}, {"ab"}, {"ba"}}) {
      const std::string ark = root_ + "/ark_" + data + "_" + order[0] + (order.size() > 1 ? "_" + order[1] : "");
      auto cat = Catalog::Create(ark);
      ASSERT_TRUE(cat.ok());
      for (const std::string& step : order) {
        std::vector<std::string> dirs;
        for (char c : step) dirs.push_back(root_ + "/out/" + data + c);
        ASSERT_TRUE(Ingest(**cat, dirs, IngestOptions{}).ok()) << step;
        auto r = LinkPprl(**cat, "");
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
      results.push_back(persons(**cat, ark));
    }
    size_t across = 0;  // persons with records in both extracts
    for (const auto& members : results[2]) across += members.begin()->first != members.rbegin()->first;
    EXPECT_GT(across, 50u) << data;
    EXPECT_EQ(results[0], results[2]) << data << ": A then B differs from A and B at once";
    EXPECT_EQ(results[1], results[2]) << data << ": B then A differs from A and B at once";
    EXPECT_EQ(results[3], results[2]) << data << ": B and A at once differs from A and B at once";
  }
}

TEST_F(PprlArkTest, BadClkNamesFileLineAndColumn) {
  auto text = ReadFile(root_ + "/out/gp/records.csv");
  ASSERT_TRUE(text.ok());
  std::string t = *text;
  // Cut 4 base64 characters out of the second record's CLK (column `clk`, found by the header).
  const size_t h_end = t.find('\n');
  int col = 0;
  for (size_t i = 0; i < t.find(",clk,"); ++i) col += t[i] == ',';
  ++col;
  size_t at = t.find('\n', h_end + 1) + 1;  // start of the second record
  for (int c = 0; c < col; ++c) at = t.find(',', at) + 1;
  t.erase(at, 4);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/out/gp/records.csv", t).ok());
  auto cat = Catalog::Create(root_ + "/ark");
  ASSERT_TRUE(cat.ok());
  auto in = Ingest(**cat, {root_ + "/out/gp"}, IngestOptions{});
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("records.csv:3: column 'clk': expected a CLK of 1024 bits"),
            std::string::npos)
      << in.status().message();
}

}  // namespace
}  // namespace ark
