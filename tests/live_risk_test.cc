// Live risk (docs/live.md, "Live risk"): a real `ark serve --model` on real sockets re-scores a
// person when an HL7 message changes one of the model's features, and raises the risk alert for the
// person whose risk crosses the threshold, at the message that crosses it, and not for a person
// who gets the same messages but stays below. A planning project is refused.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
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

// Three messages for one person on 2025-06-02..04 (control ids <tag>1..<tag>3), each adding one
// to the count feature `feature`: an emergency admission (A01, PV1-4 EM) for admissions_1y, an A&E
// arrival (A04, patient class E) for ae_1y, a coded fall (ORU^R01, OBX SNOMED 161898004) for falls_2y.
std::string Messages(const std::string& feature, const std::string& nhs, const std::string& tag) {
  std::string s;
  for (int i = 1; i <= 3; ++i) {
    const std::string ts = "2025060" + std::to_string(i + 1) + "100000", id = tag + std::to_string(i);
    const std::string pid = "PID|1||" + nhs + "^^^NHS^NH||TEST^PATIENT||19500101|F\r";
    if (feature == "falls_2y") {
      s += "MSH|^~\\&|LIMS|RXX01|ARK|ARK|" + ts + "||ORU^R01^ORU_R01|" + id + "|P|2.4\r" + pid + "OBR|1|||FALL|||" + ts +
           "\rOBX|1|CE|161898004^Fall^SCT||Y||||||F|||" + ts + "\r\n";
    } else {
      const bool ae = feature == "ae_1y";
      s += "MSH|^~\\&|PAS|RXX01|ARK|ARK|" + ts + "||ADT^" + (ae ? "A04" : "A01") + "^ADT_A01|" + id + "|P|2.4\r";
      s += std::string("EVN|") + (ae ? "A04" : "A01") + "|" + ts + "|||U1|" + ts + "\r" + pid;
      s += ae ? "PV1|1|E|AE^^^RXX01\r\n" : "PV1|1|I|WARD1^B" + std::to_string(i) + "^^RXX01|EM\r\n";
    }
  }
  return s;
}

TEST(LiveRisk, ServeAlertsThePersonWhoCrossesTheThresholdAndNotTheOther) {
  const fs::path root = fs::temp_directory_path() / ("ark_live_risk_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string ark = ARK_BINARY, src = ARK_SOURCE_DIR, dir = (root / "d" / "ark").string();
  std::string out;
  ASSERT_EQ(Sh(ark + " demo --people 3000 --years 3 --out " + (root / "d").string(), &out), 0) << out;
  std::map<std::string, std::string> token = ark::test::ReadTokens(root / "d" / "governance" / "tokens.env");
  auto as = [&](const std::string& user, const std::string& args) {
    std::string who = user;
    for (char& c : who) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Sh("ARK_TOKEN=" + token[user] + " " + ark + " " + args + " --as " + who, &out);
  };
  ASSERT_EQ(as("ANA", "model train " + dir + " " + src + "/models/emergency_admission_12m.yaml --out " + (root / "m").string() +
                          " --project demo-planning"), 0) << out;
  ASSERT_EQ(as("ANA", "project create " + dir + " dc --title t --purpose direct_care --legal-basis b --datasets "
                      "acute,community,deaths,gp,social_care --people ana --start 2000-01-01 --end 2999-12-31"), 0) << out;
  ASSERT_EQ(as("ADMIN", "project approve " + dir + " dc"), 0) << out;
  // Everyone's risk at the baseline date, from the batch scorer (direct care, threshold 0).
  ASSERT_EQ(as("ANA", "model score " + dir + " " + (root / "m").string() + " --at 2025-06-01 --threshold 0 --out " +
                          (root / "s").string() + " --project dc"), 0) << out;
  std::map<uint32_t, double> risk;
  for (const auto& e : fs::directory_iterator(root / "s" / "case_finding")) {
    std::istringstream in(Slurp(e.path()));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) risk[std::stoul(Split(line)[0])] = std::stod(Split(line)[1]);
  }
  ASSERT_GT(risk.size(), 1000u);

  // NHS numbers of the GP's patients and their Ark person keys (the programme key's pseudonyms).
  auto key = ark::ProgrammeKey::Load((root / "d" / "custodians" / "programme.key").string());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto cat = ark::Catalog::Open(dir);
  ASSERT_TRUE(cat.ok());
  auto st = (*cat)->Prepare("SELECT person FROM person_keys WHERE pseudonym = ?");
  ASSERT_TRUE(st.ok());
  std::map<uint32_t, std::string> nhs_of;
  {
    std::istringstream in(Slurp(root / "d" / "region" / "gp" / "patients.csv"));
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> head = Split(line);
    size_t col = head.size();
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i].find("nhs") != std::string::npos) col = i;
    ASSERT_LT(col, head.size()) << line;
    while (std::getline(in, line)) {
      const std::vector<std::string> f = Split(line);
      if (f.size() <= col || f[col].size() != 10) continue;
      const ark::Digest h = key->Hmac(f[col]);
      (*st)->Reset();
      (*st)->BindBlob(1, h.data(), static_cast<int>(h.size()));
      auto row = (*st)->Step();
      if (row.ok() && *row) nhs_of[static_cast<uint32_t>((*st)->Int(0))] = f[col];
    }
  }
  ASSERT_GT(nhs_of.size(), 1000u);

  // The count feature a live message raises most (the coefficient per unit). A: the person with
  // risk nearest 0.08; the threshold half way (on the logit scale) between their risk after one
  // and after two more such events. B: a person whose risk stays below it after all three.
  const auto model = nlohmann::json::parse(Slurp(root / "m" / "model.json"));
  double beta = 0;
  std::string feature;
  for (const auto& f : model["features"])
    for (const char* name : {"admissions_1y", "ae_1y", "falls_2y"})
      if (f["name"] == name && f["coefficient"].get<double>() / f["sd"].get<double>() > beta)
        beta = f["coefficient"].get<double>() / f["sd"].get<double>(), feature = name;
  ASSERT_GT(beta, 0.05) << model.dump();
  uint32_t a = 0, b = 0;
  double best = 1;
  for (const auto& [k, r] : risk)
    if (nhs_of.count(k) && std::abs(r - 0.08) < best) best = std::abs(r - 0.08), a = k;
  const double threshold = Sigmoid(Logit(risk[a]) + 1.5 * beta);
  for (const auto& [k, r] : risk)
    if (nhs_of.count(k) && Sigmoid(Logit(r) + 3 * beta) < threshold - 0.01) { b = k; break; }
  ASSERT_NE(b, 0u);

  // A planning project gets no person-level alerts: refused before the server starts.
  setenv("ARK_TOKEN", token["ANA"].c_str(), 1);
  EXPECT_NE(Sh(ark + " serve " + dir + " --model " + (root / "m").string() + " --project demo-planning --as ana --risk-alert 0.5"
                   " --mllp 127.0.0.1:0 --http 127.0.0.1:0", &out), 0);
  EXPECT_NE(out.find("direct care only"), std::string::npos) << out;

  char thr[32];
  std::snprintf(thr, sizeof thr, "%.6f", threshold);
  auto serve = ark::server::StartServe(ark, dir, (root / "serve.log").string(),
                                       {"--key", (root / "d" / "custodians" / "programme.key").string(), "--model",
                                        (root / "m").string(), "--project", "dc", "--as", "ana", "--risk-at", "2025-06-01",
                                        "--risk-alert", thr},
                                       60000);
  ASSERT_TRUE(serve.ok()) << serve.status().ToString() << Slurp(root / "serve.log");
  std::ofstream(root / "feed.hl7") << Messages(feature, nhs_of[a], "RA") << Messages(feature, nhs_of[b], "RB");
  const int sent = Sh(ark + " send-hl7 " + (root / "feed.hl7").string() + " --to 127.0.0.1:" + std::to_string(serve->mllp) + " --json", &out);
  const std::string api_token = Slurp(fs::path(dir) / "live" / "api.token").substr(0, 48);
  auto alerts = ark::HttpGetLocal(serve->http, "/api/v1/live/alerts", api_token);
  auto ind = ark::HttpGetLocal(serve->http, "/api/v1/live/indicators", api_token);
  ark::server::StopServe(*serve);
  ASSERT_EQ(sent, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out.substr(out.find('{')), nullptr, false).value("acknowledged", 0), 6) << out;
  ASSERT_TRUE(alerts.ok() && alerts->status == 200);
  ASSERT_TRUE(ind.ok() && ind->status == 200);

  // Exactly one risk alert: person A, at the second message, with the risk the model gives two
  // more events; none for B.
  std::vector<nlohmann::json> risk_alerts;
  for (const auto& x : nlohmann::json::parse(alerts->body))
    if (x["signal"] == "risk") risk_alerts.push_back(x);
  ASSERT_EQ(risk_alerts.size(), 1u) << alerts->body;
  const auto& x = risk_alerts[0];
  EXPECT_EQ(x["person"].get<uint32_t>(), a);
  EXPECT_EQ(x["control_id"], "RA2");
  EXPECT_NEAR(x["value"].get<double>(), Sigmoid(Logit(risk[a]) + 2 * beta), 1e-4);
  EXPECT_GE(x["value"].get<double>(), threshold);
  EXPECT_FALSE(x["practice"].get<std::string>().empty());
  EXPECT_GE(x["emitted_us"].get<int64_t>(), x["received_us"].get<int64_t>());
  // Both people were re-scored at each of their messages.
  const auto r = nlohmann::json::parse(ind->body)["risk"];
  EXPECT_EQ(r["rescored"], 6) << ind->body;
  EXPECT_EQ(r["alerts"], 1);
  EXPECT_EQ(r["baseline_date"], "2025-06-01");
  EXPECT_TRUE(r["rescore_ms"]["p99"].is_number());
  fs::remove_all(root);
}

}  // namespace
