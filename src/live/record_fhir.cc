// FHIR R4 → LiveRecord (record.h): Bundles, single resources and NDJSON.
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fhir/resource.h"
#include "live/record.h"

namespace ark::live {
namespace {

using nlohmann::json;
using fhir::Member;
using fhir::Str;

Status TimeOf(const json& r, const char* field, const std::string& where, Seconds* out) {
  std::string s = Str(r, field);
  if (s.empty()) return Status::OK();
  auto t = fhir::ParseDateTime(s, /*to_utc=*/true);
  if (!t.ok()) {
    return Status::InvalidArgument(
        fmt::format("{}{}.{}: bad dateTime '{}': {}", where, Str(r, "resourceType"), field, s, t.status().message()));
  }
  *out = *t;
  return Status::OK();
}

Identity PatientIdentity(const json& p) {
  Identity id;
  id.mrn = Str(p, "id");
  if (const json* ids = Member(p, "identifier"); ids && ids->is_array()) {
    for (const json& i : *ids) {
      if (Str(i, "system") == fhir::kNhsNumberSystem) {
        for (char c : Str(i, "value")) {
          if (c >= '0' && c <= '9') id.nhs_number += c;
        }
      }
    }
  }
  if (const json* names = Member(p, "name"); names && names->is_array() && !names->empty()) {
    const json& n = (*names)[0];
    id.family = Str(n, "family");
    if (const json* g = Member(n, "given"); g && g->is_array() && !g->empty() && (*g)[0].is_string()) {
      id.given = (*g)[0].get<std::string>();
    }
  }
  std::string dob = Str(p, "birthDate");
  for (char c : dob) {
    if (c >= '0' && c <= '9') id.date_of_birth += c;
  }
  std::string g = Str(p, "gender");
  id.sex = g == "male" ? "M" : g == "female" ? "F" : "U";
  if (const json* a = Member(p, "address"); a && a->is_array() && !a->empty()) id.postcode = Str((*a)[0], "postalCode");
  return id;
}

// One resource → zero or one record. `where` prefixes errors ("entry 3: ", "line 7: ").
Status Convert(const json& r, const std::string& where, std::vector<LiveRecord>* out) {
  if (!r.is_object()) return Status::InvalidArgument(where + "not a JSON object");
  std::string type = Str(r, "resourceType");
  if (type.empty()) return Status::InvalidArgument(where + "resourceType: missing");
  LiveRecord rec;
  rec.message_type = "FHIR^" + type;
  rec.control_id = type + "/" + Str(r, "id");
  if (const json* meta = Member(r, "meta")) {
    Seconds t = kNoTime;
    ARK_RETURN_IF_ERROR(TimeOf(*meta, "lastUpdated", where + "meta.", &t));
    rec.message_time = t;
  }
  if (type == "Patient") {
    rec.kind = LiveRecord::Kind::kUpdate;
    rec.patient = PatientIdentity(r);
    if (rec.patient.mrn.empty() && rec.patient.nhs_number.empty()) {
      return Status::InvalidArgument(where + "Patient.id: missing (and no NHS number identifier)");
    }
  } else if (type == "Encounter") {
    rec.patient.mrn = fhir::ReferenceId(r, "subject");
    if (rec.patient.mrn.empty()) return Status::InvalidArgument(where + "Encounter.subject: missing");
    if (const json* period = Member(r, "period")) {
      ARK_RETURN_IF_ERROR(TimeOf(*period, "start", where + "Encounter.period.", &rec.admit_time));
      ARK_RETURN_IF_ERROR(TimeOf(*period, "end", where + "Encounter.period.", &rec.discharge_time));
    }
    rec.kind = rec.discharge_time != kNoTime ? LiveRecord::Kind::kDischarge : LiveRecord::Kind::kAdmit;
    rec.event_time = rec.discharge_time != kNoTime ? rec.discharge_time : rec.admit_time;
    std::string cls;
    if (const json* c = Member(r, "class")) cls = Str(*c, "code");
    rec.patient_class = cls == "IMP" || cls == "ACUTE" || cls == "NONAC" ? "I" : cls == "EMER" ? "E"
                        : cls == "AMB" ? "O" : cls;
    rec.visit_number = Str(r, "id");
    if (const json* h = Member(r, "hospitalization")) {
      std::string s, c, d;
      if (fhir::FirstCoding(Member(*h, "dischargeDisposition"), &s, &c, &d)) rec.discharge_disposition = c;
    }
    if (const json* sp = Member(r, "serviceProvider")) {
      rec.site = Str(*sp, "display");
      if (rec.site.empty()) rec.site = Str(*sp, "reference");
    }
  } else if (type == "Observation" || type == "Condition") {
    rec.kind = LiveRecord::Kind::kResult;
    rec.patient.mrn = fhir::ReferenceId(r, "subject");
    if (rec.patient.mrn.empty()) return Status::InvalidArgument(where + type + ".subject: missing");
    Observation o;
    std::string system;
    if (!fhir::FirstCoding(Member(r, "code"), &system, &o.code, &o.text)) {
      return Status::InvalidArgument(where + type + ".code: missing coding");
    }
    o.system = fhir::ShortSystem(system);
    if (type == "Observation") {
      ARK_RETURN_IF_ERROR(TimeOf(r, "effectiveDateTime", where, &o.time));
      if (o.time == kNoTime) {
        if (const json* p = Member(r, "effectivePeriod")) {
          ARK_RETURN_IF_ERROR(TimeOf(*p, "start", where + "Observation.effectivePeriod.", &o.time));
        }
      }
      if (o.time == kNoTime) ARK_RETURN_IF_ERROR(TimeOf(r, "issued", where, &o.time));
      if (const json* q = Member(r, "valueQuantity")) {
        const json* v = Member(*q, "value");
        if (v && !v->is_number()) {
          return Status::InvalidArgument(where + "Observation.valueQuantity.value: not a number");
        }
        if (v) o.value = v->get<double>();
        o.unit = Str(*q, "code");
        if (o.unit.empty()) o.unit = Str(*q, "unit");
      }
      if (const json* interp = Member(r, "interpretation"); interp && interp->is_array() && !interp->empty()) {
        std::string s, c, d;
        if (fhir::FirstCoding(&(*interp)[0], &s, &c, &d)) o.abnormal_flag = c;
      }
      o.status = Str(r, "status");
      rec.event_time = o.time;
      rec.observations.push_back(std::move(o));
    } else {
      ARK_RETURN_IF_ERROR(TimeOf(r, "onsetDateTime", where, &o.time));
      if (o.time == kNoTime) ARK_RETURN_IF_ERROR(TimeOf(r, "recordedDate", where, &o.time));
      o.system = system == "http://snomed.info/sct" ? "SNOMED" : o.system;
      rec.event_time = o.time;
      rec.conditions.push_back(std::move(o));
    }
  } else {
    return Status::OK();  // other resource types are not live records
  }
  if (rec.event_time == kNoTime) rec.event_time = rec.message_time;
  out->push_back(std::move(rec));
  return Status::OK();
}

Result<std::vector<LiveRecord>> FromDocument(const json& doc) {
  std::vector<LiveRecord> out;
  if (Str(doc, "resourceType") != "Bundle") {
    ARK_RETURN_IF_ERROR(Convert(doc, "", &out));
    return out;
  }
  const json* entries = Member(doc, "entry");
  if (!entries) return out;
  if (!entries->is_array()) return Status::InvalidArgument("Bundle.entry: not an array");
  std::map<std::string, Identity> patients;  // Bundle-local Patient ids (and fullUrls)
  for (size_t i = 0; i < entries->size(); i++) {
    const json& e = (*entries)[i];
    const json* r = Member(e, "resource");
    if (!r) return Status::InvalidArgument(fmt::format("entry {}: resource: missing", i + 1));
    ARK_RETURN_IF_ERROR(Convert(*r, fmt::format("entry {}: ", i + 1), &out));
    if (Str(*r, "resourceType") == "Patient") {
      Identity id = PatientIdentity(*r);
      std::string full = Str(e, "fullUrl");
      if (full.rfind("urn:uuid:", 0) == 0) patients[full.substr(9)] = id;
      if (!id.mrn.empty()) patients[id.mrn] = id;
    }
  }
  for (LiveRecord& rec : out) {  // resolve subjects to the Bundle's patients
    if (rec.message_type == "FHIR^Patient") continue;
    auto it = patients.find(rec.patient.mrn);
    if (it != patients.end()) rec.patient = it->second;
  }
  return out;
}

}  // namespace

Result<Seconds> ParseFhirDateTime(std::string_view text) { return fhir::ParseDateTime(text, true); }

Result<std::vector<LiveRecord>> FromFhirBundle(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) return FromDocument(doc);
  // NDJSON: one resource per line.
  std::vector<LiveRecord> out;
  size_t pos = 0, line = 0;
  bool any = false;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    line++;
    pos = end + 1;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
    if (l.empty()) continue;
    json r = json::parse(l, nullptr, false);
    if (r.is_discarded()) {
      if (!any && line == 1 && text.find('\n') == std::string_view::npos) {
        return Status::InvalidArgument("not valid JSON");
      }
      return Status::InvalidArgument(fmt::format("line {}: not valid JSON", line));
    }
    any = true;
    ARK_RETURN_IF_ERROR(Convert(r, fmt::format("line {}: ", line), &out));
  }
  if (!any) return Status::InvalidArgument("no FHIR resource in the input");
  return out;
}

}  // namespace ark::live
