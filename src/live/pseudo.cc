#include "live/pseudo.h"

#include <nlohmann/json.hpp>

#include "privacy/nhs_number.h"

namespace ark::live {
namespace {

using nlohmann::json;

std::string Hmac(const ProgrammeKey& key, std::string_view prefix, std::string_view value) {
  std::string m(prefix);
  m.append(value);
  return ToHex(key.Hmac(m));
}

void PseudonymiseIdentity(const Identity& id, const ProgrammeKey& key, std::string* nhs,
                          std::string* mrn) {
  std::string norm;
  if (!id.nhs_number.empty() && CheckNhsNumber(id.nhs_number, &norm) == NhsNumberStatus::kValid) {
    *nhs = ToHex(key.Hmac(norm));  // the same pseudonym as `ark pseudonymise`
  }
  if (!id.mrn.empty()) *mrn = Hmac(key, "mrn:", id.mrn);
}

json Num(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
json Time(Seconds t) { return t == kNoTime ? json(nullptr) : json(t); }

}  // namespace

const char* KindName(LiveRecord::Kind k) {
  switch (k) {
    case LiveRecord::Kind::kAdmit:
      return "admit";
    case LiveRecord::Kind::kTransfer:
      return "transfer";
    case LiveRecord::Kind::kDischarge:
      return "discharge";
    case LiveRecord::Kind::kRegister:
      return "register";
    case LiveRecord::Kind::kUpdate:
      return "update";
    case LiveRecord::Kind::kMerge:
      return "merge";
    case LiveRecord::Kind::kResult:
      return "result";
  }
  return "?";
}

PseudoRecord Pseudonymise(const LiveRecord& r, const ProgrammeKey& key) {
  PseudoRecord p;
  p.kind = r.kind;
  p.message_type = r.message_type;
  p.control_id = r.control_id;
  p.sender = r.sending_facility;
  p.message_time = r.message_time;
  p.event_time = r.event_time;
  PseudonymiseIdentity(r.patient, key, &p.nhs_pseudonym, &p.mrn_pseudonym);
  PseudonymiseIdentity(r.merged, key, &p.merged_nhs_pseudonym, &p.merged_mrn_pseudonym);
  const std::string& dob = r.patient.date_of_birth;
  if (dob.size() >= 6 &&
      std::all_of(dob.begin(), dob.begin() + 6, [](char c) { return c >= '0' && c <= '9'; })) {
    p.birth_year = std::stoi(dob.substr(0, 4));
    p.birth_month = std::stoi(dob.substr(4, 2));
    if (p.birth_month < 1 || p.birth_month > 12) p.birth_month = 0;
  }
  const std::string& sex = r.patient.sex;
  p.sex = sex == "M" ? 'M' : sex == "F" ? 'F' : 'U';
  p.patient_class = r.patient_class;
  p.admission_type = r.admission_type;
  p.specialty = r.specialty;
  p.site = r.site;
  p.ward = r.ward;
  p.room = r.room;
  p.bed = r.bed;
  p.prior_ward = r.prior_ward;
  p.prior_bed = r.prior_bed;
  if (!r.visit_number.empty()) p.visit = Hmac(key, "visit:", r.visit_number).substr(0, 16);
  p.disposition = r.discharge_disposition;
  p.admit_time = r.admit_time;
  p.discharge_time = r.discharge_time;
  for (const Observation& o : r.observations) {
    p.observations.push_back({o.system, o.code, o.unit, o.abnormal_flag, o.value, o.time});
  }
  for (const Observation& o : r.conditions) {
    p.observations.push_back(
        {o.system.empty() ? "SNOMED" : o.system, o.code, "", "", o.value, o.time});
  }
  return p;
}

std::string ToJson(const PseudoRecord& r) {
  json j;
  j["seq"] = r.seq;
  j["kind"] = static_cast<int>(r.kind);
  j["type"] = r.message_type;
  j["cid"] = r.control_id;
  j["snd"] = r.sender;
  j["mt"] = Time(r.message_time);
  j["et"] = Time(r.event_time);
  j["rx"] = r.received_us;
  j["nhs"] = r.nhs_pseudonym;
  j["mrn"] = r.mrn_pseudonym;
  if (!r.merged_nhs_pseudonym.empty() || !r.merged_mrn_pseudonym.empty()) {
    j["mnhs"] = r.merged_nhs_pseudonym;
    j["mmrn"] = r.merged_mrn_pseudonym;
  }
  j["p"] = r.person;
  j["mp"] = r.merged_person;
  j["by"] = r.birth_year;
  j["bm"] = r.birth_month;
  j["sex"] = std::string(1, r.sex);
  j["pc"] = r.patient_class;
  j["at"] = r.admission_type;
  j["spec"] = r.specialty;
  j["site"] = r.site;
  j["ward"] = r.ward;
  j["room"] = r.room;
  j["bed"] = r.bed;
  j["pward"] = r.prior_ward;
  j["pbed"] = r.prior_bed;
  j["visit"] = r.visit;
  j["disp"] = r.disposition;
  j["adm"] = Time(r.admit_time);
  j["dis"] = Time(r.discharge_time);
  json obs = json::array();
  for (const PseudoObs& o : r.observations) {
    obs.push_back({{"s", o.system},
                   {"c", o.code},
                   {"u", o.unit},
                   {"f", o.flag},
                   {"v", Num(o.value)},
                   {"t", Time(o.time)}});
  }
  j["obs"] = std::move(obs);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);  // never throws on bad UTF-8
}

Result<PseudoRecord> PseudoFromJson(std::string_view text) {
  try {
    const json j = json::parse(text);
    auto str = [&](const char* k) {
      return j.contains(k) ? j[k].get<std::string>() : std::string();
    };
    auto tm = [](const json& v) { return v.is_null() ? kNoTime : v.get<Seconds>(); };
    PseudoRecord r;
    r.seq = j.at("seq").get<uint64_t>();
    r.kind = static_cast<LiveRecord::Kind>(j.at("kind").get<int>());
    r.message_type = str("type");
    r.control_id = str("cid");
    r.sender = str("snd");
    r.message_time = tm(j.at("mt"));
    r.event_time = tm(j.at("et"));
    r.received_us = j.at("rx").get<int64_t>();
    r.nhs_pseudonym = str("nhs");
    r.mrn_pseudonym = str("mrn");
    r.merged_nhs_pseudonym = str("mnhs");
    r.merged_mrn_pseudonym = str("mmrn");
    r.person = j.at("p").get<PersonKey>();
    r.merged_person = j.at("mp").get<PersonKey>();
    r.birth_year = j.at("by").get<int>();
    r.birth_month = j.at("bm").get<int>();
    const std::string sex = str("sex");
    r.sex = sex.empty() ? 'U' : sex[0];
    r.patient_class = str("pc");
    r.admission_type = str("at");
    r.specialty = str("spec");
    r.site = str("site");
    r.ward = str("ward");
    r.room = str("room");
    r.bed = str("bed");
    r.prior_ward = str("pward");
    r.prior_bed = str("pbed");
    r.visit = str("visit");
    r.disposition = str("disp");
    r.admit_time = tm(j.at("adm"));
    r.discharge_time = tm(j.at("dis"));
    for (const json& o : j.at("obs")) {
      PseudoObs x;
      x.system = o.at("s").get<std::string>();
      x.code = o.at("c").get<std::string>();
      x.unit = o.at("u").get<std::string>();
      x.flag = o.at("f").get<std::string>();
      x.value = o.at("v").is_null() ? kNoValue : o.at("v").get<double>();
      x.time = tm(o.at("t"));
      r.observations.push_back(std::move(x));
    }
    return r;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("live log record: ") + e.what());
  }
}

}  // namespace ark::live
