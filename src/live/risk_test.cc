#include "live/risk.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/time.h"
#include "study/codes.h"

namespace ark::live {
namespace {

study::Codelist List(std::initializer_list<std::pair<const char*, const char*>> codes) {
  study::Codelist cl;
  for (const auto& [system, code] : codes) EXPECT_TRUE(study::AddCode(system, code, &cl).ok());
  return cl;
}

PseudoRecord Record(LiveRecord::Kind kind, PersonKey person, uint64_t seq, Seconds t) {
  PseudoRecord r;
  r.kind = kind;
  r.person = person;
  r.seq = seq;
  r.event_time = t;
  r.message_time = t;
  r.control_id = "C" + std::to_string(seq);
  r.received_us = 1;
  return r;
}

// Features: [age, admissions (count of ADMIMETH 21/22/28 from day -365), copd (exists of SNOMED
// 13645005)]; risk = sigmoid(-3 + 0.02 * age + 0.7 * admissions + 1.0 * copd) (mean 0, sd 1).
stats::Scorer Logistic() {
  stats::Scorer s;
  s.type = "logistic";
  s.features = {"age", "admissions", "copd"};
  s.intercept = -3;
  s.mean = {0, 0, 0};
  s.sd = {1, 1, 1};
  s.coefficient = {0.02, 0.7, 1.0};
  return s;
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

std::unique_ptr<LiveRisk> Make(RuleSet rules, int32_t day) {
  std::vector<FeatureUpdate> u(2);
  u[0].feature = 1, u[0].count = true, u[0].codelist = List({{"ADMIMETH", "21"}, {"ADMIMETH", "22"}, {"ADMIMETH", "28"}});
  u[0].from_day = day - 365;
  u[1].feature = 2, u[1].codelist = List({{"SNOMED", "13645005"}});
  RiskBaseline b;
  b.date = "2025-06-01";
  b.persons = {7, 9};
  b.practice = {"P1", "P2"};
  b.x = {2, 3, {50, 0, 0, 50, 0, 0}};
  auto r = LiveRisk::Create(Logistic(), u, b, rules, nullptr);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(LiveRiskState, EventsUpdateFeaturesIncrementallyAndRulesFireOnCrossing) {
  const int32_t day = DayOf(*ParseTime("2025-06-01", "%Y-%m-%d"));
  const Seconds t = static_cast<Seconds>(day + 1) * kSecondsPerDay;
  RuleSet rules;
  rules.rules.push_back({"news", "news2_score", ">=", "high", 5});  // not a risk rule: never fires here
  rules.rules.push_back({"risk_high", "risk", ">=", "medium", Sigmoid(-3 + 1 + 1.5 * 0.7)});
  auto risk = Make(rules, day);
  ASSERT_TRUE(risk);
  EXPECT_NEAR(*risk->RiskOf(7), Sigmoid(-2), 1e-12);
  EXPECT_FALSE(risk->RiskOf(8).ok());

  // An emergency admission (PV1-4 EM): admissions 1, below the threshold.
  PseudoRecord adm = Record(LiveRecord::Kind::kAdmit, 7, 1, t);
  adm.admission_type = "EM";
  EXPECT_TRUE(risk->Apply(adm).empty());
  EXPECT_NEAR(*risk->RiskOf(7), Sigmoid(-2 + 0.7), 1e-12);
  // A second: admissions 2, crosses: one alert, id 64 × seq + the rule's index, with the practice.
  adm.seq = 2, adm.control_id = "C2";
  auto alerts = risk->Apply(adm);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].id, 2u * 64 + 1);
  EXPECT_EQ(alerts[0].rule, "risk_high");
  EXPECT_EQ(alerts[0].practice, "P1");
  EXPECT_EQ(alerts[0].person, 7u);
  EXPECT_NEAR(alerts[0].value, Sigmoid(-2 + 1.4), 1e-12);
  // A third: still above, no new crossing, no alert.
  adm.seq = 3;
  EXPECT_TRUE(risk->Apply(adm).empty());
  EXPECT_NEAR(*risk->RiskOf(7), Sigmoid(-2 + 2.1), 1e-12);

  // An admission before the window's start does not count; an elective one (PV1-4 EL) is no code.
  PseudoRecord old = Record(LiveRecord::Kind::kAdmit, 9, 4, static_cast<Seconds>(day - 400) * kSecondsPerDay);
  old.admission_type = "21";
  risk->Apply(old);
  PseudoRecord el = Record(LiveRecord::Kind::kAdmit, 9, 5, t);
  el.admission_type = "EL";
  risk->Apply(el);
  EXPECT_NEAR(*risk->RiskOf(9), Sigmoid(-2), 1e-12);
  // A condition (SNOMED, as FHIR Conditions and SCT results arrive) sets an exists feature once.
  PseudoRecord dx = Record(LiveRecord::Kind::kResult, 9, 6, t);
  dx.observations.push_back({"SCT", "13645005", "", "", kNoValue, t});
  risk->Apply(dx);
  dx.seq = 7;
  risk->Apply(dx);
  EXPECT_NEAR(*risk->RiskOf(9), Sigmoid(-1), 1e-12);
  // Someone outside the baseline: nothing.
  EXPECT_TRUE(risk->Apply(Record(LiveRecord::Kind::kAdmit, 8, 8, t)).empty());
  const std::string j = risk->Json();
  EXPECT_NE(j.find("\"rescored\":4"), std::string::npos) << j;
  EXPECT_NE(j.find("\"alerts\":1"), std::string::npos) << j;
}

// Replay (the live log at a restart) leaves the same rows and risks as Apply did, reports the
// crossing it re-derives (for the recent list) and counts none of it as this run's re-scores; an
// event after it alerts only on a new crossing.
TEST(LiveRiskState, ReplayLeavesTheStateApplyLeftWithoutCountingItsReScores) {
  const int32_t day = DayOf(*ParseTime("2025-06-01", "%Y-%m-%d"));
  const Seconds t = static_cast<Seconds>(day + 1) * kSecondsPerDay;
  RuleSet rules;
  rules.rules.push_back({"risk_high", "risk", ">=", "medium", Sigmoid(-3 + 1 + 1.5 * 0.7)});
  auto live = Make(rules, day), replayed = Make(rules, day);
  ASSERT_TRUE(live && replayed);
  PseudoRecord adm = Record(LiveRecord::Kind::kAdmit, 7, 1, t);
  adm.admission_type = "EM";
  EXPECT_TRUE(live->Apply(adm).empty());
  EXPECT_TRUE(replayed->Replay(adm).empty());
  adm.seq = 2;
  ASSERT_EQ(live->Apply(adm).size(), 1u);
  const std::vector<Alert> again = replayed->Replay(adm);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, 2u * 64);
  EXPECT_EQ(*replayed->RiskOf(7), *live->RiskOf(7));
  EXPECT_EQ(*replayed->RiskOf(9), *live->RiskOf(9));
  const std::string j = replayed->Json();
  EXPECT_NE(j.find("\"replayed\":2"), std::string::npos) << j;
  EXPECT_NE(j.find("\"rescored\":0"), std::string::npos) << j;
  EXPECT_NE(j.find("\"alerts\":0"), std::string::npos) << j;
  EXPECT_NE(j.find("\"at_or_above\":{\"risk_high\":1}"), std::string::npos) << j;
  // Still above: no alert for the same crossing; person 9 crossing afresh alerts once.
  adm.seq = 3;
  EXPECT_TRUE(replayed->Apply(adm).empty());
  PseudoRecord other = Record(LiveRecord::Kind::kAdmit, 9, 4, t);
  other.admission_type = "EM";
  EXPECT_TRUE(replayed->Apply(other).empty());
  other.seq = 5;
  EXPECT_EQ(replayed->Apply(other).size(), 1u);
}

TEST(LiveRiskState, LiveCodesStandForTheBatchCodes) {
  PseudoRecord ae = Record(LiveRecord::Kind::kRegister, 1, 1, 1000);
  ae.patient_class = "E";
  auto c = LiveCodes(ae);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.back().first, "AE/attendance");
  ae.patient_class = "O";  // an outpatient registration is not an A&E attendance
  for (const auto& [code, t] : LiveCodes(ae)) EXPECT_NE(code, "AE/attendance");
  PseudoRecord adm = Record(LiveRecord::Kind::kAdmit, 1, 2, 1000);
  adm.patient_class = "E";
  adm.admission_type = "EM";
  EXPECT_EQ(LiveCodes(adm).back().first, "ADMIMETH/21");
  adm.patient_class = "I";
  EXPECT_EQ(LiveCodes(adm).back().first, "ADMIMETH/28");
  adm.admission_type = "22";
  EXPECT_EQ(LiveCodes(adm).back().first, "ADMIMETH/22");
  PseudoRecord lab = Record(LiveRecord::Kind::kResult, 1, 3, 1000);
  lab.observations.push_back({"LN", "2160-0", "umol/L", "", 90, 1000});
  EXPECT_EQ(LiveCodes(lab).back().first, "LOINC/2160-0");
}

TEST(LiveRiskState, BoostedTreesScoreOneRowAsTheBatchScorer) {
  // Trees on y = (x0 > 0.5) xor (x1 > 0.5) with some noise.
  stats::Design x{400, 2, {}};
  std::vector<int> y;
  for (size_t i = 0; i < x.rows; ++i) {
    const double a = (i % 20) / 20.0, b = (i / 20) / 20.0;
    x.values.insert(x.values.end(), {a, b});
    y.push_back(((a > 0.5) != (b > 0.5)) != (i % 13 == 0));
  }
  stats::GbtParams p;
  p.trees = 20;
  auto m = stats::FitGbt(x, y, p);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto batch = stats::PredictGbt(*m, x, 1);
  ASSERT_TRUE(batch.ok());
  auto one = stats::GbtPredictor::Load(*m, 2);
  ASSERT_TRUE(one.ok());
  for (size_t i = 0; i < x.rows; i += 37) EXPECT_DOUBLE_EQ(*one->Predict(&x.values[2 * i]), (*batch)[i]) << i;
  EXPECT_FALSE(stats::GbtPredictor::Load(*m, 3).ok());
}

}  // namespace
}  // namespace ark::live
