// The OMOP CDM 5.4 export (docs/relational-schema.md "OMOP CDM 5.4"): one pass over the store per
// table, rows generated per person. Without the OMOP vocabulary tables, clinical concept ids are
// 0 and the Ark's code goes into the *_source_value column; the domain (table) of an event is
// decided by its code system.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <deque>

#include "catalog/catalog.h"
#include "sql/export.h"
#include "sql/export_impl.h"
#include "sql/store_chunks.h"

namespace ark::sql {
namespace {

using V = Connection::Value;

constexpr int64_t kEhrType = 32817;  // "EHR" type concept
constexpr size_t kVarchar = 50;      // the CDM's varchar(50) source-value columns

enum class Domain : uint8_t { kObservation, kCondition, kProcedure, kMeasurement, kDrug, kDeath, kRegistration, kVisit };

Domain DomainOf(const std::string& code, bool has_value) {
  const std::string sys = code.substr(0, code.find('/'));
  if (sys == "REG") return Domain::kRegistration;
  if (sys == "DEATH") return Domain::kDeath;
  if (sys == "AE" || sys == "ADMIMETH" || sys == "DISDEST" || sys == "Visit") return Domain::kVisit;
  if (sys == "ICD10" || sys == "ICD10CM") return Domain::kCondition;
  if (sys == "SNOMED") return has_value ? Domain::kMeasurement : Domain::kCondition;
  if (sys == "OPCS4" || sys == "CPT4" || sys == "HCPCS" || sys == "ICD10PCS") return Domain::kProcedure;
  if (sys == "LOINC") return Domain::kMeasurement;
  if (sys == "DMD" || sys == "dm+d" || sys == "BNF" || sys == "RxNorm" || sys == "RXNORM" || sys == "ATC" || sys == "CVX" ||
      sys == "RxNorm Extension")
    return Domain::kDrug;
  return Domain::kObservation;
}

std::string Date(Seconds t) { return FormatDate(DayOf(t)); }
std::string DateTime(Seconds t) {
  const int32_t d = DayOf(t);
  const int64_t s = t - Seconds{d} * kSecondsPerDay;
  char buf[16];
  std::snprintf(buf, sizeof buf, " %02d:%02d:%02d", static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60),
                static_cast<int>(s % 60));
  return FormatDate(d) + buf;
}

struct Visit {
  uint16_t source;
  uint32_t encounter;
  Seconds start, end;
  int64_t visit_concept = 9202;  // outpatient unless the codes say otherwise
  std::string admitted_from, discharged_to;
};

// Per-person state shared by the table generators.
struct PersonCtx {
  const Person* p = nullptr;
  std::span<const Event> ev;
  std::vector<Visit> visits;
  std::vector<int64_t> visit_of;  // per event: visit_occurrence_id or 0
  int64_t first_visit_id = 0;
};

class OmopWriter {
 public:
  OmopWriter(const Store& store, Connection& conn, bool secondary_use_only)
      : store_(store), conn_(conn), dicts_(store.dicts()), secondary_(secondary_use_only) {
    domain_.resize(dicts_->codes.size() * 2);
    for (size_t c = 0; c < dicts_->codes.size(); ++c) {
      domain_[2 * c] = DomainOf(dicts_->codes[c], false);
      domain_[2 * c + 1] = DomainOf(dicts_->codes[c], true);
    }
  }

  Status Run() {
    ARK_RETURN_IF_ERROR(conn_.Exec(Ddl()));
    using Gen = void (OmopWriter::*)(PersonCtx&);
    struct Table {
      const char* name;
      std::vector<std::string> cols;
      Gen gen;
    };
    const std::vector<Table> tables = {
        {"person", {"person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth", "birth_datetime",
                    "race_concept_id", "ethnicity_concept_id", "gender_source_value", "gender_source_concept_id",
                    "race_source_concept_id", "ethnicity_source_concept_id"}, &OmopWriter::GenPerson},
        {"observation_period", {"observation_period_id", "person_id", "observation_period_start_date",
                                "observation_period_end_date", "period_type_concept_id"}, &OmopWriter::GenPeriods},
        {"visit_occurrence", {"visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date",
                              "visit_start_datetime", "visit_end_date", "visit_end_datetime", "visit_type_concept_id",
                              "visit_source_value", "visit_source_concept_id", "admitted_from_concept_id",
                              "admitted_from_source_value", "discharged_to_concept_id", "discharged_to_source_value"},
         &OmopWriter::GenVisits},
        {"condition_occurrence", {"condition_occurrence_id", "person_id", "condition_concept_id", "condition_start_date",
                                  "condition_start_datetime", "condition_end_date", "condition_end_datetime",
                                  "condition_type_concept_id", "visit_occurrence_id", "condition_source_value",
                                  "condition_source_concept_id"}, &OmopWriter::GenConditions},
        {"procedure_occurrence", {"procedure_occurrence_id", "person_id", "procedure_concept_id", "procedure_date",
                                  "procedure_datetime", "procedure_end_date", "procedure_end_datetime",
                                  "procedure_type_concept_id", "visit_occurrence_id", "procedure_source_value",
                                  "procedure_source_concept_id"}, &OmopWriter::GenProcedures},
        {"drug_exposure", {"drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date",
                           "drug_exposure_start_datetime", "drug_exposure_end_date", "drug_exposure_end_datetime",
                           "drug_type_concept_id", "quantity", "visit_occurrence_id", "drug_source_value",
                           "drug_source_concept_id"}, &OmopWriter::GenDrugs},
        {"measurement", {"measurement_id", "person_id", "measurement_concept_id", "measurement_date",
                         "measurement_datetime", "measurement_type_concept_id", "value_as_number", "unit_concept_id",
                         "visit_occurrence_id", "measurement_source_value", "measurement_source_concept_id",
                         "unit_source_value"}, &OmopWriter::GenMeasurements},
        {"observation", {"observation_id", "person_id", "observation_concept_id", "observation_date",
                         "observation_datetime", "observation_type_concept_id", "value_as_number", "unit_concept_id",
                         "visit_occurrence_id", "observation_source_value", "observation_source_concept_id",
                         "unit_source_value"}, &OmopWriter::GenObservations},
        {"death", {"person_id", "death_date", "death_datetime", "death_type_concept_id", "cause_concept_id",
                   "cause_source_value", "cause_source_concept_id"}, &OmopWriter::GenDeath},
    };
    for (const Table& t : tables) ARK_RETURN_IF_ERROR(Pass(t.name, t.cols, t.gen));
    ARK_RETURN_IF_ERROR(conn_.Exec(
        "INSERT INTO cdm_source (cdm_source_name, cdm_source_abbreviation, cdm_holder, source_description, "
        "source_release_date, cdm_release_date, cdm_version, cdm_version_concept_id, vocabulary_version) VALUES "
        "('Ark', 'ARK', 'Ark', 'Pseudonymised timelines exported by ark export --schema omop; concept ids are 0 "
        "(no OMOP vocabulary); the Ark code is in the *_source_value columns', '" + FormatDate(DayOf(std::time(nullptr))) +
        "', '" + FormatDate(DayOf(std::time(nullptr))) + "', 'v5.4', 0, 'none')"));
    ARK_RETURN_IF_ERROR(conn_.Exec(Indexes()));
    return conn_.Exec("ANALYZE");
  }

 private:
  static std::string Ddl() {
    return R"(
DROP TABLE IF EXISTS person; DROP TABLE IF EXISTS observation_period; DROP TABLE IF EXISTS visit_occurrence;
DROP TABLE IF EXISTS condition_occurrence; DROP TABLE IF EXISTS procedure_occurrence; DROP TABLE IF EXISTS drug_exposure;
DROP TABLE IF EXISTS measurement; DROP TABLE IF EXISTS observation; DROP TABLE IF EXISTS death; DROP TABLE IF EXISTS cdm_source;
CREATE TABLE person (
  person_id integer NOT NULL, gender_concept_id integer NOT NULL, year_of_birth integer NOT NULL,
  month_of_birth integer NULL, day_of_birth integer NULL, birth_datetime TIMESTAMP NULL,
  race_concept_id integer NOT NULL, ethnicity_concept_id integer NOT NULL, location_id integer NULL,
  provider_id integer NULL, care_site_id integer NULL, person_source_value varchar(50) NULL,
  gender_source_value varchar(50) NULL, gender_source_concept_id integer NULL, race_source_value varchar(50) NULL,
  race_source_concept_id integer NULL, ethnicity_source_value varchar(50) NULL, ethnicity_source_concept_id integer NULL);
CREATE TABLE observation_period (
  observation_period_id integer NOT NULL, person_id integer NOT NULL, observation_period_start_date date NOT NULL,
  observation_period_end_date date NOT NULL, period_type_concept_id integer NOT NULL);
CREATE TABLE visit_occurrence (
  visit_occurrence_id integer NOT NULL, person_id integer NOT NULL, visit_concept_id integer NOT NULL,
  visit_start_date date NOT NULL, visit_start_datetime TIMESTAMP NULL, visit_end_date date NOT NULL,
  visit_end_datetime TIMESTAMP NULL, visit_type_concept_id integer NOT NULL, provider_id integer NULL,
  care_site_id integer NULL, visit_source_value varchar(50) NULL, visit_source_concept_id integer NULL,
  admitted_from_concept_id integer NULL, admitted_from_source_value varchar(50) NULL,
  discharged_to_concept_id integer NULL, discharged_to_source_value varchar(50) NULL,
  preceding_visit_occurrence_id integer NULL);
CREATE TABLE condition_occurrence (
  condition_occurrence_id integer NOT NULL, person_id integer NOT NULL, condition_concept_id integer NOT NULL,
  condition_start_date date NOT NULL, condition_start_datetime TIMESTAMP NULL, condition_end_date date NULL,
  condition_end_datetime TIMESTAMP NULL, condition_type_concept_id integer NOT NULL,
  condition_status_concept_id integer NULL, stop_reason varchar(20) NULL, provider_id integer NULL,
  visit_occurrence_id integer NULL, visit_detail_id integer NULL, condition_source_value varchar(50) NULL,
  condition_source_concept_id integer NULL, condition_status_source_value varchar(50) NULL);
CREATE TABLE procedure_occurrence (
  procedure_occurrence_id integer NOT NULL, person_id integer NOT NULL, procedure_concept_id integer NOT NULL,
  procedure_date date NOT NULL, procedure_datetime TIMESTAMP NULL, procedure_end_date date NULL,
  procedure_end_datetime TIMESTAMP NULL, procedure_type_concept_id integer NOT NULL, modifier_concept_id integer NULL,
  quantity integer NULL, provider_id integer NULL, visit_occurrence_id integer NULL, visit_detail_id integer NULL,
  procedure_source_value varchar(50) NULL, procedure_source_concept_id integer NULL, modifier_source_value varchar(50) NULL);
CREATE TABLE drug_exposure (
  drug_exposure_id integer NOT NULL, person_id integer NOT NULL, drug_concept_id integer NOT NULL,
  drug_exposure_start_date date NOT NULL, drug_exposure_start_datetime TIMESTAMP NULL,
  drug_exposure_end_date date NOT NULL, drug_exposure_end_datetime TIMESTAMP NULL, verbatim_end_date date NULL,
  drug_type_concept_id integer NOT NULL, stop_reason varchar(20) NULL, refills integer NULL, quantity NUMERIC NULL,
  days_supply integer NULL, sig TEXT NULL, route_concept_id integer NULL, lot_number varchar(50) NULL,
  provider_id integer NULL, visit_occurrence_id integer NULL, visit_detail_id integer NULL,
  drug_source_value varchar(50) NULL, drug_source_concept_id integer NULL, route_source_value varchar(50) NULL,
  dose_unit_source_value varchar(50) NULL);
CREATE TABLE measurement (
  measurement_id integer NOT NULL, person_id integer NOT NULL, measurement_concept_id integer NOT NULL,
  measurement_date date NOT NULL, measurement_datetime TIMESTAMP NULL, measurement_time varchar(10) NULL,
  measurement_type_concept_id integer NOT NULL, operator_concept_id integer NULL, value_as_number NUMERIC NULL,
  value_as_concept_id integer NULL, unit_concept_id integer NULL, range_low NUMERIC NULL, range_high NUMERIC NULL,
  provider_id integer NULL, visit_occurrence_id integer NULL, visit_detail_id integer NULL,
  measurement_source_value varchar(50) NULL, measurement_source_concept_id integer NULL,
  unit_source_value varchar(50) NULL, unit_source_concept_id integer NULL, value_source_value varchar(50) NULL,
  measurement_event_id bigint NULL, meas_event_field_concept_id integer NULL);
CREATE TABLE observation (
  observation_id integer NOT NULL, person_id integer NOT NULL, observation_concept_id integer NOT NULL,
  observation_date date NOT NULL, observation_datetime TIMESTAMP NULL, observation_type_concept_id integer NOT NULL,
  value_as_number NUMERIC NULL, value_as_string varchar(60) NULL, value_as_concept_id integer NULL,
  qualifier_concept_id integer NULL, unit_concept_id integer NULL, provider_id integer NULL,
  visit_occurrence_id integer NULL, visit_detail_id integer NULL, observation_source_value varchar(50) NULL,
  observation_source_concept_id integer NULL, unit_source_value varchar(50) NULL, qualifier_source_value varchar(50) NULL,
  value_source_value varchar(50) NULL, observation_event_id bigint NULL, obs_event_field_concept_id integer NULL);
CREATE TABLE death (
  person_id integer NOT NULL, death_date date NOT NULL, death_datetime TIMESTAMP NULL,
  death_type_concept_id integer NULL, cause_concept_id integer NULL, cause_source_value varchar(50) NULL,
  cause_source_concept_id integer NULL);
CREATE TABLE cdm_source (
  cdm_source_name varchar(255) NOT NULL, cdm_source_abbreviation varchar(25) NOT NULL, cdm_holder varchar(255) NOT NULL,
  source_description TEXT NULL, source_documentation_reference varchar(255) NULL, cdm_etl_reference varchar(255) NULL,
  source_release_date date NOT NULL, cdm_release_date date NOT NULL, cdm_version varchar(10) NULL,
  cdm_version_concept_id integer NOT NULL, vocabulary_version varchar(20) NOT NULL);
)";
  }

  static std::string Indexes() {
    std::string s;
    for (const char* t : {"person", "observation_period", "visit_occurrence", "condition_occurrence", "procedure_occurrence",
                          "drug_exposure", "measurement", "observation", "death"}) {
      s += std::string("CREATE INDEX idx_") + t + "_person_id ON " + t + " (person_id);\n";
    }
    s += "CREATE INDEX idx_condition_source ON condition_occurrence (condition_source_value);\n"
         "CREATE INDEX idx_procedure_source ON procedure_occurrence (procedure_source_value);\n"
         "CREATE INDEX idx_drug_source ON drug_exposure (drug_source_value);\n"
         "CREATE INDEX idx_measurement_source ON measurement (measurement_source_value);\n"
         "CREATE INDEX idx_observation_source ON observation (observation_source_value);\n";
    return s;
  }

  // One load per table: persons are read again for each (decoding is cheap next to the load).
  Status Pass(const char* table, const std::vector<std::string>& cols, void (OmopWriter::*gen)(PersonCtx&)) {
    StoreChunks chunks(store_);
    next_id_ = 1;
    next_visit_ = 1;
    rows_.clear();
    size_t pos = 0;
    PersonCtx ctx;
    Status s = conn_.LoadValues(table, cols, [&](std::vector<V>& row) {
      while (pos >= rows_.size()) {
        rows_.clear();
        arena_.clear();
        pos = 0;
        if (!chunks.Next(&ctx.p, &ctx.ev)) return false;
        if (secondary_ && !AllowedForSecondaryUse(*ctx.p)) continue;
        Prepare(ctx);
        (this->*gen)(ctx);
      }
      row = std::move(rows_[pos++]);
      return true;
    });
    ARK_RETURN_IF_ERROR(s);
    return chunks.status();
  }

  std::string_view Keep(std::string s) {
    arena_.push_back(std::move(s));
    return arena_.back();
  }
  // Cut to the CDM's varchar(50), never inside a UTF-8 character.
  static V Src(std::string_view code) {
    if (code.size() <= kVarchar) return V::Text(code);
    size_t n = kVarchar;
    while (n > 0 && (static_cast<unsigned char>(code[n]) & 0xC0) == 0x80) --n;
    return V::Text(code.substr(0, n));
  }
  std::string_view CodeOf(const Event& e) const { return dicts_->codes[e.code]; }
  Domain DomainOfEvent(const Event& e) const { return domain_[2 * e.code + (e.has_value() ? 1 : 0)]; }
  V VisitOf(const PersonCtx& c, size_t i) const { return c.visit_of[i] ? V::Int(c.visit_of[i]) : V::Null(); }

  // Visits of the person: one per (source, encounter), in order of first event.
  void Prepare(PersonCtx& c) {
    c.visits.clear();
    c.visit_of.assign(c.ev.size(), 0);
    c.first_visit_id = next_visit_;
    for (size_t i = 0; i < c.ev.size(); ++i) {
      const Event& e = c.ev[i];
      if (e.encounter == kNoEncounter) continue;
      size_t v = 0;
      while (v < c.visits.size() && !(c.visits[v].source == e.source && c.visits[v].encounter == e.encounter)) ++v;
      if (v == c.visits.size()) {
        Visit nv;
        nv.source = e.source;
        nv.encounter = e.encounter;
        nv.start = nv.end = e.time;
        c.visits.push_back(nv);
      }
      Visit& vis = c.visits[v];
      vis.start = std::min(vis.start, e.time);
      const std::string& code = dicts_->codes[e.code];
      // The visit ends at the latest event, or at the end of a visit-defining event (spell,
      // attendance, OMOP visit); a diagnosis's end does not extend the visit.
      vis.end = std::max(vis.end, e.time);
      if (e.end != kNoTime && DomainOfEvent(e) == Domain::kVisit) vis.end = std::max(vis.end, e.end);
      if (code.rfind("AE/", 0) == 0) {
        vis.visit_concept = 9203;  // emergency room visit
        vis.discharged_to = code;
      } else if (code.rfind("ADMIMETH/", 0) == 0) {
        if (vis.visit_concept != 9203) vis.visit_concept = 9201;  // inpatient visit
        vis.admitted_from = code;
      } else if (code.rfind("DISDEST/", 0) == 0) {
        vis.discharged_to = code;
      } else if (code == "Visit/IP") {
        vis.visit_concept = 9201;
      } else if (code == "Visit/ER") {
        vis.visit_concept = 9203;
      } else if (code == "Visit/ERIP") {
        vis.visit_concept = 262;
      }
      c.visit_of[i] = c.first_visit_id + static_cast<int64_t>(v);
    }
    next_visit_ += static_cast<int64_t>(c.visits.size());
  }

  // A row of an event table, its first five columns filled as every such table starts: id,
  // person, concept (0: codes are kept in *_source_value), date and datetime of `t`.
  std::vector<V>& EventRow(size_t n, const PersonCtx& c, Seconds t) {
    auto& r = Row(n);
    r[0] = V::Int(next_id_++);
    r[1] = V::Int(c.p->key);
    r[2] = V::Int(0);
    r[3] = V::Text(Keep(Date(t)));
    r[4] = V::Text(Keep(DateTime(t)));
    return r;
  }
  std::vector<V>& Row(size_t n) {
    rows_.emplace_back(n);
    return rows_.back();
  }

  void GenPerson(PersonCtx& c) {
    const Person& p = *c.p;
    auto& r = Row(12);
    r[0] = V::Int(p.key);
    r[1] = V::Int(p.sex == 'M' ? 8507 : p.sex == 'F' ? 8532 : 0);
    r[2] = V::Int(p.birth_year);  // 0 = unknown (the CDM requires a value)
    r[3] = p.birth_month ? V::Int(p.birth_month) : V::Null();
    r[4] = V::Null();
    r[5] = V::Null();
    r[6] = V::Int(0);
    r[7] = V::Int(0);
    r[8] = V::Text(p.sex == 'M' ? "M" : p.sex == 'F' ? "F" : "U");
    r[9] = V::Int(0);
    r[10] = V::Int(0);
    r[11] = V::Int(0);
  }

  // Registrations (REG/ events, end = the registration's end or the last event) merged; a person
  // without registrations is observed from the first to the last event.
  void GenPeriods(PersonCtx& c) {
    if (c.ev.empty()) return;
    Seconds last = c.ev.front().time;
    for (const Event& e : c.ev) last = std::max(last, e.end != kNoTime ? e.end : e.time);
    std::vector<std::pair<int32_t, int32_t>> spans;
    for (const Event& e : c.ev) {
      if (DomainOfEvent(e) != Domain::kRegistration) continue;
      const Seconds end = e.end != kNoTime ? e.end - 1 : last;  // registration ends are exclusive
      spans.emplace_back(DayOf(e.time), std::max(DayOf(e.time), DayOf(end)));
    }
    if (spans.empty()) spans.emplace_back(DayOf(c.ev.front().time), DayOf(last));
    std::sort(spans.begin(), spans.end());
    std::vector<std::pair<int32_t, int32_t>> merged;
    for (auto& s : spans) {
      if (!merged.empty() && s.first <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, s.second);
      else merged.push_back(s);
    }
    for (auto& [s, e] : merged) {
      auto& r = Row(5);
      r[0] = V::Int(next_id_++);
      r[1] = V::Int(c.p->key);
      r[2] = V::Text(Keep(FormatDate(s)));
      r[3] = V::Text(Keep(FormatDate(e)));
      r[4] = V::Int(kEhrType);
    }
  }

  void GenVisits(PersonCtx& c) {
    for (size_t v = 0; v < c.visits.size(); ++v) {
      const Visit& vis = c.visits[v];
      auto& r = Row(14);
      r[0] = V::Int(c.first_visit_id + static_cast<int64_t>(v));
      r[1] = V::Int(c.p->key);
      r[2] = V::Int(vis.visit_concept);
      r[3] = V::Text(Keep(Date(vis.start)));
      r[4] = V::Text(Keep(DateTime(vis.start)));
      r[5] = V::Text(Keep(Date(vis.end)));
      r[6] = V::Text(Keep(DateTime(vis.end)));
      r[7] = V::Int(kEhrType);
      r[8] = vis.source < dicts_->sources.size() && vis.source ? Src(dicts_->sources[vis.source]) : V::Null();
      r[9] = V::Int(0);
      r[10] = V::Int(0);
      r[11] = vis.admitted_from.empty() ? V::Null() : Src(Keep(vis.admitted_from));
      r[12] = V::Int(0);
      r[13] = vis.discharged_to.empty() ? V::Null() : Src(Keep(vis.discharged_to));
    }
  }

  // condition / procedure: id, person, concept, start date, start datetime, end date, end datetime,
  // type, visit, source value, source concept.
  void GenOccurrences(PersonCtx& c, Domain d) {
    for (size_t i = 0; i < c.ev.size(); ++i) {
      const Event& e = c.ev[i];
      if (DomainOfEvent(e) != d) continue;
      auto& r = EventRow(11, c, e.time);
      r[5] = e.end != kNoTime ? V::Text(Keep(Date(e.end))) : V::Null();
      r[6] = e.end != kNoTime ? V::Text(Keep(DateTime(e.end))) : V::Null();
      r[7] = V::Int(kEhrType);
      r[8] = VisitOf(c, i);
      r[9] = Src(CodeOf(e));
      r[10] = V::Int(0);
    }
  }
  void GenConditions(PersonCtx& c) { GenOccurrences(c, Domain::kCondition); }
  void GenProcedures(PersonCtx& c) { GenOccurrences(c, Domain::kProcedure); }

  void GenDrugs(PersonCtx& c) {
    for (size_t i = 0; i < c.ev.size(); ++i) {
      const Event& e = c.ev[i];
      if (DomainOfEvent(e) != Domain::kDrug) continue;
      const Seconds end = e.end != kNoTime ? e.end : e.time;  // the CDM requires an end date
      auto& r = EventRow(12, c, e.time);
      r[5] = V::Text(Keep(Date(end)));
      r[6] = V::Text(Keep(DateTime(end)));
      r[7] = V::Int(kEhrType);
      r[8] = e.has_value() ? V::Real(e.value) : V::Null();
      r[9] = VisitOf(c, i);
      r[10] = Src(CodeOf(e));
      r[11] = V::Int(0);
    }
  }

  // measurement / observation: id, person, concept, date, datetime, type, value, unit concept,
  // visit, source value, source concept, unit source value.
  void GenValued(PersonCtx& c, Domain d) {
    for (size_t i = 0; i < c.ev.size(); ++i) {
      const Event& e = c.ev[i];
      if (DomainOfEvent(e) != d) continue;
      auto& r = EventRow(12, c, e.time);
      r[5] = V::Int(kEhrType);
      r[6] = e.has_value() ? V::Real(e.value) : V::Null();
      r[7] = e.unit ? V::Int(0) : V::Null();
      r[8] = VisitOf(c, i);
      r[9] = Src(CodeOf(e));
      r[10] = V::Int(0);
      r[11] = e.unit && e.unit < dicts_->units.size() ? Src(dicts_->units[e.unit]) : V::Null();
    }
  }
  void GenMeasurements(PersonCtx& c) { GenValued(c, Domain::kMeasurement); }
  void GenObservations(PersonCtx& c) { GenValued(c, Domain::kObservation); }

  // One row per dead person: the earliest DEATH/ event (its code after "DEATH/" is the cause), or
  // the person's death date alone.
  void GenDeath(PersonCtx& c) {
    const Event* first = nullptr;
    for (const Event& e : c.ev) {
      if (DomainOfEvent(e) == Domain::kDeath) {
        first = &e;
        break;
      }
    }
    if (!first && !c.p->has_death()) return;
    const Seconds t = first ? first->time : Seconds{c.p->death_day} * kSecondsPerDay;
    auto& r = Row(7);
    r[0] = V::Int(c.p->key);
    r[1] = V::Text(Keep(Date(t)));
    r[2] = V::Text(Keep(DateTime(t)));
    r[3] = V::Int(kEhrType);
    r[4] = V::Int(0);
    if (first) {
      std::string_view cause = CodeOf(*first).substr(6);
      r[5] = cause.empty() ? V::Null() : Src(cause);
    } else {
      r[5] = V::Null();
    }
    r[6] = V::Int(0);
  }

  const Store& store_;
  Connection& conn_;
  std::shared_ptr<const Dictionaries> dicts_;
  bool secondary_;
  std::vector<Domain> domain_;
  std::vector<std::vector<V>> rows_;
  std::deque<std::string> arena_;
  int64_t next_id_ = 1, next_visit_ = 1;
};

}  // namespace

Status WriteOmop(const Store& store, Connection& conn, bool secondary_use_only) {
  return OmopWriter(store, conn, secondary_use_only).Run();
}

}  // namespace ark::sql
