#include "link/encoded_rows.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "link/outcome_testing.h"
#include "link/probabilistic.h"
#include "privacy/bloom.h"
#include "privacy/key.h"

namespace ark {
namespace {

// Rows read back as written, in memory and in a file whose pages are dropped all the time.
TEST(EncodedRows, RowsReadBackAsWrittenInMemoryAndInAFile) {
  const std::string dir = LinkTestDir("encoded_rows");
  std::mt19937_64 rng(7);
  const size_t nf = 3, n = 5000;
  std::vector<std::vector<uint64_t>> filters(n), clks(n);
  std::vector<uint64_t> present(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t w = 0; w < nf * kFieldWords; ++w) filters[i].push_back(rng());
    for (int w = 0; w < kClkWords; ++w) clks[i].push_back(rng());
    present[i] = rng() & 7;
  }
  for (const std::string& where : {std::string(), dir}) {
    auto rows = EncodedRows::Create(nf, /*with_clk=*/true, where);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE((*rows)->Append(filters[i].data(), present[i], clks[i].data()).ok());
    ASSERT_TRUE((*rows)->Finish(/*resident_budget=*/1, /*threads=*/1).ok());
    const EncodedRows& r = **rows;
    EXPECT_EQ(r.in_file(), !where.empty());
    ASSERT_EQ(r.size(), n);
    EXPECT_FALSE((*rows)->Append(filters[0].data(), 0, clks[0].data()).ok());  // finished
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < n; ++i) {
        r.Pace();
        ASSERT_EQ(r.PresentBits(i), present[i]) << i;
        for (size_t f = 0; f < nf; ++f)
          ASSERT_TRUE(std::equal(r.Filter(i, f), r.Filter(i, f) + kFieldWords, filters[i].begin() + f * kFieldWords));
        ASSERT_TRUE(std::equal(r.Clk(i), r.Clk(i) + kClkWords, clks[i].begin())) << i;
        if (i % 1000 == 999) r.DropRows(i - 999, i + 1);
      }
      r.Drop();
    }
  }
  // The file had no name: nothing is left in the folder.
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_FALSE(EncodedRows::Create(1, true, dir + "/no/such/folder").ok());
  std::filesystem::remove_all(dir);
}

// Encoded records of people with typos, repeats and missing values, as `ark link` gets them;
// with `grouped`, about 7 in 10 records carry their person's group (as a valid NHS number does).
LinkInput MakeInput(size_t people, bool grouped = false) {
  Digest kb{};
  kb.fill(3);
  const Encoder enc(ProgrammeKey::FromBytes(kb), ArkEncodedFields());
  const std::vector<std::string> given = {"anna", "ben", "carla", "david", "emma", "farid", "grace", "hugo"};
  const std::vector<std::string> surname = {"smith", "jones", "taylor", "brown", "patel", "khan", "evans", "wilson", "ali"};
  std::mt19937_64 rng(11);
  LinkInput in;
  in.fields = ArkEncodedFields();
  in.encoded = true;
  const size_t nf = in.fields.size();
  in.filters.resize(nf);
  in.present.resize(nf);
  in.blocking.resize(kNameRules + kLshBands);
  uint64_t salt = 0;
  for (size_t p = 0; p < people; ++p) {
    std::vector<std::string> v = {given[rng() % given.size()], surname[rng() % surname.size()],
                                  std::to_string(1930 + rng() % 80) + "0" + std::to_string(1 + rng() % 9) + "1" +
                                      std::to_string(rng() % 9),
                                  "LS" + std::to_string(1 + rng() % 9) + std::to_string(rng() % 10) + "AB",
                                  rng() % 2 ? "M" : "F"};
    const int copies = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < copies; ++c) {
      std::vector<std::string> w = v;
      if (c > 0 && rng() % 3 == 0) w[1][rng() % w[1].size()] = 'x';  // a typo
      if (c > 0 && rng() % 5 == 0) w[3].clear();                      // a missing postcode
      std::vector<std::string> norm(nf);
      for (size_t f = 0; f < nf; ++f) norm[f] = NormaliseValue(in.fields[f].kind, w[f]);
      const RecordEncoding e = enc.Encode(norm, ++salt);
      for (size_t f = 0; f < nf; ++f) {
        in.filters[f].insert(in.filters[f].end(), e.fields.begin() + f * kFieldWords, e.fields.begin() + (f + 1) * kFieldWords);
        in.present[f].push_back(e.present[f]);
      }
      in.clk.insert(in.clk.end(), e.clk.begin(), e.clk.end());
      for (size_t k = 0; k < in.blocking.size(); ++k) in.blocking[k].push_back(e.blocking[k]);
      in.source.push_back(c == 0 ? 0 : 1);
      if (grouped) in.group.push_back(rng() % 10 < 7 ? static_cast<uint32_t>(p) : LinkInput::kNoGroup);
      ++in.n;
    }
  }
  return in;
}

// The same input as `in`, its encodings as rows (in a file in `dir`), the name rules' keys in
// key columns (another file in `dir`) and the LSH bands' columns left empty, as `ark link` gives it.
LinkInput AsRows(const LinkInput& in, const std::string& dir) {
  LinkInput out = in;
  const size_t nf = in.fields.size();
  auto rows = EncodedRows::Create(nf, /*with_clk=*/true, dir);
  EXPECT_TRUE(rows.ok());
  std::vector<uint64_t> filters(nf * kFieldWords);
  for (size_t i = 0; i < in.n; ++i) {
    uint64_t bits = 0;
    for (size_t f = 0; f < nf; ++f) {
      std::copy_n(&in.filters[f][i * kFieldWords], kFieldWords, &filters[f * kFieldWords]);
      bits |= uint64_t{in.present[f][i] != 0} << f;
    }
    EXPECT_TRUE((*rows)->Append(filters.data(), bits, &in.clk[i * kClkWords]).ok());
  }
  EXPECT_TRUE((*rows)->Finish(/*resident_budget=*/1, /*threads=*/2).ok());
  out.rows = std::move(*rows);
  out.filters.clear();
  out.present.clear();
  out.clk.clear();
  for (int b = 0; b < kLshBands; ++b) out.blocking[kNameRules + b].clear();
  auto keys = KeyColumns::Create(kNameRules, dir);
  EXPECT_TRUE(keys.ok());
  std::vector<uint64_t> k(kNameRules);
  for (size_t i = 0; i < in.n; ++i) {
    for (int r = 0; r < kNameRules; ++r) k[r] = in.blocking[r][i];
    EXPECT_TRUE((*keys)->Append(k.data()).ok());
  }
  EXPECT_TRUE((*keys)->Finish().ok());
  out.blocking_columns = std::move(*keys);
  for (int r = 0; r < kNameRules; ++r) out.blocking[r].clear();
  return out;
}

// Records given as rows in a file (LinkInput::rows, the LSH bands recomputed from the rows'
// CLKs, its pages dropped at every turn), their name rules' keys in a file and their blocks in a
// file, link exactly as the same records given as columns with their blocks in memory.
TEST(EncodedRows, LinkageOnRowsInAFileEqualsLinkageOnColumns) {
  const std::string dir = LinkTestDir("encoded_rows_link");
  LinkInput columns = MakeInput(3000);
  ASSERT_GT(columns.n, 4000u);
  LinkOptions opt;
  opt.all_pairs_up_to = 0;     // blocking only, so that the rules and LSH bands make the pairs
  opt.min_rule_pairs = 2000;   // small budgets: the bands widen and the name rules are refined
  opt.lsh_pairs_per_record = 0.5;
  opt.chunk_pairs = 5000;
  auto x = LinkProbabilistic(columns, opt);  // no spill folder: the blocks in memory
  opt.spill_dir = dir;
  ASSERT_TRUE(x.ok()) << x.status().message();
  LinkInput rows = AsRows(columns, dir);
  auto y = LinkProbabilisticReleasing(&rows, opt);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_GT(x->lsh_bits, kLshBits);
  EXPECT_GT(std::count_if(x->rule_refine_bits.begin(), x->rule_refine_bits.end(), [](int b) { return b > 0; }), 0);
  ASSERT_GT(x->clusters, 0u);
  ExpectSameLinkOutcome(*x, *y);

  // With CLK fields (AddClkField), some records having nothing but their CLK.
  std::vector<uint8_t> clk_only(columns.n, 0);
  for (size_t i = 0; i < columns.n; i += 7) clk_only[i] = 1;
  LinkInput columns2 = MakeInput(3000);
  LinkInput rows2 = AsRows(columns2, dir);
  AddClkField(&columns2, clk_only);
  AddClkField(&rows2, clk_only);
  EXPECT_EQ(columns2.dice_cuts, rows2.dice_cuts);
  auto x2 = LinkProbabilistic(columns2, opt);
  ASSERT_TRUE(x2.ok()) << x2.status().message();
  auto y2 = LinkProbabilistic(rows2, opt);
  ASSERT_TRUE(y2.ok()) << y2.status().message();
  ExpectSameLinkOutcome(*x2, *y2);

  // Rows that do not fit the input are refused, not read past their end.
  LinkInput bad = AsRows(columns, dir);
  bad.n -= 1;
  EXPECT_FALSE(LinkProbabilistic(bad, opt).ok());
  LinkInput bad_keys = AsRows(columns, dir);
  bad_keys.blocking_columns = AsRows(MakeInput(100), dir).blocking_columns;
  auto refused = LinkProbabilistic(bad_keys, opt);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("blocking key columns"), std::string::npos) << refused.status().message();
  std::filesystem::remove_all(dir);
}

// Without the weak kept pairs in LinkOutcome::pairs (as `ark link` runs), the pairs of two
// grouped records are not held there either: the clustering reads them from the weak pairs' file
// for its coherence sums (every merge sums them: score limit 0) and makes the same clusters.
TEST(EncodedRows, GroupedPairsReadFromTheWeakFileGiveTheSameClusters) {
  const std::string dir = LinkTestDir("grouped_pairs");
  const LinkInput in = MakeInput(2000, /*grouped=*/true);
  LinkOptions all;
  all.all_pairs_up_to = 0;
  all.cluster_score_limit = 0;
  all.skip_grouped_pairs = false;  // as `ark link` runs: grouped pairs are compared and train m
  all.review_band = std::array<double, 2>{0.05, 0.5};
  auto x = LinkProbabilistic(in, all);
  ASSERT_TRUE(x.ok()) << x.status().message();
  LinkOptions strong = all;
  strong.keep_weak_pairs = false;
  strong.spill_dir = dir;
  strong.chunk_pairs = 5000;
  auto y = LinkProbabilistic(in, strong);
  ASSERT_TRUE(y.ok()) << y.status().message();
  auto grouped = [&](const ScoredPair& p) {
    return in.group[p.a] != LinkInput::kNoGroup && in.group[p.b] != LinkInput::kNoGroup;
  };
  EXPECT_GT(std::count_if(x->pairs.begin(), x->pairs.end(),
                          [&](const ScoredPair& p) { return grouped(p) && p.weight >= x->threshold_weight; }),
            0);
  EXPECT_EQ(std::count_if(y->pairs.begin(), y->pairs.end(), grouped), 0);
  EXPECT_GT(y->pairs.size(), 0u);
  EXPECT_EQ(x->cluster, y->cluster);
  EXPECT_EQ(x->clusters, y->clusters);
  EXPECT_GT(x->clustering.merges, 0u);
  EXPECT_EQ(x->clustering.merges, y->clustering.merges);
  EXPECT_EQ(x->clustering.incoherent_merges, y->clustering.incoherent_merges);
  EXPECT_EQ(x->clustering.expected_false_merges, y->clustering.expected_false_merges);
  EXPECT_EQ(x->refused_merges, y->refused_merges);
  EXPECT_EQ(x->review.size(), y->review.size());
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ark
