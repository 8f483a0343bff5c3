// HL7 v2 message → LiveRecord (record.h). Field mapping: docs/hl7-fhir.md.
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "live/record.h"

namespace ark::live {
namespace {

using hl7::Message;

Status FieldError(const Message& m, int index, int field, const std::string& what) {
  return Status::InvalidArgument(
      fmt::format("segment {} ({}), field {}: {}", index + 1, m.segment_id(index), field, what));
}

// Timestamp of field `field` (first repetition, first component) of segment `index`; kNoTime
// when empty or the segment is absent.
Status TimeField(const Message& m, int index, int field, Seconds* out) {
  *out = kNoTime;
  if (index < 0) return Status::OK();
  std::string ts = m.GetAt(index, field);
  if (ts.empty()) return Status::OK();
  Result<Seconds> t = hl7::ParseTimestamp(ts);
  if (!t.ok()) return FieldError(m, index, field, fmt::format("bad timestamp '{}': {}", ts, t.status().message()));
  *out = *t;
  return Status::OK();
}

std::string Digits(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

// Identifiers from a CX list (PID-3, MRG-1): NHS number (type NH or authority NHS), MRN (type MR
// first, else the first other identifier). Linear in the number of repetitions.
void ReadIdentifiers(const Message& m, int index, int field, Identity* id) {
  std::string first_other;
  for (std::string_view rep : m.RepetitionTexts(index, field)) {  // one pass: linear in the field
    std::string value = m.ComponentOf(rep, 1);
    if (value.empty()) continue;
    std::string authority = m.ComponentOf(rep, 4);
    std::string type = m.ComponentOf(rep, 5);
    if (type == "NH" || type == "NHS" || authority == "NHS") {
      if (id->nhs_number.empty()) id->nhs_number = Digits(value);
    } else if (type == "MR" && id->mrn.empty()) {
      id->mrn = value;
    } else if (first_other.empty()) {
      first_other = value;
    }
  }
  if (id->mrn.empty()) id->mrn = first_other;
}

Status ReadPatient(const Message& m, int pid, Identity* id) {
  ReadIdentifiers(m, pid, 3, id);
  if (id->mrn.empty()) id->mrn = m.GetAt(pid, 2);  // PID-2 external id (older versions)
  if (id->nhs_number.empty() && id->mrn.empty()) {
    return FieldError(m, pid, 3, "missing patient identifier");
  }
  id->family = m.GetAt(pid, 5, 1);
  id->given = m.GetAt(pid, 5, 2);
  std::string dob = m.GetAt(pid, 7);
  if (!dob.empty()) {
    Result<Seconds> t = hl7::ParseTimestamp(dob);
    if (!t.ok() || dob.size() < 8) {
      return FieldError(m, pid, 7, fmt::format("bad date of birth '{}'", dob));
    }
    id->date_of_birth = dob.substr(0, 8);
  }
  std::string sex = m.GetAt(pid, 8);
  id->sex = sex == "M" || sex == "F" ? sex : "U";
  id->postcode = m.GetAt(pid, 11, 5);
  return Status::OK();
}

Status ReadVisit(const Message& m, int pv1, LiveRecord* r) {
  r->patient_class = m.GetAt(pv1, 2);
  r->ward = m.GetAt(pv1, 3, 1);
  r->room = m.GetAt(pv1, 3, 2);
  r->bed = m.GetAt(pv1, 3, 3);
  r->site = m.GetAt(pv1, 3, 4);
  r->admission_type = m.GetAt(pv1, 4);
  r->prior_ward = m.GetAt(pv1, 6, 1);
  r->prior_bed = m.GetAt(pv1, 6, 3);
  r->specialty = m.GetAt(pv1, 10);
  r->admission_source = m.GetAt(pv1, 14);
  r->visit_number = m.GetAt(pv1, 19);
  r->discharge_disposition = m.GetAt(pv1, 36);
  ARK_RETURN_IF_ERROR(TimeField(m, pv1, 44, &r->admit_time));
  ARK_RETURN_IF_ERROR(TimeField(m, pv1, 45, &r->discharge_time));
  return Status::OK();
}

// A decimal number (no thousands separators); false otherwise.
bool ParseNumber(const std::string& s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE) return false;
  for (char c : s) {  // no hex, inf, nan
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  }
  *out = v;
  return true;
}

Status ReadResults(const Message& m, LiveRecord* r) {
  Seconds obr_time = kNoTime;
  for (int i = 0; i < m.segment_count(); i++) {
    std::string_view id = m.segment_id(i);
    if (id == "OBR") {
      ARK_RETURN_IF_ERROR(TimeField(m, i, 7, &obr_time));
      continue;
    }
    if (id != "OBX") continue;
    Observation o;
    o.code = m.GetAt(i, 3, 1);
    o.text = m.GetAt(i, 3, 2);
    o.system = m.GetAt(i, 3, 3);
    if (o.code.empty()) return FieldError(m, i, 3, "missing observation identifier");
    std::string type = m.GetAt(i, 2);
    std::string value = m.GetAt(i, 5);
    if (type == "NM" && !value.empty()) {
      if (!ParseNumber(value, &o.value)) return FieldError(m, i, 5, fmt::format("not a number '{}'", value));
    } else if (type == "SN") {
      std::string num = m.GetAt(i, 5, 2);
      if (!num.empty() && !ParseNumber(num, &o.value)) {
        return FieldError(m, i, 5, fmt::format("not a structured numeric '{}'", std::string(m.RawAt(i, 5))));
      }
    }
    o.unit = m.GetAt(i, 6, 1);
    o.abnormal_flag = m.GetAt(i, 8);
    o.status = m.GetAt(i, 11);
    ARK_RETURN_IF_ERROR(TimeField(m, i, 14, &o.time));
    if (o.time == kNoTime) o.time = obr_time;
    if (o.time == kNoTime) o.time = r->event_time;
    r->observations.push_back(std::move(o));
  }
  return Status::OK();
}

}  // namespace

Result<LiveRecord> FromHl7(const hl7::Message& m) {
  LiveRecord r;
  std::string type(m.type()), trigger(m.trigger());
  // v2.1/2.2 senders give only "ADT" in MSH-9 and the event in EVN-1.
  if (type == "ADT" && trigger.empty()) trigger = m.Get("EVN", 1);
  r.message_type = type + "^" + trigger;
  r.control_id = std::string(m.control_id());
  r.sending_facility = m.Get("MSH", 4);
  bool needs_visit = false;
  if (type == "ADT") {
    if (trigger == "A01") r.kind = LiveRecord::Kind::kAdmit, needs_visit = true;
    else if (trigger == "A02") r.kind = LiveRecord::Kind::kTransfer, needs_visit = true;
    else if (trigger == "A03") r.kind = LiveRecord::Kind::kDischarge, needs_visit = true;
    else if (trigger == "A04") r.kind = LiveRecord::Kind::kRegister, needs_visit = true;
    else if (trigger == "A08") r.kind = LiveRecord::Kind::kUpdate;
    else if (trigger == "A40") r.kind = LiveRecord::Kind::kMerge;
    else return FieldError(m, 0, 9, fmt::format("unsupported message type {}", r.message_type));
  } else if (type == "ORU" && trigger == "R01") {
    r.kind = LiveRecord::Kind::kResult;
  } else {
    return FieldError(m, 0, 9, fmt::format("unsupported message type {}", r.message_type));
  }
  ARK_RETURN_IF_ERROR(TimeField(m, 0, 7, &r.message_time));
  int evn = m.IndexOf("EVN");
  Seconds recorded = kNoTime;
  ARK_RETURN_IF_ERROR(TimeField(m, evn, 6, &r.event_time));
  ARK_RETURN_IF_ERROR(TimeField(m, evn, 2, &recorded));
  if (r.event_time == kNoTime) r.event_time = recorded;
  if (r.event_time == kNoTime) r.event_time = r.message_time;

  int pid = m.IndexOf("PID");
  if (int second = m.IndexOf("PID", 1); second >= 0) {  // never attribute results to the wrong patient
    return Status::InvalidArgument(fmt::format("segment {} (PID): more than one patient in one message is not supported",
                                               second + 1));
  }
  if (pid < 0) return Status::InvalidArgument(fmt::format("missing PID segment (required in {})", r.message_type));
  ARK_RETURN_IF_ERROR(ReadPatient(m, pid, &r.patient));

  int pv1 = m.IndexOf("PV1");
  if (pv1 >= 0) {
    ARK_RETURN_IF_ERROR(ReadVisit(m, pv1, &r));
  } else if (needs_visit) {
    return Status::InvalidArgument(fmt::format("missing PV1 segment (required in {})", r.message_type));
  }
  if (r.kind == LiveRecord::Kind::kMerge) {
    int mrg = m.IndexOf("MRG");
    if (mrg < 0) return Status::InvalidArgument("missing MRG segment (required in ADT^A40)");
    ReadIdentifiers(m, mrg, 1, &r.merged);
    if (r.merged.mrn.empty()) r.merged.mrn = m.GetAt(mrg, 2);  // MRG-2 prior alternate id
    if (r.merged.nhs_number.empty() && r.merged.mrn.empty()) {
      return FieldError(m, mrg, 1, "missing prior patient identifier");
    }
  }
  if (r.kind == LiveRecord::Kind::kResult) {
    ARK_RETURN_IF_ERROR(ReadResults(m, &r));
    if (r.observations.empty()) return Status::InvalidArgument("missing OBX segment (required in ORU^R01)");
  }
  return r;
}

}  // namespace ark::live
