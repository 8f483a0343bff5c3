// `ark link-records` outputs for every input: CLK-only inputs (anonlink's clks.json) get the pairs
// file, the clusters file, truth scoring, one-to-one or clustered output; `ark pseudonymise`'s
// CLKs round-trip through clks.json; pprl term frequencies from coarsened bands.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/fs.h"
#include "ingest/feed_spec.h"
#include "ingest/pseudonymise.h"
#include "link/link_records.h"
#include "privacy/bloom.h"
#include "privacy/key.h"

namespace ark {
namespace {

const std::string kFebrl1 = std::string(ARK_SOURCE_DIR) + "/tests/data/linkage/febrl/dataset1.csv";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> f;
  for (size_t a = 0;;) {
    const size_t c = line.find(',', a);
    f.push_back(line.substr(a, c == std::string::npos ? std::string::npos : c - a));
    if (c == std::string::npos) break;
    a = c + 1;
  }
  return f;
}

class ClkOutputs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/clkout_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    spec_ = dir_ + "/spec.yaml";
    ASSERT_TRUE(WriteFileAtomic(spec_,
                                "columns:\n  given_name: given_name\n  surname: surname\n  street_number: street_number\n"
                                "  address_1: address_1\n  suburb: suburb\n  postcode: postcode\n"
                                "  state: state\n  date_of_birth: date_of_birth\nid: rec_id\n")
                    .ok());
    Digest kb{};
    kb.fill(7);
    key_ = dir_ + "/k.key";
    ASSERT_TRUE(ProgrammeKey::FromBytes(kb).Save(key_).ok());
    // FEBRL1's CLKs, split: originals left, duplicates right (+ 10 second copies of duplicates).
    LinkRecordsOptions o;
    o.left = kFebrl1;
    o.spec_path = spec_;
    o.mode = "pprl";
    o.key_path = key_;
    o.write_clks = dir_ + "/all.json";
    ASSERT_TRUE(LinkRecords(o).ok());
    auto all = ReadClksJson(dir_ + "/all.json");
    ASSERT_TRUE(all.ok());
    auto text = ReadFile(kFebrl1);
    ASSERT_TRUE(text.ok());
    auto lines = Lines(*text);
    std::vector<uint64_t> left, right;
    std::string truth_all = "entity\n", truth_lr = "entity\n", right_truth;
    int copies = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string id = Split(lines[i])[0];
      const std::string entity = id.substr(0, id.find('-', 4));  // rec-N
      truth_all += entity + "\n";
      const uint64_t* c = &(*all)[(i - 1) * kClkWords];
      if (id.find("-org") != std::string::npos) {
        left.insert(left.end(), c, c + kClkWords);
        truth_lr += entity + "\n";
      } else {
        right.insert(right.end(), c, c + kClkWords);
        right_truth += entity + "\n";
        if (copies++ < 10) {
          std::vector<uint64_t> copy(c, c + kClkWords);
          copy[3] ^= 0x11;  // a copy one bit off each way
          extra_.insert(extra_.end(), copy.begin(), copy.end());
          extra_truth_ += entity + "\n";
        }
      }
    }
    right.insert(right.end(), extra_.begin(), extra_.end());
    ASSERT_TRUE(WriteClksJson(dir_ + "/left.json", left).ok());
    ASSERT_TRUE(WriteClksJson(dir_ + "/right.json", right).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/truth_all.csv", truth_all).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/truth_lr.csv", truth_lr + right_truth + extra_truth_).ok());
    left_n_ = left.size() / kClkWords;
    right_n_ = right.size() / kClkWords;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Checks the pairs and clusters files against the report: linked rows = linked_pairs, distinct
  // clusters = persons, one row per record. Returns cluster sizes by cluster number.
  std::map<std::string, int> CheckFiles(const LinkRecordsReport& r) {
    auto pairs = ReadFile(dir_ + "/pairs.csv");
    auto clusters = ReadFile(dir_ + "/clusters.csv");
    EXPECT_TRUE(pairs.ok() && clusters.ok());
    auto pl = Lines(*pairs);
    EXPECT_EQ(pl[0].rfind("left_id,right_id,match_weight,match_probability,linked,clk_dice,level_clk_0,level_clk_1,explanation", 0),
              0u) << pl[0];  // the two CLK halves (AddClkField)
    uint64_t linked = 0;
    for (size_t i = 1; i < pl.size(); ++i) {
      auto f = Split(pl[i]);
      linked += f[4] == "1";
      const double p = std::stod(f[3]), dice = std::stod(f[5]);
      EXPECT_GE(p, 0.0);
      EXPECT_LE(p, 1.0);
      EXPECT_GT(dice, 0.0);
      EXPECT_NE(f.back().find("clk_0: "), std::string::npos);  // the explanation
    }
    EXPECT_EQ(linked, r.linked_pairs);
    auto cl = Lines(*clusters);
    EXPECT_EQ(cl[0], "file,id,cluster,cluster_size");
    EXPECT_EQ(cl.size() - 1, r.records);
    std::map<std::string, int> size;
    for (size_t i = 1; i < cl.size(); ++i) ++size[Split(cl[i])[2]];
    EXPECT_EQ(size.size(), r.outcome.clusters);
    int largest = 0;
    for (auto& [c, n] : size) largest = std::max(largest, n);
    EXPECT_EQ(static_cast<uint64_t>(largest), r.outcome.clustering.largest);
    return size;
  }
  LinkRecordsOptions Clks() {
    LinkRecordsOptions c;
    c.clks_left = dir_ + "/left.json";
    c.clks_right = dir_ + "/right.json";
    c.truth_path = dir_ + "/truth_lr.csv";
    c.truth_column = "entity";
    c.out_pairs = dir_ + "/pairs.csv";
    c.clusters_out = dir_ + "/clusters.csv";
    return c;
  }
  std::string dir_, spec_, key_, extra_truth_;
  std::vector<uint64_t> extra_;
  size_t left_n_ = 0, right_n_ = 0;
};

TEST_F(ClkOutputs, DedupeWritesPairsAndClustersAndScoresTruth) {
  LinkRecordsOptions c;
  c.clks_left = dir_ + "/all.json";
  c.truth_path = dir_ + "/truth_all.csv";
  c.truth_column = "entity";
  c.out_pairs = dir_ + "/pairs.csv";
  c.clusters_out = dir_ + "/clusters.csv";
  auto r = LinkRecords(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->quality);
  EXPECT_GE(r->quality->f1, 0.95) << r->quality->precision << " " << r->quality->recall;
  EXPECT_EQ(r->quality->true_persons, 500u);
  EXPECT_EQ(r->quality->found_pairs, r->linked_pairs);  // dedupe: each kept link joins two records
  CheckFiles(*r);
}

TEST_F(ClkOutputs, OneToOneAndClusteredAcrossTwoFiles) {
  auto one = LinkRecords(Clks());
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_TRUE(one->quality);
  EXPECT_EQ(one->left_records, left_n_);
  EXPECT_EQ(one->right_records, right_n_);
  EXPECT_GE(one->quality->precision, 0.98);
  auto sizes = CheckFiles(*one);
  for (auto& [c, n] : sizes) EXPECT_LE(n, 2) << "one-to-one: cluster " << c;

  LinkRecordsOptions c = Clks();
  c.clustered = true;
  auto clustered = LinkRecords(c);
  ASSERT_TRUE(clustered.ok()) << clustered.status().message();
  ASSERT_TRUE(clustered->quality);
  sizes = CheckFiles(*clustered);
  int threes = 0;
  for (auto& [k, n] : sizes) threes += n == 3;
  EXPECT_GE(threes, 8) << "the original, its duplicate and the duplicate's copy";
  EXPECT_GT(clustered->quality->recall, one->quality->recall);
  EXPECT_GE(clustered->quality->f1, 0.95);
}

TEST_F(ClkOutputs, TruthFileMustHaveOneRowPerClk) {
  LinkRecordsOptions c = Clks();
  c.truth_path = dir_ + "/truth_all.csv";  // 1000 rows for 1010 CLKs
  auto r = LinkRecords(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truth_all.csv: 1000 rows, expected one per CLK (1010"), std::string::npos)
      << r.status().message();
}

// `ark pseudonymise --write-clks`: the CLKs of records.csv in clks.json, read back by --clks-left.
TEST(PseudonymiseClks, RoundTripThroughClksJson) {
  const std::string root = ::testing::TempDir() + "/pseudo_clks_" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/raw");
  // FEBRL1 as a GP extract: names, date of birth and postcode (no NHS numbers).
  auto febrl = ReadFile(kFebrl1);
  ASSERT_TRUE(febrl.ok());
  auto lines = Lines(*febrl);
  std::string csv =
      "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
      "registered_from,registered_to\n";
  std::string truth = "person\n";
  auto trim = [](std::string t) {
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    return t;
  };
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = Split(lines[i]);  // rec_id, given_name, surname, ..., postcode (7), ..., date_of_birth (9)
    const std::string d = trim(f[9]);
    const std::string dob = d.size() == 8 ? d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6) : "";
    csv += "P" + std::to_string(i) + ",," + trim(f[1]) + "," + trim(f[2]) + "," + dob + ",F," + trim(f[7]) +
           ",E01000001,3,B86001,2015-01-01,\n";
    const std::string id = trim(f[0]);
    truth += id.substr(0, id.find('-', 4)) + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(root + "/raw/patients.csv", csv).ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/raw/events.csv", "patient_id,event_date,snomed_code,value,unit\n").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/raw/optouts.csv", "nhs_number\n").ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/truth.csv", truth).ok());
  Digest kb{};
  kb.fill(9);
  auto spec = BuiltinFeedSpec("gp");
  ASSERT_TRUE(spec.ok());
  auto r = Pseudonymise(*spec, ProgrammeKey::FromBytes(kb), root + "/raw", root + "/out");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto n = ClksJsonFromRecords(root + "/out/records.csv", root + "/clks.json");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1000u);

  // The file is anonlink's format, and holds exactly the records' CLK column.
  auto text = ReadFile(root + "/clks.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("{\"clks\": [\"", 0), 0u);
  auto clks = ReadClksJson(root + "/clks.json");
  ASSERT_TRUE(clks.ok());
  auto records = ReadFile(root + "/out/records.csv");
  auto rl = Lines(*records);
  auto hdr = Split(rl[0]);
  const size_t col = std::find(hdr.begin(), hdr.end(), "clk") - hdr.begin();
  ASSERT_LT(col, hdr.size());
  for (size_t i = 1; i < rl.size(); ++i) {
    EXPECT_EQ(Split(rl[i])[col], Base64Encode(&(*clks)[(i - 1) * kClkWords], kClkWords * 8)) << "record " << i;
  }

  // Read back by --clks-left: most duplicates are found from these CLKs alone (they encode four
  // fields, not FEBRL's addresses: F1 about 0.82).
  LinkRecordsOptions c;
  c.clks_left = root + "/clks.json";
  c.truth_path = root + "/truth.csv";
  c.truth_column = "person";
  auto link = LinkRecords(c);
  ASSERT_TRUE(link.ok()) << link.status().message();
  ASSERT_TRUE(link->quality);
  EXPECT_EQ(link->quality->true_persons, 500u);
  EXPECT_GE(link->quality->f1, 0.75) << link->quality->precision << " " << link->quality->recall;

  // A records.csv without CLKs is refused, naming the file and line.
  ASSERT_TRUE(WriteFileAtomic(root + "/bad.csv", "record,clk\n1,AAAA\n").ok());
  auto bad = ClksJsonFromRecords(root + "/bad.csv", root + "/bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.csv:2: column 'clk'"), std::string::npos) << bad.status().message();
  std::filesystem::remove_all(root);
}

// PPRL term frequencies from bands: a rare keyed surname's exact match weighs more than
// "smith"'s, and without bands the two weigh the same.
TEST(PprlTermFrequency, RareSurnameWeighsMoreFromBands) {
  const std::string root = ::testing::TempDir() + "/pprl_tf_" + std::to_string(::getpid());
  std::filesystem::create_directories(root);
  const char* given[] = {"john", "mary", "ahmed", "lionel", "olga", "sean", "priya", "tomas"};
  std::string csv = "id,given_name,surname,date_of_birth\n";
  for (int i = 0; i < 300; ++i) {
    std::string rare = {char('a' + i % 26), char('a' + i / 26 % 26), 'q', 'x', 'o', 'n'};
    char dob[9];
    std::snprintf(dob, sizeof dob, "%04d%02d%02d", 1940 + i % 60, 1 + i % 12, 1 + i % 28);
    csv += "r" + std::to_string(i) + "," + given[i % 8] + "," + (i % 2 ? "smith" : rare) + "," + dob + "\n";
  }
  csv += "c1,john,smith,19800101\nc2,john,smith,19800101\nz1,john,zebedee,19810202\nz2,john,zebedee,19810202\n";
  ASSERT_TRUE(WriteFileAtomic(root + "/in.csv", csv).ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/spec.yaml",
                              "columns:\n  given_name: given_name\n  surname: surname\n  date_of_birth: date_of_birth\n"
                              "id: id\n").ok());
  Digest kb{};
  kb.fill(3);
  ASSERT_TRUE(ProgrammeKey::FromBytes(kb).Save(root + "/k.key").ok());
  auto weights = [&](uint32_t k) {
    LinkRecordsOptions o;
    o.left = root + "/in.csv";
    o.spec_path = root + "/spec.yaml";
    o.mode = "pprl";
    o.key_path = root + "/k.key";
    o.blip = 0;  // equal values, equal filters: both pairs at the top level of every field
    o.tf_band_k = k;
    auto r = LinkRecords(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::pair<double, double> w{-1e9, -1e9};
    for (auto& p : r->outcome.pairs) {
      if (p.a == 300 && p.b == 301) w.first = p.weight;
      if (p.a == 302 && p.b == 303) w.second = p.weight;
    }
    if (k) EXPECT_EQ(r->outcome.tf_fields, (std::vector<std::string>{"given_name", "surname"}));
    return w;
  };
  auto [smith, rare] = weights(10);
  EXPECT_GT(rare, smith + 2.0) << "smith " << smith << ", zebedee " << rare;
  auto [smith0, rare0] = weights(0);
  EXPECT_NEAR(rare0, smith0, 1e-4);
  std::filesystem::remove_all(root);
}

TEST(PprlTermFrequency, BandsAreCoarseAndNothingBelowK) {
  std::vector<std::string> v;
  auto add = [&](const std::string& s, int n) { for (int i = 0; i < n; ++i) v.push_back(s); };
  add("a", 1), add("b", 9), add("c", 10), add("d", 39), add("e", 40), add("f", 700), add("", 3);
  auto b = FrequencyBands(v, 10);
  auto band_of = [&](const std::string& s) { return b[std::find(v.begin(), v.end(), s) - v.begin()]; };
  EXPECT_EQ(band_of("a"), 0);  // 1 and 9 occurrences: one band, "fewer than k"
  EXPECT_EQ(band_of("b"), 0);
  EXPECT_EQ(band_of("c"), 1);  // [10, 40)
  EXPECT_EQ(band_of("d"), 1);
  EXPECT_EQ(band_of("e"), 2);  // [40, 160)
  EXPECT_EQ(band_of("f"), 4);  // the open top band (>= 640)
  EXPECT_EQ(band_of(""), kNoBand);
  for (uint8_t x = 0; x + 1 < kFrequencyBands; ++x) EXPECT_LT(BandShare(x, 10, 1000), BandShare(x + 1, 10, 1000));
}

}  // namespace
}  // namespace ark
