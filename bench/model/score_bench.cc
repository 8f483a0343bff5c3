// score_bench MODEL_DIR FEATURES.csv [THREADS]
//
// Scores every row of a feature table (as `ark model train --dump-features` writes it: a header
// naming the columns, one row per person) with the boosted trees in MODEL_DIR (model.json and
// booster.json, from `ark model train`), three ways on the same rows: xgboost's predictor on one
// thread and on THREADS (default 2), and Ark's flattened forest (stats/forest.h) on THREADS, as
// `ark model score` does. Prints each time (best of 3), the ratio, and whether the risks are the
// same to the bit. Exit 1 when they differ or an input is bad.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/forest.h"
#include "stats/gbt.h"

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "score_bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  for (std::string f; std::getline(s, f, ',');) out.push_back(f);
  return out;
}

// The model's feature columns of the table, in the model's order.
ark::stats::Design ReadTable(const std::string& path, const std::vector<std::string>& features) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    std::fprintf(stderr, "score_bench: %s: no header\n", path.c_str());
    std::exit(1);
  }
  const auto header = Split(line);
  std::vector<size_t> at;
  for (const auto& f : features) {
    auto it = std::find(header.begin(), header.end(), f);
    if (it == header.end()) {
      std::fprintf(stderr, "score_bench: %s: no column '%s'\n", path.c_str(), f.c_str());
      std::exit(1);
    }
    at.push_back(it - header.begin());
  }
  ark::stats::Design x;
  x.cols = features.size();
  std::vector<double> row(header.size());
  for (size_t n = 2; std::getline(in, line); ++n) {
    const char* p = line.c_str();
    for (size_t c = 0; c < header.size(); ++c) {
      char* end = nullptr;
      row[c] = std::strtod(p, &end);
      if (end == p || (*end != ',' && *end != '\0')) {
        std::fprintf(stderr, "score_bench: %s line %zu column %s: not a number\n", path.c_str(), n, header[c].c_str());
        std::exit(1);
      }
      p = *end ? end + 1 : end;
    }
    for (size_t c : at) x.values.push_back(row[c]);
    ++x.rows;
  }
  return x;
}

template <typename F>
double Best(F&& f) {
  double best = 1e300;
  for (int i = 0; i < 3; ++i) {
    const auto t = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: score_bench MODEL_DIR FEATURES.csv [THREADS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const auto model = nlohmann::json::parse(Slurp(dir + "/model.json"));
  std::vector<std::string> features;
  for (const auto& f : model.at("features")) features.push_back(f.at("name").get<std::string>());
  ark::stats::GbtModel gbt;
  gbt.json = Slurp(dir + "/booster.json");
  const ark::stats::Design x = ReadTable(argv[2], features);
  auto forest = ark::stats::Forest::Flatten(gbt.json, x.cols);
  if (!forest.ok()) {
    std::fprintf(stderr, "score_bench: %s\n", forest.status().ToString().c_str());
    return 1;
  }
  std::vector<double> by_xgb, by_xgb_n, by_forest;
  const double xgb1 = Best([&] { by_xgb = *ark::stats::PredictGbt(gbt, x, 1); });
  const double xgbn = Best([&] { by_xgb_n = *ark::stats::PredictGbt(gbt, x, threads); });
  const double ark = Best([&] { by_forest = forest->Predict(x, threads); });
  size_t differ = 0;
  for (size_t i = 0; i < x.rows; ++i) differ += by_forest[i] != by_xgb[i] || by_xgb_n[i] != by_xgb[i];
  std::printf("score_bench: %zu rows x %zu features, %zu trees of depth <= %d; best of 3:\n", x.rows, x.cols, forest->trees(),
              forest->depth());
  std::printf("  xgboost predictor, 1 thread   %.3f s\n", xgb1);
  std::printf("  xgboost predictor, %d threads  %.3f s\n", threads, xgbn);
  std::printf("  Ark forest, %d threads         %.3f s  (%.1fx xgboost's best)\n", threads, ark, std::min(xgb1, xgbn) / ark);
  std::printf("  risks the same to the bit: %s (%zu rows differ)\n", differ ? "NO" : "yes", differ);
  return differ ? 1 : 0;
}
