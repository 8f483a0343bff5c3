#include "stats/remedy.h"

#include <algorithm>
#include <cmath>

#include "stats/logistic.h"

namespace ark::stats {
namespace {

double Logit(double p) {
  p = std::clamp(p, 1e-12, 1 - 1e-12);
  return std::log(p / (1 - p));
}

}  // namespace

Result<Recalibration> FitGroupRecalibration(const std::vector<double>& p, const std::vector<int>& y,
                                            const std::vector<std::string>& group, int min_cell) {
  if (p.size() != y.size() || p.size() != group.size())
    return Status::InvalidArgument("recalibration: risks, outcomes and group labels differ in number");
  std::map<std::string, std::pair<Design, std::vector<int>>> rows;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0 && p[i] <= 1)) return Status::InvalidArgument("recalibration: risk " + std::to_string(i + 1) + " is outside [0, 1]");
    if (y[i] != 0 && y[i] != 1) return Status::InvalidArgument("recalibration: outcome " + std::to_string(i + 1) + " is not 0 or 1");
    auto& [x, yy] = rows[group[i]];
    x.cols = 1;
    x.values.push_back(Logit(p[i]));
    ++x.rows;
    yy.push_back(y[i]);
  }
  Recalibration r;
  for (auto& [label, xy] : rows) {
    GroupRecalibration g;
    const auto cases = std::count(xy.second.begin(), xy.second.end(), 1);
    const auto controls = static_cast<int64_t>(xy.second.size()) - cases;
    if (cases >= min_cell && controls >= min_cell) {
      auto fit = FitLogistic(xy.first, xy.second);
      if (fit.ok() && std::isfinite(fit->intercept) && std::isfinite(fit->coefficients[0]))
        g = {fit->intercept, fit->coefficients[0], true};
    }
    r.groups[label] = g;
  }
  return r;
}

std::vector<double> ApplyRecalibration(const Recalibration& r, const std::vector<double>& p,
                                       const std::vector<std::string>& group) {
  std::vector<double> out(p);
  for (size_t i = 0; i < p.size() && i < group.size(); ++i) {
    auto it = r.groups.find(group[i]);
    if (it == r.groups.end() || !it->second.fitted) continue;
    out[i] = 1 / (1 + std::exp(-(it->second.intercept + it->second.slope * Logit(p[i]))));
  }
  return out;
}

nlohmann::ordered_json RecalibrationJson(const Recalibration& r) {
  nlohmann::ordered_json g = nlohmann::ordered_json::array();
  for (const auto& [label, c] : r.groups)
    g.push_back({{"group", label}, {"intercept", c.intercept}, {"slope", c.slope}, {"fitted", c.fitted}});
  return {{"type", "recalibrate-by-deprivation"}, {"group_variable", r.group_variable}, {"groups", g}};
}

Result<Recalibration> RecalibrationFromJson(const nlohmann::ordered_json& j) {
  if (!j.is_object() || j.value("type", std::string()) != "recalibrate-by-deprivation")
    return Status::InvalidArgument("remedy.type: expected 'recalibrate-by-deprivation'");
  if (!j.contains("group_variable") || !j["group_variable"].is_string())
    return Status::InvalidArgument("remedy.group_variable: missing");
  if (!j.contains("groups") || !j["groups"].is_array()) return Status::InvalidArgument("remedy.groups: missing");
  Recalibration r;
  r.group_variable = j["group_variable"].get<std::string>();
  for (size_t k = 0; k < j["groups"].size(); ++k) {
    const auto& g = j["groups"][k];
    const std::string at = "remedy.groups[" + std::to_string(k) + "]";
    if (!g.is_object() || !g.contains("group") || !g["group"].is_string() || !g.contains("intercept") ||
        !g["intercept"].is_number() || !g.contains("slope") || !g["slope"].is_number())
      return Status::InvalidArgument(at + ": needs group, intercept and slope");
    r.groups[g["group"].get<std::string>()] = {g["intercept"].get<double>(), g["slope"].get<double>(), g.value("fitted", true)};
  }
  return r;
}

}  // namespace ark::stats
