// RunOptions::progress and ::cancelled (study/run.h): a run reports its stages in order with a
// non-decreasing fraction ending at 1; a run cancelled between stages or inside the native engine
// returns Cancelled naming the stage, does not call authorise, and leaves the out dir as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"
#include "store/store_test_util.h"
#include "study/dummy.h"
#include "study/run.h"

namespace ark::study {
namespace {

constexpr const char* kDefinition = R"(name: progress
codelists:
  diabetes: {codes: ["44054006", "73211009"], system: SNOMED}
index_date: 2025-03-31
population: {registered: true, alive: true}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
measures:
  diabetes:
    numerator: has_diabetes
    denominator: has_diabetes
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
)";

// A dummy Ark of 400 persons for kDefinition, and the definition's file.
struct Fixture {
  std::string dir, ark, def, out;
  explicit Fixture(const std::string& name) {
    dir = store::testing::TempDir("run_progress_" + name);
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(MakeDirs(dir).ok());
    ark = dir + "/ark";
    def = dir + "/def.yaml";
    out = dir + "/out";
    EXPECT_TRUE(WriteFileAtomic(def, kDefinition).ok());
    auto parsed = ParseDefinitionFile(def);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!parsed.ok()) return;
    auto made = MakeDummyArk(*parsed, ark, {.people = 400, .seed = 3, .threads = 1});
    EXPECT_TRUE(made.ok()) << made.status().ToString();
  }
  RunOptions Options() const { return RunOptions{.ark_dir = ark, .definition = def, .out_dir = out, .threads = 1}; }
};

TEST(RunProgress, StagesInOrderWithFractionsUpToOne) {
  Fixture f("stages");
  RunOptions o = f.Options();
  std::vector<std::pair<std::string, double>> seen;
  o.progress = [&](const std::string& stage, double fraction) { seen.emplace_back(stage, fraction); };
  auto rep = RunStudy(o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_FALSE(seen.empty());
  std::vector<std::string> stages;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (stages.empty() || stages.back() != seen[i].first) stages.push_back(seen[i].first);
    if (i > 0) EXPECT_GE(seen[i].second, seen[i - 1].second) << seen[i].first;
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"parse", "evaluate", "authorise", "write", "done"}));
  EXPECT_EQ(seen.back().second, 1.0);
  // The native engine reported its ranges inside "evaluate" (more than the stage's own call).
  size_t evaluate_calls = 0;
  for (const auto& [stage, _] : seen) evaluate_calls += stage == "evaluate";
  EXPECT_GT(evaluate_calls, 1u);
  EXPECT_TRUE(PathExists(f.out + "/manifest.json"));
}

// RunOptions::dataset false: no dataset.csv, but authorise gets the same persons, the manifest the
// same population and the measure files are byte for byte those of a run with the dataset.
TEST(RunProgress, WithoutTheDatasetTheSamePersonsPopulationAndMeasures) {
  Fixture f("nodataset");
  std::vector<PersonKey> with, without;
  RunOptions a = f.Options();
  a.authorise = [&](const std::vector<PersonKey>& p, const std::string&) { with = p; return Status::OK(); };
  ASSERT_TRUE(RunStudy(a).ok());
  RunOptions b = f.Options();
  b.out_dir = f.dir + "/out_nodataset";
  b.dataset = false;
  b.authorise = [&](const std::vector<PersonKey>& p, const std::string&) { without = p; return Status::OK(); };
  auto rep = RunStudy(b);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_FALSE(with.empty());
  EXPECT_EQ(without, with);
  EXPECT_EQ(rep->population, with.size());
  EXPECT_TRUE(PathExists(a.out_dir + "/dataset.csv"));
  EXPECT_FALSE(PathExists(b.out_dir + "/dataset.csv"));
  auto ma = ReadFile(a.out_dir + "/measures/diabetes.csv"), mb = ReadFile(b.out_dir + "/measures/diabetes.csv");
  ASSERT_TRUE(ma.ok() && mb.ok());
  EXPECT_EQ(*mb, *ma);
  auto manifest = ReadFile(b.out_dir + "/manifest.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->find("\"population\": " + std::to_string(with.size())), std::string::npos) << *manifest;
  EXPECT_EQ(manifest->find("dataset.csv"), std::string::npos) << *manifest;
}

// Cancels on the n-th check; returns what the run returned and whether authorise was called.
Status CancelAt(const Fixture& f, int n, bool* authorised) {
  RunOptions o = f.Options();
  int calls = 0;
  o.cancelled = [&calls, n] { return ++calls >= n; };
  o.authorise = [authorised](const std::vector<PersonKey>&, const std::string&) {
    *authorised = true;
    return Status::OK();
  };
  return RunStudy(o).status();
}

TEST(RunProgress, CancelledBetweenStagesWritesNothing) {
  Fixture f("between");
  ASSERT_TRUE(MakeDirs(f.out).ok());
  ASSERT_TRUE(WriteFileAtomic(f.out + "/earlier.txt", "an earlier run's file").ok());
  bool authorised = false;
  Status s = CancelAt(f, 1, &authorised);  // the first check: before parsing
  EXPECT_TRUE(IsCancelled(s)) << s.ToString();
  EXPECT_NE(s.message().find("'parse'"), std::string::npos) << s.message();
  EXPECT_FALSE(authorised);
  EXPECT_FALSE(PathExists(f.out + "/manifest.json"));
  EXPECT_EQ(*ReadFile(f.out + "/earlier.txt"), "an earlier run's file");
}

TEST(RunProgress, CancelledInsideTheNativeEngineWritesNothing) {
  Fixture f("native");
  bool authorised = false;
  // Checks: 1 before parse, 2 before evaluate, 3 the engine's first range of persons.
  Status s = CancelAt(f, 3, &authorised);
  EXPECT_TRUE(IsCancelled(s)) << s.ToString();
  EXPECT_NE(s.message().find("'evaluate'"), std::string::npos) << s.message();
  EXPECT_FALSE(authorised);
  EXPECT_FALSE(PathExists(f.out));
  // Never cancelled: the same run completes and writes.
  RunOptions o = f.Options();
  o.cancelled = [] { return false; };
  auto rep = RunStudy(o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_TRUE(PathExists(f.out + "/measures/diabetes.csv"));
}

}  // namespace
}  // namespace ark::study
