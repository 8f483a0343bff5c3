#include "stats/score.h"

#include <cmath>

namespace ark::stats {

Result<std::vector<double>> Scorer::Score(const Design& x, int threads) const {
  if (x.cols != features.size())
    return Status::InvalidArgument("rows have " + std::to_string(x.cols) + " columns, the model " + std::to_string(features.size()));
  if (type == "gbt" && forest) {
    if (x.values.size() != x.rows * x.cols) return Status::InvalidArgument("rows have the wrong number of values");
    for (size_t i = 0; i < x.values.size(); ++i)
      if (!std::isfinite(x.values[i])) return Status::InvalidArgument("a feature value is not finite (row " + std::to_string(i / x.cols + 1) + ")");
    return forest->Predict(x, threads);
  }
  if (type == "gbt") return PredictGbt(gbt, x, gbt_threads);
  std::vector<double> p(x.rows);
  for (size_t i = 0; i < x.rows; ++i) {
    double eta = intercept;
    for (size_t j = 0; j < x.cols; ++j) eta += coefficient[j] * (x.values[i * x.cols + j] - mean[j]) / sd[j];
    p[i] = 1 / (1 + std::exp(-eta));
  }
  return p;
}

Result<Scorer> LoadScorer(const nlohmann::ordered_json& m, const std::string& booster_json) {
  Scorer s;
  try {
    s.type = m.value("type", std::string("logistic"));
    if (s.type != "logistic" && s.type != "gbt") return Status::InvalidArgument("model.json: unknown type '" + s.type + "'");
    if (!m.contains("features") || !m["features"].is_array() || m["features"].empty())
      return Status::InvalidArgument("model.json: no 'features'");
    for (const auto& f : m["features"]) {
      s.features.push_back(f.at("name").get<std::string>());
      if (s.type == "logistic") {
        s.mean.push_back(f.at("mean").get<double>());
        const double sd = f.at("sd").get<double>();
        if (!(sd > 0)) return Status::InvalidArgument("model.json: feature '" + s.features.back() + "' has sd <= 0");
        s.sd.push_back(sd);
        s.coefficient.push_back(f.at("coefficient").get<double>());
      }
    }
    if (s.type == "logistic") s.intercept = m.at("intercept").get<double>();
    if (s.type == "gbt" && m.contains("parameters")) s.gbt_threads = m["parameters"].value("threads", 1);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("model.json: ") + e.what());
  }
  if (s.type == "gbt") {
    if (booster_json.empty()) return Status::InvalidArgument("model.json: a gbt model needs its booster file");
    s.gbt.json = booster_json;
    auto forest = Forest::Flatten(booster_json, s.features.size());
    if (forest.ok()) s.forest = std::make_shared<const Forest>(std::move(*forest));
    else if (forest.status().code() != StatusCode::kFailedPrecondition) return forest.status();
  }
  return s;
}

}  // namespace ark::stats
