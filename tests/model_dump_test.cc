// `ark model train --dump-features DIR` (docs/risk-models.md, "scikit-learn beside Ark"): the rows
// Ark fits and validates on, features and outcome only (no person key), as many as the card says;
// refused, with nothing written, once the Ark enforces governance.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/process.h"
#include "demo_ark.h"

namespace {

namespace fs = std::filesystem;

using ark::test::Sh;
using ark::test::Slurp;

TEST(ModelDump, FeaturesWithoutIdentifiersAndRefusedWhenGovernanceIsEnforced) {
  const fs::path root = fs::temp_directory_path() / ("ark_model_dump_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string ark = ARK_BINARY, src = ARK_SOURCE_DIR, dir = (root / "d" / "ark").string();
  std::string out;
  ASSERT_EQ(Sh(ark + " demo --people 3000 --years 3 --out " + (root / "d").string(), &out), 0) << out;
  std::map<std::string, std::string> token = ark::test::ReadTokens(root / "d" / "governance" / "tokens.env");
  const std::string train = "ARK_TOKEN=" + token["ANA"] + " " + ark + " model train " + dir + " " + src +
                            "/models/emergency_admission_12m.yaml --project demo-planning --as ana";
  ASSERT_EQ(Sh(train + " --out " + (root / "m").string() + " --dump-features " + (root / "f").string(), &out), 0) << out;
  const auto card = nlohmann::json::parse(Slurp(root / "m" / "model_card.json"));
  const auto model = nlohmann::json::parse(Slurp(root / "m" / "model.json"));
  for (const auto& [file, part] : {std::pair{"train.csv", "training"}, std::pair{"validate.csv", "validation"}}) {
    std::istringstream in(Slurp(root / "f" / file));
    std::string header, line;
    std::getline(in, header);
    std::string want;
    for (const auto& f : model["features"]) want += f["name"].get<std::string>() + ",";
    EXPECT_EQ(header, want + "emergency_admission_12m") << file;  // no person key
    size_t rows = 0;
    while (std::getline(in, line)) ++rows;
    EXPECT_EQ(rows, card["data"][part]["people"].get<size_t>()) << file;
  }
  // Enforced: refused and logged, nothing written.
  ASSERT_EQ(Sh("ARK_TOKEN=" + token["ADMIN"] + " " + ark + " enforce " + dir + " --as admin", &out), 0) << out;
  EXPECT_NE(Sh(train + " --out " + (root / "m2").string() + " --dump-features " + (root / "f2").string(), &out), 0);
  EXPECT_NE(out.find("enforces governance"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(root / "f2"));
  EXPECT_FALSE(fs::exists(root / "m2"));
  fs::remove_all(root);
}

}  // namespace
