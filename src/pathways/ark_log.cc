// Event logs from an Ark's timelines, and the pathway runs built on them.
#include <algorithm>
#include <chrono>
#include <mutex>

#include "pathways/pathway.h"
#include "store/store.h"

namespace ark::pathways {
namespace {

struct Mapped {
  uint32_t activity;
  int64_t time_ms;
};

struct CaseRec {
  PersonKey person;
  int64_t start_ms;
  std::vector<Mapped> events;
  std::string imd, sex, age_band;
};

int AgeAt(const Person& p, Seconds t) {
  if (p.birth_year == 0) return -1;
  const CivilDate d = CivilFromDays(DayOf(t));
  const int bm = p.birth_month ? p.birth_month : 7;
  return d.year - p.birth_year - (static_cast<int>(d.month) < bm ? 1 : 0);
}

std::string AgeBand(int age) {
  if (age < 0) return "";
  if (age < 18) return "0-17";
  if (age < 45) return "18-44";
  if (age < 65) return "45-64";
  if (age < 75) return "65-74";
  if (age < 85) return "75-84";
  return "85+";
}

bool Matches(const std::string& pattern, const std::string& code) {
  if (!pattern.empty() && pattern.back() == '*') return code.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == code;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<EventLog> BuildLogFromArk(const std::string& ark_dir, const PathwayDefinition& def, int threads) {
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
  auto dicts = store->dicts();
  // Per code: the candidate activities (in definition order) with their source constraint.
  struct Cand {
    uint32_t activity;
    uint32_t source;  // 0 = any
    bool at_end;
  };
  std::vector<std::vector<Cand>> by_code(dicts->codes.size());
  for (uint32_t a = 0; a < def.activities.size(); ++a) {
    const auto& act = def.activities[a];
    uint32_t src = 0;
    if (!act.source.empty()) {
      auto it = std::find(dicts->sources.begin(), dicts->sources.end(), act.source);
      if (it == dicts->sources.end()) continue;  // no such feed in this Ark: the activity never occurs
      src = static_cast<uint32_t>(it - dicts->sources.begin());
    }
    for (size_t c = 1; c < dicts->codes.size(); ++c)
      for (auto& p : act.codes)
        if (Matches(p, dicts->codes[c])) {
          by_code[c].push_back({a, src, act.at_end});
          break;
        }
  }
  std::vector<bool> is_index(def.activities.size(), false);
  for (auto& n : def.index)
    for (uint32_t a = 0; a < def.activities.size(); ++a)
      if (def.activities[a].name == n) is_index[a] = true;
  const auto& pop = def.population;
  const Seconds from = def.from, to = def.to;
  std::mutex mu;
  std::vector<CaseRec> all;
  auto age_ok = [&](int age) {
    if (pop.min_age <= 0 && pop.max_age >= 200) return true;
    return age >= pop.min_age && age <= pop.max_age;
  };
  Status st = store->ForEachPerson(
      [&](const Person& p, std::span<const Event> evs) -> Status {
        if (!AllowedForSecondaryUse(p)) return Status::OK();  // opt-outs, fail closed
        if (!pop.sex.empty() && p.sex != pop.sex[0]) return Status::OK();
        if (pop.registered && p.practice == 0) return Status::OK();
        std::vector<Mapped> m;
        std::vector<uint32_t> enc_key;  // for spells: source << 32 | encounter, parallel to m
        for (const Event& e : evs) {
          if (e.code >= by_code.size()) continue;
          for (const Cand& c : by_code[e.code]) {
            if (c.source && c.source != e.source) continue;
            const Seconds t = c.at_end ? e.end : e.time;
            if (t == kNoTime) break;
            if ((from != kNoTime && t < from) || (to != kNoTime && t >= to)) break;
            m.push_back({c.activity, t * 1000});
            enc_key.push_back(e.encounter ? (static_cast<uint32_t>(e.source) << 24) ^ e.encounter : 0);
            break;
          }
        }
        if (m.empty()) return Status::OK();
        std::vector<size_t> order(m.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return m[a].time_ms < m[b].time_ms; });
        std::vector<Mapped> ms;
        std::vector<uint32_t> ks;
        for (size_t i : order) {
          ms.push_back(m[i]);
          ks.push_back(enc_key[i]);
        }
        std::vector<CaseRec> mine;
        auto make = [&](int64_t start_ms) {
          CaseRec r;
          r.person = p.key;
          r.start_ms = start_ms;
          r.imd = p.imd_decile ? std::to_string(p.imd_decile) : "";
          r.sex = std::string(1, p.sex);
          const int age = AgeAt(p, start_ms / 1000);
          r.age_band = AgeBand(age);
          return std::make_pair(r, age);
        };
        using Notion = PathwayDefinition::CaseNotion;
        if (def.case_notion == Notion::kPerson) {
          auto [r, age] = make(ms.front().time_ms);
          if (!age_ok(age)) return Status::OK();
          r.events = ms;
          mine.push_back(std::move(r));
        } else if (def.case_notion == Notion::kSpell) {
          std::vector<uint32_t> keys;
          for (size_t i = 0; i < ms.size(); ++i)
            if (ks[i] && std::find(keys.begin(), keys.end(), ks[i]) == keys.end()) keys.push_back(ks[i]);
          for (uint32_t k : keys) {
            size_t first = 0;
            while (ks[first] != k) ++first;
            auto [r, age] = make(ms[first].time_ms);
            if (!age_ok(age)) continue;
            for (size_t i = first; i < ms.size(); ++i)
              if (ks[i] == k) r.events.push_back(ms[i]);
            mine.push_back(std::move(r));
          }
        } else {
          const int64_t win = static_cast<int64_t>(def.window_days * 86400000.0);
          const int64_t back = static_cast<int64_t>(def.lookback_days * 86400000.0);
          int64_t open_until = INT64_MIN;
          for (size_t i = 0; i < ms.size(); ++i) {
            if (!is_index[ms[i].activity] || ms[i].time_ms < open_until) continue;
            const int64_t t0 = ms[i].time_ms;
            open_until = t0 + win;
            auto [r, age] = make(t0);
            if (!age_ok(age)) continue;
            for (size_t j = 0; j < ms.size(); ++j)
              if (ms[j].time_ms >= t0 - back && ms[j].time_ms < open_until)
                r.events.push_back(ms[j]);
            mine.push_back(std::move(r));
          }
        }
        if (mine.empty()) return Status::OK();
        std::lock_guard<std::mutex> l(mu);
        for (auto& r : mine) all.push_back(std::move(r));
        return Status::OK();
      },
      threads);
  ARK_RETURN_IF_ERROR(st);
  std::sort(all.begin(), all.end(), [](const CaseRec& a, const CaseRec& b) {
    return a.person != b.person ? a.person < b.person : a.start_ms < b.start_ms;
  });
  EventLog log;
  for (auto& a : def.activities) log.activities.push_back(a.name);
  log.case_attr_names = {"imd_decile", "sex", "age_band", "person"};
  log.case_attrs.resize(4);
  log.case_start.push_back(0);
  PersonKey last = UINT32_MAX;
  int nth = 0;
  for (auto& r : all) {
    nth = r.person == last ? nth + 1 : 1;
    last = r.person;
    log.case_ids.push_back("p" + std::to_string(r.person) + (def.case_notion == PathwayDefinition::CaseNotion::kPerson
                                                                  ? ""
                                                                  : "-" + std::to_string(nth)));
    for (auto& e : r.events) {
      log.activity.push_back(e.activity);
      log.time_ms.push_back(e.time_ms);
    }
    log.case_start.push_back(log.activity.size());
    log.case_attrs[0].push_back(r.imd);
    log.case_attrs[1].push_back(r.sex);
    log.case_attrs[2].push_back(r.age_band);
    log.case_attrs[3].push_back(std::to_string(r.person));
  }
  return log;
}

Status AnalysePathway(const std::string& ark_dir, const PathwayDefinition& def, PathwayRun& run, int threads) {
  auto t0 = std::chrono::steady_clock::now();
  Analysis& a = run.analysis;
  a.log = &run.log;
  a.title = def.title;
  a.description = def.description;
  a.source = ark_dir;
  a.disclosure = true;
  AnalysisOptions opts;
  opts.threads = threads;
  a.core = Analyse(run.log, opts);
  a.rework = FindRework(run.log);
  for (auto& [f, t] : def.waits) {
    ARK_ASSIGN_OR_RETURN(Waiting w, WaitingTime(run.log, f, t));
    a.waits.push_back(std::move(w));
  }
  if (def.compare) {
    ARK_ASSIGN_OR_RETURN(Comparison c, Compare(run.log, def.compare->by, def.compare->a, def.compare->b,
                                               def.compare->label_a, def.compare->label_b, opts));
    a.comparison = std::move(c);
  }
  if (!def.reference.empty()) {
    ARK_ASSIGN_OR_RETURN(Conformance c, CheckConformance(run.log, a.core, def.reference));
    a.conformance = std::move(c);
  }
  a.analyse_seconds = Since(t0);
  return Status::OK();
}

Result<std::unique_ptr<PathwayRun>> RunPathway(const std::string& ark_dir, const PathwayDefinition& def, int threads) {
  auto run = std::make_unique<PathwayRun>();
  auto t0 = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(run->log, BuildLogFromArk(ark_dir, def, threads));
  run->analysis.read_seconds = Since(t0);
  ARK_RETURN_IF_ERROR(AnalysePathway(ark_dir, def, *run, threads));
  return run;
}

Result<std::unique_ptr<PathwayRun>> RunPathway(const std::string& ark_dir, const std::string& yaml_path, int threads) {
  ARK_ASSIGN_OR_RETURN(PathwayDefinition def, LoadPathwayDefinition(yaml_path));
  return RunPathway(ark_dir, def, threads);
}

Result<std::string> PathwaySectionHtml(const std::string& ark_dir, const std::string& pathway_yaml_path, int threads) {
  ARK_ASSIGN_OR_RETURN(auto run, RunPathway(ark_dir, pathway_yaml_path, threads));
  return SectionHtml(run->analysis, 2);
}

}  // namespace ark::pathways
