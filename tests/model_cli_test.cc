// `ark model train` through the binary (docs/risk-models.md): in an approved planning project by
// one of its people it writes the model and its card and records the run; anyone else is
// refused with nothing written, and so is a research project; a bad model file is named with
// its line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/process.h"

namespace {

namespace fs = std::filesystem;

int Sh(const std::string& cmd, std::string* out) {
  ark::CommandOutput r = ark::RunCommand(cmd + " 2>&1");
  *out = r.output;
  return r.exit_code;
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ModelCli, TrainInProjectWritesCardAndRefusesOthers) {
  const fs::path root = fs::temp_directory_path() / ("ark_model_cli_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string ark = ARK_BINARY, src = ARK_SOURCE_DIR;
  std::string out;
  ASSERT_EQ(Sh(ark + " demo --people 3000 --years 3 --out " + (root / "d").string(), &out), 0) << out;
  const std::string ark_dir = (root / "d" / "ark").string(), model = src + "/models/emergency_admission_12m.yaml";
  std::map<std::string, std::string> token;
  std::istringstream tokens(Slurp(root / "d" / "governance" / "tokens.env"));
  for (std::string line; std::getline(tokens, line);)
    if (const size_t eq = line.find('='); !line.empty() && line[0] != '#' && eq != std::string::npos)
      token[line.substr(0, eq)] = line.substr(eq + 1);
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
