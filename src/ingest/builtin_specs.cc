// Feed specs for the synthetic region's custodians (docs/synthetic-region.md has the layouts).
// `ark specs NAME` prints them: a custodian with another layout copies one and edits it.
#include <map>

#include "ingest/feed_spec.h"

namespace ark {
namespace {

const std::map<std::string, std::string>& Specs() {
  static const std::map<std::string, std::string> specs = {
      {"gp", R"(feed: gp
identity:
  file: patients.csv
  id: patient_id
  nhs_number: nhs_number
  names: [given_name, family_name]
  date_of_birth: {column: date_of_birth, format: "%Y-%m-%d"}
  sex: {column: sex, values: {M: M, F: F}}
  postcode: postcode
  lsoa: lsoa
  imd_decile: imd_decile
  practice: practice_code
optouts: {file: optouts.csv, nhs_number: nhs_number, kind: national}
events:
  - file: patients.csv            # registration periods
    person: patient_id
    time: {column: registered_from, format: "%Y-%m-%d"}
    end: {column: registered_to, format: "%Y-%m-%d", optional: true}
    code: {column: practice_code, system: REG}
  - file: events.csv
    person: patient_id
    time: {column: event_date, format: "%Y-%m-%d"}
    code: {column: snomed_code, system: SNOMED}
    value: value
    unit: unit
)"},
      {"acute", R"(feed: acute
identity:
  file: patients.csv
  id: mrn
  nhs_number: nhs_no
  names: [forename, surname]
  date_of_birth: {column: dob, format: "%d/%m/%Y"}
  sex: {column: gender, values: {"1": M, "2": F}}
  postcode: postcode
  lsoa: lsoa
events:
  - file: ae_attendances.csv      # one event per attendance, coded by disposal
    person: mrn
    time: {column: arrival, format: "%Y-%m-%d %H:%M"}
    end: {column: departure, format: "%Y-%m-%d %H:%M", optional: true}
    code: {column: disposal, system: AE}
    encounter: attendance_id
  - file: ae_attendances.csv
    person: mrn
    time: {column: arrival, format: "%Y-%m-%d %H:%M"}
    code: {column: complaint_snomed, system: SNOMED, split: ";"}
    encounter: attendance_id
  - file: inpatient_spells.csv    # the spell, coded by admission method
    person: mrn
    time: {column: admitted, format: "%Y-%m-%d %H:%M"}
    end: {column: discharged, format: "%Y-%m-%d %H:%M", optional: true}
    code: {column: admission_method, system: ADMIMETH}
    encounter: spell_id
  - file: inpatient_spells.csv
    person: mrn
    time: {column: admitted, format: "%Y-%m-%d %H:%M"}
    code: {column: primary_icd10, system: ICD10}
    encounter: spell_id
  - file: inpatient_spells.csv
    person: mrn
    time: {column: admitted, format: "%Y-%m-%d %H:%M"}
    code: {column: secondary_icd10, system: ICD10, split: ";"}
    encounter: spell_id
  - file: inpatient_spells.csv
    person: mrn
    time: {column: admitted, format: "%Y-%m-%d %H:%M"}
    code: {column: opcs4, system: OPCS4, split: ";"}
    encounter: spell_id
  - file: inpatient_spells.csv    # discharge, coded by destination
    person: mrn
    time: {column: discharged, format: "%Y-%m-%d %H:%M", optional: true}
    code: {column: discharge_destination, system: DISDEST}
    encounter: spell_id
  - file: lab_results.csv
    person: mrn
    time: {column: collected, format: "%Y-%m-%d %H:%M"}
    code: {column: loinc_code, system: LOINC}
    value: result
    unit: units
    encounter: spell_id
)"},
      {"community", R"(feed: community
identity:
  file: clients.csv
  id: client_ref
  nhs_number: nhs_number
  names: [first_name, last_name]
  date_of_birth: {column: birth_date, format: "%Y%m%d"}
  sex: {column: sex, values: {Male: M, Female: F}}
  postcode: postcode
  lsoa: lsoa
events:
  - file: contacts.csv
    person: client_ref
    time: {column: contact_date, format: "%Y-%m-%d"}
    code: {column: service, system: COMM}
)"},
      {"social_care", R"(feed: social_care
identity:
  file: people.csv
  id: person_id
  nhs_number: nhs_number
  names: [first_names, surname]
  date_of_birth: {column: date_of_birth, format: "%d-%m-%Y"}
  sex: {column: gender, values: {M: M, F: F}}
  postcode: postcode
  lsoa: lsoa
events:
  - file: assessments.csv
    person: person_id
    time: {column: assessment_date, format: "%Y-%m-%d"}
    code: {column: assessment_type, system: ASCASSESS}
  - file: services.csv
    person: person_id
    time: {column: start_date, format: "%Y-%m-%d"}
    end: {column: end_date, format: "%Y-%m-%d", optional: true}
    code: {column: service_type, system: ASCSERVICE}
    value: weekly_hours
    unit_value: h/week
)"},
      {"deaths", R"(feed: deaths
identity:
  file: registrations.csv
  id: registration_id
  nhs_number: nhs_number
  names: [forenames, surname]
  date_of_birth: {column: date_of_birth, format: "%Y-%m-%d"}
  sex: {column: sex, values: {M: M, F: F}}
  postcode: postcode
  lsoa: lsoa
  one_record_per_person: true     # a person's death is registered once
events:
  - file: registrations.csv       # the death, coded by underlying cause
    person: registration_id
    time: {column: date_of_death, format: "%Y-%m-%d"}
    code: {column: underlying_cause_icd10, system: DEATH}
)"},
  };
  return specs;
}

}  // namespace

Result<FeedSpec> BuiltinFeedSpec(const std::string& custodian) {
  auto it = Specs().find(custodian);
  if (it == Specs().end()) {
    std::string names;
    for (auto& [k, v] : Specs()) names += (names.empty() ? "" : ", ") + k;
    return Status::NotFound("no built-in feed spec for '" + custodian + "' (built-in: " + names +
                            "); give one with --spec FILE");
  }
  return ParseFeedSpec(it->second, "built-in spec '" + custodian + "'");
}

std::vector<std::string> BuiltinFeedNames() {
  std::vector<std::string> out;
  for (auto& [k, v] : Specs()) out.push_back(k);
  return out;
}

}  // namespace ark
