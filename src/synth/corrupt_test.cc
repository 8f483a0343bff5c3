// The second error model (synth/corrupt.h): each error kind is applied and does what it says;
// same seed, same bytes; row order kept.
#include "synth/corrupt.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/csv.h"
#include "core/fs.h"
#include "synth/nhs_number.h"
#include "synth/synth.h"

namespace ark::synth {
namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) if (header[i] == name) return static_cast<int>(i);
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
};

Table Load(const std::string& path) {
  Table t;
  auto f = CsvFile::Open(path);
  EXPECT_TRUE(f.ok()) << path;
  if (!f.ok()) return t;
  t.header = f->header();
  EXPECT_TRUE(f->ForEachRow([&](int64_t, const std::vector<std::string_view>& row) {
                 t.rows.emplace_back(row.begin(), row.end());
                 return Status::OK();
               }).ok());
  return t;
}

struct Cols {
  const char *file, *nhs, *given, *family, *dob, *postcode;
};
const std::map<std::string, Cols> kCols = {
    {"gp", {"gp/patients.csv", "nhs_number", "given_name", "family_name", "date_of_birth", "postcode"}},
    {"acute", {"acute/patients.csv", "nhs_no", "forename", "surname", "dob", "postcode"}},
    {"community", {"community/clients.csv", "nhs_number", "first_name", "last_name", "birth_date", "postcode"}},
    {"social_care", {"social_care/people.csv", "nhs_number", "first_names", "surname", "date_of_birth", "postcode"}},
    {"deaths", {"deaths/registrations.csv", "nhs_number", "forenames", "surname", "date_of_birth", "postcode"}},
};

TEST(CorruptModel2, AppliesEveryKindAsDocumentedAndIsDeterministic) {
  const std::string root = ::testing::TempDir() + "ark_corrupt_" + std::to_string(::getpid());
  const std::string a = root + "/a", b = root + "/b";
  SynthOptions so;
  so.people = 1500;
  so.years = 2;
  so.seed = 5;
  so.out_dir = a;
  ASSERT_TRUE(GenerateRegion(so).ok());
  std::filesystem::copy(a, b, std::filesystem::copy_options::recursive);
  std::map<std::string, Table> before;
  for (auto& [c, k] : kCols) before[c] = Load(a + "/" + k.file);

  CorruptOptions o;
  o.region_dir = a;
  o.seed = 11;
  o.rate_scale = 4;  // enough records of every kind in a small region
  auto r = CorruptRegion(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const char* kind : {"ocr_name", "ocr_dob", "ocr_nhs", "swapped_names", "day_month", "missing_postcode",
                           "nickname", "moved", "twin"}) {
    EXPECT_GT(r->by_kind[kind], 0u) << kind;
  }

  // Each logged change, where it is the record's only one, is what the kind says.
  std::map<std::string, Table> after;
  for (auto& [c, k] : kCols) {
    after[c] = Load(a + "/" + k.file);
    ASSERT_EQ(after[c].rows.size(), before[c].rows.size()) << c;
  }
  Table log = Load(a + "/truth/model2_errors.csv");
  std::map<std::pair<std::string, size_t>, std::vector<std::string>> kinds;
  for (auto& row : log.rows) kinds[{row[0], std::stoul(row[1])}].push_back(row[2]);
  std::map<std::string, int> checked;
  size_t unlogged_changes = 0;
  for (auto& [c, k] : kCols) {
    const Table &x = before[c], &y = after[c];
    const int nhs = x.Col(k.nhs), g = x.Col(k.given), f = x.Col(k.family), d = x.Col(k.dob), p = x.Col(k.postcode);
    for (size_t i = 0; i < x.rows.size(); ++i) {
      auto it = kinds.find({c, i + 1});
      if (it == kinds.end()) {
        unlogged_changes += x.rows[i] != y.rows[i];
        continue;
      }
      if (it->second.size() != 1) continue;
      const std::string& kind = it->second[0];
      const auto &u = x.rows[i], &v = y.rows[i];
      ++checked[kind];
      if (kind == "swapped_names") {
        EXPECT_EQ(v[g], u[f]);
        EXPECT_EQ(v[f], u[g]);
      } else if (kind == "missing_postcode") {
        EXPECT_TRUE(v[p].empty());
        EXPECT_FALSE(u[p].empty());
      } else if (kind == "moved") {
        EXPECT_NE(v[p], u[p]);
        EXPECT_FALSE(v[p].empty());
      } else if (kind == "ocr_nhs") {
        EXPECT_NE(v[nhs], u[nhs]);
        auto digits = [](std::string t) { return t.erase(0, 0), std::erase(t, ' '), t; };
        if (IsValidNhsNumber(digits(u[nhs]))) EXPECT_FALSE(IsValidNhsNumber(digits(v[nhs]))) << v[nhs];
      } else if (kind == "ocr_dob" || kind == "day_month") {
        EXPECT_NE(v[d], u[d]);
        EXPECT_EQ(v[d].size(), u[d].size());
        EXPECT_EQ(v[g], u[g]);
      } else if (kind == "nickname") {
        EXPECT_NE(v[g], u[g]);
        EXPECT_LT(v[g].size(), u[g].size() + 2);
      } else if (kind == "ocr_name") {
        EXPECT_TRUE(v[g] != u[g] || v[f] != u[f]);
        EXPECT_EQ(v[d], u[d]);
      } else if (kind == "twin") {
        EXPECT_EQ(v[g], u[g]);    // own given name
        EXPECT_EQ(v[nhs], u[nhs]);  // own NHS number
      }
    }
  }
  EXPECT_EQ(unlogged_changes, 0u);
  for (const char* kind : {"ocr_name", "ocr_dob", "ocr_nhs", "swapped_names", "day_month", "missing_postcode",
                           "nickname", "moved", "twin"}) {
    EXPECT_GT(checked[kind], 0) << kind;
  }

  // Same seed on a copy: the same bytes.
  o.region_dir = b;
  ASSERT_TRUE(CorruptRegion(o).ok());
  for (auto& [c, k] : kCols) {
    EXPECT_EQ(*ReadFile(a + "/" + k.file), *ReadFile(b + "/" + k.file)) << c;
  }
  (void)RemoveAll(root);
}

TEST(CorruptModel2, MissingRegionNamesTheFile) {
  CorruptOptions o;
  o.region_dir = ::testing::TempDir() + "no_such_region_" + std::to_string(::getpid());
  auto r = CorruptRegion(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("gp/patients.csv"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace ark::synth
