// The synthetic HL7 v2 feed of the acute trust (hl7_feed.h).
#include "synth/hl7_feed.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "core/csv.h"
#include "core/fs.h"
#include "core/time.h"
#include "hl7/hl7.h"
#include "synth/codes.h"

namespace ark::synth {
namespace {

constexpr const char* kFacility = "RXX01";

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Deterministic integer in [lo, hi] for (seed, a, b).
int64_t Draw(uint64_t seed, uint64_t a, uint64_t b, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(Mix(Mix(seed ^ Mix(a)) ^ b) % static_cast<uint64_t>(hi - lo + 1));
}

struct PatientId {
  std::string nhs, given, family, dob, sex, postcode;  // HL7-ready (escaped where text)
};

enum class Kind : uint8_t { kA04, kA03Ed, kA01, kA02, kA03, kOru, kVitals };

struct Item {
  Seconds sent;     // MSH-7
  Seconds event;    // EVN-6 / OBR-7
  Kind kind;
  uint32_t index;   // row in the table of its kind
};

struct Attendance {
  std::string id, mrn, disposal;
  Seconds arrival, departure;
};
struct Spell {
  std::string id, mrn, method, dest, ward, primary;
  Seconds admitted, discharged, transfer = kNoTime;
};
struct LabGroup {
  std::string mrn, spell;
  Seconds collected;
  uint32_t first, count;  // rows in `labs`
};
struct VitalSet {
  uint32_t spell, set;
  Seconds time;
};
constexpr uint32_t kMaxVitalSets = 6;
struct LabResult {
  std::string loinc, value, unit;
};

Status ColumnError(const CsvFile& f, int64_t line, const std::string& col, const std::string& what) {
  return Status::InvalidArgument(fmt::format("{}:{}: column '{}': {}", f.path(), line, col, what));
}

// Reads a CSV with the named columns; calls fn(row-of-those-columns, line).
template <typename Fn>
Status ReadCsv(const std::string& path, const std::vector<std::string>& cols, Fn fn) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  std::vector<int> idx;
  for (const std::string& c : cols) {
    int i = f.ColumnIndex(c);
    if (i < 0) return Status::InvalidArgument(fmt::format("{}:1: missing column '{}'", path, c));
    idx.push_back(i);
  }
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row, sel(cols.size());
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    for (size_t k = 0; k < idx.size(); k++) {
      if (static_cast<size_t>(idx[k]) >= row.size()) {
        return Status::InvalidArgument(fmt::format("{}:{}: too few fields", path, p.line()));
      }
      sel[k] = row[idx[k]];
    }
    ARK_RETURN_IF_ERROR(fn(f, sel, p.line()));
  }
  return Status::OK();
}

Status Minutes(const CsvFile& f, int64_t line, const char* col, std::string_view s, Seconds* out) {
  *out = kNoTime;
  if (s.empty()) return Status::OK();
  auto t = ParseTime(s, "%Y-%m-%d %H:%M");
  if (!t.ok()) return ColumnError(f, line, col, fmt::format("'{}' is not a time: {}", s, t.status().message()));
  *out = *t;
  return Status::OK();
}

std::string Ts(Seconds t) { return hl7::FormatTimestamp(t); }
std::string TsMinutes(Seconds t) { return hl7::FormatTimestamp(t).substr(0, 12); }

std::string Service(const std::string& ward) {  // treatment function from the ward band
  if (ward.size() < 2 || ward[0] != 'W') return "";
  int n = std::atoi(ward.c_str() + 1);
  return n <= 9 ? "430" : n <= 29 ? "300" : "100";
}

class Feed {
 public:
  explicit Feed(uint64_t seed) : seed_(seed) {}

  Status Read(const std::string& acute) {
    ARK_RETURN_IF_ERROR(ReadCsv(acute + "/patients.csv", {"mrn", "nhs_no", "forename", "surname", "dob", "gender", "postcode"},
        [&](const CsvFile& f, const std::vector<std::string_view>& r, int64_t line) -> Status {
          PatientId p;
          for (char c : r[1]) {
            if (c >= '0' && c <= '9') p.nhs += c;
          }
          p.given = hl7::Escape(r[2]);
          p.family = hl7::Escape(r[3]);
          if (r[4].size() == 10) p.dob = fmt::format("{}{}{}", r[4].substr(6, 4), r[4].substr(3, 2), r[4].substr(0, 2));
          p.sex = r[5] == "1" ? "M" : r[5] == "2" ? "F" : "U";
          p.postcode = hl7::Escape(r[6]);
          patients_[std::string(r[0])] = std::move(p);
          return Status::OK();
        }));
    ARK_RETURN_IF_ERROR(ReadCsv(acute + "/ae_attendances.csv", {"attendance_id", "mrn", "arrival", "departure", "disposal"},
        [&](const CsvFile& f, const std::vector<std::string_view>& r, int64_t line) -> Status {
          Attendance a{std::string(r[0]), std::string(r[1]), std::string(r[4]), 0, 0};
          ARK_RETURN_IF_ERROR(Minutes(f, line, "arrival", r[2], &a.arrival));
          ARK_RETURN_IF_ERROR(Minutes(f, line, "departure", r[3], &a.departure));
          if (a.arrival == kNoTime) return ColumnError(f, line, "arrival", "empty");
          ae_.push_back(std::move(a));
          return Status::OK();
        }));
    ARK_RETURN_IF_ERROR(ReadCsv(acute + "/inpatient_spells.csv",
        {"spell_id", "mrn", "admitted", "admission_method", "discharged", "discharge_destination", "ward", "primary_icd10"},
        [&](const CsvFile& f, const std::vector<std::string_view>& r, int64_t line) -> Status {
          Spell s{std::string(r[0]), std::string(r[1]), std::string(r[3]), std::string(r[5]), std::string(r[6]),
                  std::string(r[7]), 0, 0};
          ARK_RETURN_IF_ERROR(Minutes(f, line, "admitted", r[2], &s.admitted));
          ARK_RETURN_IF_ERROR(Minutes(f, line, "discharged", r[4], &s.discharged));
          if (s.admitted == kNoTime) return ColumnError(f, line, "admitted", "empty");
          spells_.push_back(std::move(s));
          return Status::OK();
        }));
    return ReadCsv(acute + "/lab_results.csv", {"mrn", "collected", "loinc_code", "result", "units", "spell_id"},
        [&](const CsvFile& f, const std::vector<std::string_view>& r, int64_t line) -> Status {
          Seconds t;
          ARK_RETURN_IF_ERROR(Minutes(f, line, "collected", r[1], &t));
          if (t == kNoTime) return ColumnError(f, line, "collected", "empty");
          if (labs_groups_.empty() || labs_groups_.back().mrn != r[0] || labs_groups_.back().collected != t ||
              labs_groups_.back().spell != r[5]) {
            labs_groups_.push_back({std::string(r[0]), std::string(r[5]), t, static_cast<uint32_t>(labs_.size()), 0});
          }
          labs_groups_.back().count++;
          labs_.push_back({std::string(r[2]), std::string(r[3]), std::string(r[4])});
          return Status::OK();
        });
  }

  // Orders every message by its sending time.
  void Schedule() {
    for (uint32_t i = 0; i < ae_.size(); i++) {
      const Attendance& a = ae_[i];
      const uint64_t k = 0xAE00000000ULL + i;
      items_.push_back({a.arrival + Draw(seed_, k, 1, 5, 60), a.arrival, Kind::kA04, i});
      if (a.departure != kNoTime) items_.push_back({a.departure + Draw(seed_, k, 2, 5, 60), a.departure, Kind::kA03Ed, i});
    }
    for (uint32_t i = 0; i < spells_.size(); i++) {
      Spell& s = spells_[i];
      const uint64_t k = 0x5B00000000ULL + i;
      items_.push_back({s.admitted + Draw(seed_, k, 1, 61, 120), s.admitted, Kind::kA01, i});
      const bool emergency = s.method.size() == 2 && s.method[0] == '2';
      const Seconds end = s.discharged == kNoTime ? INT64_MAX : s.discharged;
      if (emergency && end - s.admitted > 12 * 3600) {
        s.transfer = s.admitted + Draw(seed_, k, 2, 4 * 3600, 12 * 3600) / 60 * 60;
        items_.push_back({s.transfer + Draw(seed_, k, 3, 5, 60), s.transfer, Kind::kA02, i});
      }
      if (s.discharged != kNoTime) items_.push_back({s.discharged + Draw(seed_, k, 4, 5, 60), s.discharged, Kind::kA03, i});
      // Vital signs: a set 10–30 minutes after admission, then about every 12 hours, up to kMaxVitalSets.
      Seconds t = s.admitted + Draw(seed_, k, 5, 10, 30) * 60;
      for (uint32_t set = 0; set < kMaxVitalSets && t < end; set++) {
        vitals_.push_back({i, set, t});
        items_.push_back({t + Draw(seed_, k, 100 + set, 5, 120), t, Kind::kVitals, static_cast<uint32_t>(vitals_.size() - 1)});
        t += 12 * 3600 + Draw(seed_, k, 200 + set, -90, 90) * 60;
      }
    }
    for (uint32_t i = 0; i < labs_groups_.size(); i++) {
      const LabGroup& g = labs_groups_[i];
      items_.push_back({g.collected + Draw(seed_, 0x1AB00000000ULL + i, 1, 30 * 60, 120 * 60), g.collected, Kind::kOru, i});
    }
    std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      if (a.sent != b.sent) return a.sent < b.sent;
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.index < b.index;
    });
  }

  Status Write(const std::string& path, int last_days, Hl7FeedReport* rep) {
    const Seconds cutoff = last_days > 0 && !items_.empty() ? items_.back().sent - Seconds{last_days} * 86400 : INT64_MIN;
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Status::IOError(tmp + ": cannot create");
    std::string buf;
    uint64_t seq = 0;
    for (const Item& it : items_) {
      if (it.sent < cutoff) {
        ++seq;  // control ids stay those of the whole feed
        continue;
      }
      size_t before = buf.size();
      Format(it, ++seq, &buf, rep);
      if (buf.size() > before) rep->messages++;
      if (buf.size() > (1 << 20)) {
        if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
          std::fclose(f);
          return Status::IOError(tmp + ": write failed");
        }
        rep->bytes += buf.size();
        buf.clear();
      }
    }
    bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    rep->bytes += buf.size();
    ok = std::fflush(f) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok) return Status::IOError(tmp + ": write failed");
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError(path + ": rename failed");
    return Status::OK();
  }

 private:
  void Msh(std::string* o, const char* app, const char* type, Seconds sent, uint64_t seq) {
    *o += fmt::format("MSH|^~\\&|{}|{}|ARK|CITYREG|{}||{}|F{:09}|P|2.4|||AL|NE\r", app, kFacility, Ts(sent), type, seq);
  }

  // PID; false when the MRN is not in patients.csv (the row is skipped).
  bool Pid(std::string* o, const std::string& mrn) {
    auto p = patients_.find(mrn);
    if (p == patients_.end()) return false;
    const PatientId& id = p->second;
    std::string ids = id.nhs.empty() ? "" : id.nhs + "^^^NHS^NH~";
    ids += hl7::Escape(mrn) + "^^^" + kFacility + "^MR";
    *o += fmt::format("PID|1||{}||{}^{}||{}|{}|||^^^^{}\r", ids, id.family, id.given, id.dob, id.sex, id.postcode);
    return true;
  }

  // PV1 from (field number → value) pairs.
  static void Pv1(std::string* o, std::initializer_list<std::pair<int, std::string>> fields) {
    std::vector<std::string> f(46);
    f[1] = "1";
    for (auto& [n, v] : fields) f[n] = v;
    size_t last = 45;
    while (last > 1 && f[last].empty()) last--;
    *o += "PV1";
    for (size_t i = 1; i <= last; i++) *o += "|" + f[i];
    *o += '\r';
  }

  std::string Bed(uint64_t key, uint64_t salt) { return fmt::format("B{:02}", Draw(seed_, key, salt, 1, 30)); }
  std::string Loc(const std::string& ward, const std::string& bed) {
    return fmt::format("{}^^{}^{}", hl7::Escape(ward), bed, kFacility);
  }

  void Format(const Item& it, uint64_t seq, std::string* o, Hl7FeedReport* rep) {
    const size_t start = o->size();
    auto adt = [&](const char* trig, const char* structure) {
      Msh(o, "PAS", fmt::format("ADT^{}^{}", trig, structure).c_str(), it.sent, seq);
      *o += fmt::format("EVN|{}|{}||||{}\r", trig, Ts(it.sent), TsMinutes(it.event));
    };
    bool ok = true;
    uint64_t* counter = nullptr;
    switch (it.kind) {
      case Kind::kA04:
      case Kind::kA03Ed: {
        const Attendance& a = ae_[it.index];
        const bool arrive = it.kind == Kind::kA04;
        adt(arrive ? "A04" : "A03", arrive ? "ADT_A01" : "ADT_A03");
        ok = Pid(o, a.mrn);
        const std::string loc = fmt::format("ED^^^{}", kFacility);
        if (arrive) {
          Pv1(o, {{2, "E"}, {3, loc}, {4, "EM"}, {10, "180"}, {19, a.id}, {44, TsMinutes(a.arrival)}});
          counter = &rep->registrations;
        } else {
          Pv1(o, {{2, "E"}, {3, loc}, {4, "EM"}, {10, "180"}, {19, a.id}, {36, a.disposal},
                  {44, TsMinutes(a.arrival)}, {45, TsMinutes(a.departure)}});
          counter = &rep->discharges;
        }
        break;
      }
      case Kind::kA01:
      case Kind::kA02:
      case Kind::kA03: {
        const Spell& s = spells_[it.index];
        const uint64_t k = 0x5B00000000ULL + it.index;
        const std::string bed = Bed(k, 10), amu_bed = Bed(k, 11);
        const std::string ward_loc = Loc(s.ward, bed), amu_loc = Loc("AMU", amu_bed);
        const std::string first_loc = s.transfer != kNoTime ? amu_loc : ward_loc;
        const std::string svc = Service(s.ward);
        if (it.kind == Kind::kA01) {
          adt("A01", "ADT_A01");
          ok = Pid(o, s.mrn);
          Pv1(o, {{2, "I"}, {3, first_loc}, {4, s.method}, {10, svc}, {19, s.id}, {44, TsMinutes(s.admitted)}});
          counter = &rep->admits;
        } else if (it.kind == Kind::kA02) {
          adt("A02", "ADT_A02");
          ok = Pid(o, s.mrn);
          Pv1(o, {{2, "I"}, {3, ward_loc}, {4, s.method}, {6, amu_loc}, {10, svc}, {19, s.id}, {44, TsMinutes(s.admitted)}});
          counter = &rep->transfers;
        } else {
          adt("A03", "ADT_A03");
          ok = Pid(o, s.mrn);
          Pv1(o, {{2, "I"}, {3, ward_loc}, {4, s.method}, {10, svc}, {19, s.id}, {36, s.dest},
                  {44, TsMinutes(s.admitted)}, {45, TsMinutes(s.discharged)}});
          counter = &rep->discharges;
        }
        break;
      }
      case Kind::kVitals: {
        const VitalSet& v = vitals_[it.index];
        const Spell& s = spells_[v.spell];
        Msh(o, "EOBS", "ORU^R01^ORU_R01", it.sent, seq);
        ok = Pid(o, s.mrn);
        Pv1(o, {{2, "I"}, {19, s.id}});
        Vitals(v, o);
        counter = &rep->vitals;
        break;
      }
      case Kind::kOru: {
        const LabGroup& g = labs_groups_[it.index];
        Msh(o, "LIMS", "ORU^R01^ORU_R01", it.sent, seq);
        ok = Pid(o, g.mrn);
        if (!g.spell.empty()) Pv1(o, {{2, "I"}, {19, g.spell}});
        *o += fmt::format("OBR|1|P{:09}|L{:09}|BLOODS^Blood tests^L|||{}||||||||||||||{}||CH|F\r", it.index + 1,
                          it.index + 1, TsMinutes(g.collected), Ts(it.sent));
        for (uint32_t k = 0; k < g.count; k++) {
          const LabResult& r = labs_[g.first + k];
          std::string name = r.loinc, local = r.loinc, range, flag;
          for (int c = 0; c < static_cast<int>(Lab::kCount); c++) {
            const LabInfo& info = Info(static_cast<Lab>(c));
            if (r.loinc == info.loinc) name = info.term;
          }
          static const std::unordered_map<std::string, std::string> kLocal = {
              {"2160-0", "CREA"}, {"2524-7", "LAC"}, {"1988-5", "CRP"}, {"718-7", "HB"}, {"2823-3", "K"}, {"2951-2", "NA"}};
          if (auto l = kLocal.find(r.loinc); l != kLocal.end()) local = l->second;
          if (r.loinc == "2160-0") {
            range = "45-104";
            double v = std::atof(r.value.c_str());
            flag = v > 104 ? "H" : v < 45 ? "L" : "N";
          }
          *o += fmt::format("OBX|{}|NM|{}^{}^LN^{}^{}^L||{}|{}|{}|{}|||F|||{}\r", k + 1, r.loinc, name, local, name,
                            r.value, hl7::Escape(r.unit), range, flag, TsMinutes(g.collected));
        }
        counter = &rep->results;
        break;
      }
    }
    if (!ok) {
      o->resize(start);  // an MRN missing from patients.csv: no message
      return;
    }
    if (counter) ++*counter;
    *o += '\n';
  }

  // One set of vital signs (NEWS2 parameters) of spell `spell`, the `set`-th of the spell.
  void Vitals(const VitalSet& v, std::string* o) {
    const Spell& s = spells_[v.spell];
    const uint64_t k = 0x717A100000000ULL + (uint64_t{v.spell} << 8) + v.set;
    // Severity on admission by primary diagnosis, improving by 40% per set.
    const std::string& dx = s.primary;
    double sev = 0.1;
    bool fever = false, hypercapnic = false;
    if (dx.rfind("A41", 0) == 0) sev = 0.9, fever = true;
    else if (dx.rfind("J18", 0) == 0) sev = 0.7, fever = true;
    else if (dx.rfind("J44", 0) == 0) sev = 0.6, hypercapnic = true;
    else if (dx.rfind("N17", 0) == 0 || dx.rfind("I21", 0) == 0 || dx.rfind("I50", 0) == 0) sev = 0.5;
    else if (s.method.size() == 2 && s.method[0] == '2') sev = 0.25;
    sev *= 0.75 + Draw(seed_, k, 1, 0, 50) / 100.0;
    for (uint32_t i = 0; i < v.set; i++) sev *= 0.6;
    auto noise = [&](int salt, int spread) { return static_cast<double>(Draw(seed_, k, salt, -spread, spread)); };
    const double rr = std::round(16 + 12 * sev + noise(2, 2));
    double spo2 = std::round(97 - (hypercapnic ? 10 : 8) * sev + noise(3, 1));
    const double sbp = std::round(128 - 40 * sev + noise(4, 10));
    const double pulse = std::round(76 + 45 * sev + noise(5, 8));
    const double temp = std::round((36.8 + (fever ? 2.0 * sev : 0) + noise(6, 3) / 10) * 10) / 10;
    const bool oxygen = spo2 < 92;
    if (oxygen) spo2 = std::min(spo2 + 3, hypercapnic ? 92.0 : 95.0);
    spo2 = std::min(spo2, 100.0);
    const std::string when = TsMinutes(v.time);
    *o += fmt::format("OBR|1|V{:09}||OBS^Vital signs^L|||{}||||||||||||||||EOBS|F\r", v.spell * 16 + v.set + 1, when);
    struct Row {
      const char *code, *name, *unit;
      double value;
      int decimals;
    } rows[] = {{"9279-1", "Respiratory rate", "/min", rr, 0},
                {"59408-5", "Oxygen saturation by pulse oximetry", "%", spo2, 0},
                {"8480-6", "Systolic blood pressure", "mm[Hg]", sbp, 0},
                {"8867-4", "Heart rate", "/min", pulse, 0},
                {"8310-5", "Body temperature", "Cel", temp, 1},
                {"3151-8", "Inhaled oxygen flow rate", "L/min", oxygen ? 2.0 : 0.0, 0}};
    int n = 0;
    for (const Row& r : rows) {
      *o += fmt::format("OBX|{}|NM|{}^{}^LN||{:.{}f}|{}||||F|||{}\r", ++n, r.code, r.name, r.value, r.decimals,
                        hl7::Escape(r.unit), when);
    }
  }

  uint64_t seed_;
  std::vector<VitalSet> vitals_;
  std::unordered_map<std::string, PatientId> patients_;
  std::vector<Attendance> ae_;
  std::vector<Spell> spells_;
  std::vector<LabGroup> labs_groups_;
  std::vector<LabResult> labs_;
  std::vector<Item> items_;
};

}  // namespace

Result<Hl7FeedReport> WriteHl7Feed(const std::string& region_dir, uint64_t seed, int last_days) {
  const std::string acute = region_dir + "/acute";
  Feed feed(seed);
  ARK_RETURN_IF_ERROR(feed.Read(acute));
  feed.Schedule();
  Hl7FeedReport rep;
  ARK_RETURN_IF_ERROR(feed.Write(acute + "/feed.hl7", last_days, &rep));
  return rep;
}

}  // namespace ark::synth
