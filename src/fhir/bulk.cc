// FHIR Bulk Data NDJSON ingest (bulk.h).
#include "fhir/bulk.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/csv.h"
#include "core/fs.h"
#include "fhir/resource.h"
#include "privacy/nhs_number.h"

namespace ark::fhir {
namespace {

using nlohmann::json;

struct PendingEvent {
  std::string patient;  // resource id of the subject (memory only)
  Seconds time = kNoTime, end = kNoTime;
  std::string code;
  double value = kNoValue;
  std::string unit;
  uint64_t encounter = 0;
};

class Reader {
 public:
  Reader(const ProgrammeKey& key, BulkIngestReport* rep) : key_(key), rep_(rep) {}

  Status File(const std::string& path, const std::string& name, std::string_view text) {
    size_t pos = 0;
    int64_t line = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view l = text.substr(pos, end - pos);
      pos = end + 1;
      line++;
      while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
      if (l.empty()) continue;
      where_ = fmt::format("{}:{}", name, line);
      json r = json::parse(l, nullptr, false);
      if (r.is_discarded() || !r.is_object()) return Error("", "not a JSON object");
      Status s = Resource(r);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  // Persons and events into `batch`.
  Status Finish(ImportBatch* batch) {
    std::unordered_map<std::string, uint32_t> record;
    for (auto& [id, p] : patients_) record[id] = batch->AddPerson(p);
    for (const PendingEvent& e : events_) {
      auto it = record.find(e.patient);
      if (it == record.end()) {
        return Status::InvalidArgument(fmt::format(
            "{}: subject: Patient/{} is not in the Patient files", origin_.at(&e - events_.data()), e.patient));
      }
      batch->AddEvent(it->second, e.time, e.end, e.code, e.value, e.unit, e.encounter);
    }
    return Status::OK();
  }

 private:
  Status Error(const std::string& field, const std::string& what) const {
    return Status::InvalidArgument(field.empty() ? fmt::format("{}: {}", where_, what)
                                                 : fmt::format("{}: {}: {}", where_, field, what));
  }

  // dateTime of member `key` of `obj` (path `field` for errors); kNoTime when absent.
  Status Time(const json& obj, const char* key, const std::string& field, Seconds* out) {
    *out = kNoTime;
    const json* m = Member(obj, key);
    if (!m) return Status::OK();
    if (!m->is_string()) return Error(field, "not a string");
    std::string s = m->get<std::string>();
    auto t = ParseDateTime(s, /*to_utc=*/false);
    if (!t.ok()) return Error(field, fmt::format("bad dateTime '{}': {}", s.substr(0, 40), t.status().message()));
    *out = *t;
    return Status::OK();
  }

  Status Code(const json& r, const char* key, const std::string& type, std::string* code, bool required = true) {
    std::string system, c, display;
    if (!FirstCoding(Member(r, key), &system, &c, &display)) {
      if (!required) return Status::OK();
      return Error(type + "." + key, "missing coding");
    }
    *code = ArkCode(system, c);
    return Status::OK();
  }

  uint64_t EncounterNumber(const std::string& id) {
    if (id.empty()) return 0;
    auto [it, fresh] = encounters_.try_emplace(id, encounters_.size() + 1);
    return it->second;
  }

  void Add(PendingEvent e) {
    if (e.time == kNoTime) {
      rep_->events_without_time++;
      return;
    }
    origin_.push_back(where_);
    events_.push_back(std::move(e));
  }

  Status Subject(const json& r, const std::string& type, std::string* id) {
    // AllergyIntolerance and Immunization name the patient in "patient".
    const char* key = (type == "AllergyIntolerance" || type == "Immunization") && !Member(r, "subject") ? "patient" : "subject";
    *id = ReferenceId(r, key);
    if (id->empty()) return Error(type + "." + key, "missing reference");
    return Status::OK();
  }

  Status Resource(const json& r) {
    std::string type = Str(r, "resourceType");
    if (type.empty()) return Error("resourceType", "missing");
    rep_->resources[type]++;
    if (type == "Patient") return Patient(r);
    PendingEvent e;
    if (type == "Encounter") {
      ARK_RETURN_IF_ERROR(Subject(r, type, &e.patient));
      if (const json* p = Member(r, "period")) {
        ARK_RETURN_IF_ERROR(Time(*p, "start", "Encounter.period.start", &e.time));
        ARK_RETURN_IF_ERROR(Time(*p, "end", "Encounter.period.end", &e.end));
      }
      e.encounter = EncounterNumber(Str(r, "id"));
      std::string cls;
      if (const json* c = Member(r, "class")) cls = Str(*c, "code");
      if (cls.empty()) return Error("Encounter.class", "missing code");
      e.code = "ENCCLASS/" + cls;
      PendingEvent t = e;
      t.end = kNoTime;
      Add(std::move(e));
      if (const json* types = Member(r, "type"); types && types->is_array() && !types->empty()) {
        std::string system, c, d;
        if (FirstCoding(&(*types)[0], &system, &c, &d)) {
          t.code = ArkCode(system, c);
          Add(std::move(t));
        }
      }
      return Status::OK();
    }
    if (type == "Condition" || type == "Observation" || type == "Procedure" || type == "MedicationRequest" ||
        type == "Immunization" || type == "AllergyIntolerance") {
      ARK_RETURN_IF_ERROR(Subject(r, type, &e.patient));
      const std::string enc = ReferenceId(r, "encounter");
      e.encounter = EncounterNumber(enc);
      if (type == "Condition") {
        ARK_RETURN_IF_ERROR(Code(r, "code", type, &e.code));
        ARK_RETURN_IF_ERROR(Time(r, "onsetDateTime", "Condition.onsetDateTime", &e.time));
        if (e.time == kNoTime) ARK_RETURN_IF_ERROR(Time(r, "recordedDate", "Condition.recordedDate", &e.time));
        ARK_RETURN_IF_ERROR(Time(r, "abatementDateTime", "Condition.abatementDateTime", &e.end));
      } else if (type == "Procedure") {
        ARK_RETURN_IF_ERROR(Code(r, "code", type, &e.code));
        if (const json* p = Member(r, "performedPeriod")) {
          ARK_RETURN_IF_ERROR(Time(*p, "start", "Procedure.performedPeriod.start", &e.time));
          ARK_RETURN_IF_ERROR(Time(*p, "end", "Procedure.performedPeriod.end", &e.end));
        }
        if (e.time == kNoTime) ARK_RETURN_IF_ERROR(Time(r, "performedDateTime", "Procedure.performedDateTime", &e.time));
      } else if (type == "MedicationRequest") {
        ARK_RETURN_IF_ERROR(Code(r, "medicationCodeableConcept", type, &e.code, false));
        if (e.code.empty()) e.code = "FHIR/MedicationRequest";  // medicationReference only
        ARK_RETURN_IF_ERROR(Time(r, "authoredOn", "MedicationRequest.authoredOn", &e.time));
      } else if (type == "Immunization") {
        ARK_RETURN_IF_ERROR(Code(r, "vaccineCode", type, &e.code));
        ARK_RETURN_IF_ERROR(Time(r, "occurrenceDateTime", "Immunization.occurrenceDateTime", &e.time));
      } else if (type == "AllergyIntolerance") {
        ARK_RETURN_IF_ERROR(Code(r, "code", type, &e.code));
        ARK_RETURN_IF_ERROR(Time(r, "recordedDate", "AllergyIntolerance.recordedDate", &e.time));
        if (e.time == kNoTime) ARK_RETURN_IF_ERROR(Time(r, "onsetDateTime", "AllergyIntolerance.onsetDateTime", &e.time));
      } else {  // Observation
        ARK_RETURN_IF_ERROR(Code(r, "code", type, &e.code));
        ARK_RETURN_IF_ERROR(Time(r, "effectiveDateTime", "Observation.effectiveDateTime", &e.time));
        if (e.time == kNoTime) {
          if (const json* p = Member(r, "effectivePeriod")) {
            ARK_RETURN_IF_ERROR(Time(*p, "start", "Observation.effectivePeriod.start", &e.time));
          }
        }
        if (e.time == kNoTime) ARK_RETURN_IF_ERROR(Time(r, "issued", "Observation.issued", &e.time));
        ARK_RETURN_IF_ERROR(Quantity(r, "Observation.valueQuantity", &e));
        if (const json* comps = Member(r, "component"); comps && comps->is_array()) {
          for (size_t i = 0; i < comps->size(); i++) {
            const json& c = (*comps)[i];
            if (!Member(c, "valueQuantity")) continue;
            PendingEvent ce = e;
            ce.value = kNoValue;
            ce.unit.clear();
            std::string field = fmt::format("Observation.component[{}]", i);
            ARK_RETURN_IF_ERROR(Code(c, "code", field, &ce.code));
            ARK_RETURN_IF_ERROR(Quantity(c, field + ".valueQuantity", &ce));
            Add(std::move(ce));
          }
        }
      }
      Add(std::move(e));
      return Status::OK();
    }
    rep_->skipped++;
    return Status::OK();
  }

  Status Quantity(const json& obj, const std::string& field, PendingEvent* e) {
    const json* q = Member(obj, "valueQuantity");
    if (!q) return Status::OK();
    const json* v = Member(*q, "value");
    if (v) {
      if (!v->is_number()) return Error(field + ".value", "not a number");
      e->value = v->get<double>();
    }
    e->unit = Str(*q, "code");
    if (e->unit.empty()) e->unit = Str(*q, "unit");
    return Status::OK();
  }

  Status Patient(const json& r) {
    std::string id = Str(r, "id");
    if (id.empty()) return Error("Patient.id", "missing");
    ImportedPerson p;
    std::string nhs_raw;
    if (const json* ids = Member(r, "identifier"); ids && ids->is_array()) {
      for (const json& i : *ids) {
        if (Str(i, "system") == kNhsNumberSystem) nhs_raw = Str(i, "value");
      }
    }
    std::string nhs;
    switch (CheckNhsNumber(nhs_raw, &nhs)) {
      case NhsNumberStatus::kValid:
        p.pseudonym = key_.Hmac(nhs);
        rep_->nhs_valid++;
        break;
      case NhsNumberStatus::kMissing: rep_->nhs_missing++; break;
      case NhsNumberStatus::kInvalid: rep_->nhs_invalid++; break;
    }
    std::string birth = Str(r, "birthDate");
    if (!birth.empty()) {
      auto t = ParseDateTime(birth, false);
      if (!t.ok()) return Error("Patient.birthDate", fmt::format("bad date '{}': {}", birth.substr(0, 40), t.status().message()));
      CivilDate d = CivilFromDays(DayOf(*t));
      p.birth_year = static_cast<int16_t>(d.year);
      p.birth_month = birth.size() >= 7 ? static_cast<uint8_t>(d.month) : 0;
    }
    std::string g = Str(r, "gender");
    p.sex = g == "male" ? 'M' : g == "female" ? 'F' : 'U';
    if (!patients_.emplace(id, p).second) return Error("Patient.id", "duplicate id");
    Seconds death = kNoTime;
    ARK_RETURN_IF_ERROR(Time(r, "deceasedDateTime", "Patient.deceasedDateTime", &death));
    if (death != kNoTime) {
      PendingEvent e;
      e.patient = id;
      e.time = death;
      e.code = "DEATH/FHIR";
      Add(std::move(e));
    }
    return Status::OK();
  }

  const ProgrammeKey& key_;
  BulkIngestReport* rep_;
  std::string where_;
  std::map<std::string, ImportedPerson> patients_;  // sorted: persons in a deterministic order
  std::unordered_map<std::string, uint64_t> encounters_;
  std::vector<PendingEvent> events_;
  std::vector<std::string> origin_;  // "file:line" of each event, for errors
};

}  // namespace

Result<BulkIngestReport> IngestBulkNdjson(Catalog& cat, const std::string& dir, const ProgrammeKey& key) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": not a directory");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n.size() > 7 && n.compare(n.size() - 7, 7, ".ndjson") == 0) names.push_back(n);
  }
  if (ec) return Status::IOError(dir + ": " + ec.message());
  if (names.empty()) return Status::InvalidArgument(dir + ": no *.ndjson files");
  std::sort(names.begin(), names.end());
  // Patients first, so that persons exist before their events (order of the other files kept).
  std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n.rfind("Patient", 0) == 0; });

  BulkIngestReport rep;
  rep.key_fingerprint = key.Fingerprint();
  ARK_ASSIGN_OR_RETURN(auto known_fp, cat.GetMeta("key_fingerprint"));
  if (known_fp && *known_fp != rep.key_fingerprint) {
    return Status::InvalidArgument("key mismatch: --key has fingerprint " + rep.key_fingerprint +
                                   " but this Ark's extracts use key " + *known_fp +
                                   " (every custodian must use the same programme key)");
  }
  Reader reader(key, &rep);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  Status s;
  for (const std::string& n : names) {
    auto text = ReadFile(dir + "/" + n);
    if (!text.ok()) {
      s = text.status();
      break;
    }
    if (Status u = ValidateUtf8(*text); !u.ok()) {
      s = u.WithContext(n);
      break;
    }
    XXH3_64bits_update(st, n.data(), n.size() + 1);
    XXH3_64bits_update(st, text->data(), text->size());
    s = reader.File(dir + "/" + n, n, *text);
    if (!s.ok()) break;
  }
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (!s.ok()) return s.WithContext(dir);
  ImportBatch batch("fhir");
  ARK_RETURN_IF_ERROR(reader.Finish(&batch).WithContext(dir));
  nlohmann::json man = {{"format", "fhir-ndjson"},
                        {"dir", dir},
                        {"resources", rep.resources},
                        {"skipped", rep.skipped},
                        {"key_fingerprint", rep.key_fingerprint},
                        {"nhs_valid", rep.nhs_valid},
                        {"nhs_missing", rep.nhs_missing},
                        {"nhs_invalid", rep.nhs_invalid}};
  ARK_ASSIGN_OR_RETURN(rep.batch, batch.Commit(cat, "fhir-ndjson:" + std::to_string(h), man));
  if (!known_fp) ARK_RETURN_IF_ERROR(cat.SetMeta("key_fingerprint", rep.key_fingerprint));
  return rep;
}

}  // namespace ark::fhir
