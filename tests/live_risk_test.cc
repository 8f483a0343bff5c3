// Live risk (docs/live.md, "Live risk"): a real `ark serve --model` on real sockets re-scores a
// person when an HL7 message changes one of the model's features, and raises the risk alert for the
// person whose risk crosses the threshold, at the message that crosses it, and not for a person
// who gets the same messages but stays below. A planning project is refused. Restarts (SIGKILL
// after the ACK, a clean stop) keep every person's risk (each acknowledged event counted once)
// and raise no alert again for a crossing already alerted.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catalog/catalog.h"
#include "core/net.h"
#include "core/process.h"
#include "demo_ark.h"
#include "privacy/key.h"
#include "server/serve_process.h"

namespace {

namespace fs = std::filesystem;

using ark::test::Sh;
using ark::test::Slurp;

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
  return f;
}

double Logit(double p) { return std::log(p / (1 - p)); }
double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// One message for one person at `ts` (YYYYMMDDHHMMSS), control id `id`, adding one to the count
// feature `feature`: an emergency admission (A01, PV1-4 EM) for admissions_1y, an A&E arrival
// (A04, patient class E) for ae_1y, a coded fall (ORU^R01, OBX SNOMED 161898004) for falls_2y.
std::string Message(const std::string& feature, const std::string& nhs, const std::string& id, const std::string& ts) {
  std::string s;
  const std::string pid = "PID|1||" + nhs + "^^^NHS^NH||TEST^PATIENT||19500101|F\r";
  if (feature == "falls_2y") {
    s += "MSH|^~\\&|LIMS|RXX01|ARK|ARK|" + ts + "||ORU^R01^ORU_R01|" + id + "|P|2.4\r" + pid + "OBR|1|||FALL|||" + ts +
         "\rOBX|1|CE|161898004^Fall^SCT||Y||||||F|||" + ts + "\r\n";
  } else {
    const bool ae = feature == "ae_1y";
    s += "MSH|^~\\&|PAS|RXX01|ARK|ARK|" + ts + "||ADT^" + (ae ? "A04" : "A01") + "^ADT_A01|" + id + "|P|2.4\r";
    s += std::string("EVN|") + (ae ? "A04" : "A01") + "|" + ts + "|||U1|" + ts + "\r" + pid;
    s += ae ? "PV1|1|E|AE^^^RXX01\r\n" : "PV1|1|I|WARD1^B" + id + "^^RXX01|EM\r\n";
  }
  return s;
}

// Messages `from`..`to` for one person on 2025-06-0<i+1> (control ids <tag><i>).
std::string Messages(const std::string& feature, const std::string& nhs, const std::string& tag, int from = 1, int to = 3) {
  std::string s;
  for (int i = from; i <= to; ++i)
    s += Message(feature, nhs, tag + std::to_string(i), "2025060" + std::to_string(i + 1) + "100000");
  return s;
}

// One Ark for the suite: a demo region, a trained model, an approved direct-care project `dc`
// (approved for the live feed too: the baseline must still not count live events twice) and
// everyone's batch risk at the baseline date 2025-06-01.
class LiveRiskServe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("ark_live_risk_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    dir_ = (root_ / "d" / "ark").string();
    std::string out;
    setup_ok_ = false;
    if (Sh(ark_ + " demo --people 3000 --years 3 --out " + (root_ / "d").string(), &out) != 0) return Fail(out);
    token_ = ark::test::ReadTokens(root_ / "d" / "governance" / "tokens.env");
    if (As("ANA", "model train " + dir_ + " " + src_ + "/models/emergency_admission_12m.yaml --out " + (root_ / "m").string() +
                      " --project demo-planning", &out) != 0) return Fail(out);
    if (As("ANA", "project create " + dir_ + " dc --title t --purpose direct_care --legal-basis b --datasets "
                  "acute,community,deaths,gp,social_care,live --people ana --start 2000-01-01 --end 2999-12-31", &out) != 0)
      return Fail(out);
    if (As("ADMIN", "project approve " + dir_ + " dc", &out) != 0) return Fail(out);
    // Everyone's risk at the baseline date, from the batch scorer (direct care, threshold 0).
    if (As("ANA", "model score " + dir_ + " " + (root_ / "m").string() + " --at 2025-06-01 --threshold 0 --out " +
                      (root_ / "s").string() + " --project dc", &out) != 0) return Fail(out);
    for (const auto& e : fs::directory_iterator(root_ / "s" / "case_finding")) {
      std::istringstream in(Slurp(e.path()));
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) risk_[std::stoul(Split(line)[0])] = std::stod(Split(line)[1]);
    }
    // NHS numbers of the GP's patients and their Ark person keys (the programme key's pseudonyms).
    auto key = ark::ProgrammeKey::Load((root_ / "d" / "custodians" / "programme.key").string());
    if (!key.ok()) return Fail(key.status().ToString());
    auto cat = ark::Catalog::Open(dir_);
    if (!cat.ok()) return Fail(cat.status().ToString());
    auto st = (*cat)->Prepare("SELECT person FROM person_keys WHERE pseudonym = ?");
    if (!st.ok()) return Fail(st.status().ToString());
    std::istringstream in(Slurp(root_ / "d" / "region" / "gp" / "patients.csv"));
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> head = Split(line);
    size_t col = head.size();
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i].find("nhs") != std::string::npos) col = i;
    if (col == head.size()) return Fail("no NHS number column: " + line);
    while (std::getline(in, line)) {
      const std::vector<std::string> f = Split(line);
      if (f.size() <= col || f[col].size() != 10) continue;
      const ark::Digest h = key->Hmac(f[col]);
      (*st)->Reset();
      (*st)->BindBlob(1, h.data(), static_cast<int>(h.size()));
      auto row = (*st)->Step();
      if (row.ok() && *row) nhs_of_[static_cast<uint32_t>((*st)->Int(0))] = f[col];
    }
    // Not the people of the demo's own live messages (the acute trust's HL7 feed, some of it sent
    // through `ark serve` by `ark demo`): their live events would move them off the batch risk.
    std::set<std::string> in_feed;
    const std::string feed = Slurp(root_ / "d" / "region" / "acute" / "feed.hl7");
    if (feed.empty()) return Fail("no region/acute/feed.hl7");
    for (size_t i = 0; i < feed.size();) {
      size_t j = i;
      while (j < feed.size() && std::isdigit(static_cast<unsigned char>(feed[j]))) ++j;
      if (j - i == 10) in_feed.insert(feed.substr(i, 10));
      i = j > i ? j : i + 1;
    }
    for (auto it = nhs_of_.begin(); it != nhs_of_.end();) it = in_feed.count(it->second) ? nhs_of_.erase(it) : std::next(it);
    // The count feature a live message raises most (the coefficient per unit).
    const auto model = nlohmann::json::parse(Slurp(root_ / "m" / "model.json"));
    for (const auto& f : model["features"])
      for (const char* name : {"admissions_1y", "ae_1y", "falls_2y"})
        if (f["name"] == name && f["coefficient"].get<double>() / f["sd"].get<double>() > beta_)
          beta_ = f["coefficient"].get<double>() / f["sd"].get<double>(), feature_ = name;
    setup_ok_ = true;
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  void SetUp() override {
    ASSERT_TRUE(setup_ok_) << setup_error_;
    ASSERT_GT(risk_.size(), 1000u);
    ASSERT_GT(nhs_of_.size(), 100u);
    ASSERT_GT(beta_, 0.05);
  }

  static void Fail(const std::string& why) { setup_error_ = why; }
  static int As(const std::string& user, const std::string& args, std::string* out) {
    std::string who = user;
    for (char& c : who) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Sh("ARK_TOKEN=" + token_[user] + " " + ark_ + " " + args + " --as " + who, out);
  }

  // Persons with a GP record, not used by another test, ordered by how near their risk is to
  // `target`; the first is A, whose threshold is half way (on the logit scale) between their
  // risk after one and after two more events; the next is a person who also crosses it at their
  // second event (logit within beta/2 of A's).
  static std::vector<uint32_t> Pick(double target, size_t n) {
    std::vector<std::pair<double, uint32_t>> c;
    for (const auto& [k, r] : risk_)
      if (nhs_of_.count(k) && !used_.count(k)) c.emplace_back(std::abs(Logit(r) - Logit(target)), k);
    std::sort(c.begin(), c.end());
    std::vector<uint32_t> out;
    for (size_t i = 0; i < c.size() && out.size() < n; ++i) out.push_back(c[i].second), used_.insert(c[i].second);
    return out;
  }
  static double ThresholdFor(uint32_t a) { return Sigmoid(Logit(risk_[a]) + 1.5 * beta_); }

  ark::server::ServeProcess Start(double threshold) {
    char thr[32];
    std::snprintf(thr, sizeof thr, "%.6f", threshold);
    setenv("ARK_TOKEN", token_["ANA"].c_str(), 1);
    auto serve = ark::server::StartServe(ark_, dir_, (root_ / "serve.log").string(),
                                         {"--key", (root_ / "d" / "custodians" / "programme.key").string(), "--model",
                                          (root_ / "m").string(), "--project", "dc", "--as", "ana", "--risk-at", "2025-06-01",
                                          "--risk-alert", thr},
                                         60000);
    EXPECT_TRUE(serve.ok()) << serve.status().ToString() << Slurp(root_ / "serve.log");
    return serve.ok() ? *serve : ark::server::ServeProcess{};
  }
  // Sends `hl7` and returns how many messages were acknowledged (-1: send-hl7 failed).
  int Send(const ark::server::ServeProcess& s, const std::string& hl7) {
    std::ofstream(root_ / "feed.hl7", std::ios::trunc) << hl7;
    std::string out;
    const int rc = Sh(ark_ + " send-hl7 " + (root_ / "feed.hl7").string() + " --to 127.0.0.1:" + std::to_string(s.mllp) + " --json", &out);
    if (rc != 0 || out.find('{') == std::string::npos) return -1;
    return nlohmann::json::parse(out.substr(out.find('{')), nullptr, false).value("acknowledged", -1);
  }
  nlohmann::json Get(const ark::server::ServeProcess& s, const std::string& path) {
    const std::string api_token = Slurp(fs::path(dir_) / "live" / "api.token").substr(0, 48);
    auto r = ark::HttpGetLocal(s.http, path, api_token);
    if (!r.ok() || r->status != 200) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  nlohmann::json Risk(const ark::server::ServeProcess& s) {
    const nlohmann::json j = Get(s, "/api/v1/live/indicators");
    return j.is_object() && j.contains("risk") ? j["risk"] : nlohmann::json();
  }
  // The risk alerts in the recent-alerts list of person `p`.
  std::vector<nlohmann::json> RiskAlerts(const ark::server::ServeProcess& s, uint32_t p) {
    std::vector<nlohmann::json> out;
    const nlohmann::json j = Get(s, "/api/v1/live/alerts");
    if (j.is_array())
      for (const auto& x : j)
        if (x["signal"] == "risk" && x["person"].get<uint32_t>() == p) out.push_back(x);
    return out;
  }

  static inline fs::path root_;
  static inline std::string dir_, setup_error_, feature_;
  static inline const std::string ark_ = ARK_BINARY, src_ = ARK_SOURCE_DIR;
  static inline bool setup_ok_ = false;
  static inline std::map<std::string, std::string> token_;
  static inline std::map<uint32_t, double> risk_;
  static inline std::map<uint32_t, std::string> nhs_of_;
  static inline std::set<uint32_t> used_;
  static inline double beta_ = 0;
};

// The same risk figures before and after a restart: everyone's summed risk, bit for bit, and how
// many people are at or above the threshold.
void ExpectSameRisk(const nlohmann::json& before, const nlohmann::json& after) {
  ASSERT_TRUE(before.is_object() && before.contains("risk_total")) << before.dump();
  ASSERT_TRUE(after.is_object() && after.contains("risk_total")) << after.dump();
  ASSERT_TRUE(before["risk_total"].is_number());
  EXPECT_EQ(after["risk_total"].get<double>(), before["risk_total"].get<double>()) << before.dump() << "\n" << after.dump();
  EXPECT_EQ(after["at_or_above"], before["at_or_above"]);
}

TEST_F(LiveRiskServe, ServeAlertsThePersonWhoCrossesTheThresholdAndNotTheOther) {
  // A: the person with risk nearest 0.08; the threshold half way (on the logit scale) between
  // their risk after one and after two more events. B: a person who stays below it after three.
  const uint32_t a = Pick(0.08, 1)[0];
  const double threshold = ThresholdFor(a);
  uint32_t b = 0;
  for (const auto& [k, r] : risk_)
    if (nhs_of_.count(k) && !used_.count(k) && Sigmoid(Logit(r) + 3 * beta_) < threshold - 0.01) { b = k; break; }
  ASSERT_NE(b, 0u);
  used_.insert(b);

  // A planning project gets no person-level alerts: refused before the server starts.
  std::string out;
  setenv("ARK_TOKEN", token_["ANA"].c_str(), 1);
  EXPECT_NE(Sh(ark_ + " serve " + dir_ + " --model " + (root_ / "m").string() + " --project demo-planning --as ana --risk-alert 0.5"
                   " --mllp 127.0.0.1:0 --http 127.0.0.1:0", &out), 0);
  EXPECT_NE(out.find("direct care only"), std::string::npos) << out;

  const auto serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const int acked = Send(serve, Messages(feature_, nhs_of_[a], "RA") + Messages(feature_, nhs_of_[b], "RB"));
  const std::vector<nlohmann::json> alerts = RiskAlerts(serve, a), alerts_b = RiskAlerts(serve, b);
  const nlohmann::json r = Risk(serve);
  ark::server::StopServe(serve);
  EXPECT_EQ(acked, 6);

  // Exactly one risk alert: person A, at the second message, with the risk the model gives two
  // more events; none for B.
  EXPECT_TRUE(alerts_b.empty());
  ASSERT_EQ(alerts.size(), 1u);
  const auto& x = alerts[0];
  EXPECT_EQ(x["control_id"], "RA2");
  EXPECT_NEAR(x["value"].get<double>(), Sigmoid(Logit(risk_[a]) + 2 * beta_), 1e-4);
  EXPECT_GE(x["value"].get<double>(), threshold);
  EXPECT_FALSE(x["practice"].get<std::string>().empty());
  EXPECT_GE(x["emitted_us"].get<int64_t>(), x["received_us"].get<int64_t>());
  // Both people were re-scored at each of their messages.
  EXPECT_EQ(r["rescored"], 6) << r.dump();
  EXPECT_EQ(r["alerts"], 1);
  EXPECT_EQ(r["baseline_date"], "2025-06-01");
  EXPECT_TRUE(r["rescore_ms"]["p99"].is_number());
}

// kill -9 after the ACK of the crossing message: after the restart the risk is what it was, the
// alert is listed once, the retransmitted messages and two more events for A raise nothing, and
// a second person who crosses after the restart is alerted exactly once.
TEST_F(LiveRiskServe, KillAfterAckKeepsRiskAndDoesNotAlertTheSameCrossingAgain) {
  const std::vector<uint32_t> p = Pick(0.12, 2);
  ASSERT_EQ(p.size(), 2u);
  const uint32_t a = p[0], b = p[1];
  const double threshold = ThresholdFor(a);
  ASSERT_LT(Sigmoid(Logit(risk_[b]) + beta_), threshold);
  ASSERT_GE(Sigmoid(Logit(risk_[b]) + 2 * beta_), threshold);
  auto serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const std::string first = Messages(feature_, nhs_of_[a], "KA", 1, 2);
  ASSERT_EQ(Send(serve, first), 2);
  const nlohmann::json before = Risk(serve);
  ASSERT_EQ(RiskAlerts(serve, a).size(), 1u);
  ark::server::StopServe(serve, SIGKILL);

  serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const nlohmann::json after = Risk(serve);
  const std::vector<nlohmann::json> listed = RiskAlerts(serve, a);
  EXPECT_EQ(Send(serve, first), 2);  // retransmitted: acknowledged, not counted again
  const nlohmann::json resent = Risk(serve);
  EXPECT_EQ(Send(serve, Messages(feature_, nhs_of_[a], "KA", 3, 4)), 2);
  const std::vector<nlohmann::json> alerts_a = RiskAlerts(serve, a);
  EXPECT_EQ(Send(serve, Messages(feature_, nhs_of_[b], "KB")), 3);
  const std::vector<nlohmann::json> alerts_b = RiskAlerts(serve, b);
  ark::server::StopServe(serve);

  ExpectSameRisk(before, after);
  ExpectSameRisk(before, resent);
  EXPECT_GE(after.value("replayed", 0), 2) << after.dump();
  EXPECT_EQ(listed.size(), 1u) << "A's alert is not listed after the restart";
  if (listed.size() == 1) EXPECT_EQ(listed[0]["control_id"], "KA2");
  std::vector<std::string> ids;
  for (const auto& x : alerts_a) ids.push_back(x["control_id"]);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "KA3") + std::count(ids.begin(), ids.end(), "KA4"), 0)
      << "A's crossing was alerted again after the restart";
  EXPECT_LE(alerts_a.size(), 1u);
  ASSERT_EQ(alerts_b.size(), 1u);
  EXPECT_EQ(alerts_b[0]["control_id"], "KB2");
  EXPECT_NEAR(alerts_b[0]["value"].get<double>(), Sigmoid(Logit(risk_[b]) + 2 * beta_), 1e-4);
}

// The same across a clean stop (SIGTERM: final snapshot, store flushed).
TEST_F(LiveRiskServe, CleanRestartKeepsRiskAndDoesNotAlertTheSameCrossingAgain) {
  const std::vector<uint32_t> p = Pick(0.05, 2);
  ASSERT_EQ(p.size(), 2u);
  const uint32_t a = p[0], b = p[1];
  const double threshold = ThresholdFor(a);
  ASSERT_LT(Sigmoid(Logit(risk_[b]) + beta_), threshold);
  ASSERT_GE(Sigmoid(Logit(risk_[b]) + 2 * beta_), threshold);
  auto serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  ASSERT_EQ(Send(serve, Messages(feature_, nhs_of_[a], "CA", 1, 2)), 2);
  const nlohmann::json before = Risk(serve);
  ark::server::StopServe(serve);

  serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const nlohmann::json after = Risk(serve);
  EXPECT_EQ(Send(serve, Messages(feature_, nhs_of_[a], "CA", 3, 4)), 2);
  const std::vector<nlohmann::json> alerts_a = RiskAlerts(serve, a);
  EXPECT_EQ(Send(serve, Messages(feature_, nhs_of_[b], "CB")), 3);
  const std::vector<nlohmann::json> alerts_b = RiskAlerts(serve, b);
  ark::server::StopServe(serve);

  ExpectSameRisk(before, after);
  ASSERT_EQ(alerts_a.size(), 1u) << "A's crossing was alerted again after the restart";
  EXPECT_EQ(alerts_a[0]["control_id"], "CA2");
  ASSERT_EQ(alerts_b.size(), 1u);
  EXPECT_EQ(alerts_b[0]["control_id"], "CB2");
}

// Events acknowledged just before a kill -9 (whether or not they reached the store) count once
// after the restart, and after a second one (by then the store surely holds them): the risk
// figures are those before the kill, and A and B each cross at their next event, with the risk of
// exactly two events. A's first event is dated after the baseline date (the batch baseline never
// reads it); B's and C's (a coded fall, SNOMED as the batch codelist names it) before it, inside
// the features' windows, and the project is approved for the live feed: a baseline that read the
// store's live events would count C's fall (and B's event, if it is a fall) a second time.
TEST_F(LiveRiskServe, EventAcknowledgedBeforeAKillCountsOnceAfterTheRestart) {
  const std::vector<uint32_t> p = Pick(0.03, 3);
  ASSERT_EQ(p.size(), 3u);
  const uint32_t a = p[0], b = p[1], c = p[2];
  const double threshold = ThresholdFor(a);
  ASSERT_LT(Sigmoid(Logit(risk_[b]) + beta_), threshold);
  ASSERT_GE(Sigmoid(Logit(risk_[b]) + 2 * beta_), threshold);
  auto serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  ASSERT_EQ(Send(serve, Message(feature_, nhs_of_[a], "EA1", "20250602100000") +
                            Message(feature_, nhs_of_[b], "EB1", "20250520100000") +
                            Message("falls_2y", nhs_of_[c], "EC1", "20250520100000")), 3);
  const nlohmann::json before = Risk(serve);
  ark::server::StopServe(serve, SIGKILL);  // at once after the ACK: the store may not have them yet

  serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const nlohmann::json after = Risk(serve);
  ark::server::StopServe(serve);
  serve = Start(threshold);
  ASSERT_GT(serve.pid, 0);
  const nlohmann::json again = Risk(serve);
  EXPECT_EQ(Send(serve, Message(feature_, nhs_of_[a], "EA2", "20250603100000") +
                            Message(feature_, nhs_of_[b], "EB2", "20250603100000")), 2);
  const std::vector<nlohmann::json> alerts_a = RiskAlerts(serve, a), alerts_b = RiskAlerts(serve, b);
  ark::server::StopServe(serve);

  ExpectSameRisk(before, after);
  ExpectSameRisk(before, again);
  EXPECT_GE(after.value("replayed", 0), 3) << after.dump();  // and the demo's own live messages
  ASSERT_EQ(alerts_a.size(), 1u) << "A's acknowledged event was lost at the restart";
  EXPECT_EQ(alerts_a[0]["control_id"], "EA2");
  EXPECT_NEAR(alerts_a[0]["value"].get<double>(), Sigmoid(Logit(risk_[a]) + 2 * beta_), 1e-4);
  ASSERT_EQ(alerts_b.size(), 1u) << "B's acknowledged event was lost or counted twice at the restart";
  EXPECT_EQ(alerts_b[0]["control_id"], "EB2");
  EXPECT_NEAR(alerts_b[0]["value"].get<double>(), Sigmoid(Logit(risk_[b]) + 2 * beta_), 1e-4);
}

}  // namespace
