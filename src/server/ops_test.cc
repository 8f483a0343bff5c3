// The operations view's data (ops.h, feeds.h): disclosure of the live indicators' counts of
// people, feed health per source, the clinical gauges of /metrics, the latency histogram; and the
// same through a served Ark (MLLP in, the API out) for the interim token, an engineer and an analyst.
#include "server/ops.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "governance/governance.h"
#include "live/sender.h"
#include "server/feeds.h"
#include "server/test_util.h"

namespace ark::server {
namespace {

using nlohmann::json;

TEST(Ops, IndicatorCountsOfPeopleGoThroughTheDisclosureRule) {
  const json in = json::parse(R"({
    "records": 40, "persons": 23,
    "bed_occupancy": {"occupied": 12, "by_site": {"RXX": {"occupied": 12, "wards": {"W1": 9, "W2": 3}}}},
    "ae_4h": {"attendances": 20, "completed": 18, "within_4h": 16, "breached": 2, "open": 2, "performance": 0.889,
              "by_day": [{"day": "2025-01-01", "attendances": 5, "completed": 5, "within_4h": 5, "breached": 0,
                          "performance": 1.0}]},
    "readmissions_30d": {"emergency_admissions": 30, "readmissions": 6, "rate": 0.2,
                         "today": {"emergency_admissions": 11, "readmissions": 1}},
    "aki": {"results": 5, "persons_stage_1": 8, "persons_stage_2": 1, "persons_stage_3": 0},
    "news2": {"observation_sets": 3, "persons_5_or_more": 13, "persons_7_or_more": 2, "persons_single_3": 0},
    "alerts": {"total": 9, "by_rule": {"aki_stage_2_or_more": 1, "news2_5_or_more": 8}}})");
  const json out = json::parse(DiscloseIndicators(in.dump(), /*exact=*/false));
  EXPECT_EQ(out["records"], 40);  // messages, not people
  EXPECT_EQ(out["persons"], 25);
  EXPECT_EQ(out["bed_occupancy"]["occupied"], 10);
  EXPECT_EQ(out["bed_occupancy"]["by_site"]["RXX"]["wards"]["W1"], 10);
  EXPECT_TRUE(out["bed_occupancy"]["by_site"]["RXX"]["wards"]["W2"].is_null());
  EXPECT_EQ(out["ae_4h"]["attendances"], 20);
  EXPECT_EQ(out["ae_4h"]["within_4h"], 15);
  EXPECT_TRUE(out["ae_4h"]["breached"].is_null());
  EXPECT_DOUBLE_EQ(out["ae_4h"]["performance"].get<double>(), 15.0 / 20);  // from the rounded counts
  EXPECT_TRUE(out["ae_4h"]["by_day"][0]["attendances"].is_null());
  EXPECT_TRUE(out["ae_4h"]["by_day"][0]["performance"].is_null());
  EXPECT_TRUE(out["readmissions_30d"]["readmissions"].is_null());
  EXPECT_TRUE(out["readmissions_30d"]["rate"].is_null());
  EXPECT_EQ(out["readmissions_30d"]["today"]["emergency_admissions"], 10);
  EXPECT_EQ(out["aki"]["results"], 5);
  EXPECT_EQ(out["aki"]["persons_stage_1"], 10);
  EXPECT_TRUE(out["aki"]["persons_stage_2"].is_null());
  EXPECT_TRUE(out["aki"]["persons_stage_3"].is_null());
  EXPECT_EQ(out["news2"]["observation_sets"], 3);
  EXPECT_EQ(out["news2"]["persons_5_or_more"], 15);
  EXPECT_EQ(out["alerts"]["total"], 10);
  EXPECT_TRUE(out["alerts"]["by_rule"]["aki_stage_2_or_more"].is_null());
  EXPECT_NE(out["disclosure"].get<std::string>().find("opensafely"), std::string::npos);
  // The clinical reader: exact.
  const json exact = json::parse(DiscloseIndicators(in.dump(), /*exact=*/true));
  EXPECT_EQ(exact["bed_occupancy"]["by_site"]["RXX"]["wards"]["W2"], 3);
  EXPECT_EQ(exact["aki"]["persons_stage_2"], 1);
  // As gauges: a redacted count has no sample.
  const std::string prom = ClinicalPrometheus(out.dump());
  EXPECT_NE(prom.find("\nark_live_beds_occupied 10\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("ark_live_aki_persons{stage=\"1\"} 10\n"), std::string::npos) << prom;
  EXPECT_EQ(prom.find("ark_live_aki_persons{stage=\"2\"}"), std::string::npos) << prom;
  EXPECT_NE(ClinicalPrometheus(exact.dump()).find("ark_live_aki_persons{stage=\"2\"} 1\n"), std::string::npos);
}

TEST(Ops, WhoSeesOperationsAndExactCounts) {
  auto make = [](Principal::Kind k, const std::string& role) {
    Principal p;
    p.kind = k;
    p.user = role;
    if (!role.empty()) p.roles = {role};
    return p;
  };
  const Principal interim = make(Principal::Kind::kInterim, ""), engineer = make(Principal::Kind::kUser, "engineer"),
                  admin = make(Principal::Kind::kUser, "admin"), analyst = make(Principal::Kind::kUser, "analyst"),
                  nobody;
  EXPECT_TRUE(SeesOperations(interim) && SeesOperations(engineer) && SeesOperations(admin));
  EXPECT_FALSE(SeesOperations(analyst) || SeesOperations(nobody));
  EXPECT_TRUE(SeesExactCounts(interim));
  EXPECT_FALSE(SeesExactCounts(engineer) || SeesExactCounts(admin));
}

TEST(Ops, FeedHealthCountsPerSourceAndTheLastMinute) {
  FeedHealth f;
  const int64_t t0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  for (int i = 0; i < 30; ++i) f.Count("RXX01", "AA", t0 + i * 1'000'000);
  f.Count("RXX01", "AE", t0 + 30'000'000);
  f.Count("LAB", "AR", t0 - 120'000'000);  // two minutes earlier: not in the last minute
  f.Count("", "AE", t0);
  const json j = json::parse(f.Json(t0 + 30'000'000));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["source"], "LAB");
  EXPECT_EQ(j[0]["ar"], 1);
  EXPECT_EQ(j[0]["per_second_1m"], 0.0);
  EXPECT_EQ(j[1]["source"], "RXX01");
  EXPECT_EQ(j[1]["messages"], 31);
  EXPECT_EQ(j[1]["aa"], 30);
  EXPECT_EQ(j[1]["ae"], 1);
  EXPECT_DOUBLE_EQ(j[1]["per_second_1m"].get<double>(), 31.0 / 60);
  EXPECT_EQ(j[1]["last_message"], "2026-01-01T00:00:30Z");
  EXPECT_EQ(j[2]["source"], "unknown");
  // 75 s on, only the messages of seconds 16..75 count (14 AA and the AE).
  EXPECT_DOUBLE_EQ(json::parse(f.Json(t0 + 75'000'000))[1]["per_second_1m"].get<double>(), 15.0 / 60);
  // Invented facility names beyond the cap are counted as "other".
  FeedHealth many;
  for (size_t i = 0; i < FeedHealth::kMaxSources + 50; ++i) many.Count("F" + std::to_string(i), "AA", t0);
  const json m = json::parse(many.Json(t0));
  EXPECT_EQ(m.size(), FeedHealth::kMaxSources + 1);
  for (const auto& x : m)
    if (x["source"] == "other") EXPECT_EQ(x["messages"], 50);
  EXPECT_EQ(SendingFacilityOf("MSH|^~\\&|PAS|RXX01^x^y|HUB|REG|2025"), "RXX01");
  EXPECT_EQ(SendingFacilityOf("this is not HL7"), "");
  EXPECT_EQ(SendingFacilityOf("MSH|^~\\&|PAS"), "");
}

// NHS numbers with a valid check digit (mod 11), from a 9-digit stem.
std::string Nhs(int i) {
  std::string s = std::to_string(943476000 + i * 7);
  for (;;) {
    int sum = 0;
    for (int k = 0; k < 9; ++k) sum += (s[k] - '0') * (10 - k);
    const int check = 11 - sum % 11;
    if (check != 10) return s + std::to_string(check == 11 ? 0 : check);
    s = std::to_string(std::stoll(s) + 1);
  }
}

TEST(Ops, ServedFeedsLatencyIndicatorsAndMetricsByRole) {
  using namespace live::testing;
  const std::string ark = TempArk("ops");
  std::string engineer, analyst;
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    auto admin = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    ASSERT_TRUE(admin.ok());
    const gov::Actor by{"admin", {"admin"}};
    engineer = "eve:" + *gov::AddUser(**cat, &by, "eve", {"engineer"});
    analyst = "ana:" + *gov::AddUser(**cat, &by, "ana", {"analyst"});
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  std::vector<std::string> msgs;
  for (int i = 0; i < 12; ++i) msgs.push_back(Admit("A" + std::to_string(i), Nhs(i), "M" + std::to_string(i), "W1", "20250101100000"));
  msgs.push_back(live::testing::Result("L1", Nhs(0), "20250110080000", {{"14682-9", 80, "umol/L"}}));
  msgs.push_back(live::testing::Result("L2", Nhs(0), "20250112080000", {{"14682-9", 250, "umol/L"}}));  // AKI stage 3: an alert
  msgs.push_back("this is not HL7");                                                          // AE, no sender
  msgs.push_back(Admit("X1", Nhs(20), "M20", "W1", "20250101100000", "EM", "A05"));          // AR (unsupported)
  auto acks = SendAndAck(s.mllp(), msgs);
  ASSERT_EQ(acks.size(), msgs.size());
  for (int i = 0; i < 14; ++i) EXPECT_EQ(live::AckCode(acks[i]), "AA") << acks[i];
  EXPECT_EQ(live::AckCode(acks[14]), "AE");
  EXPECT_EQ(live::AckCode(acks[15]), "AR");

  auto feeds = Http(s.http(), "GET", "/api/v1/live/feeds", s.token);
  ASSERT_EQ(feeds.status, 200) << feeds.body;
  const json f = json::parse(feeds.body);
  ASSERT_EQ(f.size(), 2u) << feeds.body;
  EXPECT_EQ(f[0]["source"], "RXX01");
  EXPECT_EQ(f[0]["messages"], 15);
  EXPECT_EQ(f[0]["aa"], 14);
  EXPECT_EQ(f[0]["ar"], 1);
  EXPECT_GT(f[0]["per_second_1m"].get<double>(), 0);
  EXPECT_EQ(f[1]["source"], "unknown");
  EXPECT_EQ(f[1]["ae"], 1);
  EXPECT_EQ(Http(s.http(), "GET", "/api/v1/live/feeds", engineer).status, 200);
  EXPECT_EQ(Http(s.http(), "GET", "/api/v1/live/feeds", analyst).status, 403);
  EXPECT_EQ(Http(s.http(), "GET", "/api/v1/live/feeds").status, 401);

  auto lat = Http(s.http(), "GET", "/api/v1/live/latency", engineer);
  ASSERT_EQ(lat.status, 200) << lat.body;
  const json l = json::parse(lat.body);
  EXPECT_EQ(l["from_receipt"]["count"], s.metrics.action_receipt.count());
  EXPECT_GE(l["from_receipt"]["count"].get<uint64_t>(), 1u);
  uint64_t in_buckets = 0;
  for (const auto& b : l["from_receipt"]["buckets"]) in_buckets += b["count"].get<uint64_t>();
  EXPECT_EQ(in_buckets, l["from_receipt"]["count"].get<uint64_t>());
  EXPECT_TRUE(l["from_receipt"]["buckets"].back()["le"].is_null());
  EXPECT_EQ(Http(s.http(), "GET", "/api/v1/live/latency", analyst).status, 403);

  // 12 persons in a bed: exact for the clinical reader, 10 for every governance user.
  const json exact = json::parse(Http(s.http(), "GET", "/api/v1/live/indicators", s.token).body);
  EXPECT_EQ(exact["bed_occupancy"]["occupied"], 12);
  for (const std::string& who : {engineer, analyst}) {
    const json d = json::parse(Http(s.http(), "GET", "/api/v1/live/indicators", who).body);
    EXPECT_EQ(d["bed_occupancy"]["occupied"], 10) << who;
    EXPECT_TRUE(d["aki"]["persons_stage_3"].is_null()) << who;
  }
  const std::string m_exact = Http(s.http(), "GET", "/metrics", s.token).body;
  EXPECT_NE(m_exact.find("\nark_live_beds_occupied 12\n"), std::string::npos) << m_exact;
  EXPECT_NE(m_exact.find("ark_live_aki_persons{stage=\"3\"} 1\n"), std::string::npos);
  const std::string m_user = Http(s.http(), "GET", "/metrics", engineer).body;
  EXPECT_NE(m_user.find("\nark_live_beds_occupied 10\n"), std::string::npos) << m_user;
  EXPECT_EQ(m_user.find("ark_live_aki_persons{stage=\"3\"}"), std::string::npos);
}

}  // namespace
}  // namespace ark::server
