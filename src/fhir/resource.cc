// FHIR resource helpers (resource.h).
#include "fhir/resource.h"

#include <fmt/format.h>

namespace ark::fhir {
namespace {

bool Digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

Result<Seconds> ParseDateTime(std::string_view s, bool to_utc) {
  if (s.size() < 4 || !Digits(s.substr(0, 4))) return Status::InvalidArgument("expected a year");
  int y = Num(s.substr(0, 4)), mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  size_t p = 4;
  auto two = [&](char sep, int* out) -> bool {
    if (p >= s.size() || s[p] != sep) return false;
    if (p + 3 > s.size() || !Digits(s.substr(p + 1, 2))) return false;
    *out = Num(s.substr(p + 1, 2));
    p += 3;
    return true;
  };
  if (p < s.size()) {
    if (!two('-', &mo)) return Status::InvalidArgument("expected -MM");
    if (p < s.size()) {
      if (!two('-', &d)) return Status::InvalidArgument("expected -DD");
      if (p < s.size()) {
        if (!two('T', &h)) return Status::InvalidArgument("expected Thh");
        if (!two(':', &mi)) return Status::InvalidArgument("expected :mm");
        if (p < s.size() && s[p] == ':') {
          if (!two(':', &sec)) return Status::InvalidArgument("expected :ss");
          if (p < s.size() && s[p] == '.') {
            size_t q = p + 1;
            while (q < s.size() && s[q] >= '0' && s[q] <= '9') q++;
            if (q == p + 1) return Status::InvalidArgument("expected digits after '.'");
            p = q;
          }
        }
      }
    }
  }
  if (mo < 1 || mo > 12) return Status::InvalidArgument(fmt::format("month {}", mo));
  if (!IsValidDate(y, mo, d)) return Status::InvalidArgument(fmt::format("day {} of {}-{:02}", d, y, mo));
  if (h > 23 || mi > 59 || sec > 60) return Status::InvalidArgument("time out of range");
  if (sec == 60) sec = 59;  // leap second
  Seconds t = static_cast<Seconds>(DaysFromCivil(y, mo, d)) * kSecondsPerDay + h * 3600 + mi * 60 + sec;
  if (p < s.size()) {
    std::string_view z = s.substr(p);
    int offset = 0;
    if (z == "Z") {
      offset = 0;
    } else if (z.size() == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':' && Digits(z.substr(1, 2)) &&
               Digits(z.substr(4, 2)) && Num(z.substr(1, 2)) <= 14 && Num(z.substr(4, 2)) <= 59) {
      offset = (z[0] == '+' ? 1 : -1) * (Num(z.substr(1, 2)) * 3600 + Num(z.substr(4, 2)) * 60);
    } else {
      return Status::InvalidArgument(fmt::format("bad time zone '{}'", std::string(z.substr(0, 12))));
    }
    if (to_utc) t -= offset;
  }
  return t;
}

std::string ArkCode(std::string_view system, std::string_view code) {
  if (code.empty()) return {};
  std::string_view vocab = "FHIR";
  if (system == "http://snomed.info/sct") vocab = "SNOMED";
  else if (system == "http://loinc.org") vocab = "LOINC";
  else if (system == "http://www.nlm.nih.gov/research/umls/rxnorm") vocab = "RxNorm";
  else if (system == "http://hl7.org/fhir/sid/cvx") vocab = "CVX";
  else if (system == "http://hl7.org/fhir/sid/icd-10" || system == "http://hl7.org/fhir/sid/icd-10-uk") vocab = "ICD10";
  else if (system == "https://dmd.nhs.uk" || system == "https://dmd.nhs.uk/") vocab = "DMD";
  else if (system == "http://terminology.hl7.org/CodeSystem/v3-ActCode") vocab = "ACTCODE";
  return fmt::format("{}/{}", vocab, code);
}

std::string ShortSystem(std::string_view system) {
  if (system == "http://loinc.org") return "LN";
  if (system == "http://snomed.info/sct") return "SCT";
  return std::string(system);
}

const nlohmann::json* Member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string Str(const nlohmann::json& j, const char* key) {
  const nlohmann::json* m = Member(j, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

bool FirstCoding(const nlohmann::json* cc, std::string* system, std::string* code, std::string* display) {
  if (!cc || !cc->is_object()) return false;
  const nlohmann::json* codings = Member(*cc, "coding");
  if (!codings || !codings->is_array()) return false;
  for (const auto& c : *codings) {
    std::string k = Str(c, "code");
    if (k.empty()) continue;
    *system = Str(c, "system");
    *code = k;
    *display = Str(c, "display");
    if (display->empty()) *display = Str(*cc, "text");
    return true;
  }
  return false;
}

std::string ReferenceId(const nlohmann::json& resource, const char* field) {
  const nlohmann::json* ref = Member(resource, field);
  if (!ref) return {};
  std::string r = Str(*ref, "reference");
  if (r.rfind("urn:uuid:", 0) == 0) return r.substr(9);
  size_t slash = r.rfind('/');
  return slash == std::string::npos ? r : r.substr(slash + 1);
}

}  // namespace ark::fhir
