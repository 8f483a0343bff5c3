// FHIR R4 → LiveRecord: a transaction Bundle, NDJSON, errors.
#include <gtest/gtest.h>

#include "fhir/resource.h"
#include "live/record.h"

namespace ark::live {
namespace {

const char* kBundle = R"({
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
     "resource": {"resourceType": "Patient", "id": "pat1",
       "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
       "name": [{"family": "Test", "given": ["Patient"]}], "gender": "male", "birthDate": "1970-01-01",
       "address": [{"postalCode": "LS1 1AA"}]},
     "request": {"method": "POST", "url": "Patient"}},
    {"resource": {"resourceType": "Encounter", "id": "enc1", "status": "in-progress",
       "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
       "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
       "period": {"start": "2025-01-01T11:55:00Z"}}},
    {"resource": {"resourceType": "Observation", "id": "obs1", "status": "final",
       "code": {"coding": [{"system": "http://loinc.org", "code": "14682-9", "display": "Creatinine"}]},
       "subject": {"reference": "Patient/pat1"}, "effectiveDateTime": "2025-01-01T13:00:00+01:00",
       "valueQuantity": {"value": 182, "unit": "umol/L", "code": "umol/L"},
       "interpretation": [{"coding": [{"code": "H"}]}]}},
    {"resource": {"resourceType": "Condition", "id": "c1",
       "code": {"coding": [{"system": "http://snomed.info/sct", "code": "14669001"}]},
       "subject": {"reference": "Patient/pat1"}, "onsetDateTime": "2025-01-01"}},
    {"resource": {"resourceType": "Immunization", "id": "i1"}}
  ]})";

TEST(LiveRecordFhir, TransactionBundle) {
  auto r = FromFhirBundle(kBundle);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  const LiveRecord& p = (*r)[0];
  EXPECT_EQ(p.kind, LiveRecord::Kind::kUpdate);
  EXPECT_EQ(p.patient.nhs_number, "9990000018");
  EXPECT_EQ(p.patient.date_of_birth, "19700101");
  EXPECT_EQ(p.patient.sex, "M");
  EXPECT_EQ(p.patient.postcode, "LS1 1AA");
  const LiveRecord& e = (*r)[1];
  EXPECT_EQ(e.kind, LiveRecord::Kind::kAdmit);
  EXPECT_EQ(e.patient_class, "E");
  EXPECT_EQ(e.patient.nhs_number, "9990000018");  // resolved through the fullUrl
  EXPECT_EQ(e.admit_time, *fhir::ParseDateTime("2025-01-01T11:55:00", false));
  const LiveRecord& o = (*r)[2];
  EXPECT_EQ(o.kind, LiveRecord::Kind::kResult);
  EXPECT_EQ(o.patient.nhs_number, "9990000018");
  ASSERT_EQ(o.observations.size(), 1u);
  EXPECT_EQ(o.observations[0].system, "LN");
  EXPECT_EQ(o.observations[0].code, "14682-9");
  EXPECT_DOUBLE_EQ(o.observations[0].value, 182);
  EXPECT_EQ(o.observations[0].time, *fhir::ParseDateTime("2025-01-01T12:00:00", false));  // UTC
  EXPECT_EQ(o.observations[0].abnormal_flag, "H");
  ASSERT_EQ((*r)[3].conditions.size(), 1u);
  EXPECT_EQ((*r)[3].conditions[0].system, "SNOMED");
}

TEST(LiveRecordFhir, NdjsonAndErrors) {
  std::string nd = R"({"resourceType":"Patient","id":"a","gender":"female"})" "\n\n"
                   R"({"resourceType":"Encounter","id":"e","class":{"code":"IMP"},"subject":{"reference":"Patient/a"},"period":{"start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z"}})" "\n";
  auto r = FromFhirBundle(nd);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].kind, LiveRecord::Kind::kDischarge);
  EXPECT_EQ((*r)[1].patient_class, "I");
  EXPECT_EQ((*r)[1].patient.mrn, "a");
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"", "no FHIR resource"},
      {"{", "not valid JSON"},
      {nd + "{oops\n", "line 4: not valid JSON"},
      {R"({"resourceType":"Observation","subject":{"reference":"Patient/a"},"code":{"coding":[{"code":"x"}]},"effectiveDateTime":"2025-02-30"})",
       "Observation.effectiveDateTime: bad dateTime '2025-02-30'"},
      {R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Encounter","class":{"code":"IMP"}}}]})",
       "entry 1: Encounter.subject: missing"},
      {R"({"resourceType":"Bundle","entry":[{"request":{}}]})", "entry 1: resource: missing"},
      {R"({"id":"x"})", "resourceType: missing"},
  };
  for (const Case& c : cases) {
    auto bad = FromFhirBundle(c.text);
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_NE(bad.status().message().find(c.expect), std::string::npos)
        << "got: " << bad.status().message() << "\nwant: " << c.expect;
  }
}

TEST(LiveRecordFhir, RobustToTruncation) {
  const std::string b = kBundle;
  for (size_t n = 0; n < b.size(); n += 3) (void)FromFhirBundle(std::string_view(b).substr(0, n));
  std::string odd = R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","subject":7,"code":[],)"
                    R"("valueQuantity":{"value":null},"effectiveDateTime":12}},{"resource":null},{"resource":{"resourceType":5}}]})";
  EXPECT_FALSE(FromFhirBundle(odd).ok());
}

}  // namespace
}  // namespace ark::live
