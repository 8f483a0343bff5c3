// OMOP and MEDS imports into an Ark, then `ark build`: counts, codes, attributes, idempotence,
// errors with positions; ImportBatch person keys.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "import/import_batch.h"
#include "import/import_util.h"
#include "import/meds_import.h"
#include "import/omop_import.h"
#include "ingest/build.h"
#include "link/link.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace ark {
namespace {

using store::testing::TempDir;

const std::string kData = std::string(ARK_SOURCE_DIR) + "/tests/data";

std::unique_ptr<Catalog> NewArk(const std::string& dir) {
  EXPECT_TRUE(MakeDirs(dir).ok());
  auto c = Catalog::Create(dir);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// The Synthea OMOP sample: the ten tables the importer reads, vendored unzipped (tests/data/README.md).
const std::string& SyntheaDir() {
  static const std::string dir = kData + "/omop/synthea27nj_5.4";
  return dir;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Persons' codes after a build, by person key.
std::vector<std::set<std::string>> CodesByPerson(const Store& s) {
  std::vector<std::set<std::string>> out(s.num_persons());
  auto d = s.dicts();
  EXPECT_TRUE(s.ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    for (const Event& e : ev) out[p.key].insert(d->codes[e.code]);
    return Status::OK();
  }).ok());
  return out;
}

TEST(ImportOmop, SyntheaBuildsTwentyEightPersons) {
  const std::string ark = TempDir("omop_ark");
  auto cat = NewArk(ark);
  auto r = ImportOmop(*cat, SyntheaDir());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.persons, 28u);
  EXPECT_EQ(r->rows["person"], 28u);
  EXPECT_EQ(r->rows["condition_occurrence"], 470u);
  EXPECT_EQ(r->rows["death"], 3u);
  EXPECT_GT(r->batch.events, 20000u);
  EXPECT_GT(r->concepts_known, 0u);
  auto b = BuildTimelines(*cat, 1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->persons, 28u);
  EXPECT_EQ(b->events, r->batch.events);
  EXPECT_EQ(b->optout_unknown, 28u);  // fail closed: OMOP persons were never checked against opt-outs
  auto s = Store::Open(ark + "/store");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->num_persons(), 28u);
  // Person 1 of the CSV is the first record: male, born April 1998, otitis media (SNOMED 65363002).
  const Person p0 = (*s)->person(0);
  EXPECT_EQ(p0.sex, 'M');
  EXPECT_EQ(p0.birth_year, 1998);
  EXPECT_EQ(p0.birth_month, 4);
  EXPECT_FALSE(p0.has_death());
  auto codes = CodesByPerson(**s);
  EXPECT_TRUE(codes[0].count("SNOMED/65363002"));
  EXPECT_TRUE(codes[0].count("REG/OMOP"));
  EXPECT_TRUE(codes[0].count("LOINC/29463-7"));
  EXPECT_TRUE(codes[0].count("Visit/OP"));
  EXPECT_EQ((*s)->dicts()->practices.at(p0.practice), "OMOP");
  // Person 7 died on 2019-05-28.
  int dead = 0;
  for (uint32_t k = 0; k < 28; ++k) dead += (*s)->person(k).has_death();
  EXPECT_EQ(dead, 3);
  EXPECT_EQ((*s)->person(6).death_day, DaysFromCivil(2019, 5, 28));

  // The same directory again is refused, and nothing changes.
  auto again = ImportOmop(*cat, SyntheaDir());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already"), std::string::npos);
  auto batches = cat->Batches();
  ASSERT_TRUE(batches.ok());
  EXPECT_EQ(batches->size(), 1u);
}

std::string SmallOmop(const std::string& condition_rows) {
  const std::string dir = TempDir("omop_small");
  EXPECT_TRUE(MakeDirs(dir).ok());
  WriteText(dir + "/person.csv",
            "person_id,gender_concept_id,year_of_birth,month_of_birth\n10,8532,1950,7\n20,8507,1960,\n");
  WriteText(dir + "/observation_period.csv",
            "observation_period_id,person_id,observation_period_start_date,observation_period_end_date,period_type_concept_id\n"
            "1,10,2010-01-01,2015-12-31,32817\n");
  WriteText(dir + "/condition_occurrence.csv",
            "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_start_datetime,"
            "condition_source_value,condition_source_concept_id,visit_occurrence_id\n" + condition_rows);
  return dir;
}

TEST(ImportOmop, ObservationPeriodsAndSourceValues) {
  const std::string dir = SmallOmop(
      "1,10,201826,2012-03-04,,E11.9,0,\n"   // inside the period; the source value differs from OMOP/201826
      "2,10,201826,2019-03-04,,E11.9,0,\n"   // outside: dropped
      "3,20,0,2001-01-01,2001-01-01 10:30:00,X1,0,5\n");  // person 20 has no period: kept
  const std::string ark = TempDir("omop_small_ark");
  auto cat = NewArk(ark);
  auto r = ImportOmop(*cat, dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dropped_outside_observation, 1u);
  EXPECT_EQ(r->source_events, 1u);
  ASSERT_TRUE(BuildTimelines(*cat, 1).ok());
  auto s = Store::Open(ark + "/store");
  ASSERT_TRUE(s.ok());
  auto codes = CodesByPerson(**s);
  EXPECT_EQ(codes[0], (std::set<std::string>{"REG/OMOP", "OMOP/201826", "OMOP_SOURCE/E11.9"}));
  EXPECT_EQ(codes[1], (std::set<std::string>{"OMOP_SOURCE/X1"}));
  EXPECT_EQ((*s)->person(0).sex, 'F');
  EXPECT_EQ((*s)->person(0).birth_month, 7);
  EXPECT_EQ((*s)->person(1).birth_month, 0);
}

TEST(ImportOmop, LinkKeepsImportedKeys) {
  const std::string dir = SmallOmop("1,10,201826,2012-03-04,,,0,\n");
  auto cat = NewArk(TempDir("omop_link_ark"));
  ASSERT_TRUE(ImportOmop(*cat, dir).ok());
  auto before = ReadPersonKeys(cat->ark_dir(), 1, 2);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, (std::vector<uint32_t>{0, 1}));
  auto l = LinkDeterministic(*cat, "");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->persons, 2u);
  auto after = ReadPersonKeys(cat->ark_dir(), 1, 2);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  auto b = BuildTimelines(*cat, 1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->persons, 2u);
}

TEST(ImportOmop, ErrorsNameFileLineAndColumn) {
  {
    const std::string dir = SmallOmop("1,10,201826,2012-13-04,,,,\n");
    auto cat = NewArk(TempDir("omop_bad1"));
    auto r = ImportOmop(*cat, dir);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("condition_occurrence.csv:2: column 'condition_start_date'"), std::string::npos)
        << r.status().message();
  }
  {
    const std::string dir = SmallOmop("1,10,201826,2012-01-04,,,,\n2,99,201826,2012-01-04,,,,\n");
    auto cat = NewArk(TempDir("omop_bad2"));
    auto r = ImportOmop(*cat, dir);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("condition_occurrence.csv:3: column 'person_id': 99 is not in person.csv"),
              std::string::npos) << r.status().message();
  }
  {
    const std::string dir = SmallOmop("1,10,abc,2012-01-04,,,,\n");
    auto cat = NewArk(TempDir("omop_bad3"));
    auto r = ImportOmop(*cat, dir);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(":2: column 'condition_concept_id'"), std::string::npos) << r.status().message();
    EXPECT_TRUE(cat->Batches()->empty());  // nothing published
  }
  {
    auto cat = NewArk(TempDir("omop_bad4"));
    auto r = ImportOmop(*cat, TempDir("omop_empty_dir_missing"));
    ASSERT_FALSE(r.ok());
  }
}

TEST(ImportMeds, AcesSampleCounts) {
  const std::string ark = TempDir("meds_ark");
  auto cat = NewArk(ark);
  auto r = ImportMeds(*cat, kData + "/meds/aces_sample/aces_meds_sample_all.csv.gz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 77542u);
  EXPECT_EQ(r->batch.persons, 100u);
  EXPECT_EQ(r->batch.events, 77442u);  // every row with a time; SEX//… rows become attributes
  EXPECT_EQ(r->static_skipped, 0u);
  auto b = BuildTimelines(*cat, 1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->persons, 100u);
  auto s = Store::Open(ark + "/store");
  ASSERT_TRUE(s.ok());
  int male = 0, female = 0;
  for (uint32_t k = 0; k < 100; ++k) {
    male += (*s)->person(k).sex == 'M';
    female += (*s)->person(k).sex == 'F';
  }
  EXPECT_EQ(male, 51);
  EXPECT_EQ(female, 49);
  auto codes = CodesByPerson(**s);
  EXPECT_TRUE(codes[0].count("LAB//SpO2"));
  EXPECT_TRUE(codes[0].count("ADMISSION//CARDIAC"));
  EXPECT_FALSE(ImportMeds(*cat, kData + "/meds/aces_sample/aces_meds_sample_all.csv.gz").ok());  // twice: refused
}

TEST(ImportMeds, DemographicsAndErrors) {
  const std::string dir = TempDir("meds_small");
  ASSERT_TRUE(MakeDirs(dir).ok());
  WriteText(dir + "/a.csv",
            "subject_id,time,code,numeric_value\n"
            "5,,SEX//female,\n5,1980-02-03,MEDS_BIRTH,\n5,2020-01-01T10:00:00.000000,LAB//HbA1c,48.5\n"
            "5,2021-06-01,MEDS_DEATH,\n5,,ETHNICITY//X,\n");
  auto cat = NewArk(TempDir("meds_small_ark"));
  auto r = ImportMeds(*cat, dir + "/a.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->static_skipped, 1u);
  EXPECT_EQ(r->batch.events, 3u);
  ASSERT_TRUE(BuildTimelines(*cat, 1).ok());
  auto s = Store::Open(cat->ark_dir() + "/store");
  ASSERT_TRUE(s.ok());
  const Person p = (*s)->person(0);
  EXPECT_EQ(p.sex, 'F');
  EXPECT_EQ(p.birth_year, 1980);
  EXPECT_EQ(p.birth_month, 2);
  EXPECT_EQ(p.death_day, DaysFromCivil(2021, 6, 1));

  WriteText(dir + "/bad.csv", "subject_id,time,code,numeric_value\n1,2020-01-01,HR,1\n1,2020-01-99,HR,2\n");
  auto bad = ImportMeds(*cat, dir + "/bad.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.csv:3: column 'time'"), std::string::npos) << bad.status().message();
  WriteText(dir + "/bad2.csv", "subject_id,time,code,numeric_value\n1,2020-01-01,HR,abc\n");
  bad = ImportMeds(*cat, dir + "/bad2.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad2.csv:2: column 'numeric_value'"), std::string::npos) << bad.status().message();
  WriteText(dir + "/bad3.csv", "subject,time,code\n1,2020-01-01,HR\n");
  bad = ImportMeds(*cat, dir + "/bad3.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing column 'subject_id'"), std::string::npos) << bad.status().message();
}

// A misnamed value column used to be dropped without a word: every column Ark does not read is
// reported with its dropped values; MEDS end_time is kept as the event's end.
TEST(ImportMeds, UnknownColumnsReportedAndEndTimesKept) {
  const std::string dir = TempDir("meds_cols");
  ASSERT_TRUE(MakeDirs(dir).ok());
  WriteText(dir + "/a.csv",
            "subject_id,time,code,value,text_value,end_time\n"
            "1,2020-01-01,HR,80,,\n"
            "1,2020-02-01T10:00,ADMISSION//CARDIAC,,x,2020-02-05T12:00\n"
            "1,2020-03-01,HR,,,\n");
  auto cat = NewArk(TempDir("meds_cols_ark"));
  auto r = ImportMeds(*cat, dir + "/a.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->ignored_columns.size(), 2u);
  EXPECT_EQ(r->ignored_columns[0].name, "value");
  EXPECT_EQ(r->ignored_columns[0].values, 1u);
  EXPECT_EQ(r->ignored_columns[0].hint, "did you mean 'numeric_value'?");
  EXPECT_EQ(r->ignored_columns[1].name, "text_value");
  EXPECT_EQ(r->ignored_columns[1].values, 1u);
  ASSERT_TRUE(BuildTimelines(*cat, 1).ok());
  auto s = Store::Open(cat->ark_dir() + "/store");
  ASSERT_TRUE(s.ok());
  int ends = 0;
  ASSERT_TRUE((*s)->ForEachPerson([&](const Person&, std::span<const Event> ev) {
    for (const Event& e : ev) {
      if (e.end != kNoTime) {
        ++ends;
        EXPECT_EQ(e.end - e.time, (4 * 24 + 2) * 3600);
      }
    }
    return Status::OK();
  }).ok());
  EXPECT_EQ(ends, 1);

  WriteText(dir + "/bad.csv", "subject_id,time,code,end_time\n1,2020-01-02,ADMISSION//X,2020-01-01\n");
  auto bad = ImportMeds(*cat, dir + "/bad.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.csv:2: column 'end_time'"), std::string::npos) << bad.status().message();
}

TEST(ImportBatch, PseudonymsKeepOnePersonAcrossBatches) {
  auto cat = NewArk(TempDir("import_batch"));
  Digest d{};
  d[0] = 7;
  for (int i = 0; i < 2; ++i) {
    ImportBatch b("fhir");
    ImportedPerson p;
    p.pseudonym = d;
    p.sex = 'F';
    p.birth_year = 1970;
    const uint32_t r = b.AddPerson(p);
    const uint32_t r2 = b.AddPerson({});
    b.AddEvent(r, 1000000 + i, kNoTime, "SNOMED/1", kNoValue, "", 0);
    b.AddEvent(r2, 2000000, kNoTime, "SNOMED/2", 5.0, "mg", uint64_t{1} << 40);
    auto rep = b.Commit(*cat, "test:" + std::to_string(i), {{"format", "test"}});
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    EXPECT_EQ(rep->new_persons, i == 0 ? 2u : 1u);
  }
  auto b = BuildTimelines(*cat, 1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->persons, 3u);
  auto s = Store::Open(cat->ark_dir() + "/store");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->person(0).flags & kOptOutKnown);
  EXPECT_FALSE((*s)->person(1).flags & kOptOutKnown);
  uint64_t n0 = 0;
  ASSERT_TRUE((*s)->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    if (p.key == 0) n0 = ev.size();
    return Status::OK();
  }).ok());
  EXPECT_EQ(n0, 2u);
  ImportBatch empty("fhir");
  EXPECT_FALSE(empty.Commit(*cat, "test:empty", {}).ok());
}

TEST(ImportEndToEnd, CliImportOmopBuildStats) {
  const std::string t = TempDir("import_cli");
  ASSERT_TRUE(MakeDirs(t).ok());
  const std::string ark = std::string(ARK_BINARY);
  const std::string cmd = ark + " init " + t + "/o >/dev/null && " + ark + " import-omop " + t + "/o " + SyntheaDir() +
                          " >/dev/null && " + ark + " build " + t + "/o >/dev/null && " + ark + " stats " + t +
                          "/o --json > " + t + "/stats.json";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto j = ReadFile(t + "/stats.json");
  ASSERT_TRUE(j.ok());
  EXPECT_NE(j->find("\"persons\": 28"), std::string::npos) << *j;
  // A second import of the same directory fails with a non-zero exit.
  EXPECT_NE(std::system((ark + " import-omop " + t + "/o " + SyntheaDir() + " 2>/dev/null").c_str()), 0);
}


// Opt-outs of imported persons, by the source's own ids: none declared keeps every person's status
// unknown (fail closed); a list marks the listed persons opted out and the others known; "none"
// makes every person known and not opted out. The ids are not stored in the clear.
std::vector<uint8_t> FlagsAfterMedsImport(const std::string& name, const ImportOptOuts& oo, ImportReport* rep) {
  const std::string dir = TempDir(name);
  EXPECT_TRUE(MakeDirs(dir).ok());
  WriteText(dir + "/m.csv", "subject_id,time,code\n101,2020-01-01,HR\n102,2020-01-02,HR\n0103,2020-01-03,HR\n");
  auto cat = NewArk(dir + "/ark");
  auto r = ImportMeds(*cat, dir + "/m.csv", oo);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  *rep = r->batch;
  EXPECT_TRUE(BuildTimelines(*cat, 1).ok());
  auto s = Store::Open(cat->ark_dir() + "/store");
  EXPECT_TRUE(s.ok());
  std::vector<uint8_t> flags;
  for (uint32_t k = 0; k < (*s)->num_persons(); ++k) flags.push_back((*s)->person(k).flags);
  std::string staged;
  for (const auto& e : std::filesystem::recursive_directory_iterator(cat->ark_dir())) {
    if (e.is_regular_file()) staged += *ReadFile(e.path().string());
  }
  EXPECT_EQ(staged.find("0103"), std::string::npos);
  return flags;
}

TEST(ImportOptOuts, UndeclaredListAndNone) {
  ImportReport rep;
  auto f = FlagsAfterMedsImport("oo_undeclared", {}, &rep);
  ASSERT_EQ(f.size(), 3u);
  for (uint8_t x : f) EXPECT_FALSE(x & kOptOutKnown);
  EXPECT_FALSE(rep.optouts_declared);

  const std::string list = TempDir("oo_list") + ".csv";
  WriteText(list, "person_id,reason\n 103 ,x\n999,y\n");
  f = FlagsAfterMedsImport("oo_list", {ImportOptOuts::Mode::kList, list}, &rep);
  ASSERT_EQ(f.size(), 3u);
  for (uint8_t x : f) EXPECT_TRUE(x & kOptOutKnown);
  EXPECT_EQ(rep.opted_out, 1u);
  EXPECT_EQ(rep.optout_ids_unmatched, 1u);
  int usable = 0;
  for (uint8_t x : f) usable += (x & kOptOutKnown) && !(x & (kOptedOutNational | kOptedOutType1));
  EXPECT_EQ(usable, 2);
  EXPECT_TRUE(f[2] & kOptedOutNational);  // subject 0103 = 103

  f = FlagsAfterMedsImport("oo_none", {ImportOptOuts::Mode::kNone, ""}, &rep);
  ASSERT_EQ(f.size(), 3u);
  for (uint8_t x : f) EXPECT_EQ(x & (kOptOutKnown | kOptedOutNational | kOptedOutType1), kOptOutKnown);
  EXPECT_EQ(rep.opted_out, 0u);
}

TEST(ImportOptOuts, ListErrorsNameFileLineAndColumn) {
  const std::string dir = TempDir("oo_err");
  ASSERT_TRUE(MakeDirs(dir).ok());
  WriteText(dir + "/m.csv", "subject_id,time,code\n1,2020-01-01,HR\n");
  WriteText(dir + "/nocol.csv", "id\n1\n");
  WriteText(dir + "/empty.csv", "person_id\n1\n\"\"\n");
  auto cat = NewArk(dir + "/ark");
  auto r = ImportMeds(*cat, dir + "/m.csv", {ImportOptOuts::Mode::kList, dir + "/nocol.csv"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nocol.csv:1: missing column 'person_id'"), std::string::npos) << r.status().message();
  r = ImportMeds(*cat, dir + "/m.csv", {ImportOptOuts::Mode::kList, dir + "/empty.csv"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("empty.csv:3: column 'person_id'"), std::string::npos) << r.status().message();
}

// OMOP persons are matched by person.csv's person_id.
TEST(ImportOptOuts, OmopByPersonId) {
  const std::string dir = TempDir("oo_omop");
  ASSERT_TRUE(MakeDirs(dir + "/cdm").ok());
  WriteText(dir + "/cdm/person.csv", "person_id,gender_concept_id,year_of_birth\n7,8507,1950\n8,8532,1960\n");
  WriteText(dir + "/oo.csv", "person_id\n8\n");
  auto cat = NewArk(dir + "/ark");
  auto r = ImportOmop(*cat, dir + "/cdm", {ImportOptOuts::Mode::kList, dir + "/oo.csv"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.opted_out, 1u);
  ASSERT_TRUE(BuildTimelines(*cat, 1).ok());
  auto s = Store::Open(cat->ark_dir() + "/store");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(AllowedForSecondaryUse((*s)->person(0)));
  EXPECT_FALSE(AllowedForSecondaryUse((*s)->person(1)));
}

TEST(ImportUtil, IntegersOnlyInsideInt64sRange) {
  int64_t v = 0;
  EXPECT_TRUE(import_util::ParseInt(" 42 ", &v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(import_util::ParseInt("12.0", &v));
  EXPECT_EQ(v, 12);
  EXPECT_FALSE(import_util::ParseInt("12.5", &v));
  // Whole numbers written as doubles outside int64 (a cast would be undefined): refused.
  EXPECT_FALSE(import_util::ParseInt("1e300", &v));
  EXPECT_FALSE(import_util::ParseInt("-9.3e18", &v));
  EXPECT_FALSE(import_util::ParseInt("nan", &v));
  EXPECT_FALSE(import_util::ParseInt("inf", &v));
}

}  // namespace
}  // namespace ark
