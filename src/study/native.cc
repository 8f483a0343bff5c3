// The native evaluator (see native.h). Semantics mirror docs/study-definitions.md exactly, NULLs
// included (three-valued logic as in SQL), so that the SQL engines give identical results.
#include "study/native.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "store/parallel.h"
#include "study/codes.h"

namespace ark::study {
namespace {

constexpr int kRegBit = 62;

struct Ev {
  Seconds time;
  Seconds end;
  double value;
  uint32_t pos;
  CodeId code;
};

// A value: a number (str nullptr), a string (str its text) or NULL (str &kNullTag). Two words, so
// that it is returned in registers.
const std::string kNullTag;
struct Val {
  double num = 0;
  const std::string* str = &kNullTag;
  bool null() const { return str == &kNullTag; }
};
inline Val Num(double x) { return Val{x, nullptr}; }
inline Val Null() { return Val{}; }

const std::string kSexM = "M", kSexF = "F", kSexU = "U";

using GKey = std::array<uint64_t, 4>;  // encoded group values (Encode), unused slots 0
struct GKeyHash {
  size_t operator()(const GKey& k) const {
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (uint64_t x : k) h = (h ^ x) * 0x100000001B3ULL + (h >> 29);
    return static_cast<size_t>(h);
  }
};

// One measure's counts in one worker: group values -> dense id, counts[id * intervals + i].
struct MeasureAcc {
  std::unordered_map<GKey, int, GKeyHash> ids;
  std::vector<GKey> keys;
  std::vector<std::pair<int64_t, int64_t>> counts;
  GKey last{};
  int last_id = -1;
};

uint64_t Encode(const Val& v) {
  if (v.null()) return ~uint64_t{0};
  if (v.str) return reinterpret_cast<uintptr_t>(v.str);
  double d = v.num == 0 ? 0.0 : v.num;
  return std::bit_cast<uint64_t>(d);
}

// What is shared by all workers.
struct Plan {
  Plan(const Definition& d, const Dictionaries& dc) : def(d), dicts(dc) {}
  const Definition& def;
  const Dictionaries& dicts;
  bool optouts = true;
  bool dataset = true;
  bool row_text = true;  // with dataset: the rows' text (else their persons only)
  std::vector<uint64_t> code_mask;  // by code id
  std::vector<uint8_t> source_ok;   // by source id: events read (empty: every source)
  std::vector<char> need_all, need_measures;
  std::vector<int> den_codelist;  // per measure: the codelist an exists/count denominator counts, or -1
  std::vector<Interval> mpoints;                             // fixed index: (index day, interval end) of the measures
  std::vector<std::vector<std::pair<int, int>>> day_targets;  // per point: (measure, interval)
};

void MarkDeps(const Expr& e, const Definition& def, std::vector<char>* need);
void MarkVar(int i, const Definition& def, std::vector<char>* need) {
  if ((*need)[i]) return;
  (*need)[i] = 1;
  const Variable& v = def.variables[i];
  if (v.kind != Variable::Kind::kAggregate) MarkDeps(v.expr, def, need);
}
void MarkDeps(const Expr& e, const Definition& def, std::vector<char>* need) {
  if (e.kind == Expr::Kind::kVariable) MarkVar(e.ref, def, need);
  for (auto& a : e.args) MarkDeps(a, def, need);
}

class Worker {
 public:
  explicit Worker(const Plan& plan) : plan_(plan), def_(plan.def), vals_(def_.variables.size()), done_(def_.variables.size(), 0) {
    std::fill(civil_day_, civil_day_ + 64, INT32_MIN);
    acc.resize(def_.measures.size());
  }

  Status Visit(const Person& p, std::span<const Event> events) {
    allowed_ = !plan_.optouts || AllowedForSecondaryUse(p);
    person_ = &p;
    const IndexSpec& ix = def_.index;
    if (ix.kind == IndexSpec::Kind::kFixed && !AliveAndAgeAtAnyIndex()) return Status::OK();
    Collect(events);
    if (ix.kind == IndexSpec::Kind::kFixed) {
      EvalIndex(ix.day, /*dataset=*/true, /*measures=*/false);
      if (allowed_ && MeasuresPossible())
        for (size_t k = 0; k < plan_.mpoints.size(); ++k) EvalIndex(plan_.mpoints[k].start, false, true, static_cast<int>(k));
      return Status::OK();
    }
    const std::vector<Ev>& l = lists_[ix.codelist];
    for (const Ev& e : l) {
      if (ix.at_end && e.end == kNoTime) continue;
      const int32_t day = DayOf(ix.at_end ? e.end : e.time);
      if (ix.where && !Qualifies(*ix.where, day)) continue;
      EvalIndex(day, true, allowed_);
      if (ix.kind == IndexSpec::Kind::kFirst) break;
    }
    return Status::OK();
  }

  std::string* text = nullptr;  // the dataset lines of the person range being visited
  uint64_t* text_rows = nullptr;
  std::vector<uint32_t>* row_persons = nullptr;  // without row_text: the persons of those rows
  std::vector<MeasureAcc> acc;  // per measure
  uint64_t excluded = 0;

 private:
  void Collect(std::span<const Event> events) {
    for (int i = 0; i < 63; ++i) lists_[i].clear();
    const uint64_t* mask = plan_.code_mask.data();
    const size_t n = plan_.code_mask.size();
    const std::vector<uint8_t>& src = plan_.source_ok;
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (!src.empty() && (e.source >= src.size() || !src[e.source])) continue;  // a feed the run may not read
      uint64_t m = e.code < n ? mask[e.code] : 0;
      while (m) {
        int b = std::countr_zero(m);
        m &= m - 1;
        lists_[b].push_back(Ev{e.time, e.end, e.value, static_cast<uint32_t>(i), e.code});
      }
    }
  }

  // False when every measure's denominator counts events of a codelist this person has none of
  // (then no index can count: skip the intervals).
  bool MeasuresPossible() const {
    for (int c : plan_.den_codelist)
      if (c < 0 || !lists_[c].empty()) return true;
    return false;
  }

  // Whether the population's alive and age conditions (which need no events) hold at the fixed
  // index or at any measure index: if not, the person is in nothing and their events are skipped.
  bool AliveAndAgeAtAnyIndex() {
    const Population& pop = def_.population;
    if (!pop.alive && !pop.age_min) return true;
    auto ok = [&](int32_t day) {
      if (pop.alive && !Alive(day)) return false;
      if (pop.age_min) {
        Val a = Age(day);
        if (a.null() || a.num < *pop.age_min || a.num > *pop.age_max) return false;
      }
      return true;
    };
    if (ok(def_.index.day)) return true;
    if (allowed_)
      for (const Interval& p : plan_.mpoints)
        if (ok(p.start)) return true;
    return false;
  }

  // Population checks that need no variables. A NULL age fails the age range.
  bool BasePopulation(int32_t day) {
    const Population& pop = def_.population;
    if (pop.alive && !Alive(day)) return false;
    if (pop.age_min || pop.age_max) {
      Val a = Age(day);
      if (a.null() || a.num < *pop.age_min || a.num > *pop.age_max) return false;
    }
    if (pop.registered && !Registered(day)) return false;
    return true;
  }

  // Whether the entry condition holds with `day` as the index (NULL is false).
  bool Qualifies(const Expr& where, int32_t day) {
    day_ = iend_ = day;
    if (++gen_ == 0) {
      std::fill(done_.begin(), done_.end(), 0);
      gen_ = 1;
    }
    Val w = Eval(where);
    return !w.null() && w.num != 0;
  }

  void EvalIndex(int32_t day, bool dataset, bool measures, int mday = -1) {
    if (dataset && !plan_.dataset && !(plan_.optouts && !allowed_)) dataset = false;
    if (!dataset && !measures) return;
    day_ = day;
    iend_ = mday >= 0 ? plan_.mpoints[mday].end : day;
    if (!BasePopulation(day)) return;
    // Variables are computed on first use at this index (a measure whose denominator is false
    // needs nothing else).
    if (++gen_ == 0) {
      std::fill(done_.begin(), done_.end(), 0);
      gen_ = 1;
    }
    if (dataset && plan_.row_text)
      for (size_t i = 0; i < vals_.size(); ++i) Get(static_cast<int>(i));
    if (def_.population.where) {
      Val w = Eval(*def_.population.where);
      if (w.null() || w.num == 0) return;
    }
    if (dataset) {
      if (!allowed_) {
        ++excluded;
        return;  // an opted-out person is in nothing else either
      }
      if (plan_.dataset) EmitRow();
    }
    if (measures) Accumulate(mday);
  }

  void EmitRow() {
    if (!plan_.row_text) {
      row_persons->push_back(person_->key);
      return;
    }
    std::string& s = *text;
    char key[16];
    s.append(key, static_cast<size_t>(snprintf(key, sizeof key, "%u", person_->key)));
    if (HasIndexDateColumn(def_)) {
      s += ',';
      s += FormatDate(day_);
    }
    for (size_t i = 0; i < vals_.size(); ++i) {
      s += ',';
      const Val& v = vals_[i];
      if (v.null()) continue;
      if (v.str) AppendCsvField(&s, *v.str);
      else AppendValue(&s, def_.variables[i].type, v.num);
    }
    s += '\n';
    ++*text_rows;
  }

  const Val& Get(int i) {
    if (done_[i] != gen_) {
      vals_[i] = EvalVar(def_.variables[i]);
      done_[i] = gen_;
    }
    return vals_[i];
  }

  void AccumulateOne(int m, int interval) {
    const Measure& ms = def_.measures[m];
    // References, not copies: a Val copied right after Get stored it stalls (store forwarding).
    const Val& den = Get(ms.denominator);
    if (den.null() || den.num <= 0) return;
    const Val& num = Get(ms.numerator);
    GKey k{};
    for (size_t g = 0; g < ms.group_by.size() && g < 4; ++g) k[g] = Encode(Get(ms.group_by[g]));
    MeasureAcc& a = acc[m];
    const size_t n = ms.intervals.size();
    if (a.last_id < 0 || k != a.last) {
      auto [it, inserted] = a.ids.try_emplace(k, static_cast<int>(a.keys.size()));
      if (inserted) {
        a.keys.push_back(k);
        a.counts.resize(a.counts.size() + n);
      }
      a.last = k;
      a.last_id = it->second;
    }
    auto& c = a.counts[static_cast<size_t>(a.last_id) * n + static_cast<size_t>(interval)];
    c.first += num.null() ? 0 : static_cast<int64_t>(num.num);
    c.second += static_cast<int64_t>(den.num);
  }

  void Accumulate(int mday) {
    if (mday >= 0) {
      for (auto [m, i] : plan_.day_targets[mday]) AccumulateOne(m, i);
      return;
    }
    for (size_t m = 0; m < def_.measures.size(); ++m) {
      const auto& ivs = def_.measures[m].intervals;
      auto it = std::upper_bound(ivs.begin(), ivs.end(), day_, [](int32_t d, const Interval& iv) { return d < iv.start; });
      if (it == ivs.begin()) continue;
      --it;
      if (day_ <= it->end) AccumulateOne(static_cast<int>(m), static_cast<int>(it - ivs.begin()));
    }
  }

  bool Alive(int32_t day) const { return !person_->has_death() || person_->death_day > day; }
  Val Age(int32_t day) {
    if (person_->birth_year == 0) return Null();
    const int slot = day & 63;
    if (civil_day_[slot] != day) {
      civil_cache_[slot] = CivilFromDays(day);
      civil_day_[slot] = day;
    }
    const CivilDate& c = civil_cache_[slot];
    int bm = person_->birth_month ? person_->birth_month : 1;
    return Num(c.year - person_->birth_year - (static_cast<int>(c.month) < bm ? 1 : 0));
  }
  bool Registered(int32_t day) const {
    const Seconds t = (static_cast<Seconds>(day) + 1) * kSecondsPerDay;
    for (const Ev& e : lists_[kRegBit]) {
      if (e.time >= t) break;
      if (e.end == kNoTime || e.end >= t) return true;
    }
    return false;
  }

  Val EvalVar(const Variable& v) {
    switch (v.kind) {
      case Variable::Kind::kExpr: return Eval(v.expr);
      case Variable::Kind::kBand: {
        Val x = Eval(v.expr);
        if (x.null()) return x;
        size_t i = 0;
        while (i < v.breaks.size() && x.num >= v.breaks[i]) ++i;
        return Val{0, &v.labels[i]};
      }
      case Variable::Kind::kAggregate: return Aggregate(v);
    }
    return Null();
  }

  Val Aggregate(const Variable& v) {
    const std::vector<Ev>& l = lists_[v.codelist];
    // The window's first and last day, D1 and D2.
    const Seconds d1 = v.window.from ? static_cast<Seconds>((v.window.from_end ? iend_ : day_) + *v.window.from) : 0;
    const Seconds d2 = v.window.to ? static_cast<Seconds>((v.window.to_end ? iend_ : day_) + *v.window.to) : 0;
    // Candidates: [b, e) by start time; keep() then tests the end (see Variable::Match).
    Seconds lo = INT64_MIN, hi = INT64_MAX, end_min = INT64_MIN;
    switch (v.match) {
      case Variable::Match::kStart:
        if (v.window.from) lo = d1 * kSecondsPerDay;
        if (v.window.to) hi = (d2 + 1) * kSecondsPerDay;
        break;
      case Variable::Match::kOverlap:
        if (v.window.to) hi = (d2 + 1) * kSecondsPerDay;
        if (v.window.from) end_min = d1 * kSecondsPerDay;
        break;
      case Variable::Match::kSpan:
        hi = (d1 + 1) * kSecondsPerDay;
        end_min = (d2 + 1) * kSecondsPerDay;
        break;
    }
    auto keep = [end_min](const Ev& x) { return end_min == INT64_MIN || x.end == kNoTime || x.end >= end_min; };
    auto b = l.begin();
    if (lo != INT64_MIN) b = std::partition_point(l.begin(), l.end(), [lo](const Ev& e) { return e.time < lo; });
    auto e = b;
    while (e != l.end() && e->time < hi) ++e;
    const bool value = v.output == Variable::Output::kValue;
    switch (v.agg) {
      case Agg::kExists:
        for (auto it = b; it != e; ++it)
          if (keep(*it)) return Num(1);
        return Num(0);
      case Agg::kCount: {
        if (end_min == INT64_MIN) return Num(static_cast<double>(e - b));
        int64_t n = 0;
        for (auto it = b; it != e; ++it) n += keep(*it);
        return Num(static_cast<double>(n));
      }
      case Agg::kFirst:
        for (auto it = b; it != e; ++it) {
          if (!keep(*it) || (value && std::isnan(it->value))) continue;
          return Output(v, *it);
        }
        return Null();
      case Agg::kLast:
        for (auto it = e; it != b;) {
          --it;
          if (!keep(*it) || (value && std::isnan(it->value))) continue;
          return Output(v, *it);
        }
        return Null();
      case Agg::kMin:
      case Agg::kMax:
      case Agg::kMean: {
        double acc = 0;
        int64_t n = 0;
        for (auto it = b; it != e; ++it) {
          if (!keep(*it) || std::isnan(it->value)) continue;
          if (v.agg == Agg::kMean) acc += it->value;
          else if (n == 0) acc = it->value;
          else acc = v.agg == Agg::kMin ? std::min(acc, it->value) : std::max(acc, it->value);
          ++n;
        }
        if (n == 0) return Null();
        return Num(v.agg == Agg::kMean ? acc / static_cast<double>(n) : acc);
      }
    }
    return Null();
  }
  Val Output(const Variable& v, const Ev& e) const {
    switch (v.output) {
      case Variable::Output::kDate: return Num(DayOf(e.time));
      case Variable::Output::kValue: return Num(e.value);
      case Variable::Output::kCode: return Val{0, &plan_.dicts.codes[e.code]};
      case Variable::Output::kEnd: return e.end == kNoTime ? Null() : Num(DayOf(e.end));
      case Variable::Output::kLength: return e.end == kNoTime ? Null() : Num(DayOf(e.end) - DayOf(e.time));
    }
    return Null();
  }

  Val BuiltinVal(study::Builtin b) {
    switch (b) {
      case Builtin::kAge: return Age(day_);
      case Builtin::kSex: return Val{0, person_->sex == 'M' ? &kSexM : person_->sex == 'F' ? &kSexF : &kSexU};
      case Builtin::kImdDecile: return person_->imd_decile ? Num(person_->imd_decile) : Null();
      case Builtin::kPractice:
        if (person_->practice == 0 || person_->practice >= plan_.dicts.practices.size()) return Null();
        return Val{0, &plan_.dicts.practices[person_->practice]};
      case Builtin::kRegistered: return Num(Registered(day_) ? 1 : 0);
      case Builtin::kAlive: return Num(Alive(day_) ? 1 : 0);
      case Builtin::kIndexDate:
      case Builtin::kIntervalStart: return Num(day_);
      case Builtin::kIntervalEnd: return Num(iend_);
    }
    return Null();
  }

  Val Eval(const Expr& x) {
    switch (x.kind) {
      case Expr::Kind::kLiteral:
        if (x.type == Type::kStr) return Val{0, &x.str};
        return Num(x.num);
      case Expr::Kind::kVariable: return Get(x.ref);
      case Expr::Kind::kBuiltin: return BuiltinVal(static_cast<study::Builtin>(x.ref));
      case Expr::Kind::kNot: {
        Val a = Eval(x.args[0]);
        return a.null() ? a : Num(a.num == 0 ? 1 : 0);
      }
      case Expr::Kind::kNeg: {
        Val a = Eval(x.args[0]);
        return a.null() ? a : Num(-a.num);
      }
      case Expr::Kind::kIsNull: return Num(Eval(x.args[0]).null() == (x.num == 0) ? 1 : 0);
      case Expr::Kind::kBinary: break;
    }
    const std::string& op = x.str;
    Val a = Eval(x.args[0]);
    // The operators (definition.h) differ in their first character but for < <= > >= and != =.
    if (op[0] == 'a' || op[0] == 'o') {
      const bool is_and = op[0] == 'a';
      // Kleene logic: a decisive operand wins over NULL.
      if (!a.null() && (a.num != 0) != is_and) return Num(is_and ? 0 : 1);
      Val b = Eval(x.args[1]);
      if (!b.null() && (b.num != 0) != is_and) return Num(is_and ? 0 : 1);
      if (a.null() || b.null()) return Null();
      return Num(is_and ? 1 : 0);
    }
    Val b = Eval(x.args[1]);
    if (a.null() || b.null()) return Null();
    if (a.str || b.str) {
      bool eq = a.str && b.str && *a.str == *b.str;
      return Num((op[0] == '=') == eq ? 1 : 0);
    }
    switch (op[0]) {
      case '+': return Num(a.num + b.num);
      case '-': return Num(a.num - b.num);
      case '*': return Num(a.num * b.num);
      case '/': return b.num == 0 ? Null() : Num(a.num / b.num);
      case '=': return Num(a.num == b.num ? 1 : 0);
      case '!': return Num(a.num != b.num ? 1 : 0);
      case '<': return Num((op.size() == 2 ? a.num <= b.num : a.num < b.num) ? 1 : 0);
      case '>': return Num((op.size() == 2 ? a.num >= b.num : a.num > b.num) ? 1 : 0);
    }
    return Null();
  }

  const Plan& plan_;
  const Definition& def_;
  std::vector<Ev> lists_[63];
  std::vector<Val> vals_;
  std::vector<uint32_t> done_;  // done_[i] == gen_: vals_[i] is computed for the current index
  uint32_t gen_ = 0;
  CivilDate civil_cache_[64];
  int32_t civil_day_[64];
  const Person* person_ = nullptr;
  int32_t day_ = 0;
  int32_t iend_ = 0;  // the interval's end (the index day outside measures)
  bool allowed_ = true;
};

}  // namespace

Result<EngineResult> RunNative(const Definition& def, const Store& store, Purpose purpose, const NativeOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  for (auto& m : def.measures) {
    if (m.group_by.size() > 4) return Status::InvalidArgument("measure '" + m.name + "': the native engine groups by at most 4 variables");
  }
  std::shared_ptr<const Dictionaries> dicts = store.dicts();
  Plan plan(def, *dicts);
  plan.optouts = AppliesOptOuts(purpose);
  plan.dataset = opts.dataset;
  plan.row_text = opts.row_text;
  if (opts.feeds) {
    plan.source_ok.assign(dicts->sources.size(), 0);
    for (size_t id = 0; id < dicts->sources.size(); ++id) {
      plan.source_ok[id] = std::find(opts.feeds->begin(), opts.feeds->end(), dicts->sources[id]) != opts.feeds->end();
    }
  }
  // Sources are decoded only when the run is narrowed to some feeds.
  const Store::Columns columns = opts.feeds ? Store::Columns::kAll : Store::Columns::kCore;
  std::unordered_map<std::string_view, uint64_t> bits;
  std::vector<size_t> with_prefixes;
  for (size_t c = 0; c < def.codelists.size(); ++c) {
    for (auto& code : def.codelists[c].codes) bits[code] |= uint64_t{1} << c;
    if (!def.codelists[c].prefixes.empty()) with_prefixes.push_back(c);
  }
  plan.code_mask.assign(dicts->codes.size(), 0);
  for (size_t id = 0; id < dicts->codes.size(); ++id) {
    const std::string& s = dicts->codes[id];
    auto it = bits.find(s);
    if (it != bits.end()) plan.code_mask[id] = it->second;
    for (size_t c : with_prefixes)
      if (CodelistMatches(def.codelists[c], s)) plan.code_mask[id] |= uint64_t{1} << c;
    if (s.compare(0, 4, "REG/") == 0) plan.code_mask[id] |= uint64_t{1} << kRegBit;
  }
  const size_t nv = def.variables.size();
  plan.need_all.assign(nv, 1);
  plan.need_measures.assign(nv, 0);
  for (auto& m : def.measures) {
    MarkVar(m.numerator, def, &plan.need_measures);
    MarkVar(m.denominator, def, &plan.need_measures);
    for (int g : m.group_by) MarkVar(g, def, &plan.need_measures);
  }
  if (def.population.where) MarkDeps(*def.population.where, def, &plan.need_measures);
  for (auto& m : def.measures) {
    const Variable& den = def.variables[m.denominator];
    bool counts = den.kind == Variable::Kind::kAggregate && (den.agg == Agg::kExists || den.agg == Agg::kCount);
    plan.den_codelist.push_back(counts ? den.codelist : -1);
  }
  if (def.index.kind == IndexSpec::Kind::kFixed) {
    plan.mpoints = MeasurePoints(def);
    plan.day_targets.resize(plan.mpoints.size());
    for (size_t m = 0; m < def.measures.size(); ++m) {
      for (size_t i = 0; i < def.measures[m].intervals.size(); ++i) {
        const Interval pt = MeasurePoint(def, def.measures[m].intervals[i]);
        size_t k = std::lower_bound(plan.mpoints.begin(), plan.mpoints.end(), pt, [](const Interval& a, const Interval& b) {
                     return std::pair{a.start, a.end} < std::pair{b.start, b.end};
                   }) - plan.mpoints.begin();
        plan.day_targets[k].push_back({static_cast<int>(m), static_cast<int>(i)});
      }
    }
  }

  // Person ranges, several per thread so that uneven ranges balance.
  const uint64_t persons = store.num_persons();
  const int threads = std::max(1, opts.threads);
  const uint64_t parts = std::max<uint64_t>(1, std::min<uint64_t>(persons, static_cast<uint64_t>(threads) * 8));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < threads; ++w) workers.push_back(std::make_unique<Worker>(plan));
  // Rows per range: ranges ascend by person key and persons ascend within a range, so the
  // concatenation is already in (person, seq) order.
  std::vector<std::string> part_text(parts);
  std::vector<uint64_t> part_count(parts, 0);
  std::vector<std::vector<uint32_t>> part_persons(opts.row_text ? 0 : parts);
  std::mutex progress_mu;
  size_t parts_done = 0;
  Status st = store::ParallelFor(parts, threads, [&](size_t i, int w) -> Status {
    if (opts.cancelled && opts.cancelled()) return Cancelled("evaluate");
    PersonKey begin = static_cast<PersonKey>(persons * i / parts), end = static_cast<PersonKey>(persons * (i + 1) / parts);
    Worker* wk = workers[w].get();
    wk->text = &part_text[i];
    wk->text_rows = &part_count[i];
    wk->row_persons = opts.row_text ? nullptr : &part_persons[i];
    uint32_t seen = 0;
    ARK_RETURN_IF_ERROR(store.ForEachPersonInRange(begin, end, [&](const Person& p, std::span<const Event> ev) {
      if ((++seen & 255) == 0 && opts.cancelled && opts.cancelled()) return Cancelled("evaluate");
      return wk->Visit(p, ev);
    }, 1, columns));
    if (opts.progress) {
      std::lock_guard<std::mutex> l(progress_mu);
      opts.progress(static_cast<double>(++parts_done) / static_cast<double>(parts));
    }
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(st);
  auto t1 = std::chrono::steady_clock::now();

  EngineResult r;
  r.measures.resize(def.measures.size());
  if (opts.row_text) r.text_parts = std::move(part_text);
  for (uint64_t c : part_count) r.text_rows += c;
  for (const auto& pp : part_persons) r.row_persons.insert(r.row_persons.end(), pp.begin(), pp.end());
  for (auto& w : workers) {
    r.optout_excluded += w->excluded;
    for (size_t m = 0; m < def.measures.size(); ++m) {
      const Measure& ms = def.measures[m];
      const MeasureAcc& a = w->acc[m];
      const size_t n = ms.intervals.size();
      for (size_t id = 0; id < a.keys.size(); ++id) {
        std::vector<std::string> groups;
        for (size_t g = 0; g < ms.group_by.size(); ++g) {
          const Variable& v = def.variables[ms.group_by[g]];
          uint64_t x = a.keys[id][g];
          if (x == ~uint64_t{0}) groups.emplace_back();
          else if (v.type == Type::kStr) groups.push_back(*reinterpret_cast<const std::string*>(static_cast<uintptr_t>(x)));
          else groups.push_back(FormatValue(v.type, std::bit_cast<double>(x)));
        }
        for (size_t i = 0; i < n; ++i) {
          const auto& c = a.counts[id * n + i];
          if (c.second == 0) continue;
          auto& cell = r.measures[m][{static_cast<int>(i), groups}];
          cell.first += c.first;
          cell.second += c.second;
        }
      }
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  r.seconds["evaluate"] = std::chrono::duration<double>(t1 - t0).count();
  r.seconds["merge"] = std::chrono::duration<double>(t2 - t1).count();
  return r;
}

}  // namespace ark::study
