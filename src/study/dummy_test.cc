// Dummy data (study/dummy.h): for every shipped definition a dummy Ark runs with a non-empty
// research population (dummy persons have a known, not-opted-out status), no variable is null in
// every row, and every measure counts something; prefix codelists get codes under the prefix; the
// same seed gives the same data.
#include "study/dummy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/fs.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "study/codes.h"
#include "study/run.h"

namespace ark::study {
namespace {

using store::testing::TempDir;

const std::string kDefs = std::string(ARK_SOURCE_DIR) + "/definitions";

std::vector<std::string> Lines(const EngineResult& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(row.line);
  for (const std::string& part : r.text_parts) {
    std::istringstream in(part);
    for (std::string l; std::getline(in, l);) out.push_back(l);
  }
  return out;
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      f.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  f.push_back(cur);
  return f;
}

class DummyDefinition : public ::testing::TestWithParam<std::string> {};

TEST_P(DummyDefinition, RunsWithPopulationAndValues) {
  auto def = ParseDefinitionFile(kDefs + "/" + GetParam() + ".yaml");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  const std::string ark = TempDir("dummy_" + GetParam());
  std::filesystem::remove_all(ark);
  auto rep = MakeDummyArk(*def, ark, {.people = 300, .seed = 7, .threads = 1});
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->persons, 300u);
  for (Engine e : {Engine::kNative, Engine::kSqlite}) {
    auto r = Evaluate(*def, ark, e, Purpose::kResearch, "", 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const auto lines = Lines(*r);
    EXPECT_GT(lines.size(), 10u) << EngineName(e);
    const size_t first_var = HasIndexDateColumn(*def) ? 2 : 1;
    std::vector<int> non_null(def->variables.size(), 0);
    for (const std::string& l : lines) {
      const auto f = Split(l);
      ASSERT_EQ(f.size(), first_var + def->variables.size()) << l;
      for (size_t v = 0; v < def->variables.size(); ++v) non_null[v] += !f[first_var + v].empty();
    }
    for (size_t v = 0; v < def->variables.size(); ++v) {
      EXPECT_GT(non_null[v], 0) << GetParam() << ": " << def->variables[v].name << " is null in every row";
    }
    ASSERT_EQ(r->measures.size(), def->measures.size());
    for (size_t m = 0; m < def->measures.size(); ++m) {
      int64_t num = 0, den = 0;
      for (const auto& [k, nd] : r->measures[m]) {
        num += nd.first;
        den += nd.second;
      }
      EXPECT_GT(num, 0) << def->measures[m].name;
      EXPECT_GT(den, 0) << def->measures[m].name;
      // A yes/no numerator holds for some of the denominator, not all.
      if (def->variables[def->measures[m].numerator].type == Type::kBool) EXPECT_LT(num, den) << def->measures[m].name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Definitions, DummyDefinition,
                         ::testing::Values("copd_exacerbations", "copd_hospital_quarters", "diabetes_register",
                                           "emergency_readmissions"));

std::multiset<std::string> CodesOf(const std::string& ark) {
  std::multiset<std::string> out;
  auto s = Store::Open(ark + "/store");
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return out;
  auto d = (*s)->dicts();
  EXPECT_TRUE((*s)->ForEachPerson([&](const Person&, std::span<const Event> ev) {
    for (const Event& e : ev) out.insert(d->codes[e.code] + "@" + std::to_string(e.time));
    return Status::OK();
  }).ok());
  return out;
}

TEST(Dummy, PrefixCodelistGetsMatchingCodesAndSeedIsDeterministic) {
  const std::string yaml =
      "name: prefix\n"
      "codelists:\n"
      "  copd: {codes: ['J44*', 'E10-E11'], system: ICD10}\n"
      "index_date: 2024-01-01\n"
      "population: {registered: true, alive: true, where: has_copd}\n"
      "variables:\n"
      "  has_copd: {exists: copd, to: -1d}\n";
  auto def = ParseDefinition(yaml, "prefix.yaml", ".");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  const std::string a = TempDir("dummy_prefix_a"), b = TempDir("dummy_prefix_b"), c = TempDir("dummy_prefix_c");
  for (auto* d : {&a, &b, &c}) std::filesystem::remove_all(*d);
  ASSERT_TRUE(MakeDummyArk(*def, a, {.people = 50, .seed = 3, .threads = 1}).ok());
  ASSERT_TRUE(MakeDummyArk(*def, b, {.people = 50, .seed = 3, .threads = 1}).ok());
  ASSERT_TRUE(MakeDummyArk(*def, c, {.people = 50, .seed = 4, .threads = 1}).ok());
  const auto ca = CodesOf(a);
  EXPECT_EQ(ca, CodesOf(b));
  EXPECT_NE(ca, CodesOf(c));
  std::set<std::string> icd;
  for (const std::string& ct : ca) {
    const std::string code = ct.substr(0, ct.find('@'));
    if (code.rfind("ICD10/", 0) != 0) continue;
    icd.insert(code);
    EXPECT_TRUE(CodelistMatches(def->codelists[0], code)) << code;
  }
  EXPECT_TRUE(icd.count("ICD10/J44.0") || icd.count("ICD10/J44.9"));
  EXPECT_TRUE(icd.count("ICD10/E10.0") || icd.count("ICD10/E11.9") || icd.count("ICD10/E10.9") || icd.count("ICD10/E11.0"));
  auto r = Evaluate(*def, a, Engine::kNative, Purpose::kResearch, "", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->num_rows(), 0u);

  auto again = MakeDummyArk(*def, a, {.people = 5, .seed = 1, .threads = 1});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("not empty"), std::string::npos);
}

// The command line: `ark dummy` then `ark run` (research, opt-outs applied) gives a population.
TEST(Dummy, CliDummyThenRun) {
  const std::string t = TempDir("dummy_cli");
  std::filesystem::remove_all(t);
  ASSERT_TRUE(MakeDirs(t).ok());
  const std::string ark = std::string(ARK_BINARY);
  const std::string def = kDefs + "/diabetes_register.yaml";
  const std::string cmd = ark + " dummy " + def + " --people 200 --seed 5 --out " + t + "/a >/dev/null && " + ark +
                          " run " + t + "/a " + def + " --out " + t + "/out > " + t + "/run.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto out = ReadFile(t + "/run.txt");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->find("population 0"), std::string::npos) << *out;
  EXPECT_NE(out->find("population "), std::string::npos) << *out;
  // An existing Ark is never overwritten; --people 0 is refused.
  EXPECT_NE(std::system((ark + " dummy " + def + " --out " + t + "/a 2>/dev/null").c_str()), 0);
  EXPECT_NE(std::system((ark + " dummy " + def + " --people 0 --out " + t + "/b 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace ark::study
