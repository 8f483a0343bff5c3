#include "study/dummy.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/time.h"
#include "import/import_batch.h"
#include "ingest/build.h"

namespace ark::study {
namespace {

// splitmix64: the same stream on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Range(int64_t lo, int64_t hi) {  // inclusive
    if (hi <= lo) return lo;
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

constexpr int32_t kYear = 365;

bool IsRegistrationList(const Codelist& cl) {
  if (cl.codes.empty() && cl.prefixes.empty()) return false;
  for (auto& c : cl.codes) if (c.rfind("REG/", 0) != 0) return false;
  for (auto& p : cl.prefixes) if (p.rfind("REG/", 0) != 0) return false;
  return true;
}

// Codes to draw from: the exact codes, and codes under each prefix.
std::vector<std::string> CodePool(const Codelist& cl) {
  std::vector<std::string> out = cl.codes;
  for (const std::string& p : cl.prefixes) {
    const size_t slash = p.find('/');
    const size_t body = slash == std::string::npos ? p.size() : p.size() - slash - 1;
    if (body == 0) {
      out.push_back(p + "DUMMY");
    } else if (body == 3) {  // ICD-10 / OPCS-4 style category: J44 -> J44.0, J44.9
      out.push_back(p + ".0");
      out.push_back(p + ".9");
    } else {
      out.push_back(p + "1");
    }
  }
  return out;
}

// Literal numbers an expression compares variable `var` with.
void Thresholds(const Expr& e, int var, std::vector<double>* out) {
  if (e.kind == Expr::Kind::kBinary && e.args.size() == 2) {
    const std::string& op = e.str;
    if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "=" || op == "!=") {
      for (int k = 0; k < 2; ++k) {
        const Expr& a = e.args[k];
        const Expr& b = e.args[1 - k];
        if (a.kind == Expr::Kind::kVariable && a.ref == var && b.kind == Expr::Kind::kLiteral && IsNumeric(b.type))
          out->push_back(b.num);
      }
    }
  }
  for (const Expr& a : e.args) Thresholds(a, var, out);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A plausible value range for a codelist by its name.
std::pair<double, double> RangeByName(const std::string& name) {
  const std::string n = Lower(name);
  if (n.find("hba1c") != std::string::npos) return {30, 110};
  if (n.find("bmi") != std::string::npos) return {17, 45};
  if (n.find("systolic") != std::string::npos || n.find("bp") != std::string::npos || n.find("pressure") != std::string::npos) return {95, 185};
  if (n.find("diastolic") != std::string::npos) return {55, 110};
  if (n.find("chol") != std::string::npos) return {2.5, 8};
  if (n.find("egfr") != std::string::npos) return {10, 110};
  return {1, 100};
}

// What the definition asks of its data.
struct Plan {
  int32_t ref = 0;                 // reference day for ages
  int32_t span_from = 0, span_to = 0;
  std::vector<Interval> intervals;
  std::vector<char> needs_end;     // per codelist
  std::vector<char> registration;  // per codelist
  std::vector<std::optional<std::pair<double, double>>> value_range;  // per codelist
  std::vector<std::vector<std::string>> pool;  // per codelist
  int age_lo = 18, age_hi = 95;
};

Plan MakePlan(const Definition& def) {
  Plan p;
  for (const Measure& m : def.measures) p.intervals.insert(p.intervals.end(), m.intervals.begin(), m.intervals.end());
  int32_t first = INT32_MAX, last = INT32_MIN;
  for (const Interval& iv : p.intervals) {
    first = std::min(first, iv.start);
    last = std::max(last, iv.end);
  }
  if (def.index.kind == IndexSpec::Kind::kFixed) {
    p.ref = def.index.day;
    first = std::min(first, p.ref);
    last = std::max(last, p.ref);
  } else {
    p.ref = last != INT32_MIN ? last : DaysFromCivil(2024, 12, 31);
    if (first == INT32_MAX) first = p.ref - 5 * kYear;
    last = std::max(last, p.ref);
  }
  int32_t back = 3 * kYear, ahead = 31;
  for (const Variable& v : def.variables) {
    if (v.kind != Variable::Kind::kAggregate) continue;
    if (v.window.from && !v.window.from_end) back = std::max(back, -*v.window.from + 30);
    if (v.window.to && !v.window.to_end) ahead = std::max(ahead, *v.window.to + 30);
  }
  p.span_from = first - back;
  p.span_to = last + ahead;
  const size_t n = def.codelists.size();
  p.needs_end.assign(n, 0);
  p.registration.assign(n, 0);
  p.value_range.assign(n, std::nullopt);
  for (size_t c = 0; c < n; ++c) {
    p.registration[c] = IsRegistrationList(def.codelists[c]);
    p.pool.push_back(CodePool(def.codelists[c]));
  }
  if (def.index.codelist >= 0 && def.index.at_end) p.needs_end[def.index.codelist] = 1;
  for (size_t vi = 0; vi < def.variables.size(); ++vi) {
    const Variable& v = def.variables[vi];
    if (v.kind != Variable::Kind::kAggregate || v.codelist < 0) continue;
    if (v.match != Variable::Match::kStart || v.output == Variable::Output::kEnd || v.output == Variable::Output::kLength)
      p.needs_end[v.codelist] = 1;
    const bool values = v.output == Variable::Output::kValue || v.agg == Agg::kMin || v.agg == Agg::kMax || v.agg == Agg::kMean;
    if (!values) continue;
    std::vector<double> th;
    for (const Variable& w : def.variables) {
      if (w.kind != Variable::Kind::kAggregate) Thresholds(w.expr, static_cast<int>(vi), &th);
    }
    if (def.population.where) Thresholds(*def.population.where, static_cast<int>(vi), &th);
    std::pair<double, double> r = RangeByName(def.codelists[v.codelist].name);
    if (!th.empty() && th[0] > 0) r = {th[0] * 0.6, th[0] * 1.4};
    p.value_range[v.codelist] = r;
  }
  if (def.population.age_min) p.age_lo = std::max(0, *def.population.age_min);
  if (def.population.age_max) p.age_hi = std::min(100, *def.population.age_max);
  if (p.age_hi < p.age_lo) p.age_hi = p.age_lo;
  return p;
}

class PersonMaker {
 public:
  PersonMaker(const Definition& def, const Plan& plan, Rng& rng, ImportBatch& batch)
      : def_(def), plan_(plan), rng_(rng), batch_(batch) {}

  void Make(uint32_t i) {
    ImportedPerson ip;
    ip.sex = rng_.Chance(0.5) ? 'F' : 'M';
    const int age = rng_.Chance(0.9) ? static_cast<int>(rng_.Range(plan_.age_lo, plan_.age_hi))
                                     : static_cast<int>(rng_.Range(0, 100));
    ip.birth_year = static_cast<int16_t>(CivilFromDays(plan_.ref).year - age - 1);
    ip.birth_month = static_cast<uint8_t>(rng_.Range(1, 12));
    ip.imd_decile = static_cast<uint8_t>(rng_.Range(1, 10));
    char lsoa[24];  // the build keeps a decile with its area: ten dummy areas per decile
    std::snprintf(lsoa, sizeof lsoa, "DUMMY%02d%d", static_cast<int>(ip.imd_decile), static_cast<int>(rng_.Range(0, 9)));
    ip.lsoa = lsoa;
    char prac[16];
    std::snprintf(prac, sizeof prac, "DUMMY%02d", static_cast<int>(rng_.Range(1, 8)));
    ip.practice = prac;
    r_ = batch_.AddPerson(ip);
    batch_.SetSourceId(r_, std::to_string(i));
    Registrations(prac);
    if (rng_.Chance(0.03)) Add(static_cast<int32_t>(rng_.Range(plan_.span_from, plan_.span_to)), std::nullopt, "DEATH/R99", kNoValue);
    anchors_.clear();
    if (def_.index.kind != IndexSpec::Kind::kFixed) IndexEvents();
    for (size_t c = 0; c < def_.codelists.size(); ++c) {
      if (plan_.registration[c] || plan_.pool[c].empty()) continue;
      if (static_cast<int>(c) == def_.index.codelist ? anchors_.empty() : !rng_.Chance(0.5)) continue;
      Codelist(static_cast<int>(c));
    }
  }
  uint64_t events() const { return events_; }

 private:
  void Add(int32_t day, std::optional<int32_t> end_day, const std::string& code, double value) {
    const Seconds t = static_cast<Seconds>(day) * kSecondsPerDay + rng_.Range(8, 17) * 3600;
    Seconds e = kNoTime;
    if (end_day) e = std::max(t, static_cast<Seconds>(*end_day) * kSecondsPerDay + 12 * 3600);
    batch_.AddEvent(r_, t, e, code, value, "", 0);
    ++events_;
  }

  // A registration from well before the span, open; a tenth move practice inside the span, a
  // twentieth leave.
  void Registrations(const std::string& prac) {
    const int32_t start = plan_.span_from - static_cast<int32_t>(rng_.Range(0, 10 * kYear));
    const Seconds t = static_cast<Seconds>(start) * kSecondsPerDay;
    const double u = rng_.Uniform(0, 1);
    if (u < 0.85) {
      batch_.AddEvent(r_, t, kNoTime, "REG/" + prac, kNoValue, "", 0);
      ++events_;
      return;
    }
    const int32_t end = static_cast<int32_t>(rng_.Range(plan_.span_from, plan_.span_to));
    batch_.AddEvent(r_, t, static_cast<Seconds>(end) * kSecondsPerDay, "REG/DUMMY99", kNoValue, "", 0);
    ++events_;
    if (u < 0.95) {
      const int32_t again = end + static_cast<int32_t>(rng_.Range(1, 120));
      batch_.AddEvent(r_, static_cast<Seconds>(again) * kSecondsPerDay, kNoTime, "REG/" + prac, kNoValue, "", 0);
      ++events_;
    }
  }

  // `each`/`first` index: 1-4 index events over the intervals (or the five years before the
  // reference day), which the other codelists' windows are then placed around.
  void IndexEvents() {
    const int c = def_.index.codelist;
    if (c < 0 || plan_.pool[c].empty() || !rng_.Chance(0.8)) return;
    int32_t lo = plan_.ref - 5 * kYear, hi = plan_.ref;
    if (!plan_.intervals.empty()) {
      lo = plan_.intervals.front().start;
      for (const Interval& iv : plan_.intervals) lo = std::min(lo, iv.start);
    }
    const int n = static_cast<int>(rng_.Range(1, 4));
    for (int k = 0; k < n; ++k) {
      const int32_t d = static_cast<int32_t>(rng_.Range(lo, hi));
      const int32_t e = d + static_cast<int32_t>(rng_.Range(0, 20));
      Emit(c, d, e);
      anchors_.push_back(def_.index.at_end ? e : d);
    }
  }

  void Emit(int c, int32_t day, std::optional<int32_t> end) {
    const auto& pool = plan_.pool[c];
    const std::string& code = pool[rng_.Range(0, static_cast<int64_t>(pool.size()) - 1)];
    double v = kNoValue;
    if (plan_.value_range[c]) v = std::round(rng_.Uniform(plan_.value_range[c]->first, plan_.value_range[c]->second) * 10) / 10;
    if (plan_.needs_end[c] && !end) end = day + static_cast<int32_t>(rng_.Range(0, 20));
    Add(day, plan_.needs_end[c] ? end : std::nullopt, code, v);
  }

  // Events of codelist c: 0-2 anywhere in the span, and for each variable on it (70% of the
  // time) 1-3 inside its window.
  void Codelist(int c) {
    const int background = static_cast<int>(rng_.Range(0, 2));
    for (int k = 0; k < background; ++k) Emit(c, static_cast<int32_t>(rng_.Range(plan_.span_from, plan_.span_to)), std::nullopt);
    for (const Variable& v : def_.variables) {
      if (v.kind != Variable::Kind::kAggregate || v.codelist != c || !rng_.Chance(0.7)) continue;
      InWindow(v);
    }
  }

  void InWindow(const Variable& v) {
    // The window's anchor: the index day, an interval's start (measures evaluate there), or an
    // index event.
    int32_t anchor = plan_.ref;
    Interval iv{plan_.ref, plan_.ref};
    if (!anchors_.empty()) {
      anchor = anchors_[rng_.Range(0, static_cast<int64_t>(anchors_.size()) - 1)];
      iv = {anchor, anchor};
    } else if (!plan_.intervals.empty() && rng_.Chance(0.7)) {
      iv = plan_.intervals[rng_.Range(0, static_cast<int64_t>(plan_.intervals.size()) - 1)];
      anchor = iv.start;
    }
    const Window& w = v.window;
    int32_t lo = w.from ? (w.from_end ? iv.end : anchor) + *w.from : anchor - 3 * kYear;
    int32_t hi = w.to ? (w.to_end ? iv.end : anchor) + *w.to : anchor + kYear;
    if (hi < lo) std::swap(lo, hi);
    const int n = static_cast<int>(rng_.Range(1, v.agg == Agg::kCount ? 4 : 2));
    for (int k = 0; k < n; ++k) {
      if (v.match == Variable::Match::kSpan) {
        Emit(v.codelist, lo - static_cast<int32_t>(rng_.Range(0, 60)), hi + static_cast<int32_t>(rng_.Range(1, 60)));
      } else if (v.match == Variable::Match::kOverlap) {
        const int32_t d = static_cast<int32_t>(rng_.Range(lo - 10, hi));
        Emit(v.codelist, d, d + static_cast<int32_t>(rng_.Range(0, 20)));
      } else {
        Emit(v.codelist, static_cast<int32_t>(rng_.Range(lo, hi)), std::nullopt);
      }
    }
  }

  const Definition& def_;
  const Plan& plan_;
  Rng& rng_;
  ImportBatch& batch_;
  uint32_t r_ = 0;
  uint64_t events_ = 0;
  std::vector<int32_t> anchors_;
};

}  // namespace

Result<DummyReport> MakeDummyArk(const Definition& def, const std::string& ark_dir, const DummyOptions& o) {
  if (o.people < 1) return Status::InvalidArgument("--people must be at least 1");
  std::error_code ec;
  if (std::filesystem::exists(ark_dir, ec) && !std::filesystem::is_empty(ark_dir, ec)) {
    return Status::FailedPrecondition(ark_dir + ": exists and is not empty (dummy data goes into a new Ark)");
  }
  const Plan plan = MakePlan(def);
  Rng rng(o.seed);
  ImportBatch batch("dummy");
  ARK_RETURN_IF_ERROR(batch.DeclareOptOuts({ImportOptOuts::Mode::kNone, ""}));
  PersonMaker maker(def, plan, rng, batch);
  for (int i = 0; i < o.people; ++i) maker.Make(static_cast<uint32_t>(i));
  ARK_RETURN_IF_ERROR(MakeDirs(ark_dir));
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Create(ark_dir));
  nlohmann::json man = {{"format", "dummy"}, {"definition", def.name}, {"seed", o.seed}, {"people", o.people}};
  const std::string hash = "dummy:" + def.sha256 + ":" + std::to_string(o.seed) + ":" + std::to_string(o.people);
  ARK_ASSIGN_OR_RETURN(ImportReport rep, batch.Commit(*cat, hash, man));
  ARK_RETURN_IF_ERROR(BuildTimelines(*cat, o.threads).status());
  return DummyReport{rep.persons, rep.events, plan.span_from, plan.span_to};
}

}  // namespace ark::study
