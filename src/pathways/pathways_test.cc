#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <unistd.h>
#include <zlib.h>

#include "core/fs.h"
#include "pathways/analysis.h"
#include "pathways/log_io.h"
#include "pathways/output.h"
#include "pathways/pathway.h"

namespace ark::pathways {
namespace {

const std::string kData = std::string(ARK_SOURCE_DIR) + "/tests/data/pathways/eventdataR/";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/ark_pathways_" + std::to_string(::getpid()) + "_" + name;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string p = TempPath(name);
  std::ofstream(p) << text;
  return p;
}

// Activities are single letters, times in seconds.
EventLog Tiny(const std::vector<std::tuple<std::string, std::string, int64_t>>& rows) {
  EventLogBuilder b;
  for (auto& [c, a, t] : rows) b.Add(c, a, t * 1000);
  return std::move(b).Finish();
}

std::string Seq(const EventLog& log, const Variant& v) {
  std::string s;
  for (auto a : v.activities) s += log.activities[a];
  return s;
}

const Edge* FindEdge(const EventLog& log, const Core& c, const std::string& f, const std::string& t) {
  for (auto& e : c.edges)
    if (log.activities[e.from] == f && log.activities[e.to] == t) return &e;
  return nullptr;
}

TEST(PathwaysLog, HospitalBillingFigures) {
  if (!PathExists(kData + "hospital_billing.csv")) FAIL() << "no eventdataR data at " << kData;
  CsvLogOptions o;
  o.case_col = "case_id";
  o.activity_col = "activity";
  o.timestamp_col = "timestamp_posixct_as_utc";
  auto log = ReadCsvLog(kData + "hospital_billing.csv", o);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Core c = Analyse(*log);
  EXPECT_EQ(c.cases, 10000u);
  EXPECT_EQ(c.events, 49951u);
  EXPECT_EQ(log->activities.size(), 16u);
  EXPECT_EQ(c.variants.size(), 288u);
  uint64_t total = 0;
  for (auto& v : c.variants) total += v.count;
  EXPECT_EQ(total, 10000u);
  // The same figures through XES.
  auto x = ParseXes(XesText(*log), "mem.xes");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  Core cx = Analyse(*x);
  EXPECT_EQ(cx.cases, 10000u);
  EXPECT_EQ(cx.events, 49951u);
  EXPECT_EQ(cx.variants.size(), 288u);
}

TEST(PathwaysLog, PatientsStartAndComplete) {
  if (!PathExists(kData + "patients.csv")) FAIL() << "no eventdataR data at " << kData;
  CsvLogOptions o;
  o.timestamp_col = "timestamp_posixct_as_utc";
  auto log = ReadCsvLog(kData + "patients.csv", o);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->num_cases(), 500u);
  EXPECT_EQ(log->num_events(), 5442u);
  EXPECT_EQ(log->activities.size(), 7u);
  EventLog done = FilterLifecycle(*log, "complete");
  EXPECT_EQ(done.num_events(), 2721u);
  EXPECT_EQ(done.num_cases(), 500u);
}

TEST(PathwaysLog, TiesKeepInputOrder) {
  // Case 1: B then A at the same time; case 2: A then B at the same time; case 3 out of order input.
  EventLog log = Tiny({{"1", "B", 10}, {"1", "A", 10}, {"2", "A", 10}, {"2", "B", 10}, {"3", "C", 20}, {"3", "B", 10},
                       {"3", "A", 10}});
  Core c = Analyse(log);
  ASSERT_EQ(c.variants.size(), 3u);
  std::set<std::string> seqs;
  for (auto& v : c.variants) seqs.insert(Seq(log, v));
  EXPECT_TRUE(seqs.count("BA"));
  EXPECT_TRUE(seqs.count("AB"));
  EXPECT_TRUE(seqs.count("BAC"));  // stable sort by time keeps B before A
}

TEST(PathwaysAnalysis, DfgFrequencyAndPerformance) {
  EventLog log = Tiny({{"x", "A", 0}, {"x", "B", 10}, {"x", "C", 15},
                       {"y", "A", 0}, {"y", "B", 20}, {"y", "C", 21},
                       {"z", "A", 0}, {"z", "B", 60}, {"z", "B", 70}});
  Core c = Analyse(log);
  EXPECT_EQ(c.cases, 3u);
  EXPECT_EQ(c.events, 9u);
  const Edge* ab = FindEdge(log, c, "A", "B");
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->count, 3u);
  EXPECT_EQ(ab->cases, 3u);
  EXPECT_DOUBLE_EQ(ab->time.min, 10);
  EXPECT_DOUBLE_EQ(ab->time.max, 60);
  EXPECT_DOUBLE_EQ(ab->time.mean, 30);
  EXPECT_DOUBLE_EQ(ab->time.median, 20);
  EXPECT_DOUBLE_EQ(ab->time.p90, 52);  // numpy: 20 + 0.8 * 40
  const Edge* bc = FindEdge(log, c, "B", "C");
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(bc->count, 2u);
  EXPECT_DOUBLE_EQ(bc->time.median, 3);  // (5 + 1) / 2
  const Edge* bb = FindEdge(log, c, "B", "B");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->count, 1u);
  EXPECT_EQ(c.start[log.ActivityId("A")], 3u);
  EXPECT_EQ(c.end[log.ActivityId("C")], 2u);
  EXPECT_EQ(c.end[log.ActivityId("B")], 1u);
  ASSERT_EQ(c.variants.size(), 2u);
  EXPECT_EQ(Seq(log, c.variants[0]), "ABC");
  EXPECT_EQ(c.variants[0].count, 2u);
  EXPECT_NEAR(c.variants[0].share, 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(c.duration.median, 21);
  EXPECT_DOUBLE_EQ(c.duration.max, 70);
}

TEST(PathwaysAnalysis, ApproximateQuantilesAreClose) {
  std::vector<std::tuple<std::string, std::string, int64_t>> rows;
  for (int i = 0; i < 1000; ++i) {
    rows.push_back({std::to_string(i), "A", 0});
    rows.push_back({std::to_string(i), "B", 3600 + i * 7});
  }
  EventLog log = Tiny(rows);
  AnalysisOptions exact, approx;
  approx.exact_max_events = 0;
  approx.threads = 2;
  Core e = Analyse(log, exact), a = Analyse(log, approx);
  EXPECT_TRUE(a.approximate_quantiles);
  EXPECT_EQ(a.edges[0].count, 1000u);
  EXPECT_NEAR(a.edges[0].time.median, e.edges[0].time.median, e.edges[0].time.median * 0.02);
  EXPECT_NEAR(a.edges[0].time.p90, e.edges[0].time.p90, e.edges[0].time.p90 * 0.02);
  EXPECT_DOUBLE_EQ(a.edges[0].time.min, e.edges[0].time.min);
  EXPECT_EQ(a.variants.size(), 1u);
}

TEST(PathwaysAnalysis, ParallelEqualsSerial) {
  std::vector<std::tuple<std::string, std::string, int64_t>> rows;
  const char* acts = "ABCDE";
  for (int i = 0; i < 3000; ++i)
    for (int k = 0; k < 2 + i % 4; ++k) rows.push_back({std::to_string(i), std::string(1, acts[(i * 7 + k * 3) % 5]), k * 100 + i % 13});
  EventLog log = Tiny(rows);
  AnalysisOptions one, four;
  one.threads = 1;
  four.threads = 4;
  Core a = Analyse(log, one), b = Analyse(log, four);
  ASSERT_EQ(a.variants.size(), b.variants.size());
  for (size_t i = 0; i < a.variants.size(); ++i) {
    EXPECT_EQ(a.variants[i].activities, b.variants[i].activities);
    EXPECT_EQ(a.variants[i].count, b.variants[i].count);
  }
  ASSERT_EQ(a.edges.size(), b.edges.size());
  for (size_t i = 0; i < a.edges.size(); ++i) EXPECT_EQ(a.edges[i].count, b.edges[i].count);
}

TEST(PathwaysAnalysis, WaitingReworkConformance) {
  EventLog log = Tiny({{"1", "A", 0}, {"1", "B", 100}, {"1", "C", 200},
                       {"2", "A", 0}, {"2", "A", 50}, {"2", "B", 300}, {"2", "C", 400},
                       {"3", "A", 0}, {"3", "C", 10}});
  auto w = WaitingTime(log, "A", "B");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->cases_with_from, 3u);
  EXPECT_EQ(w->cases_with_both, 2u);
  EXPECT_DOUBLE_EQ(w->time.median, 200);  // (100 + 300) / 2, from the first A
  auto rw = FindRework(log);
  ASSERT_EQ(rw.size(), 1u);
  EXPECT_EQ(log.activities[rw[0].activity], "A");
  EXPECT_EQ(rw[0].cases_repeated, 1u);
  EXPECT_EQ(rw[0].self_loops, 1u);
  Core c = Analyse(log);
  auto cf = CheckConformance(log, c, {"A", "B", "C"});
  ASSERT_TRUE(cf.ok());
  EXPECT_EQ(cf->fitting, 1u);
  EXPECT_EQ(cf->contains, 2u);
  ASSERT_GE(cf->deviations.size(), 2u);
  std::map<std::string, uint64_t> dev;
  for (auto& d : cf->deviations) dev[d.what] = d.cases;
  EXPECT_EQ(dev["extra A"], 1u);
  EXPECT_EQ(dev["missing B"], 1u);
}

TEST(PathwaysAnalysis, CompareHighlightsDifferences) {
  EventLogBuilder b;
  for (int i = 0; i < 400; ++i) {
    const std::string id = std::to_string(i);
    const bool poor = i % 2 == 0;
    b.Add(id, "Arrive", 0);
    if (poor && i % 4 == 0) b.Add(id, "Admit", 3600 * 1000);
    b.Add(id, "Leave", 7200 * 1000);
    b.SetCaseAttr(id, "imd_decile", poor ? "1" : "10");
  }
  EventLog log = std::move(b).Finish();
  auto cmp = Compare(log, "imd_decile", {"1"}, {"10"}, "most deprived", "least deprived");
  ASSERT_TRUE(cmp.ok()) << cmp.status().ToString();
  EXPECT_EQ(cmp->a.cases, 200u);
  EXPECT_EQ(cmp->b.cases, 200u);
  ASSERT_FALSE(cmp->differences.empty());
  EXPECT_TRUE(cmp->differences[0].highlight);
  EXPECT_NE(cmp->differences[0].what.find("Admit"), std::string::npos);
  EXPECT_FALSE(Compare(log, "nope", {"1"}, {"2"}, "a", "b").ok());
}

TEST(PathwaysIo, XesRoundTripKeepsEverything) {
  EventLogBuilder b;
  b.Add("c<1>", "Reg & triage", 1000, "nurse \"A\"", "complete");
  b.Add("c<1>", "Treat", 61000, "", "start");
  b.Add("c2", "Reg & triage", 5000);
  b.SetCaseAttr("c2", "imd_decile", "3");
  EventLog log = std::move(b).Finish();
  const std::string path = TempPath("rt.xes.gz");
  ASSERT_TRUE(WriteXesLog(log, path).ok());
  auto back = ReadXesLog(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->case_ids, log.case_ids);
  EXPECT_EQ(back->activities, log.activities);
  EXPECT_EQ(back->activity, log.activity);
  EXPECT_EQ(back->time_ms, log.time_ms);
  ASSERT_EQ(back->resource.size(), 3u);
  EXPECT_EQ(back->resources[back->resource[0]], "nurse \"A\"");
  EXPECT_EQ(back->lifecycles[back->lifecycle[1]], "start");
  ASSERT_GE(back->CaseAttr("imd_decile"), 0);
  EXPECT_EQ(back->case_attrs[back->CaseAttr("imd_decile")][1], "3");
  // CSV round trip.
  const std::string csv = TempPath("rt.csv");
  ASSERT_TRUE(WriteCsvLog(log, csv).ok());
  auto c = ReadCsvLog(csv);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->activity, log.activity);
  EXPECT_EQ(c->time_ms, log.time_ms);
  std::remove(path.c_str());
  std::remove(csv.c_str());
}

TEST(PathwaysIo, TimestampFormats) {
  EXPECT_EQ(*ParseTimestampMs("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseTimestampMs("1970-01-01T01:00:00.250+01:00"), 250);
  EXPECT_EQ(*ParseTimestampMs("1970-01-02"), 86400000);
  EXPECT_EQ(*ParseTimestampMs("1970/01/01 00:01"), 60000);
  EXPECT_FALSE(ParseTimestampMs("2020-13-01").ok());
  EXPECT_FALSE(ParseTimestampMs("yesterday").ok());
  EXPECT_EQ(FormatTimestampMs(1500), "1970-01-01T00:00:01.500Z");
}

TEST(PathwaysIo, BadTimestampNamesFileLineAndColumn) {
  const std::string p = WriteTemp("bad.csv", "case,activity,ts\n1,A,2020-01-01\n1,B,2020-02-30 10:00\n");
  CsvLogOptions o;
  o.timestamp_col = "ts";
  auto r = ReadCsvLog(p, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(p + ":3: column 'ts'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("2020-02-30"), std::string::npos);
  std::remove(p.c_str());
}

TEST(PathwaysIo, MissingColumnListsColumns) {
  const std::string p = WriteTemp("nocol.csv", "case,activity,ts\n1,A,2020-01-01\n");
  CsvLogOptions o;
  o.timestamp_col = "time";
  auto r = ReadCsvLog(p, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no column 'time'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("columns: case, activity, ts"), std::string::npos);
  std::remove(p.c_str());
}

TEST(PathwaysIo, TruncatedXesGivesPosition) {
  EventLog log = Tiny({{"1", "A", 1}, {"1", "B", 2}, {"2", "A", 3}});
  const std::string text = XesText(log);
  const std::string cut = text.substr(0, text.rfind("<event>") + 20);
  auto r = ParseXes(cut, "cut.xes");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cut.xes:"), std::string::npos);
  EXPECT_NE(r.status().message().find("unexpected end of file"), std::string::npos) << r.status().message();
  // Cut inside a tag, and with a bad date.
  auto r2 = ParseXes(text.substr(0, text.find("<date") + 12), "cut2.xes");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("unexpected end of file"), std::string::npos) << r2.status().message();
  std::string bad = text;
  bad.replace(bad.find("1970-01-01T00:00:01Z"), 4, "19x0");
  auto r3 = ParseXes(bad, "bad.xes");
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("is not a timestamp"), std::string::npos) << r3.status().message();
  // A gzip file cut short.
  const std::string gz = TempPath("cut.xes.gz");
  ASSERT_TRUE(WriteXesLog(log, gz).ok());
  auto full = ReadFile(gz);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(WriteFileAtomic(gz, full->substr(0, full->size() / 2)).ok());
  auto r4 = ReadXesLog(gz);
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.status().message().find(gz), std::string::npos) << r4.status().message();
  std::remove(gz.c_str());
}

TEST(PathwaysDefinition, ParsesExamplesAndRejectsTypos) {
  for (const char* f : {"/pathways/falls.yaml", "/pathways/copd.yaml"}) {
    auto d = LoadPathwayDefinition(std::string(ARK_SOURCE_DIR) + f);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_FALSE(d->activities.empty());
    EXPECT_TRUE(d->compare.has_value());
  }
  auto bad = ParsePathwayDefinition("name: x\nactivities:\n  - {name: A, codes: [X/1]}\ncase: {notion: window, idx: [A]}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.yaml:4:"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("unknown key 'idx'"), std::string::npos);
  auto noidx = ParsePathwayDefinition("name: x\nactivities:\n  - {name: A, codes: [X/1]}\ncase: {notion: window, index: [B]}\n", "t.yaml");
  ASSERT_FALSE(noidx.ok());
}

}  // namespace
}  // namespace ark::pathways

#include "store/timeline_writer.h"

namespace ark::pathways {
namespace {

TEST(PathwaysArk, WindowCasesPopulationAndOptOutsFailClosed) {
  const std::string ark = TempPath("ark");
  (void)RemoveAll(ark);
  Dictionaries dicts;
  dicts.codes = {"", "SNOMED/161898004", "AE/ADM", "ADMIMETH/21", "DISDEST/19"};
  dicts.sources = {"", "gp", "acute"};
  auto w = TimelineWriter::Create(ark + "/store");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const Seconds d0 = static_cast<Seconds>(DaysFromCivil(2020, 1, 1)) * kSecondsPerDay;
  auto ev = [&](PersonKey p, double day, CodeId code, uint16_t src) {
    Event e;
    e.person = p;
    e.time = d0 + static_cast<Seconds>(day * kSecondsPerDay);
    e.code = code;
    e.source = src;
    return e;
  };
  auto person = [&](PersonKey k, int birth_year, uint8_t flags, uint8_t imd) {
    Person p;
    p.key = k;
    p.birth_year = static_cast<int16_t>(birth_year);
    p.birth_month = 1;
    p.sex = 'F';
    p.imd_decile = imd;
    p.practice = 0;
    p.flags = flags;
    return p;
  };
  const uint8_t ok = kLinkedByNhsNumber | kOptOutKnown;
  // Person 0 (80, allowed): a fall, A&E, admission, discharge; a fall inside the window; a later fall.
  std::vector<Event> p0 = {ev(0, 0, 1, 1), ev(0, 10, 2, 2), ev(0, 10, 3, 2), ev(0, 15, 4, 2), ev(0, 20, 1, 1),
                           ev(0, 200, 1, 1)};
  ASSERT_TRUE((*w)->AddPerson(person(0, 1940, ok, 1), p0).ok());
  std::vector<Event> p1 = {ev(1, 0, 1, 1)};  // opted out
  ASSERT_TRUE((*w)->AddPerson(person(1, 1940, ok | kOptedOutNational, 1), p1).ok());
  std::vector<Event> p2 = {ev(2, 0, 1, 1)};  // 50 years old
  ASSERT_TRUE((*w)->AddPerson(person(2, 1970, ok, 10), p2).ok());
  std::vector<Event> p3 = {ev(3, 0, 1, 1)};  // opt-out status unknown: fail closed
  ASSERT_TRUE((*w)->AddPerson(person(3, 1940, kLinkedByNhsNumber, 10), p3).ok());
  ASSERT_TRUE((*w)->Finish(dicts).ok());

  auto def = ParsePathwayDefinition(R"(name: t
population: {age: [65, 120]}
case: {notion: window, index: [Fall], days: 90}
activities:
  - {name: Fall, codes: [SNOMED/161898004], source: gp}
  - {name: "A&E", codes: ["AE/*"]}
  - {name: Admission, codes: [ADMIMETH/21]}
  - {name: Discharge, codes: [DISDEST/19]}
)",
                                    "t.yaml");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  auto log = BuildLogFromArk(ark, *def, 2);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->num_cases(), 2u);
  EXPECT_EQ(log->case_ids[0], "p0-1");
  EXPECT_EQ(log->case_start[1], 5u);  // fall, A&E, admission, discharge, second fall
  EXPECT_EQ(log->case_start[2], 6u);
  EXPECT_EQ(log->case_attrs[log->CaseAttr("imd_decile")][0], "1");
  EXPECT_EQ(log->case_attrs[log->CaseAttr("age_band")][0], "75-84");
  Core c = Analyse(*log);
  ASSERT_EQ(c.variants.size(), 2u);
  EXPECT_EQ(c.variants[0].activities.size(), 5u);
  (void)RemoveAll(ark);
}

// A gzip bomb (a small file that inflates to gigabytes) is refused at the limit, naming the file
// and the limit, instead of ending in bad_alloc. The limit is lowered here so the test is cheap.
TEST(PathwaysLog, GzipBombIsRefusedAtTheDecompressedLimit) {
  EXPECT_EQ(MaxDecompressedBytes(), kDefaultMaxDecompressedBytes);
  const std::string gz = TempPath("bomb.xes.gz");
  gzFile f = gzopen(gz.c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  const std::string zeros(1 << 20, ' ');
  for (int i = 0; i < 8; i++) ASSERT_EQ(gzwrite(f, zeros.data(), zeros.size()), static_cast<int>(zeros.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
  setenv("ARK_MAX_DECOMPRESSED_BYTES", "1048576", 1);
  EXPECT_EQ(MaxDecompressedBytes(), 1048576u);
  auto r = ReadXesLog(gz);
  unsetenv("ARK_MAX_DECOMPRESSED_BYTES");
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_NE(m.find(gz), std::string::npos) << m;
  EXPECT_NE(m.find("more than 1048576 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("ARK_MAX_DECOMPRESSED_BYTES"), std::string::npos) << m;
  std::remove(gz.c_str());
}

// Under disclosure the variants table gives each share from the published (rounded) counts, and the
// "variants" figure counts the variants it can show; a variant of 7 cases or fewer is neither shown
// nor counted.
TEST(PathwaysOutput, DisclosedVariantSharesComeFromRoundedCounts) {
  std::vector<std::tuple<std::string, std::string, int64_t>> rows;
  auto add = [&](int n, const std::string& seq, const std::string& prefix) {
    for (int i = 0; i < n; ++i)
      for (size_t k = 0; k < seq.size(); ++k) rows.push_back({prefix + std::to_string(i), seq.substr(k, 1), int64_t(k)});
  };
  add(31, "ABC", "x");  // published 30
  add(12, "AB", "y");   // published 10
  add(3, "AC", "z");    // redacted
  EventLog log = Tiny(rows);
  Analysis a;
  a.log = &log;
  a.core = Analyse(log);
  a.disclosure = true;
  std::string html = SectionHtml(a);
  // 46 cases publish as 45: 30/45 and 10/45.
  EXPECT_NE(html.find(">66.7%<"), std::string::npos);
  EXPECT_NE(html.find(">22.2%<"), std::string::npos);
  EXPECT_NE(html.find("<b>2</b>variants of 8+ cases"), std::string::npos);
  size_t bars = 0;
  for (size_t at = html.find("class=\"bar\""); at != std::string::npos; at = html.find("class=\"bar\"", at + 1)) ++bars;
  EXPECT_EQ(bars, 2u);  // the variant of 3 cases is not shown
  a.disclosure = false;
  html = SectionHtml(a);
  EXPECT_NE(html.find("<b>3</b>variants"), std::string::npos);
  EXPECT_NE(html.find(">67.4%<"), std::string::npos);  // 31/46
}

}  // namespace
}  // namespace ark::pathways
