// Live indicators and alert rules (src/live/state.h, rules.h) on hand-made pseudonymised records.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "hl7/hl7.h"
#include "live/state.h"

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
  r.ward = "WARD1";
  r.patient_class = "I";
  return r;
}

PseudoRecord Lab(uint64_t seq, PersonKey person, const char* when,
                 std::vector<std::pair<std::string, double>> obs) {
  PseudoRecord r = Rec(seq, K::kResult, person, when);
  r.message_type = "ORU^R01";
  for (auto& [code, v] : obs) r.observations.push_back({"LN", code, "", "", v, T(when)});
  return r;
}

nlohmann::json Ind(const LiveState& s) { return nlohmann::json::parse(s.IndicatorsJson()); }

TEST(LiveRules, DefaultRulesAreTheRepositoryFile) {
  auto file = ReadFile(std::string(ARK_SOURCE_DIR) + "/live/rules.yaml");
  ASSERT_TRUE(file.ok());
  std::string builtin = DefaultRulesYaml();
  while (!builtin.empty() && builtin.front() == '\n') builtin.erase(builtin.begin());
  EXPECT_EQ(builtin, *file);
  EXPECT_EQ(Default().rules.size(), 4u);
}

TEST(LiveRules, BadRulesNameTheField) {
  auto r = ParseRules("rules:\n  - {name: x, signal: nope, op: '>=', value: 1}\n", "f.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.yaml: rule 1 (x), field signal"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(
      ParseRules("rules:\n  - {name: x, signal: aki_stage, op: '~', value: 1}\n", "f").ok());
  EXPECT_FALSE(ParseRules("rules: []\nwebhooks: [https://x]\n", "f").ok());
}

TEST(LiveState, BedOccupancyBySiteAndWard) {
  LiveState s(Default());
  s.Apply(Rec(1, K::kAdmit, 1, "20250101100000"));
  s.Apply(Rec(2, K::kAdmit, 2, "20250101110000"));
  auto tr = Rec(3, K::kTransfer, 2, "20250101120000");
  tr.ward = "WARD2";
  s.Apply(tr);
  auto j = Ind(s);
  EXPECT_EQ(j["bed_occupancy"]["occupied"], 2);
  EXPECT_EQ(j["bed_occupancy"]["by_site"]["RXX01"]["wards"]["WARD1"], 1);
  EXPECT_EQ(j["bed_occupancy"]["by_site"]["RXX01"]["wards"]["WARD2"], 1);
  s.Apply(Rec(4, K::kDischarge, 1, "20250102100000"));
  j = Ind(s);
  EXPECT_EQ(j["bed_occupancy"]["occupied"], 1);
  EXPECT_FALSE(j["bed_occupancy"]["by_site"]["RXX01"]["wards"].contains("WARD1"));
}

TEST(LiveState, AeFourHourPerformanceForToday) {
  LiveState s(Default());
  auto arrive = [&](uint64_t seq, PersonKey p, const char* t) {
    auto r = Rec(seq, K::kRegister, p, t);
    r.patient_class = "E";
    s.Apply(r);
  };
  arrive(1, 1, "20250301080000");
  arrive(2, 2, "20250301090000");
  arrive(3, 3, "20250301100000");
  auto d1 = Rec(4, K::kDischarge, 1, "20250301113000");  // 3.5 h: met
  d1.patient_class = "E";
  s.Apply(d1);
  s.Apply(Rec(5, K::kAdmit, 2, "20250301140000"));  // admitted after 5 h: breach
  auto j = Ind(s);
  EXPECT_EQ(j["ae_4h"]["day"], "2025-03-01");
  EXPECT_EQ(j["ae_4h"]["attendances"], 3);
  EXPECT_EQ(j["ae_4h"]["within_4h"], 1);
  EXPECT_EQ(j["ae_4h"]["breached"], 1);
  EXPECT_EQ(j["ae_4h"]["open"], 1);
  EXPECT_DOUBLE_EQ(j["ae_4h"]["performance"].get<double>(), 0.5);
  // Just after midnight "today" has nothing completed; by_day still has yesterday's figures.
  s.Apply(Rec(6, K::kAdmit, 9, "20250302000500"));
  j = Ind(s);
  EXPECT_EQ(j["ae_4h"]["day"], "2025-03-02");
  EXPECT_TRUE(j["ae_4h"]["performance"].is_null());
  ASSERT_EQ(j["ae_4h"]["by_day"].size(), 1u);  // days with A&E activity
  EXPECT_EQ(j["ae_4h"]["by_day"][0]["day"], "2025-03-01");
  EXPECT_EQ(j["ae_4h"]["by_day"][0]["completed"], 2);
  EXPECT_DOUBLE_EQ(j["ae_4h"]["by_day"][0]["performance"].get<double>(), 0.5);
}

TEST(LiveState, EmergencyReadmissionFlaggedAtAdmission) {
  LiveState s(Default());
  auto a1 = Rec(1, K::kAdmit, 7, "20250101100000");
  a1.admission_type = "EM";
  EXPECT_TRUE(s.Apply(a1).empty());  // no previous discharge
  s.Apply(Rec(2, K::kDischarge, 7, "20250105100000"));
  auto a2 = Rec(3, K::kAdmit, 7, "20250120100000");  // 15 days later
  a2.admission_type = "EM";
  auto alerts = s.Apply(a2);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "emergency_readmission_30d");
  EXPECT_EQ(alerts[0].person, 7u);
  EXPECT_EQ(alerts[0].id, 3u * 64 + 3);
  s.Apply(Rec(4, K::kDischarge, 7, "20250121100000"));
  auto a3 = Rec(5, K::kAdmit, 7, "20250301100000");  // 39 days: not a readmission
  a3.admission_type = "EM";
  EXPECT_TRUE(s.Apply(a3).empty());
  auto el = Rec(6, K::kAdmit, 8, "20250301100000");  // elective: not counted
  el.admission_type = "EL";
  s.Apply(el);
  auto j = Ind(s);
  EXPECT_EQ(j["readmissions_30d"]["emergency_admissions"], 3);
  EXPECT_EQ(j["readmissions_30d"]["readmissions"], 1);
}

TEST(LiveState, AkiStageFromCreatinineHistory) {
  LiveState s(Default());
  EXPECT_TRUE(s.Apply(Lab(1, 3, "20250101080000", {{"14682-9", 80}})).empty());
  EXPECT_TRUE(
      s.Apply(Lab(2, 3, "20250102080000", {{"14682-9", 130}})).empty());  // ratio 1.6: stage 1
  ASSERT_EQ(s.last_signals().size(), 1u);
  EXPECT_EQ(s.last_signals()[0].value, 1);
  auto alerts = s.Apply(Lab(3, 3, "20250103080000", {{"14682-9", 170}}));  // ratio 2.1: stage 2
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "aki_stage_2_or_more");
  EXPECT_EQ(alerts[0].value, 2);
  auto j = Ind(s);
  EXPECT_EQ(j["aki"]["results"], 3);
  EXPECT_EQ(j["aki"]["persons_stage_2"], 1);
}

TEST(LiveState, News2FromVitalSigns) {
  LiveState s(Default());
  // RR 22 (2), SpO2 95 (1), SBP 105 (1), pulse 95 (1), temp 37 (0): total 5 → alert.
  auto alerts = s.Apply(
      Lab(1, 4, "20250101080000",
          {{"9279-1", 22}, {"59408-5", 95}, {"8480-6", 105}, {"8867-4", 95}, {"8310-5", 37}}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "news2_5_or_more");
  EXPECT_EQ(alerts[0].value, 5);
  // RR 26 alone scores 3 (single 3), total 3.
  alerts = s.Apply(Lab(2, 5, "20250101090000",
                       {{"9279-1", 26}, {"59408-5", 97}, {"8480-6", 120}, {"8867-4", 70}}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "news2_single_parameter_3");
  auto j = Ind(s);
  EXPECT_EQ(j["news2"]["observation_sets"], 2);
  EXPECT_EQ(j["news2"]["persons_5_or_more"], 1);
  EXPECT_EQ(j["news2"]["persons_single_3"], 1);
}

TEST(LiveState, MergeMovesLiveState) {
  LiveState s(Default());
  s.Apply(Rec(1, K::kAdmit, 10, "20250101100000"));
  s.Apply(Lab(2, 10, "20250101110000", {{"14682-9", 80}}));
  auto m = Rec(3, K::kMerge, 11, "20250101120000");
  m.merged_person = 10;
  s.Apply(m);
  EXPECT_EQ(Ind(s)["bed_occupancy"]["occupied"], 1);
  EXPECT_EQ(s.persons(), 1u);
  // Person 11 has person 10's creatinine history now.
  auto alerts = s.Apply(Lab(4, 11, "20250102110000", {{"14682-9", 250}}));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].value, 3);
}

}  // namespace
}  // namespace ark::live
