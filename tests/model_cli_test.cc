// `ark model train` through the binary (docs/risk-models.md): in an approved planning project by
// one of its people it writes the model and its card and records the run; anyone else is
// refused with nothing written, and so is a research project; a bad model file is named with
// its line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/process.h"
#include "demo_ark.h"

namespace {

namespace fs = std::filesystem;

using ark::test::Sh;
using ark::test::Slurp;

TEST(ModelCli, TrainInProjectWritesCardAndRefusesOthers) {
  const fs::path root = fs::temp_directory_path() / ("ark_model_cli_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string ark = ARK_BINARY, src = ARK_SOURCE_DIR;
  std::string out;
  ASSERT_EQ(Sh(ark + " demo --people 3000 --years 3 --out " + (root / "d").string(), &out), 0) << out;
  const std::string ark_dir = (root / "d" / "ark").string(), model = src + "/models/emergency_admission_12m.yaml";
  std::map<std::string, std::string> token = ark::test::ReadTokens(root / "d" / "governance" / "tokens.env");
  auto as = [&](const std::string& user, const std::string& who, const std::string& args) {
    return Sh("ARK_TOKEN=" + token[user] + " " + ark + " model train " + ark_dir + " " + args + " --project demo-planning --as " + who, &out);
  };

  ASSERT_EQ(as("ANA", "ana", model + " --out " + (root / "m").string()), 0) << out;
  EXPECT_NE(out.find("in project demo-planning"), std::string::npos) << out;
  const auto card = nlohmann::json::parse(Slurp(root / "m" / "model_card.json"));
  const auto& v = card["performance"]["temporal_validation"];
  EXPECT_EQ(v["index_date"], "2025-01-01");
  EXPECT_EQ(card["data"]["training"]["index_date"], "2024-01-01");
  const double auc = v["auroc"]["estimate"];
  EXPECT_GT(auc, 0.6);
  EXPECT_LE(v["auroc"]["ci95"][0].get<double>(), auc);
  for (const char* g : {"deprivation_quintile", "sex_recorded", "age_band"}) EXPECT_TRUE(v["fairness"].contains(g)) << g;
  EXPECT_EQ(card["purpose"], "planning");
  const auto m = nlohmann::json::parse(Slurp(root / "m" / "model.json"));
  EXPECT_EQ(m["features"].size(), 21u);
  EXPECT_EQ(m["horizon_days"], 365);
  EXPECT_NE(Slurp(root / "m" / "model_card.html").find("Fairness"), std::string::npos);
  // The run is on the ledger with the definition's hash.
  EXPECT_NE(Slurp(fs::path(ark_dir) / "ledger" / "entries.jsonl").find(m["definition_sha256"].get<std::string>()), std::string::npos);

  // Not one of the project's people; a wrong token: refused, nothing written.
  EXPECT_NE(as("OLU", "olu", model + " --out " + (root / "m2").string()), 0);
  EXPECT_NE(as("OLU", "ana", model + " --out " + (root / "m3").string()), 0);
  EXPECT_FALSE(fs::exists(root / "m2"));
  EXPECT_FALSE(fs::exists(root / "m3"));

  // An approved research project: refused (risk models are for planning or direct care), logged.
  const std::string project = " project create " + ark_dir + " res --title t --purpose research --legal-basis b "
                              "--datasets acute,community,deaths,gp,social_care --people ana --start 2000-01-01 --end 2999-12-31";
  ASSERT_EQ(Sh("ARK_TOKEN=" + token["ANA"] + " " + ark + project + " --as ana", &out), 0) << out;
  ASSERT_EQ(Sh("ARK_TOKEN=" + token["ADMIN"] + " " + ark + " project approve " + ark_dir + " res --as admin", &out), 0) << out;
  EXPECT_NE(Sh("ARK_TOKEN=" + token["ANA"] + " " + ark + " model train " + ark_dir + " " + model + " --out " +
                   (root / "m5").string() + " --project res --as ana", &out), 0);
  EXPECT_NE(out.find("is for research"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(root / "m5"));
  // Refusals are on the signed ledger (docs/governance.md).
  const std::string entries = Slurp(fs::path(ark_dir) / "ledger" / "entries.jsonl");
  const size_t refusal = entries.find("is for research");
  ASSERT_NE(refusal, std::string::npos);
  const size_t line = entries.rfind('\n', refusal);
  EXPECT_NE(entries.substr(line == std::string::npos ? 0 : line, refusal - (line == std::string::npos ? 0 : line)).find("\"type\":\"refusal\""),
            std::string::npos);

  // A bad model file: the file and line of the unknown key.
  std::ofstream(root / "bad.yaml") << "name: x\ndefinition: " << src << "/models/emergency_risk.yaml\nfeaturez: [a]\n";
  EXPECT_NE(as("ANA", "ana", (root / "bad.yaml").string() + " --out " + (root / "m4").string()), 0);
  EXPECT_NE(out.find("bad.yaml:3: unknown key 'featurez'"), std::string::npos) << out;
  fs::remove_all(root);
}

}  // namespace

namespace {

namespace fs = std::filesystem;

// A demo Ark and its users' tokens, in a temporary directory removed at the end.
struct DemoArk {
  fs::path root;
  std::string ark = ARK_BINARY, src = ARK_SOURCE_DIR, dir, out;
  std::map<std::string, std::string> token;
  explicit DemoArk(const std::string& name) {
    root = fs::temp_directory_path() / (name + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    EXPECT_EQ(Sh(ark + " demo --people 3000 --years 3 --out " + (root / "d").string(), &out), 0) << out;
    dir = (root / "d" / "ark").string();
    token = ark::test::ReadTokens(root / "d" / "governance" / "tokens.env");
  }
  ~DemoArk() { fs::remove_all(root); }
  // `ark model CMD ARK ARGS` as `who` (ana's token unless told).
  int Model(const std::string& cmd, const std::string& args, const std::string& who = "ana") {
    std::string user = who;
    for (char& c : user) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Sh("ARK_TOKEN=" + token[user] + " " + ark + " model " + cmd + " " + dir + " " + args + " --as " + who, &out);
  }
  // An approved project run by ana.
  void Project(const std::string& id, const std::string& purpose, const std::string& extra = "") {
    ASSERT_EQ(Sh("ARK_TOKEN=" + token["ANA"] + " " + ark + " project create " + dir + " " + id + " --title t --purpose " + purpose +
                     " --legal-basis b --datasets acute,community,deaths,gp,social_care --people ana --start 2000-01-01 "
                     "--end 2999-12-31 --as ana " + extra, &out), 0) << out;
    ASSERT_EQ(Sh("ARK_TOKEN=" + token["ADMIN"] + " " + ark + " project approve " + dir + " " + id + " --as admin", &out), 0) << out;
  }
};

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// The risks in a case-finding list (person_key,risk,rank).
std::vector<double> ListRisks(const fs::path& csv) {
  std::vector<double> r;
  std::istringstream in(Slurp(csv));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "person_key,risk,rank");
  while (std::getline(in, line)) r.push_back(std::stod(line.substr(line.find(',') + 1)));
  return r;
}

// `ark model score`: direct care gets case-finding lists per practice; planning gets aggregate
// need with every count of people under the disclosure rules, and the same expected admissions
// (sum of risks) as the lists hold; research is refused and logged with nothing written.
TEST(ModelCli, ScoreGivesListsForDirectCareAggregatesForPlanningAndRefusesResearch) {
  DemoArk d("ark_model_score_");
  const fs::path& root = d.root;
  ASSERT_EQ(d.Model("train", d.src + "/models/emergency_admission_12m.yaml --out " + (root / "m").string() + " --project demo-planning"), 0) << d.out;
  d.Project("dc", "direct_care");
  d.Project("plx", "planning", "--optout-exemption 'illustrative s251 exemption'");  // same population as direct care
  d.Project("res", "research");
  const std::string m = (root / "m").string() + " --at 2025-06-01";

  // Direct care, everyone (threshold 0): one list per practice, highest risk first.
  ASSERT_EQ(d.Model("score", m + " --threshold 0 --out " + (root / "all").string() + " --project dc"), 0) << d.out;
  auto all = nlohmann::json::parse(Slurp(root / "all" / "summary.json"));
  EXPECT_EQ(all["purpose"], "direct_care");
  ASSERT_GT(all["case_finding"].size(), 1u);
  // Planning over the same population (an opt-out exemption): each practice's expected admissions
  // are the sum of its people's scores in the direct-care list, and the total is every score's.
  ASSERT_EQ(d.Model("score", m + " --out " + (root / "plx").string() + " --project plx"), 0) << d.out;
  auto plx = nlohmann::json::parse(Slurp(root / "plx" / "summary.json"));
  EXPECT_FALSE(fs::exists(root / "plx" / "case_finding"));
  std::map<std::string, double> expected;
  {
    std::istringstream in(Slurp(root / "plx" / "need_by_practice.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const size_t a = line.find(','), b = line.find(',', a + 1), c = line.find(',', b + 1);
      expected[line.substr(0, a)] = line[a + 1] == '[' ? -1 : std::stod(line.substr(b + 1, c - b - 1));
    }
  }
  double listed = 0;
  size_t people = 0;
  for (const auto& f : all["case_finding"]) {
    const std::vector<double> r = ListRisks(root / "all" / f["file"].get<std::string>());
    EXPECT_EQ(r.size(), f["people"].get<size_t>());
    EXPECT_TRUE(std::is_sorted(r.rbegin(), r.rend()));
    EXPECT_NEAR(Sum(r), expected[f["practice"].get<std::string>()], 0.051) << f["practice"];
    listed += Sum(r), people += r.size();
  }
  EXPECT_EQ(people + all["people_without_practice"].get<size_t>(), all["people_scored"].get<size_t>());
  const double unregistered = all["people_without_practice"].get<size_t>() ? expected["unknown"] : 0;
  EXPECT_NEAR(listed + unregistered, plx["expected_admissions"].get<double>(), 0.1);
  EXPECT_NEAR(all["expected_admissions"].get<double>(), plx["expected_admissions"].get<double>(), 0.051);

  // Top 5% for direct care: lists hold only people at or above the threshold.
  ASSERT_EQ(d.Model("score", m + " --out " + (root / "top").string() + " --project dc"), 0) << d.out;
  auto top = nlohmann::json::parse(Slurp(root / "top" / "summary.json"));
  EXPECT_EQ(top["threshold"]["top_percent"], 5);
  size_t flagged = 0;
  for (const auto& f : top["case_finding"]) {
    for (double r : ListRisks(root / "top" / f["file"].get<std::string>())) EXPECT_GE(r, top["threshold"]["risk"].get<double>() - 1e-6);
    flagged += f["people"].get<size_t>();
  }
  EXPECT_GE(flagged, people / 20);
  EXPECT_LT(flagged, people / 10);

  // Planning (opt-outs apply): no person keys; every count of people redacted or rounded.
  ASSERT_EQ(d.Model("score", m + " --out " + (root / "pl").string() + " --project demo-planning"), 0) << d.out;
  EXPECT_FALSE(fs::exists(root / "pl" / "case_finding"));
  auto pl = nlohmann::json::parse(Slurp(root / "pl" / "summary.json"));
  int redacted = 0;
  std::set<std::string> totals;
  for (const char* t : {"need_by_practice.csv", "need_by_lsoa.csv", "need_by_deprivation_decile.csv"}) {
    std::istringstream in(Slurp(root / "pl" / t));
    std::string line;
    std::getline(in, line);
    EXPECT_NE(line.find(",people,expected_admissions,people_at_or_above_threshold"), std::string::npos) << line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
      ASSERT_EQ(f.size(), 4u) << line;
      for (int c : {1, 3}) {
        if (f[c] == "[REDACTED]") { ++redacted; continue; }
        const long n = std::stol(f[c]);
        EXPECT_TRUE(n > 7 && n % 5 == 0) << t << ": " << line;
      }
      if (f[1] == "[REDACTED]") {
        EXPECT_EQ(f[2], "[REDACTED]") << line;
      }
      if (f[0] == "total") totals.insert(line.substr(line.find(',')));
    }
  }
  // Planning output over an earlier direct-care output: the person-level lists do not survive;
  // a directory that is not an earlier score's is refused.
  ASSERT_EQ(d.Model("score", m + " --out " + (root / "top").string() + " --project demo-planning"), 0) << d.out;
  EXPECT_FALSE(fs::exists(root / "top" / "case_finding"));
  EXPECT_TRUE(fs::exists(root / "top" / "need_by_lsoa.csv"));
  EXPECT_NE(d.Model("score", m + " --out " + (root / "d").string() + " --project demo-planning"), 0);
  EXPECT_NE(d.out.find("not an earlier `ark model score` output"), std::string::npos) << d.out;
  EXPECT_GT(redacted, 0);         // small areas have small counts
  EXPECT_EQ(totals.size(), 1u);   // the same total in every table
  EXPECT_LE(pl["expected_admissions"].get<double>(), plx["expected_admissions"].get<double>());
  const std::string entries = Slurp(fs::path(d.dir) / "ledger" / "entries.jsonl");
  EXPECT_NE(entries.find("\"project\":\"dc\""), std::string::npos);
  EXPECT_NE(entries.find("\"project\":\"plx\""), std::string::npos);

  // Research: refused, logged, nothing written.
  EXPECT_NE(d.Model("score", m + " --out " + (root / "res").string() + " --project res"), 0);
  EXPECT_NE(d.out.find("is for research"), std::string::npos) << d.out;
  EXPECT_FALSE(fs::exists(root / "res"));
  EXPECT_NE(Slurp(fs::path(d.dir) / "ledger" / "entries.jsonl").find("risk scores are for direct care"), std::string::npos);
  // Not one of the project's people: refused.
  EXPECT_NE(d.Model("score", m + " --out " + (root / "olu").string() + " --project dc", "olu"), 0);
  EXPECT_FALSE(fs::exists(root / "olu"));
}

// Boosted trees through the CLI: trained and compared with logistic regression in the card,
// saved in xgboost's JSON format, scored; a bad parameter is named with its line.
TEST(ModelCli, GbtTrainsComparesAndScores) {
  DemoArk d("ark_model_gbt_");
  const fs::path& root = d.root;
  const std::string model = Slurp(d.src + "/models/emergency_admission_12m_gbt.yaml");
  std::ofstream(root / "gbt.yaml") << std::regex_replace(model, std::regex("definition: emergency_risk.yaml"),
                                                          "definition: " + d.src + "/models/emergency_risk.yaml");
  ASSERT_EQ(d.Model("train", (root / "gbt.yaml").string() + " --out " + (root / "g").string() + " --project demo-planning"), 0) << d.out;
  EXPECT_NE(d.out.find("(gbt)"), std::string::npos) << d.out;
  const auto card = nlohmann::json::parse(Slurp(root / "g" / "model_card.json"));
  EXPECT_GT(card["comparison"]["gbt"]["auroc"]["estimate"].get<double>(), 0.6);
  EXPECT_GT(card["comparison"]["logistic"]["auroc"]["estimate"].get<double>(), 0.6);
  EXPECT_TRUE(card["performance"]["temporal_validation"]["fairness"].contains("deprivation_quintile"));
  EXPECT_EQ(nlohmann::json::parse(Slurp(root / "g" / "booster.json"))["learner"]["objective"]["name"], "binary:logistic");
  ASSERT_EQ(d.Model("score", (root / "g").string() + " --at 2025-06-01 --out " + (root / "s").string() + " --project demo-planning"), 0)
      << d.out;
  EXPECT_EQ(nlohmann::json::parse(Slurp(root / "s" / "summary.json"))["type"], "gbt");

  std::ofstream(root / "bad.yaml") << "name: x\ndefinition: " << d.src << "/models/emergency_risk.yaml\noutcome: emergency_admission_12m\n"
                                   << "features: [age_years]\ntrain_index: 2024-01-01\nvalidate_index: 2025-01-01\n"
                                   << "model:\n  type: gbt\n  max_depth: 0\n";
  EXPECT_NE(d.Model("train", (root / "bad.yaml").string() + " --out " + (root / "b").string() + " --project demo-planning"), 0);
  EXPECT_NE(d.out.find("bad.yaml:9: model.max_depth must be between 1 and 16"), std::string::npos) << d.out;
  std::ofstream(root / "bad2.yaml") << "name: x\ndefinition: " << d.src << "/models/emergency_risk.yaml\noutcome: emergency_admission_12m\n"
                                    << "features: [age_years]\ntrain_index: 2024-01-01\nvalidate_index: 2025-01-01\n"
                                    << "model: {type: gbt, depth: 3}\n";
  EXPECT_NE(d.Model("train", (root / "bad2.yaml").string() + " --out " + (root / "b").string() + " --project demo-planning"), 0);
  EXPECT_NE(d.out.find("bad2.yaml:7: model: unknown key 'depth' for type gbt"), std::string::npos) << d.out;
  EXPECT_FALSE(fs::exists(root / "b"));
}

}  // namespace

namespace {

// `--remedy recalibrate-by-deprivation` (the demo trains the model with and without it in its
// project demo-targeting): the model file carries each quintile's recalibration, the card the gap
// and calibration before and after, and `ark model score` applies it: every remedied risk is the
// plain model's risk recalibrated by one of the quintiles' intercept and slope. A model file
// without the quintile among its groups, or an unknown remedy, is refused with nothing written.
TEST(ModelCli, RemedyIsInTheCardAndAppliedWhenScoring) {
  DemoArk d("ark_model_remedy_");
  const fs::path t = d.root / "d" / "targeting";
  const auto card = nlohmann::json::parse(Slurp(t / "model_remedy" / "model_card.json"));
  ASSERT_TRUE(card.contains("remedy")) << card.dump();
  EXPECT_TRUE(card["remedy"]["before"]["fnr_gap"].is_object());
  EXPECT_TRUE(card["remedy"]["after"]["fnr_gap"].is_object());
  EXPECT_NE(Slurp(t / "model_remedy" / "model_card.html").find("Remedy: recalibrate-by-deprivation"), std::string::npos);
  const auto m = nlohmann::json::parse(Slurp(t / "model_remedy" / "model.json"));
  ASSERT_EQ(m["remedy"]["group_variable"], "deprivation_quintile");
  EXPECT_EQ(m["features"], nlohmann::json::parse(Slurp(t / "model" / "model.json"))["features"]);  // only recalibrated
  d.Project("dc", "direct_care");
  std::map<std::string, std::map<std::string, double>> risk;  // model -> person -> risk
  for (const char* which : {"model", "model_remedy"}) {
    const fs::path out = d.root / (std::string("s_") + which);
    ASSERT_EQ(d.Model("score", (t / which).string() + " --at 2025-01-01 --threshold 0 --out " + out.string() + " --project dc"), 0) << d.out;
    for (const auto& f : fs::directory_iterator(out / "case_finding")) {
      std::istringstream in(Slurp(f.path()));
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        const size_t a = line.find(','), b = line.find(',', a + 1);
        risk[which][line.substr(0, a)] = std::stod(line.substr(a + 1, b - a - 1));
      }
    }
  }
  ASSERT_EQ(risk["model"].size(), risk["model_remedy"].size());
  ASSERT_GT(risk["model"].size(), 1000u);
  std::set<size_t> used;
  size_t changed = 0;
  for (const auto& [person, p] : risk["model"]) {
    const double q = risk["model_remedy"].at(person), lp = std::log(p / (1 - p));
    size_t best = 0;
    double err = 1;
    for (size_t g = 0; g < m["remedy"]["groups"].size(); ++g) {
      const auto& c = m["remedy"]["groups"][g];
      const double r = c["fitted"].get<bool>() ? 1 / (1 + std::exp(-(c["intercept"].get<double>() + c["slope"].get<double>() * lp))) : p;
      if (std::abs(r - q) < err) err = std::abs(r - q), best = g;
    }
    EXPECT_LT(err, 1e-4) << person;
    used.insert(best);
    changed += std::abs(q - p) > 1e-6;
  }
  EXPECT_GE(used.size(), 2u);
  EXPECT_GT(changed, risk["model"].size() / 2);

  // No deprivation quintile among the groups; an unknown remedy: refused, nothing written.
  std::string yaml = Slurp(d.src + "/models/emergency_admission_12m.yaml");
  yaml = std::regex_replace(yaml, std::regex("definition: emergency_risk.yaml"), "definition: " + d.src + "/models/emergency_risk.yaml");
  yaml = std::regex_replace(yaml, std::regex("groups: \\[[^\\]]*\\]"), "groups: [sex_recorded]");
  std::ofstream(d.root / "m.yaml") << yaml;
  EXPECT_NE(d.Model("train", (d.root / "m.yaml").string() + " --out " + (d.root / "r1").string() +
                                 " --project demo-targeting --remedy recalibrate-by-deprivation"), 0);
  EXPECT_NE(d.out.find("m.yaml: groups: --remedy recalibrate-by-deprivation needs 'deprivation_quintile'"), std::string::npos) << d.out;
  EXPECT_NE(d.Model("train", d.src + "/models/emergency_admission_12m.yaml --out " + (d.root / "r2").string() +
                                 " --project demo-targeting --remedy magic"), 0);
  EXPECT_FALSE(fs::exists(d.root / "r1"));
  EXPECT_FALSE(fs::exists(d.root / "r2"));
}

}  // namespace
