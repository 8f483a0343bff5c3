#include "link/review.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/csv.h"

namespace ark {
namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

Result<double> Probability(const std::string& text, const std::string& what) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(v >= 0 && v <= 1)) {
    return Status::InvalidArgument("--review-band: " + what + " '" + text + "' is not a probability in [0,1]");
  }
  return v;
}

}  // namespace

Result<std::array<double, 2>> ParseReviewBand(const std::string& text) {
  const size_t cut = text.find_first_of(",:");
  if (cut == std::string::npos) return Status::InvalidArgument("--review-band: expected LOW,HIGH, not '" + text + "'");
  ARK_ASSIGN_OR_RETURN(double lo, Probability(Trimmed(text.substr(0, cut)), "LOW"));
  ARK_ASSIGN_OR_RETURN(double hi, Probability(Trimmed(text.substr(cut + 1)), "HIGH"));
  if (lo >= hi) return Status::InvalidArgument("--review-band: LOW must be below HIGH in '" + text + "'");
  if (lo < 0.001) return Status::InvalidArgument("--review-band: LOW must be at least 0.001 (weaker pairs are not kept)");
  return std::array<double, 2>{lo, hi};
}

Result<std::vector<ReviewDecision>> ReadDecisions(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  int col[4];
  const char* names[4] = {"left_id", "right_id", "decision", "reviewer"};
  for (int k = 0; k < 4; ++k) {
    col[k] = f.ColumnIndex(names[k]);
    if (col[k] < 0) return f.Error(1, std::string("no column '") + names[k] + "' (need left_id, right_id, decision, reviewer)");
  }
  std::vector<ReviewDecision> out;
  Status s = f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    ReviewDecision d;
    d.left_id = Trimmed(row[col[0]]);
    d.right_id = Trimmed(row[col[1]]);
    const std::string decision = Trimmed(row[col[2]]);
    d.reviewer = Trimmed(row[col[3]]);
    if (decision.empty() && d.reviewer.empty()) return Status::OK();  // not reviewed yet
    if (d.left_id.empty()) return f.Error(line, "left_id", "empty");
    if (d.right_id.empty()) return f.Error(line, "right_id", "empty");
    if (decision == "match") d.match = true;
    else if (decision != "non-match") return f.Error(line, "decision", "'" + decision + "' is not match or non-match");
    if (d.reviewer.empty()) return f.Error(line, "reviewer", "empty: say who decided");
    d.where = path + ":" + std::to_string(line);
    out.push_back(std::move(d));
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<LinkInput::Decision>> ResolveDecisions(const std::vector<ReviewDecision>& ds,
                                                          const RecordIdResolver& resolve) {
  std::vector<LinkInput::Decision> out;
  std::map<std::pair<uint32_t, uint32_t>, size_t> seen;  // pair -> first decision
  for (size_t i = 0; i < ds.size(); ++i) {
    const ReviewDecision& d = ds[i];
    auto a = resolve(d.left_id, false);
    if (!a.ok()) return Status::InvalidArgument(d.where + ": column 'left_id': " + std::string(a.status().message()));
    auto b = resolve(d.right_id, true);
    if (!b.ok()) return Status::InvalidArgument(d.where + ": column 'right_id': " + std::string(b.status().message()));
    if (*a == *b) return Status::InvalidArgument(d.where + ": column 'right_id': the same record as left_id");
    auto [it, fresh] = seen.emplace(std::minmax(*a, *b), i);
    if (!fresh && ds[it->second].match != d.match) {
      return Status::InvalidArgument(d.where + ": column 'decision': contradicts " + ds[it->second].where +
                                     " on the same pair");
    }
    out.push_back({*a, *b, d.match});
  }
  return out;
}

std::string ReviewCsv(const LinkOutcome& o, const std::function<std::string(uint32_t)>& id) {
  std::string out = "left_id,right_id,match_weight,match_probability,same_cluster";
  for (auto& f : o.model) out += ",level_" + f.name + ",weight_" + f.name;
  const bool tf = !o.tf_fields.empty();
  if (tf) out += ",term_frequency";
  out += ",decision,reviewer\n";
  std::vector<uint32_t> rows = o.review;
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t x, uint32_t y) { return o.pairs[x].weight > o.pairs[y].weight; });
  char buf[64];
  for (uint32_t i : rows) {
    const ScoredPair& p = o.pairs[i];
    AppendCsvField(&out, id(p.a));
    out += ',';
    AppendCsvField(&out, id(p.b));
    const bool same = !o.cluster.empty() && o.cluster[p.a] == o.cluster[p.b];
    std::snprintf(buf, sizeof buf, ",%.3f,%.6f,%d", p.weight, p.probability, same ? 1 : 0);
    out += buf;
    double sum = 0;
    for (size_t f = 0; f < o.model.size(); ++f) {
      const FieldModel& fm = o.model[f];
      if (p.levels[f] == 255) {
        out += ",missing,0";
        continue;
      }
      const double w = std::log2(fm.m[p.levels[f]] / fm.u[p.levels[f]]);
      sum += w;
      out += ',';
      AppendCsvField(&out, fm.levels[p.levels[f]]);
      std::snprintf(buf, sizeof buf, ",%.3f", w);
      out += buf;
    }
    if (tf) {
      std::snprintf(buf, sizeof buf, ",%.3f", p.weight - sum);
      out += buf;
    }
    out += ",,\n";
  }
  return out;
}

nlohmann::ordered_json ReviewJson(const std::optional<std::array<double, 2>>& band, uint64_t pairs_in_band,
                                  const std::string& review_file, const std::vector<ReviewDecision>& decisions,
                                  const std::vector<LinkOutcome::DecisionOutcome>& outcomes) {
  nlohmann::ordered_json j;
  if (band) {
    j["band"] = {(*band)[0], (*band)[1]};
    j["pairs_in_band"] = pairs_in_band;
    j["file"] = review_file;
  }
  uint64_t match = 0, linked = 0, apart = 0;
  nlohmann::ordered_json conflicts = nlohmann::ordered_json::array();
  for (size_t i = 0; i < decisions.size() && i < outcomes.size(); ++i) {
    match += decisions[i].match;
    switch (outcomes[i].result) {
      case LinkOutcome::DecisionResult::kLinked: ++linked; break;
      case LinkOutcome::DecisionResult::kKeptApart: ++apart; break;
      case LinkOutcome::DecisionResult::kConflict:
        conflicts.push_back({{"left_id", decisions[i].left_id}, {"right_id", decisions[i].right_id},
                             {"decision", decisions[i].match ? "match" : "non-match"},
                             {"reviewer", decisions[i].reviewer}, {"at", decisions[i].where},
                             {"reason", outcomes[i].conflict_reason}});
        break;
    }
  }
  j["decisions"] = {{"given", decisions.size()}, {"match", match}, {"non_match", decisions.size() - match},
                    {"linked", linked}, {"kept_apart", apart}, {"conflicts", conflicts}};
  return j;
}

}  // namespace ark
