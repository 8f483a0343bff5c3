// FHIR Bulk NDJSON ingest: the 10-patient sample (tests/data/fhir) into an Ark and `ark build`; linkage by
// NHS-number pseudonym; no identifier written; errors naming file, line and field.
#include "core/process.h"
#include "fhir/bulk.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/fs.h"
#include "fhir/resource.h"
#include "ingest/build.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace ark::fhir {
namespace {

using store::testing::TempDir;

const std::string kBulk = std::string(ARK_SOURCE_DIR) + "/tests/data/fhir/bulk_10_patients";

ProgrammeKey TestKey() {
  Digest d{};
  for (size_t i = 0; i < d.size(); i++) d[i] = static_cast<uint8_t>(i * 7 + 1);
  return ProgrammeKey::FromBytes(d);
}

std::unique_ptr<Catalog> NewArk(const std::string& dir) {
  EXPECT_TRUE(MakeDirs(dir).ok());
  auto c = Catalog::Create(dir);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::string Dir(const std::string& name, const std::map<std::string, std::string>& files) {
  std::string d = TempDir(name);
  EXPECT_TRUE(MakeDirs(d).ok());
  for (auto& [f, text] : files) std::ofstream(d + "/" + f) << text;
  return d;
}

// True when any file under `dir` contains `needle`.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto t = ReadFile(e.path().string());
    if (t.ok() && t->find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(FhirBulk, SampleBuildsThirteenPersons) {
  const std::string ark = TempDir("fhir_ark");
  auto cat = NewArk(ark);
  auto r = IngestBulkNdjson(*cat, kBulk, TestKey());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->resources["Patient"], 13u);
  EXPECT_EQ(r->resources["Encounter"], 1215u);
  EXPECT_EQ(r->resources["Condition"], 555u);
  EXPECT_EQ(r->resources["Procedure"], 2056u);
  EXPECT_EQ(r->resources["MedicationRequest"], 1745u);
  EXPECT_EQ(r->batch.persons, 13u);
  EXPECT_EQ(r->nhs_missing, 13u);  // Synthea (US) patients have no NHS number
  EXPECT_GT(r->batch.events, 5000u);
  auto b = BuildTimelines(*cat, 1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->persons, 13u);
  auto s = Store::Open(ark + "/store");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::set<std::string> codes;
  auto d = (*s)->dicts();
  int with_birth = 0;
  ASSERT_TRUE((*s)->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    with_birth += p.birth_year > 1900 && p.birth_month >= 1;
    for (const Event& e : ev) codes.insert(d->codes[e.code]);
    return Status::OK();
  }).ok());
  EXPECT_EQ(with_birth, 13);
  EXPECT_TRUE(codes.count("SNOMED/91302008"));  // sepsis (Condition)
  EXPECT_TRUE(codes.count("ENCCLASS/AMB"));
  // No identifier reaches the Ark: Synthea ids, names, SSNs.
  EXPECT_FALSE(AnyFileContains(ark, "129c6ac7-8d06-89de-ad63-0204a93e76c3"));
  EXPECT_FALSE(AnyFileContains(ark, "999-94-5397"));
  EXPECT_FALSE(AnyFileContains(ark, "Marine542"));
  // Twice: refused.
  auto again = IngestBulkNdjson(*cat, kBulk, TestKey());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

std::string PatientLine(const std::string& id, const std::string& nhs) {
  return R"({"resourceType":"Patient","id":")" + id +
         R"(","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":")" + nhs +
         R"("}],"name":[{"family":"Zebedee","given":["Quill"]}],"gender":"female","birthDate":"1961-04-09"})" "\n";
}

TEST(FhirBulk, NhsNumberPseudonymsLinkAcrossBatches) {
  const std::string ark = TempDir("fhir_link");
  auto cat = NewArk(ark);
  const std::string obs =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"14682-9"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-01T10:00:00+01:00","valueQuantity":{"value":180,"unit":"umol/L"}})" "\n";
  auto a = IngestBulkNdjson(*cat, Dir("fhir_a", {{"Patient.ndjson", PatientLine("p1", "943 476 5919")},
                                                 {"Observation.ndjson", obs}}), TestKey());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->nhs_valid, 1u);
  EXPECT_EQ(a->batch.new_persons, 1u);
  // Another source, other resource id, same NHS number → the same person.
  auto b = IngestBulkNdjson(*cat, Dir("fhir_b", {{"Patient.ndjson", PatientLine("other-id", "9434765919")}}), TestKey());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->batch.new_persons, 0u);
  auto built = BuildTimelines(*cat, 1);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->persons, 1u);
  auto s = Store::Open(ark + "/store");
  ASSERT_TRUE(s.ok());
  bool found = false;
  ASSERT_TRUE((*s)->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    EXPECT_EQ(p.sex, 'F');
    EXPECT_EQ(p.birth_year, 1961);
    for (const Event& e : ev) {
      if ((*s)->dicts()->codes[e.code] == "LOINC/14682-9") {
        found = true;
        EXPECT_DOUBLE_EQ(e.value, 180);
        EXPECT_EQ(e.time, *ParseDateTime("2024-03-01T10:00:00", false));  // wall clock kept
      }
    }
    return Status::OK();
  }).ok());
  EXPECT_TRUE(found);
  EXPECT_FALSE(AnyFileContains(ark, "9434765919"));
  EXPECT_FALSE(AnyFileContains(ark, "Zebedee"));
  // A different key is refused.
  Digest other{};
  auto c = IngestBulkNdjson(*cat, Dir("fhir_c", {{"Patient.ndjson", PatientLine("x", "9434765919")}}),
                            ProgrammeKey::FromBytes(other));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("key mismatch"), std::string::npos);
}

TEST(FhirBulk, ErrorsNameFileLineAndField) {
  const std::string p = PatientLine("p1", "");
  struct Case {
    std::map<std::string, std::string> files;
    std::string expect;
  } cases[] = {
      {{{"Patient.ndjson", p + "{not json\n"}}, "Patient.ndjson:2: not a JSON object"},
      {{{"Patient.ndjson", p}, {"Encounter.ndjson", "\n" R"({"resourceType":"Encounter","id":"e","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},"period":{"start":"2020-13-01T00:00:00Z"}})" "\n"}},
       "Encounter.ndjson:2: Encounter.period.start: bad dateTime '2020-13-01T00:00:00Z': month 13"},
      {{{"Patient.ndjson", p}, {"Condition.ndjson", R"({"resourceType":"Condition","subject":{"reference":"Patient/p1"},"onsetDateTime":"2020-01-01"})" "\n"}},
       "Condition.ndjson:1: Condition.code: missing coding"},
      {{{"Patient.ndjson", p}, {"Condition.ndjson", R"({"resourceType":"Condition","code":{"coding":[{"code":"1"}]},"onsetDateTime":"2020-01-01"})" "\n"}},
       "Condition.ndjson:1: Condition.subject: missing reference"},
      {{{"Patient.ndjson", p}, {"Condition.ndjson", R"({"resourceType":"Condition","code":{"coding":[{"code":"1"}]},"subject":{"reference":"Patient/zz"},"onsetDateTime":"2020-01-01"})" "\n"}},
       "Condition.ndjson:1: subject: Patient/zz is not in the Patient files"},
      {{{"Patient.ndjson", p}, {"Observation.ndjson", R"({"resourceType":"Observation","code":{"coding":[{"code":"1"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":"high"}})" "\n"}},
       "Observation.ndjson:1: Observation.valueQuantity.value: not a number"},
      {{{"Patient.ndjson", p + p}}, "Patient.ndjson:2: Patient.id: duplicate id"},
      {{{"Patient.ndjson", R"({"id":"x"})" "\n"}}, "Patient.ndjson:1: resourceType: missing"},
      {{{"x.txt", "hello"}}, "no *.ndjson files"},
  };
  for (const Case& c : cases) {
    const std::string ark = TempDir("fhir_err");
    auto cat = NewArk(ark);
    auto r = IngestBulkNdjson(*cat, Dir("fhir_bad", c.files), TestKey());
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "got: " << r.status().message() << "\nwant: " << c.expect;
    auto batches = cat->Batches();
    ASSERT_TRUE(batches.ok());
    EXPECT_TRUE(batches->empty());
  }
}

TEST(FhirBulk, DateTimes) {
  EXPECT_EQ(*ParseDateTime("2020", false), *ParseDateTime("2020-01-01T00:00:00", false));
  EXPECT_EQ(*ParseDateTime("2020-02-03T04:05:06.789-05:00", false), *ParseDateTime("2020-02-03T04:05:06", false));
  EXPECT_EQ(*ParseDateTime("2020-02-03T04:05:06-05:00", true), *ParseDateTime("2020-02-03T09:05:06", false));
  EXPECT_EQ(*ParseDateTime("2020-02-03T04:05:06Z", true), *ParseDateTime("2020-02-03T04:05:06", false));
  for (const char* bad : {"", "20", "2020-1", "2020-02-30", "2020-02-03T25:00:00Z", "2020-02-03T04:05:06+5",
                          "2020-02-03 04:05:06", "2020-02-03T04"}) {
    EXPECT_FALSE(ParseDateTime(bad, true).ok()) << bad;
  }
}

// Runs `ark ARGS` and returns {exit status, stdout+stderr}.
std::pair<int, std::string> Ark(const std::string& args) {
  CommandOutput r = RunCommand(std::string(ARK_BINARY) + " " + args + " 2>&1");
  return {r.exit_code, r.output};
}

TEST(FhirBulk, CliEndToEnd) {
  const std::string d = TempDir("fhir_cli");
  ASSERT_TRUE(MakeDirs(d).ok());
  ASSERT_EQ(Ark("keygen --out " + d + "/k.key").first, 0);
  ASSERT_EQ(Ark("init " + d + "/ark").first, 0);
  auto r = Ark("ingest " + d + "/ark --format fhir-ndjson " + kBulk + " --key " + d + "/k.key --json");
  ASSERT_EQ(r.first, 0) << r.second;
  auto j = nlohmann::json::parse(r.second, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.second;
  EXPECT_EQ(j[0]["persons"], 13);
  EXPECT_EQ(j[0]["resources"]["Encounter"], 1215);
  auto b = Ark("build " + d + "/ark");
  EXPECT_EQ(b.first, 0) << b.second;
  auto nokey = Ark("ingest " + d + "/ark --format fhir-ndjson " + kBulk);
  EXPECT_NE(nokey.first, 0);
  EXPECT_NE(nokey.second.find("--key"), std::string::npos) << nokey.second;
  const std::string bad = Dir("fhir_cli_bad", {{"Patient.ndjson", PatientLine("p", "") + R"({"resourceType":"Patient","id":"q","birthDate":"1970-02-30"})" "\n"}});
  auto e = Ark("ingest " + d + "/ark --format fhir-ndjson " + bad + " --key " + d + "/k.key");
  EXPECT_NE(e.first, 0);
  EXPECT_NE(e.second.find("Patient.ndjson:2: Patient.birthDate: bad date '1970-02-30'"), std::string::npos) << e.second;
}

}  // namespace
}  // namespace ark::fhir
