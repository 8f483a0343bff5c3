// Whole-region tests: one 10,000-person region is generated once and checked against the
// contract of docs/synthetic-region.md (counts, identifiers, error rates, gradients, truth).
#include "synth/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/csv.h"
#include "core/fs.h"
#include "core/time.h"
#include "stats/metrics.h"
#include "synth/names.h"
#include "synth/nhs_number.h"

namespace ark::synth {
namespace {
namespace fs = std::filesystem;

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  size_t Col(const std::string& name) const {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<size_t>(it - header.begin());
  }
};

Table Load(const std::string& path) {
  Table t;
  auto file = CsvFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return t;
  t.header = file->header();
  CsvParser p(file->body(), file->body_first_line());
  std::vector<std::string_view> row;
  for (;;) {
    auto more = p.Next(&row);
    EXPECT_TRUE(more.ok()) << path;
    if (!more.ok() || !*more) break;
    EXPECT_EQ(row.size(), t.header.size()) << path << ":" << p.line();
    t.rows.emplace_back(row.begin(), row.end());
  }
  return t;
}

std::string TempRoot(const std::string& name) {
  return ::testing::TempDir() + "ark_synth_" + name + "_" + std::to_string(::getpid());
}

const char* const kIdentityFiles[][2] = {{"gp", "gp/patients.csv"},
                                         {"acute", "acute/patients.csv"},
                                         {"community", "community/clients.csv"},
                                         {"social_care", "social_care/people.csv"},
                                         {"deaths", "deaths/registrations.csv"}};

class SynthRegion : public ::testing::Test {
 protected:
  static constexpr uint64_t kPeople = 10000;
  static void SetUpTestSuite() {
    dir_ = TempRoot("region");
    SynthOptions o;
    o.people = kPeople;
    o.seed = 7;
    o.out_dir = dir_;
    auto r = GenerateRegion(o);
    status_ = r.status();
    if (r.ok()) summary_ = *r;
  }
  static void TearDownTestSuite() { (void)RemoveAll(dir_); }
  void SetUp() override { ASSERT_TRUE(status_.ok()) << status_.ToString(); }
  static const Table& Get(const std::string& rel) {
    auto it = tables_.find(rel);
    if (it == tables_.end()) it = tables_.emplace(rel, Load(dir_ + "/" + rel)).first;
    return it->second;
  }
  // person_id (truth) of each row of an identity file, by custodian.
  static std::map<std::string, std::vector<uint32_t>> Records() {
    std::map<std::string, std::vector<uint32_t>> out;
    for (const auto& r : Get("truth/records.csv").rows) {
      auto& v = out[r[0]];
      EXPECT_EQ(std::stoul(r[1]), v.size() + 1);
      v.push_back(static_cast<uint32_t>(std::stoul(r[2])));
    }
    return out;
  }
  static std::string dir_;
  static Status status_;
  static SynthSummary summary_;
  static std::map<std::string, Table> tables_;
};
std::string SynthRegion::dir_;
Status SynthRegion::status_;
SynthSummary SynthRegion::summary_;
std::map<std::string, Table> SynthRegion::tables_;

TEST(Synth, SameSeedSameBytesForAnyThreadCount) {
  const std::string a = TempRoot("det_a"), b = TempRoot("det_b"), c = TempRoot("det_c");
  SynthOptions o;
  o.people = 2000;
  o.seed = 99;
  o.out_dir = a, o.threads = 2;
  ASSERT_TRUE(GenerateRegion(o).ok());
  o.out_dir = b, o.threads = 1;
  ASSERT_TRUE(GenerateRegion(o).ok());
  o.out_dir = c, o.threads = 3, o.seed = 100;
  ASSERT_TRUE(GenerateRegion(o).ok());
  int files = 0;
  for (auto& e : fs::recursive_directory_iterator(a)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), a).string();
    EXPECT_EQ(*ReadFile(e.path().string()), *ReadFile(b + "/" + rel)) << rel;
    if (rel == "gp/events.csv") {
      EXPECT_NE(*ReadFile(e.path().string()), *ReadFile(c + "/" + rel));
    }
    ++files;
  }
  EXPECT_EQ(files, 19);  // 13 custodian files, 5 truth files, the manifest
  for (const auto& d : {a, b, c}) (void)RemoveAll(d);
}

TEST(Synth, BadArgumentsAndUnwritableDirectory) {
  SynthOptions o;
  o.out_dir = TempRoot("bad");
  o.people = 0;
  EXPECT_EQ(GenerateRegion(o).status().code(), StatusCode::kInvalidArgument);
  o.people = 100, o.years = 0;
  EXPECT_EQ(GenerateRegion(o).status().code(), StatusCode::kInvalidArgument);
  o.years = 10, o.out_dir = "";
  EXPECT_EQ(GenerateRegion(o).status().code(), StatusCode::kInvalidArgument);
  o.out_dir = "/proc/ark_synth_cannot_write_here";
  auto r = GenerateRegion(o);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(PathExists(o.out_dir + "/manifest.json"));
}

TEST_F(SynthRegion, ManifestCountsMatchFiles) {
  auto m = nlohmann::json::parse(*ReadFile(dir_ + "/manifest.json"));
  EXPECT_EQ(m["people"], kPeople);
  EXPECT_EQ(m["years"], 10);
  EXPECT_EQ(m["seed"], 7);
  EXPECT_EQ(m["start"], "2016-01-01");
  EXPECT_EQ(m["end"], "2025-12-31");
  EXPECT_FALSE(m["custodians"].contains("truth"));
  int files = 0;
  for (auto& [custodian, c] : m["custodians"].items()) {
    for (auto& [file, rows] : c["files"].items()) {
      EXPECT_EQ(Get(custodian + "/" + file).rows.size(), rows.get<size_t>()) << custodian << "/" << file;
      ++files;
    }
  }
  EXPECT_EQ(files, 13);
  EXPECT_EQ(Get("truth/persons.csv").rows.size(), kPeople);
}

TEST_F(SynthRegion, TruthNhsNumbersAreValidAndUnique) {
  std::set<std::string> seen;
  for (const auto& r : Get("truth/persons.csv").rows) {
    EXPECT_TRUE(IsValidNhsNumber(r[1])) << r[1];
    EXPECT_EQ(r[1].substr(0, 3), "999");
    EXPECT_TRUE(seen.insert(r[1]).second) << r[1];
  }
}

TEST_F(SynthRegion, MissingAndInvalidNhsNumbersPerCustodian) {
  // {custodian, expected share missing or invalid, tolerance}
  const std::map<std::string, std::pair<double, double>> expected = {
      {"gp", {0.0, 0.0}}, {"acute", {0.02, 0.01}}, {"community", {0.01, 0.01}},
      {"social_care", {0.15, 0.05}}, {"deaths", {0.005, 0.008}}};
  for (const auto& [custodian, file] : kIdentityFiles) {
    const Table& t = Get(file);
    const size_t col = t.Col(custodian == std::string("acute") ? "nhs_no" : "nhs_number");
    size_t missing = 0, invalid = 0;
    for (const auto& r : t.rows) {
      std::string digits;
      for (char c : r[col]) if (c != ' ') digits.push_back(c);
      if (digits.empty()) ++missing;
      else if (!IsValidNhsNumber(digits)) ++invalid;
    }
    const double share = static_cast<double>(missing + invalid) / static_cast<double>(t.rows.size());
    const auto [want, tol] = expected.at(custodian);
    EXPECT_NEAR(share, want, tol) << custodian << " missing " << missing << " invalid " << invalid;
    if (want >= 0.01) {
      EXPECT_GT(missing, 0u) << custodian;
      EXPECT_GT(invalid, 0u) << custodian;
    }
  }
  EXPECT_EQ(Get("acute/patients.csv").rows[0][1].size(), 12u);  // "999 123 4567"
}

TEST_F(SynthRegion, OptOutsAboutThreePercent) {
  const Table& truth = Get("truth/optouts.csv");
  const Table& gp = Get("gp/optouts.csv");
  EXPECT_EQ(truth.rows.size(), gp.rows.size());
  EXPECT_NEAR(static_cast<double>(truth.rows.size()) / kPeople, 0.03, 0.006);
  std::set<std::string> nhs;
  for (const auto& r : gp.rows) nhs.insert(r[0]);
  const Table& persons = Get("truth/persons.csv");
  for (const auto& r : truth.rows) EXPECT_TRUE(nhs.count(persons.rows[std::stoul(r[0]) - 1][1]));
}

TEST_F(SynthRegion, EventsPerPersonInRange) {
  const double per_person = static_cast<double>(summary_.event_rows) / kPeople;
  EXPECT_GE(per_person, 45);
  EXPECT_LE(per_person, 75);
  EXPECT_GT(Get("truth/episodes.csv").rows.size(), kPeople);
}

TEST_F(SynthRegion, TruthRecordsCoverEveryIdentityRow) {
  auto records = Records();
  for (const auto& [custodian, file] : kIdentityFiles) {
    EXPECT_EQ(records[custodian].size(), Get(file).rows.size()) << custodian;
    for (uint32_t p : records[custodian]) {
      EXPECT_GE(p, 1u);
      EXPECT_LE(p, kPeople);
    }
  }
  // Deaths: one registration per person who died, matching truth.
  std::set<uint32_t> dead;
  for (const auto& r : Get("truth/persons.csv").rows)
    if (!r[7].empty()) dead.insert(static_cast<uint32_t>(std::stoul(r[0])));
  EXPECT_EQ(std::set<uint32_t>(records["deaths"].begin(), records["deaths"].end()), dead);
  EXPECT_NEAR(static_cast<double>(dead.size()) / kPeople / 10, 0.0095, 0.003);  // deaths per person-year
}

TEST_F(SynthRegion, EmergencyAdmissionsFollowDeprivation) {
  const Table& persons = Get("truth/persons.csv");
  std::map<std::string, uint32_t> mrn_person;
  const auto records = Records();
  const Table& patients = Get("acute/patients.csv");
  for (size_t i = 0; i < patients.rows.size(); ++i) mrn_person[patients.rows[i][0]] = records.at("acute")[i];
  double people[11] = {}, admissions[11] = {};
  for (const auto& r : persons.rows) people[std::stoi(r[5])] += 1;
  for (const auto& r : Get("acute/inpatient_spells.csv").rows) {
    if (r[3] != "21" && r[3] != "22" && r[3] != "28") continue;
    admissions[std::stoi(persons.rows[mrn_person.at(r[1]) - 1][5])] += 1;
  }
  const double deprived = (admissions[1] + admissions[2]) / (people[1] + people[2]);
  const double affluent = (admissions[9] + admissions[10]) / (people[9] + people[10]);
  EXPECT_GT(deprived, 1.3 * affluent) << deprived << " vs " << affluent;
}

TEST_F(SynthRegion, IdsResolveAndRowsAreInTimeOrder) {
  std::set<std::string> gp_ids, mrns, clients, social, spells;
  for (const auto& r : Get("gp/patients.csv").rows) EXPECT_TRUE(gp_ids.insert(r[0]).second);
  for (const auto& r : Get("acute/patients.csv").rows) EXPECT_TRUE(mrns.insert(r[0]).second);
  for (const auto& r : Get("community/clients.csv").rows) EXPECT_TRUE(clients.insert(r[0]).second);
  for (const auto& r : Get("social_care/people.csv").rows) EXPECT_TRUE(social.insert(r[0]).second);
  for (const auto& r : Get("acute/inpatient_spells.csv").rows) spells.insert(r[0]);
  auto check = [&](const std::string& file, size_t id_col, const std::set<std::string>& ids, size_t time_col) {
    const Table& t = Get(file);
    for (size_t i = 0; i < t.rows.size(); ++i) {
      EXPECT_TRUE(ids.count(t.rows[i][id_col])) << file << " row " << i + 1;
      if (i > 0) {
        EXPECT_LE(t.rows[i - 1][time_col], t.rows[i][time_col]) << file << " row " << i + 1;
      }
    }
  };
  check("gp/events.csv", 0, gp_ids, 1);
  check("acute/ae_attendances.csv", 1, mrns, 2);
  check("acute/inpatient_spells.csv", 1, mrns, 2);
  check("acute/lab_results.csv", 0, mrns, 1);
  check("community/contacts.csv", 0, clients, 1);
  check("social_care/assessments.csv", 0, social, 1);
  check("social_care/services.csv", 0, social, 2);
  size_t with_spell = 0;
  for (const auto& r : Get("acute/lab_results.csv").rows) {
    if (r[5].empty()) continue;
    ++with_spell;
    EXPECT_TRUE(spells.count(r[5])) << r[5];
  }
  EXPECT_GT(with_spell, 0u);
}

TEST_F(SynthRegion, NamesOnlyInNameColumns) {
  std::set<std::string> names;
  for (std::string_view n : AllNames()) {
    std::string lower(n);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.insert(lower);
  }
  const std::set<std::string> name_columns = {"given_name", "family_name", "forename", "surname", "first_name",
                                              "last_name",  "first_names", "forenames"};
  for (auto& e : fs::recursive_directory_iterator(dir_)) {
    if (e.path().extension() != ".csv") continue;
    const std::string rel = fs::relative(e.path(), dir_).string();
    const Table& t = Get(rel);
    for (size_t c = 0; c < t.header.size(); ++c) {
      if (name_columns.count(t.header[c])) continue;
      EXPECT_EQ(t.header[c].find("name"), std::string::npos) << rel << ": " << t.header[c];
      for (size_t i = 0; i < t.rows.size() && i < 20000; ++i) {
        std::string token;
        for (char ch : t.rows[i][c] + " ") {
          if (std::isalpha(static_cast<unsigned char>(ch))) {
            token.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
          } else {
            if (token.size() >= 3) {
              EXPECT_FALSE(names.count(token)) << rel << ": " << t.header[c] << " = " << t.rows[i][c];
            }
            token.clear();
          }
        }
      }
    }
  }
}

TEST_F(SynthRegion, CustodiansDisagreeLikeRealOnes) {
  const Table& persons = Get("truth/persons.csv");
  const auto records = Records();
  size_t total = 0, swapped = 0, other_dob = 0;
  // Date of birth as recorded vs truth, for every identity file (formats differ by custodian).
  auto iso = [](const std::string& s, const std::string& custodian) {
    if (custodian == "acute" || custodian == "social_care") return s.substr(6, 4) + "-" + s.substr(3, 2) + "-" + s.substr(0, 2);
    if (custodian == "community") return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2);
    return s;
  };
  for (const auto& [custodian, file] : kIdentityFiles) {
    const Table& t = Get(file);
    const size_t col = t.Col(custodian == std::string("acute") ? "dob" : custodian == std::string("community") ? "birth_date" : "date_of_birth");
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const std::string truth = persons.rows[records.at(custodian)[i] - 1][3];
      const std::string got = iso(t.rows[i][col], custodian);
      ++total;
      if (got == truth) continue;
      if (got.substr(0, 4) == truth.substr(0, 4) && got.substr(5, 2) == truth.substr(8, 2) && got.substr(8, 2) == truth.substr(5, 2)) ++swapped;
      else ++other_dob;
    }
  }
  EXPECT_EQ(other_dob, 0u);
  EXPECT_NEAR(static_cast<double>(swapped) / total, 0.01, 0.006);

  // Names: acute records vs the person's GP records (both custodians make errors).
  std::map<uint32_t, std::set<std::string>> gp_names;
  const Table& gp = Get("gp/patients.csv");
  auto upper = [](std::string s) { for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); return s; };
  for (size_t i = 0; i < gp.rows.size(); ++i) gp_names[records.at("gp")[i]].insert(upper(gp.rows[i][2] + " " + gp.rows[i][3]));
  const Table& acute = Get("acute/patients.csv");
  size_t compared = 0, differ = 0;
  for (size_t i = 0; i < acute.rows.size(); ++i) {
    auto it = gp_names.find(records.at("acute")[i]);
    if (it == gp_names.end()) continue;
    ++compared;
    differ += !it->second.count(upper(acute.rows[i][2] + " " + acute.rows[i][3]));
  }
  const double share = static_cast<double>(differ) / compared;
  EXPECT_GT(share, 0.05);
  EXPECT_LT(share, 0.2);
  // Some people have two mrns; GP registrations outnumber people with a practice.
  EXPECT_GT(records.at("acute").size(), std::set<uint32_t>(records.at("acute").begin(), records.at("acute").end()).size());
  EXPECT_GT(gp.rows.size(), gp_names.size());
}

TEST_F(SynthRegion, PathwaysAndServiceLevels) {
  std::map<std::string, std::set<std::string>> activities;
  for (const auto& r : Get("truth/episodes.csv").rows) activities[r[1]].insert(r[5]);
  for (const char* p : {"copd", "falls", "aki", "diabetes", "sepsis"}) EXPECT_FALSE(activities[p].empty()) << p;
  EXPECT_TRUE(activities["copd"].count("readmission"));
  EXPECT_TRUE(activities["falls"].count("medically_fit"));
  EXPECT_TRUE(activities["falls"].count("care_home_admission"));
  EXPECT_TRUE(activities["aki"].count("aki_stage_3"));
  EXPECT_TRUE(activities["sepsis"].count("died"));
  EXPECT_TRUE(activities["diabetes"].count("treatment_intensified"));
  // A&E: 75-85% leave within four hours.
  const Table& ae = Get("acute/ae_attendances.csv");
  size_t within = 0;
  for (const auto& r : ae.rows) {
    auto t = [](const std::string& s) { return *ParseTime(s, "%Y-%m-%d %H:%M"); };
    within += t(r[3]) - t(r[2]) <= 4 * 3600;
  }
  EXPECT_NEAR(static_cast<double>(within) / ae.rows.size(), 0.8, 0.05);
  // Never registered with a GP: about 2%.
  const Table& persons = Get("truth/persons.csv");
  size_t unregistered = 0;
  for (const auto& r : persons.rows) unregistered += r[6].empty();
  EXPECT_NEAR(static_cast<double>(unregistered) / kPeople, 0.02, 0.012);
}

}  // namespace
}  // namespace ark::synth

namespace ark::synth {
namespace {

// truth/emergency_risk.csv: the outcome column agrees with the trust's extract, the true
// probabilities add up to what happened (within 4 standard errors of the sum of independent
// Bernoulli(p) outcomes: sqrt(sum p(1-p)), about 27 admissions here), and they rank people
// better than chance (oracle AUROC by the Mann-Whitney statistic).
TEST_F(SynthRegion, EmergencyRiskTruthMatchesWhatHappened) {
  const Table& patients = Get("acute/patients.csv");
  const auto records = Records();
  const std::vector<uint32_t>& acute = records.at("acute");
  ASSERT_EQ(acute.size(), patients.rows.size());
  std::map<std::string, uint32_t> mrn_person;
  for (size_t i = 0; i < patients.rows.size(); ++i) mrn_person[patients.rows[i][patients.Col("mrn")]] = acute[i];
  const Table& spells = Get("acute/inpatient_spells.csv");
  std::set<uint32_t> admitted;
  for (const auto& r : spells.rows) {
    const std::string& method = r[spells.Col("admission_method")];
    const std::string day = r[spells.Col("admitted")].substr(0, 10);
    if ((method == "21" || method == "22" || method == "28") && day >= "2025-01-01" && day <= "2025-12-31")
      admitted.insert(mrn_person.at(r[spells.Col("mrn")]));
  }

  const Table& risk = Get("truth/emergency_risk.csv");
  ASSERT_GT(risk.rows.size(), kPeople * 8 / 10);
  double sum_p = 0, var = 0;
  size_t events = 0;
  std::vector<std::pair<double, int>> scored;
  for (const auto& r : risk.rows) {
    ASSERT_EQ(r[1], "2025-01-01");
    const double p = std::stod(r[2]);
    ASSERT_GE(p, 0.0);
    ASSERT_LE(p, 1.0);
    const int y = r[3] == "1" ? 1 : 0;
    EXPECT_EQ(y, static_cast<int>(admitted.count(static_cast<uint32_t>(std::stoul(r[0]))))) << "person " << r[0];
    sum_p += p, var += p * (1 - p), events += static_cast<size_t>(y);
    scored.push_back({p, y});
  }
  EXPECT_GT(events, 100u);
  EXPECT_NEAR(sum_p, static_cast<double>(events), 4 * std::sqrt(var));

  // AUROC = P(score of a case > score of a non-case), ties counting half.
  std::sort(scored.begin(), scored.end());
  double rank_sum = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    const double mid_rank = (static_cast<double>(i + j) + 1) / 2;
    for (size_t k = i; k < j; ++k)
      if (scored[k].second) rank_sum += mid_rank;
    i = j;
  }
  const double n1 = static_cast<double>(events), n0 = static_cast<double>(scored.size() - events);
  const double auroc = (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0);
  EXPECT_GT(auroc, 0.5);
  // The truth is calibrated in shape too: logistic recalibration slope near 1 (its standard
  // error here is about 0.04; 0.15 is well beyond chance).
  std::vector<double> p;
  std::vector<int> y;
  for (const auto& [score, outcome] : scored) p.push_back(score), y.push_back(outcome);
  auto cal = stats::Calibrate(p, y);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  EXPECT_NEAR(cal->slope, 1, 0.15);
  std::printf("emergency risk truth: %zu people, %zu admitted, sum p %.1f (sd %.1f), oracle AUROC %.4f, slope %.3f\n",
              scored.size(), events, sum_p, std::sqrt(var), auroc, cal->slope);
}

}  // namespace
}  // namespace ark::synth
