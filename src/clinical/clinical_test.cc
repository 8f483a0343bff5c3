// Table-driven tests of the clinical rules at the boundary values SPECS.md gives.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "clinical/aki.h"
#include "clinical/news2.h"
#include "clinical/readmission.h"

namespace ark::clinical {
namespace {

constexpr Seconds kDay = kSecondsPerDay;
constexpr Seconds kNow = 20000 * kDay;

TEST(ClinicalAki, RatioThresholdsAgainstLowestInSevenDays) {
  struct Case {
    std::vector<Creatinine> history;
    double c1;
    int stage;
  } cases[] = {
      {{}, 300, 0},                                       // no history: no stage
      {{{kNow - 400 * kDay, 50}}, 300, 0},               // only older than 365 days
      {{{kNow - 3 * kDay, 100}}, 149, 0},
      {{{kNow - 3 * kDay, 100}}, 150, 1},                 // ratio 1.5
      {{{kNow - 3 * kDay, 100}}, 199, 1},
      {{{kNow - 3 * kDay, 100}}, 200, 2},                 // ratio 2
      {{{kNow - 3 * kDay, 100}}, 299, 2},
      {{{kNow - 3 * kDay, 100}}, 300, 3},                 // ratio 3
      {{{kNow - 3 * kDay, 80}, {kNow - 2 * kDay, 120}}, 160, 2},   // lowest (80) in 0–7 days
      {{{kNow - 7 * kDay, 100}}, 150, 1},                 // exactly 7 days: RV1
      {{{kNow, 100}}, 150, 1},                            // 0 days before
      {{{kNow + kDay, 50}}, 150, 0},                      // after C1: ignored
      {{{kNow - 3 * kDay, 240}}, 360, 3},                 // C1 > 354 and ratio 1.5
      {{{kNow - 3 * kDay, 236}}, 354, 1},                 // 354 is not > 354
      {{{kNow - 3 * kDay, 240}}, 355, 0},                 // > 354 but ratio 1.479 < 1.5
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AkiStage(c.history, {kNow, c.c1}), c.stage) << "C1 " << c.c1 << " with " << c.history.size();
  }
}

TEST(ClinicalAki, MedianOfEightTo365DaysAndHigherRatio) {
  // RV2 = median(60, 100, 140) = 100 → ratio 2 (stage 2); no RV1.
  std::vector<Creatinine> h = {{kNow - 30 * kDay, 60}, {kNow - 100 * kDay, 140}, {kNow - 200 * kDay, 100}};
  EXPECT_EQ(AkiStage(h, {kNow, 200}), 2);
  // Even count: median(60, 100) = 80 → 160/80 = 2.
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 10 * kDay, 60}, {kNow - 20 * kDay, 100}}, {kNow, 160}), 2);
  // 8 days is RV2 territory, 365 days included, 366 not.
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 365 * kDay, 100}}, {kNow, 150}), 1);
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 366 * kDay, 100}}, {kNow, 150}), 0);
  // The higher ratio wins: RV1 = 150 (ratio 2), RV2 = 100 (ratio 3) → stage 3.
  h = {{kNow - 2 * kDay, 150}, {kNow - 50 * kDay, 100}};
  EXPECT_EQ(AkiStage(h, {kNow, 300}), 3);
  // Order does not matter; C1 itself in the history is ignored.
  h = {{kNow, 300}, {kNow - 50 * kDay, 100}, {kNow - 2 * kDay, 150}};
  EXPECT_EQ(AkiStage(h, {kNow, 300}), 3);
}

TEST(ClinicalAki, RiseOf26Within48Hours) {
  // Ratio 1.3 < 1.5 but 27 higher than 47 h ago → stage 1; 26 exactly → 0; 49 h ago → 0.
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 47 * 3600, 90}}, {kNow, 117}), 1);
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 47 * 3600, 90}}, {kNow, 116}), 0);
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 48 * 3600, 90}}, {kNow, 117}), 1);
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 49 * 3600, 90}}, {kNow, 117}), 0);
  AkiOptions off;
  off.rise_26_in_48h = false;
  EXPECT_EQ(AkiStage(std::vector<Creatinine>{{kNow - 47 * 3600, 90}}, {kNow, 117}, off), 0);
}

TEST(ClinicalAki, CreatinineCodes) {
  EXPECT_DOUBLE_EQ(CreatinineUmolPerL("LN", "14682-9", 120, "umol/L"), 120);
  EXPECT_NEAR(CreatinineUmolPerL("LN", "2160-0", 1.0, "mg/dL"), 88.42, 1e-9);
  EXPECT_TRUE(std::isnan(CreatinineUmolPerL("LN", "2823-3", 4.0, "mmol/L")));
}

TEST(ClinicalNews2, ParameterBoundaries) {
  struct Case {
    int (*fn)(double);
    double v;
    int score;
  } cases[] = {
      {News2RespRate, 8, 3}, {News2RespRate, 9, 1}, {News2RespRate, 11, 1}, {News2RespRate, 12, 0},
      {News2RespRate, 20, 0}, {News2RespRate, 21, 2}, {News2RespRate, 24, 2}, {News2RespRate, 25, 3},
      {News2Systolic, 90, 3}, {News2Systolic, 91, 2}, {News2Systolic, 100, 2}, {News2Systolic, 101, 1},
      {News2Systolic, 110, 1}, {News2Systolic, 111, 0}, {News2Systolic, 219, 0}, {News2Systolic, 220, 3},
      {News2Pulse, 40, 3}, {News2Pulse, 41, 1}, {News2Pulse, 50, 1}, {News2Pulse, 51, 0}, {News2Pulse, 90, 0},
      {News2Pulse, 91, 1}, {News2Pulse, 110, 1}, {News2Pulse, 111, 2}, {News2Pulse, 130, 2}, {News2Pulse, 131, 3},
      {News2Temperature, 35.0, 3}, {News2Temperature, 35.1, 1}, {News2Temperature, 36.0, 1},
      {News2Temperature, 36.1, 0}, {News2Temperature, 38.0, 0}, {News2Temperature, 38.1, 1},
      {News2Temperature, 39.0, 1}, {News2Temperature, 39.1, 2},
  };
  for (const Case& c : cases) EXPECT_EQ(c.fn(c.v), c.score) << c.v;
  struct SpO2Case {
    double v;
    int scale;
    bool o2;
    int score;
  } spo2[] = {
      {91, 1, false, 3}, {92, 1, false, 2}, {93, 1, false, 2}, {94, 1, false, 1}, {95, 1, true, 1},
      {96, 1, false, 0}, {100, 1, true, 0},
      {83, 2, false, 3}, {84, 2, false, 2}, {85, 2, true, 2}, {86, 2, false, 1}, {87, 2, true, 1},
      {88, 2, true, 0}, {92, 2, true, 0}, {93, 2, false, 0}, {100, 2, false, 0},
      {93, 2, true, 1}, {94, 2, true, 1}, {95, 2, true, 2}, {96, 2, true, 2}, {97, 2, true, 3},
  };
  for (const SpO2Case& c : spo2) EXPECT_EQ(News2SpO2(c.v, c.scale, c.o2), c.score) << c.v << " scale " << c.scale;
  EXPECT_EQ(News2Consciousness('A'), 0);
  for (char c : {'C', 'V', 'P', 'U'}) EXPECT_EQ(News2Consciousness(c), 3) << c;
}

TEST(ClinicalNews2, TotalsAndResponse) {
  Vitals normal{16, 97, 120, 70, 37.0, false, 'A', 1};
  News2Result r = News2(normal);
  EXPECT_EQ(r.score, 0);
  EXPECT_FALSE(r.any_single_3);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(News2Response(r), 0);
  Vitals one3 = normal;
  one3.consciousness = 'V';
  r = News2(one3);
  EXPECT_EQ(r.score, 3);
  EXPECT_TRUE(r.any_single_3);
  EXPECT_EQ(News2Response(r), 1);
  Vitals oxygen = normal;  // O2 2 + SpO2 94 (1) + RR 22 (2) = 5
  oxygen.on_oxygen = true;
  oxygen.spo2 = 94;
  oxygen.resp_rate = 22;
  r = News2(oxygen);
  EXPECT_EQ(r.score, 5);
  EXPECT_EQ(News2Response(r), 2);
  Vitals sick{26, 90, 95, 135, 39.5, true, 'C', 1};  // 3+3+2+2+3+3+2 = 18
  r = News2(sick);
  EXPECT_EQ(r.score, 18);
  EXPECT_EQ(News2Response(r), 3);
  Vitals missing;
  missing.pulse = 130;
  r = News2(missing);
  EXPECT_EQ(r.score, 2);
  EXPECT_FALSE(r.complete);
}

TEST(ClinicalReadmission, ZeroToTwentyNineDays) {
  Seconds d = kNow + 15 * 3600;  // discharged 15:00
  EXPECT_TRUE(IsReadmission(d, kNow + 20 * 3600));              // same day
  EXPECT_TRUE(IsReadmission(d, kNow + 29 * kDay + 23 * 3600));  // day 29
  EXPECT_FALSE(IsReadmission(d, kNow + 30 * kDay));             // day 30
  EXPECT_FALSE(IsReadmission(d, kNow - kDay));
  EXPECT_FALSE(IsReadmission(kNoTime, kNow));
  EXPECT_TRUE(ExcludedSpecialty("370"));
  EXPECT_TRUE(ExcludedSpecialty("501"));
  EXPECT_FALSE(ExcludedSpecialty("300"));
  EXPECT_FALSE(ExcludedSpecialty("501", {30, true, false}));
  EXPECT_TRUE(IsEmergencyAdmissionType("EM"));
  EXPECT_TRUE(IsEmergencyAdmissionType("21"));
  EXPECT_FALSE(IsEmergencyAdmissionType("11"));
  EXPECT_FALSE(IsEmergencyAdmissionType("EL"));
}

}  // namespace
}  // namespace ark::clinical
