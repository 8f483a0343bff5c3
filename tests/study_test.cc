// Study definitions: parser errors (line:col), the text-driven suite tests/study/*.test run on the
// native engine, SQLite and PostgreSQL (a private server started once for the binary), and a
// randomised native == SQLite == PostgreSQL check. The .test format is described in
// tests/study/README.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/process.h"
#include "core/fs.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "sql/sql_test_util.h"
#include "store/store.h"
#include "study/definition.h"
#include "study/native.h"
#include "study/output.h"
#include "study/sql_compile.h"
#include "study/run.h"
#include "study/sql_run.h"
#include "study/test_data.h"

namespace ark::study {
namespace {

// One PostgreSQL cluster for the binary (shared with the sql tests), started before any test.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { (void)sql::testing::SharedPgUrl(); }
};
const auto* const kPgEnv = ::testing::AddGlobalTestEnvironment(new PgEnvironment);

std::string TempDir(const std::string& tag) {
  std::string d = "/tmp/ark_study_" + tag + "_" + std::to_string(getpid());
  (void)RemoveAll(d);
  return d;
}

// Removes a directory when the test ends, also after a failed ASSERT.
struct RemoveOnExit {
  std::string dir;
  ~RemoveOnExit() { (void)RemoveAll(dir); }
};

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Raw measure rows as the .test files write them: interval_start,numerator,denominator[,groups].
std::string RawMeasure(const Definition& def, size_t m, const MeasureCells& cells) {
  std::string s;
  for (auto& [k, c] : cells) {
    s += FormatDate(def.measures[m].intervals[k.first].start) + "," + std::to_string(c.first) + "," + std::to_string(c.second);
    for (auto& g : k.second) s += "," + g;
    s += "\n";
  }
  return s;
}

std::string DatasetText(const Definition& def, const EngineResult& r) { return DatasetCsv(def, r); }

// All three engines on one Ark.
struct Engines {
  std::string ark;
  std::unique_ptr<sql::Connection> sqlite, pg;

  Status Open(const std::string& ark_dir) {
    ark = ark_dir;
    ARK_ASSIGN_OR_RETURN(sqlite, sql::Connection::Open("sqlite:" + ark_dir + "/export.sqlite"));
    ARK_RETURN_IF_ERROR(sql::ExportArk(ark_dir, *sqlite, sql::Schema::kArk));
    ARK_ASSIGN_OR_RETURN(std::string url, sql::testing::SharedPgUrl());
    ARK_ASSIGN_OR_RETURN(pg, sql::Connection::Open(url));
    return sql::ExportArk(ark_dir, *pg, sql::Schema::kArk);
  }
  Result<std::vector<EngineResult>> RunAll(const Definition& def, Purpose purpose, const Feeds& feeds = std::nullopt) {
    std::vector<EngineResult> out;
    {
      ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark + "/store"));
      NativeOptions o;
      o.threads = 2;
      o.feeds = feeds;
      ARK_ASSIGN_OR_RETURN(EngineResult r, RunNative(def, *store, purpose, o));
      out.push_back(std::move(r));
    }
    {
      auto r = RunSql(def, *sqlite, purpose, feeds);
      if (!r.ok()) return r.status().WithContext("sqlite");
      out.push_back(std::move(*r));
    }
    {
      auto r = RunSql(def, *pg, purpose, feeds);
      if (!r.ok()) return r.status().WithContext("postgres");
      out.push_back(std::move(*r));
    }
    return out;
  }
};
const char* kEngineNames[] = {"native", "sqlite", "postgres"};

// ---------------------------------------------------------------------------------------------
// Parser errors name line and column.

Status ParseText(const std::string& yaml) { return ParseDefinition(yaml, "def.yaml", "").status(); }

TEST(StudyParse, UnknownCodelistNamesLineAndColumn) {
  Status s = ParseText(
      "name: t\n"
      "codelists:\n"
      "  dm: {codes: [SNOMED/1]}\n"
      "index_date: 2025-01-01\n"
      "variables:\n"
      "  x: {exists: diabetes}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:6:15: variable 'x': unknown codelist 'diabetes'"), std::string::npos) << s.message();
}

TEST(StudyParse, WindowFromAfterTo) {
  Status s = ParseText(
      "name: t\ncodelists: {dm: {codes: [SNOMED/1]}}\nindex_date: 2025-01-01\n"
      "variables:\n"
      "  x: {exists: dm, from: 0d, to: -30d}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:5:25: window from 0d is after to -30d"), std::string::npos) << s.message();
}

TEST(StudyParse, TypeMismatchInExpressionPointsAtOperator) {
  Status s = ParseText(
      "name: t\ncodelists: {dm: {codes: [SNOMED/1]}}\nindex_date: 2025-01-01\n"
      "variables:\n"
      "  x: {exists: dm}\n"
      "  y: \"x + 1\"\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:6:9: type mismatch: cannot apply '+' to bool and int"), std::string::npos) << s.message();
}

TEST(StudyParse, UnknownKeyAndUnknownVariable) {
  Status s = ParseText("name: t\nindex_date: 2025-01-01\npopulaton: {alive: true}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:3:1: unknown key 'populaton'"), std::string::npos) << s.message();
  s = ParseText("name: t\nindex_date: 2025-01-01\nvariables:\n  a: \"b and alive\"\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:4:7: unknown variable 'b'"), std::string::npos) << s.message();
}

TEST(StudyParse, MeasureNumeratorMustCount) {
  Status s = ParseText(
      "name: t\ncodelists: {dm: {codes: [SNOMED/1]}}\nindex_date: 2025-01-01\n"
      "variables:\n  d: {first: dm}\n  e: {exists: dm}\n"
      "measures:\n  m: {numerator: d, denominator: e, intervals: {every: month, from: 2024-01-01, to: 2024-12-31}}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("def.yaml:8:18: type mismatch: numerator 'd' must be bool or int, not date"), std::string::npos) << s.message();
}

TEST(StudyParse, IntervalsAndBands) {
  auto d = ParseDefinition(
      "name: t\nindex_date: 2025-01-01\n"
      "variables:\n  b: {band: age, breaks: [18, 65]}\n  t: \"true\"\n"
      "measures:\n  m: {numerator: t, denominator: t, intervals: {every: quarter, from: 2024-01-31, to: 2024-12-31}}\n",
      "d", "");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->measures[0].intervals.size(), 4u);
  EXPECT_EQ(FormatDate(d->measures[0].intervals[0].start), "2024-01-31");
  EXPECT_EQ(FormatDate(d->measures[0].intervals[0].end), "2024-04-29");
  EXPECT_EQ(FormatDate(d->measures[0].intervals[1].start), "2024-04-30");
  EXPECT_EQ(d->variables[0].labels, (std::vector<std::string>{"<18", "18-64", "65+"}));
}

TEST(StudyParse, DisclosureOfMeasureCells) {
  auto c = DiscloseMeasureCell(7, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->numerator, "[REDACTED]");
  EXPECT_EQ(c->denominator, "100");
  EXPECT_EQ(c->ratio, "[REDACTED]");
  c = DiscloseMeasureCell(13, 102);
  EXPECT_EQ(c->numerator, "15");
  EXPECT_EQ(c->denominator, "100");
  EXPECT_EQ(c->ratio, "0.15");
}

// ---------------------------------------------------------------------------------------------
// The text-driven suite.

struct Block {
  std::string head;  // "definition", "dataset", "measure NAME", ...
  std::string body;
  int line = 0;
};

std::vector<Block> Blocks(const std::string& text) {
  std::vector<Block> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  Block* cur = nullptr;
  while (std::getline(in, line)) {
    ++n;
    if (cur) {
      if (line == "----") cur = nullptr;
      else cur->body += line + "\n";
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    out.push_back(Block{line, "", n});
    const std::string kw = line.substr(0, line.find(' '));
    if (kw == "data" || kw == "definition" || kw == "dataset" || kw == "measure" || kw == "error") cur = &out.back();
  }
  return out;
}

class StudyText : public ::testing::TestWithParam<std::string> {};

TEST_P(StudyText, AllEngines) {
  const std::string path = GetParam();
  const std::string file = std::filesystem::path(path).filename().string();
  std::vector<Block> blocks = Blocks(Read(path));
  std::unique_ptr<Engines> engines;
  std::optional<Definition> def;
  std::vector<EngineResult> results;
  int data_sets = 0;
  std::string tmp = TempDir("text");
  RemoveOnExit cleanup{tmp};
  for (const Block& b : blocks) {
    SCOPED_TRACE(file + ":" + std::to_string(b.line) + ": " + b.head);
    const std::string kw = b.head.substr(0, b.head.find(' '));
    const std::string arg = b.head.find(' ') == std::string::npos ? "" : b.head.substr(b.head.find(' ') + 1);
    if (kw == "data") {
      auto data = ParseTestData(b.body, file);
      ASSERT_TRUE(data.ok()) << data.status().message();
      std::string ark = tmp + "/ark" + std::to_string(data_sets++);
      ASSERT_TRUE(WriteTestArk(*data, ark).ok());
      engines = std::make_unique<Engines>();
      Status s = engines->Open(ark);
      ASSERT_TRUE(s.ok()) << s.message();
    } else if (kw == "definition") {
      ASSERT_TRUE(engines) << "a data block must come first";
      auto d = ParseDefinition(b.body, file + ":" + std::to_string(b.line + 1), "");
      ASSERT_TRUE(d.ok()) << d.status().message();
      def = std::move(*d);
      Purpose purpose = Purpose::kResearch;
      if (!arg.empty()) {
        auto p = ParsePurpose(arg);
        ASSERT_TRUE(p.ok());
        purpose = *p;
      }
      auto r = engines->RunAll(*def, purpose);
      ASSERT_TRUE(r.ok()) << r.status().message();
      results = std::move(*r);
    } else if (kw == "error") {
      // The body's first line is the definition's expected error (a substring); the rest the YAML.
      std::string expect = b.body.substr(0, b.body.find('\n'));
      auto d = ParseDefinition(b.body.substr(b.body.find('\n') + 1), "def.yaml", "");
      ASSERT_FALSE(d.ok()) << "expected an error: " << expect;
      EXPECT_NE(d.status().message().find(expect), std::string::npos) << d.status().message();
    } else if (kw == "dataset") {
      ASSERT_TRUE(def);
      for (size_t e = 0; e < results.size(); ++e) EXPECT_EQ(DatasetText(*def, results[e]), b.body) << kEngineNames[e];
    } else if (kw == "measure") {
      ASSERT_TRUE(def);
      size_t m = 0;
      while (m < def->measures.size() && def->measures[m].name != arg) ++m;
      ASSERT_LT(m, def->measures.size()) << "no measure " << arg;
      for (size_t e = 0; e < results.size(); ++e) EXPECT_EQ(RawMeasure(*def, m, results[e].measures[m]), b.body) << kEngineNames[e];
    } else if (kw == "excluded") {
      ASSERT_TRUE(def);
      for (size_t e = 0; e < results.size(); ++e) EXPECT_EQ(std::to_string(results[e].optout_excluded), arg) << kEngineNames[e];
    } else {
      FAIL() << "unknown block '" << b.head << "'";
    }
  }
  engines.reset();
}

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  const std::string dir = std::string(ARK_SOURCE_DIR) + "/tests/study";
  if (!std::filesystem::exists(dir)) return files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, StudyText, ::testing::ValuesIn(TestFiles()), [](const ::testing::TestParamInfo<std::string>& i) {
  std::string n = std::filesystem::path(i.param).stem().string();
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

// ---------------------------------------------------------------------------------------------
// Randomised: generated data and definitions, native == SQLite == PostgreSQL.

std::string RandomData(std::mt19937_64& rng, int persons) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto date = [&](int y0, int y1) {
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y0 + pick(y1 - y0 + 1), 1 + pick(12), 1 + pick(28));
    return std::string(buf);
  };
  std::string s = "persons:\n";
  const char* opt[] = {"ok", "ok", "ok", "ok", "national", "type1", "unknown"};
  for (int p = 0; p < persons; ++p) {
    char birth[16];
    snprintf(birth, sizeof birth, "%04d-%02d", 1920 + pick(100), 1 + pick(12));
    s += std::to_string(p) + "," + (pick(20) ? birth : "") + "," + "MFU"[pick(3)] + "," + (pick(10) ? std::to_string(1 + pick(10)) : "") +
         "," + (pick(8) ? "P" + std::to_string(pick(3)) : "") + "," + (pick(6) ? "" : date(2015, 2026)) + "," + opt[pick(7)] + "\n";
  }
  s += "events:\n";
  for (int p = 0; p < persons; ++p) {
    int regs = pick(3);
    for (int r = 0; r < regs; ++r) {
      std::string from = date(2005, 2022);
      s += std::to_string(p) + "," + from + "," + (pick(2) ? date(2022, 2026) : "") + ",REG/P" + std::to_string(pick(3)) + ",\n";
    }
    int n = pick(25);
    for (int e = 0; e < n; ++e) {
      std::string code = std::string("SNOMED/") + "ABCDEF"[pick(6)];
      std::string t = date(2014, 2025);
      if (pick(3) == 0) t += " " + std::to_string(10 + pick(12)) + ":" + std::to_string(10 + pick(50));
      std::string end = pick(4) == 0 ? date(2025, 2025) : "";
      std::string value = pick(2) ? std::to_string(pick(100)) + (pick(2) ? ".5" : "") : "";
      s += std::to_string(p) + "," + t + "," + end + "," + code + "," + value + "\n";
    }
  }
  return s;
}

std::string RandomDefinition(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  std::string y = "name: random\ncodelists:\n";
  const int ncl = 3;
  for (int c = 0; c < ncl; ++c) {
    y += "  c" + std::to_string(c) + ": {system: SNOMED, codes: [";
    int k = 1 + pick(3);
    for (int i = 0; i < k; ++i) y += std::string(i ? ", " : "") + "ABCDEF"[pick(6)];
    y += "]}\n";
  }
  int ix = pick(4);
  if (ix <= 1) y += "index_date: 2023-0" + std::to_string(1 + pick(9)) + "-15\n";
  else if (ix == 2) y += "index_date: {each: c" + std::to_string(pick(ncl)) + (pick(2) ? ", at: end" : "") + "}\n";
  else y += "index_date: {first: c" + std::to_string(pick(ncl)) + "}\n";
  std::vector<std::string> pop;
  if (pick(2)) pop.push_back("registered: true");
  if (pick(2)) pop.push_back("alive: true");
  if (pick(2)) pop.push_back("age: [" + std::to_string(pick(40)) + ", " + std::to_string(40 + pick(80)) + "]");
  if (pick(3) == 0) pop.push_back("where: \"v0 = v0 or sex = 'F'\"");
  y += "population: {";
  for (size_t i = 0; i < pop.size(); ++i) y += (i ? ", " : "") + pop[i];
  y += "}\n";
  y += "variables:\n";
  std::vector<std::string> bools, ints, anys;
  const char* aggs[] = {"exists", "count", "first", "last", "min", "max", "mean"};
  int nv = 4 + pick(5);
  for (int i = 0; i < nv; ++i) {
    std::string name = "v" + std::to_string(i);
    std::string agg = aggs[pick(7)];
    std::string w;
    if (pick(3)) {
      int from = -pick(2000), to = from + pick(2500);
      if (pick(4)) w += ", from: " + std::to_string(from) + "d";
      if (pick(4)) w += ", to: " + std::to_string(to) + "d";
    }
    std::string extra = (agg == "first" || agg == "last") ? (pick(3) == 0 ? ", value: true" : pick(3) == 0 ? ", code: true" : "") : "";
    y += "  " + name + ": {" + agg + ": c" + std::to_string(pick(ncl)) + w + extra + "}\n";
    if (agg == "exists") bools.push_back(name);
    if (agg == "count") ints.push_back(name);
    anys.push_back(name);
  }
  int ne = 0;
  if (!ints.empty()) {
    std::string name = "e" + std::to_string(ne++);
    y += "  " + name + ": \"" + ints[pick(ints.size())] + " >= " + std::to_string(pick(4)) + (bools.empty() ? "" : " or " + bools[0]) + "\"\n";
    bools.push_back(name);
    std::string n2 = "e" + std::to_string(ne++);
    y += "  " + n2 + ": \"" + ints[pick(ints.size())] + " * 2 - age / 10\"\n";
    anys.push_back(n2);
  }
  y += "  e" + std::to_string(ne++) + ": \"not registered and (alive or imd_decile > 5) and sex != 'U'\"\n";
  bools.push_back("e" + std::to_string(ne - 1));
  y += "  band: {band: age, breaks: [18, 40, 65]}\n";
  y += "  dep: imd_decile\n";
  y += "  prac: practice\n";
  if (bools.empty()) return y;
  y += "measures:\n";
  const char* every[] = {"month", "quarter", "year"};
  const char* groups[] = {"[]", "[band]", "[dep]", "[prac, band]"};
  for (int m = 0; m < 2; ++m) {
    std::string num = pick(2) || ints.empty() ? bools[pick(bools.size())] : ints[pick(ints.size())];
    y += "  m" + std::to_string(m) + ": {numerator: " + num + ", denominator: " + bools[pick(bools.size())] + ", group_by: " + groups[pick(4)] +
         ", intervals: {every: " + every[pick(3)] + ", from: 2023-0" + std::to_string(1 + pick(9)) + "-01, to: 2024-12-31}}\n";
  }
  return y;
}

TEST(StudyRandom, NativeEqualsSqliteEqualsPostgres) {
  // ARK_STUDY_RANDOM_SEED explores other seeds by hand; the suite uses a fixed one.
  const char* seed_env = getenv("ARK_STUDY_RANDOM_SEED");
  std::mt19937_64 rng(seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261126);
  auto data = ParseTestData(RandomData(rng, 200), "random");
  ASSERT_TRUE(data.ok()) << data.status().message();
  std::string tmp = TempDir("random");
  RemoveOnExit cleanup{tmp};
  ASSERT_TRUE(WriteTestArk(*data, tmp + "/ark").ok());
  Engines engines;
  Status s = engines.Open(tmp + "/ark");
  ASSERT_TRUE(s.ok()) << s.message();
  int nonempty = 0;
  for (int i = 0; i < 20; ++i) {
    std::string yaml = RandomDefinition(rng);
    SCOPED_TRACE("definition " + std::to_string(i) + ":\n" + yaml);
    auto def = ParseDefinition(yaml, "random.yaml", "");
    ASSERT_TRUE(def.ok()) << def.status().message();
    Purpose purpose = i % 5 == 4 ? Purpose::kDirectCare : Purpose::kResearch;
    auto r = engines.RunAll(*def, purpose);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const auto& res = *r;
    if (res[0].num_rows() > 0) ++nonempty;
    for (size_t e = 1; e < res.size(); ++e) {
      EXPECT_EQ(DatasetText(*def, res[e]), DatasetText(*def, res[0])) << kEngineNames[e];
      EXPECT_EQ(res[e].optout_excluded, res[0].optout_excluded) << kEngineNames[e];
      for (size_t m = 0; m < def->measures.size(); ++m) {
        EXPECT_EQ(RawMeasure(*def, m, res[e].measures[m]), RawMeasure(*def, m, res[0].measures[m])) << kEngineNames[e] << " measure " << m;
      }
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(nonempty, 8);
}

// NativeOptions::row_text false (what a network site runs for a measure, RunOptions::dataset
// false): the same rows (each row's person, in order), opt-out exclusions and measures as with the
// rows' text, for random definitions with fixed and event indices, research and direct care.
TEST(StudyRandom, NativeWithoutRowTextFindsTheSameRowsAndMeasures) {
  std::mt19937_64 rng(20261204);
  auto data = ParseTestData(RandomData(rng, 200), "random");
  ASSERT_TRUE(data.ok()) << data.status().message();
  std::string tmp = TempDir("rowtext");
  RemoveOnExit cleanup{tmp};
  ASSERT_TRUE(WriteTestArk(*data, tmp + "/ark").ok());
  auto store = Store::Open(tmp + "/ark/store");
  ASSERT_TRUE(store.ok()) << store.status().message();
  int nonempty = 0, measured = 0;
  for (int i = 0; i < 30; ++i) {
    std::string yaml = RandomDefinition(rng);
    SCOPED_TRACE("definition " + std::to_string(i) + ":\n" + yaml);
    auto def = ParseDefinition(yaml, "random.yaml", "");
    ASSERT_TRUE(def.ok()) << def.status().message();
    const Purpose purpose = i % 3 == 2 ? Purpose::kDirectCare : Purpose::kResearch;
    NativeOptions with_text, persons_only;
    persons_only.row_text = false;
    persons_only.threads = with_text.threads = 1 + i % 2;
    auto a = RunNative(*def, **store, purpose, with_text);
    auto b = RunNative(*def, **store, purpose, persons_only);
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(b.ok()) << b.status().message();
    EXPECT_TRUE(b->text_parts.empty());
    EXPECT_EQ(b->text_rows, 0u);
    std::vector<uint32_t> persons;  // the first field of each dataset line
    for (const std::string& part : a->text_parts) {
      std::istringstream lines(part);
      for (std::string line; std::getline(lines, line);) persons.push_back(static_cast<uint32_t>(std::stoul(line.substr(0, line.find(',')))));
    }
    EXPECT_EQ(b->num_rows(), a->num_rows());
    EXPECT_EQ(b->row_persons, persons);
    EXPECT_EQ(b->optout_excluded, a->optout_excluded);
    ASSERT_EQ(b->measures.size(), a->measures.size());
    for (size_t m = 0; m < def->measures.size(); ++m) {
      EXPECT_EQ(RawMeasure(*def, m, b->measures[m]), RawMeasure(*def, m, a->measures[m])) << "measure " << m;
      measured += !a->measures[m].empty();
    }
    nonempty += a->num_rows() > 0;
    if (HasFailure()) break;
  }
  EXPECT_GT(nonempty, 10);
  EXPECT_GT(measured, 10);
}

// Randomised, for events with an end and hierarchical codes: ranges and prefixes, overlapping /
// spanning / active windows, bounds at the interval's end, end and length of stay, `is null`,
// cohort entry at the earliest qualifying event. native == SQLite == PostgreSQL.
std::string RandomSpanData(std::mt19937_64& rng, int persons) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const int32_t d0 = DaysFromCivil(2016, 1, 1);
  auto day = [&](int span) { return d0 + pick(span); };
  std::string s = "persons:\n";
  for (int p = 0; p < persons; ++p) {
    s += std::to_string(p) + "," + std::to_string(1930 + pick(80)) + "-0" + std::to_string(1 + pick(9)) + "," + "MF"[pick(2)] + ",,," +
         (pick(8) ? "" : FormatDate(day(3600))) + "," + (pick(6) ? "ok" : "national") + "\n";
  }
  s += "events:\n";
  for (int p = 0; p < persons; ++p) {
    int regs = pick(3);
    for (int r = 0; r < regs; ++r) {
      int32_t a = day(3000);
      s += std::to_string(p) + "," + FormatDate(a) + "," + (pick(3) ? FormatDate(a + pick(1500)) : "") + ",REG/P" + std::to_string(pick(2)) + ",\n";
    }
    int n = pick(15);
    for (int e = 0; e < n; ++e) {
      int32_t a = day(3600);
      std::string code = std::string("ICD10/") + "ABC"[pick(3)] + std::to_string(pick(10)) + (pick(2) ? std::to_string(pick(10)) : "") +
                         (pick(3) ? "" : "." + std::to_string(pick(10)));
      std::string t = FormatDate(a) + (pick(2) ? " 1" + std::to_string(pick(10)) + ":30" : "");
      std::string end = pick(3) ? FormatDate(a + pick(60)) + (pick(2) ? " 20:00" : "") : "";
      if (!end.empty() && end < t) end = t;
      s += std::to_string(p) + "," + t + "," + end + "," + code + "," + (pick(2) ? std::to_string(pick(50)) : "") + "\n";
    }
  }
  return s;
}

std::string RandomSpanDefinition(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto cat = [&]() { return std::string(1, "ABC"[pick(3)]) + std::to_string(pick(10)); };
  std::string y = "name: random_span\ncodelists:\n  reg: {codes: ['REG/*']}\n";
  for (int c = 0; c < 2; ++c) {
    std::string a = cat(), b = cat();
    if (b < a) std::swap(a, b);
    y += "  c" + std::to_string(c) + ": {system: ICD10, codes: [" + a + "-" + b + ", '" + cat() + "*']}\n";
  }
  const bool fixed = pick(3) != 0;
  y += fixed ? "index_date: 2021-0" + std::to_string(1 + pick(9)) + "-15\n" : "index_date: {first: c" + std::to_string(pick(2)) + ", where: q}\n";
  y += pick(2) ? "population: {alive: true}\n" : "population: {registered: true}\n";
  y += "variables:\n";
  std::vector<std::string> bools, ints;
  auto bound = [&](int off) {
    if (fixed && pick(3) == 0) return std::string("interval_end") + (pick(2) ? "" : "-" + std::to_string(pick(40)) + "d");
    return std::to_string(off) + "d";
  };
  const char* aggs[] = {"exists", "count", "first", "last", "mean"};
  for (int i = 0; i < 7; ++i) {
    const std::string name = "v" + std::to_string(i);
    const std::string agg = aggs[pick(5)];
    const std::string cl = pick(3) == 0 ? "reg" : "c" + std::to_string(pick(2));
    std::string w;
    int kind = pick(4);
    int from = -pick(800), to = from + pick(900);
    if (kind == 3) {
      w = ", active: " + bound(-pick(100));
    } else {
      const std::string f = ", from: " + std::to_string(from) + "d", t = ", to: " + bound(to);
      if (kind == 2) w = ", spanning: true" + f + t;
      else w = std::string(kind == 1 ? ", overlapping: true" : "") + (pick(4) ? f : "") + (pick(4) ? t : "");
    }
    std::string extra;
    if (agg == "first" || agg == "last") extra = pick(3) == 0 ? ", end: true" : pick(2) ? ", length: true" : "";
    y += "  " + name + ": {" + agg + ": " + cl + w + extra + "}\n";
    if (agg == "exists") bools.push_back(name);
    if (agg == "count" || extra == ", length: true") ints.push_back(name);
  }
  y += "  n0: \"v" + std::to_string(pick(7)) + " is null\"\n";
  y += "  n1: \"v" + std::to_string(pick(7)) + " is not null or registered\"\n";
  bools.push_back("n0");
  bools.push_back("n1");
  if (fixed) y += "  span_days: \"interval_end - interval_start\"\n";
  y += "  q: \"" + bools[pick(bools.size())] + (pick(2) ? " and " : " or ") + bools[pick(bools.size())] + "\"\n";
  if (!fixed) return y;
  y += "measures:\n";
  const char* every[] = {"month", "quarter", "year"};
  for (int m = 0; m < 2; ++m) {
    std::string num = pick(2) || ints.empty() ? bools[pick(bools.size())] : ints[pick(ints.size())];
    y += "  m" + std::to_string(m) + ": {numerator: " + num + ", denominator: " + bools[pick(bools.size())] + ", intervals: {every: " + every[pick(3)] +
         ", from: 2022-01-01, to: 2023-12-31}}\n";
  }
  return y;
}

TEST(StudyRandom, EventsWithEndsAndCodePatterns) {
  const char* seed_env = getenv("ARK_STUDY_RANDOM_SEED");
  std::mt19937_64 rng(seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261203);
  auto data = ParseTestData(RandomSpanData(rng, 150), "random");
  ASSERT_TRUE(data.ok()) << data.status().message();
  std::string tmp = TempDir("random_span");
  RemoveOnExit cleanup{tmp};
  ASSERT_TRUE(WriteTestArk(*data, tmp + "/ark").ok());
  Engines engines;
  Status s = engines.Open(tmp + "/ark");
  ASSERT_TRUE(s.ok()) << s.message();
  int nonempty = 0, measured = 0;
  for (int i = 0; i < 16; ++i) {
    std::string yaml = RandomSpanDefinition(rng);
    SCOPED_TRACE("definition " + std::to_string(i) + ":\n" + yaml);
    auto def = ParseDefinition(yaml, "random.yaml", "");
    ASSERT_TRUE(def.ok()) << def.status().message();
    auto r = engines.RunAll(*def, Purpose::kResearch);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const auto& res = *r;
    if (res[0].num_rows() > 0) ++nonempty;
    for (auto& m : res[0].measures) measured += !m.empty();
    for (size_t e = 1; e < res.size(); ++e) {
      EXPECT_EQ(DatasetText(*def, res[e]), DatasetText(*def, res[0])) << kEngineNames[e];
      for (size_t m = 0; m < def->measures.size(); ++m) {
        EXPECT_EQ(RawMeasure(*def, m, res[e].measures[m]), RawMeasure(*def, m, res[0].measures[m])) << kEngineNames[e] << " measure " << m;
      }
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(nonempty, 8);
  EXPECT_GT(measured, 6);
}

// ---------------------------------------------------------------------------------------------
// `ark run` / `ark sql` through the binary, on a small demo Ark: the example definitions give
// non-empty measures and identical files on every engine.

namespace e2e {

int Sh(const std::string& cmd, std::string* out = nullptr) {
  CommandOutput r = RunCommand(cmd + " 2>" + (out ? "&1" : "/dev/null"));
  if (out) *out = r.output;
  return r.exit_code;
}

}  // namespace e2e

// Issue 13: a project's approved datasets narrow what the engines read. Run with the GP feed only,
// a hospital-coded variable finds nothing (and GP-coded variables are unchanged), on every engine;
// with every feed both are found.
TEST(StudyFeeds, EnginesReadOnlyTheGivenFeeds) {
  auto data = ParseTestData("persons:\n0,1950-01,F,1,,,ok\n1,1960-01,M,2,,,ok\n"
                            "events:\n0,2024-01-01,,SNOMED/195967001,\n0,2024-02-01,,ICD10/J44.1,\n1,2024-03-01,,ICD10/J44.0,\n", "t");
  ASSERT_TRUE(data.ok()) << data.status().message();
  data->dicts.sources = {"", "gp", "acute"};
  for (auto& person : data->events)
    for (Event& e : person) e.source = data->dicts.codes[e.code].rfind("ICD10/", 0) == 0 ? 2 : 1;
  std::string tmp = TempDir("feeds");
  RemoveOnExit cleanup{tmp};
  ASSERT_TRUE(WriteTestArk(*data, tmp + "/ark").ok());
  Engines engines;
  Status s = engines.Open(tmp + "/ark");
  ASSERT_TRUE(s.ok()) << s.message();
  auto def = ParseDefinition("name: f\ncodelists:\n  asthma: {codes: ['195967001'], system: SNOMED}\n"
                             "  copd: {codes: ['J44*'], system: ICD10}\nindex_date: 2025-01-01\n"
                             "variables:\n  n_asthma: {count: asthma}\n  n_copd: {count: copd}\n", "f.yaml", "");
  ASSERT_TRUE(def.ok()) << def.status().message();
  auto gp_only = engines.RunAll(*def, Purpose::kResearch, std::vector<std::string>{"gp"});
  ASSERT_TRUE(gp_only.ok()) << gp_only.status().message();
  for (size_t e = 0; e < gp_only->size(); ++e) {
    EXPECT_EQ(DatasetText(*def, (*gp_only)[e]), "patient_id,n_asthma,n_copd\n0,1,0\n1,0,0\n") << kEngineNames[e];
  }
  auto every = engines.RunAll(*def, Purpose::kResearch);
  ASSERT_TRUE(every.ok()) << every.status().message();
  for (size_t e = 0; e < every->size(); ++e) {
    EXPECT_EQ(DatasetText(*def, (*every)[e]), "patient_id,n_asthma,n_copd\n0,1,1\n1,0,1\n") << kEngineNames[e];
  }
  auto none = engines.RunAll(*def, Purpose::kResearch, std::vector<std::string>{});
  ASSERT_TRUE(none.ok()) << none.status().message();
  for (size_t e = 0; e < none->size(); ++e) {
    EXPECT_EQ(DatasetText(*def, (*none)[e]), "patient_id,n_asthma,n_copd\n0,0,0\n1,0,0\n") << kEngineNames[e];
  }
}

// A research run on persons without a known opt-out status (imported OMOP/MEDS persons) gives
// population 0: the run says why, not only the manifest.
TEST(StudyRun, EmptyPopulationFromUnknownOptOutsIsExplained) {
  std::string tmp = TempDir("optnote");
  RemoveOnExit cleanup{tmp};
  auto data = ParseTestData("persons:\n0,1950-01,F,1,,,unknown\n1,1960-01,M,2,,,unknown\n2,1970-01,F,3,,,national\nevents:\n0,2020-01-01,,HR,1\n", "t");
  ASSERT_TRUE(data.ok()) << data.status().message();
  ASSERT_TRUE(WriteTestArk(*data, tmp + "/ark").ok());
  std::ofstream(tmp + "/d.yaml") << "name: d\nindex_date: 2025-01-01\nvariables:\n  a: alive\n";
  RunOptions o;
  o.ark_dir = tmp + "/ark";
  o.definition = tmp + "/d.yaml";
  o.out_dir = tmp + "/out";
  auto rep = RunStudy(o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->population, 0u);
  EXPECT_EQ(rep->optout_unknown, 2u);
  EXPECT_EQ(OptOutNote(*rep),
            "population 0: 3 index row(s) met the population but were left out by opt-outs (national data opt-out, type-1 dissent, or unknown "
            "status). 2 of 3 persons in this Ark have no known opt-out status (imported OMOP/MEDS persons carry no NHS-number pseudonym) and "
            "are used only for --purpose direct-care (give the source's opt-outs at import: --optouts FILE or --optouts-none).");
  o.purpose = Purpose::kDirectCare;
  o.out_dir = tmp + "/out2";
  rep = RunStudy(o);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->population, 3u);
  EXPECT_EQ(OptOutNote(*rep), "");
}

TEST(StudyRunEndToEnd, ExampleDefinitionsOnEveryEngine) {
  const std::string ark_bin = ARK_BINARY;
  std::string tmp = TempDir("e2e");
  RemoveOnExit cleanup{tmp};
  std::string out;
  ASSERT_EQ(e2e::Sh(ark_bin + " demo --people 400 --threads 2 --out " + tmp + "/demo", &out), 0) << out;
  const std::string ark = tmp + "/demo/ark";
  auto url = sql::testing::SharedPgUrl();
  ASSERT_TRUE(url.ok()) << url.status().message();
  const std::string defs = std::string(ARK_SOURCE_DIR) + "/definitions/";
  for (const char* name : {"diabetes_register", "emergency_readmissions", "copd_exacerbations", "copd_hospital_quarters"}) {
    SCOPED_TRACE(name);
    const std::string def = defs + name + ".yaml";
    std::string base = tmp + "/" + name;
    ASSERT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + def + " --out " + base + "-native", &out), 0) << out;
    ASSERT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + def + " --out " + base + "-sqlite --engine sqlite", &out), 0) << out;
    ASSERT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + def + " --out " + base + "-pg --engine postgres --pg " + *url, &out), 0) << out;
    std::vector<std::string> files = {"dataset.csv"};
    for (auto& e : std::filesystem::directory_iterator(base + "-native/measures")) files.push_back("measures/" + e.path().filename().string());
    ASSERT_GE(files.size(), 2u);
    for (auto& f : files) {
      std::string native = Read(base + "-native/" + f);
      EXPECT_EQ(Read(base + "-sqlite/" + f), native) << f;
      EXPECT_EQ(Read(base + "-pg/" + f), native) << f;
      if (f != "dataset.csv") {
        EXPECT_GT(std::count(native.begin(), native.end(), '\n'), 1) << f << " has no rows";
      }
    }
    std::string manifest = Read(base + "-native/manifest.json");
    for (const char* key : {"\"definition_sha256\"", "\"population\"", "\"optout_excluded_rounded\"", "\"engine\": \"native\"", "\"store_version\"", "\"seconds\""}) {
      EXPECT_NE(manifest.find(key), std::string::npos) << key;
    }
  }
  // Without --pg (and no ARK_POSTGRES_URL): a private server for the run, stopped afterwards.
  {
    const std::string base = tmp + "/emergency_readmissions";
    ASSERT_EQ(e2e::Sh("env -u ARK_POSTGRES_URL " + ark_bin + " run " + ark + " " + defs + "emergency_readmissions.yaml --out " + base +
                          "-pg-private --engine postgres",
                      &out),
              0)
        << out;
    EXPECT_EQ(Read(base + "-pg-private/dataset.csv"), Read(base + "-native/dataset.csv"));
    EXPECT_NE(Read(base + "-pg-private/manifest.json").find("\"start_postgres\""), std::string::npos);
  }
  // Direct care: opt-outs not applied; a rerun replaces the earlier output directory.
  const std::string base = tmp + "/diabetes_register-native";
  ASSERT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + defs + "diabetes_register.yaml --out " + base + " --purpose direct-care", &out), 0) << out;
  EXPECT_NE(Read(base + "/manifest.json").find("\"optouts_applied\": false"), std::string::npos);
  // ... and the manifest says so plainly (it said "[REDACTED]"); --json prints it on stdout.
  ASSERT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + defs + "diabetes_register.yaml --out " + base +
                        " --purpose direct-care --json 2>/dev/null", &out), 0) << out;
  EXPECT_EQ(out, Read(base + "/manifest.json"));
  EXPECT_NE(out.find("\"optouts_note\": \"opt-outs do not apply: the purpose is direct care"), std::string::npos) << out;
  EXPECT_EQ(out.find("[REDACTED]"), std::string::npos) << out;
  // A bad definition: exit 1, file:line:col, nothing written.
  std::ofstream(tmp + "/bad.yaml") << "name: bad\nindex_date: 2025-01-01\nvariables:\n  x: {exists: nope}\n";
  EXPECT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + tmp + "/bad.yaml --out " + tmp + "/bad-out", &out), 1);
  EXPECT_NE(out.find("bad.yaml:4:15: variable 'x': unknown codelist 'nope'"), std::string::npos) << out;
  EXPECT_FALSE(PathExists(tmp + "/bad-out"));
  // A directory that is not an earlier run is refused.
  ASSERT_TRUE(MakeDirs(tmp + "/not-a-run").ok());
  EXPECT_EQ(e2e::Sh(ark_bin + " run " + ark + " " + defs + "diabetes_register.yaml --out " + tmp + "/not-a-run", &out), 1) << out;
  // ark sql prints the script.
  ASSERT_EQ(e2e::Sh(ark_bin + " sql " + ark + " " + defs + "diabetes_register.yaml --dialect postgres", &out), 0) << out;
  EXPECT_NE(out.find("CREATE TEMP TABLE study_rows AS"), std::string::npos);
}

}  // namespace
}  // namespace ark::study
