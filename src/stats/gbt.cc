#include "stats/gbt.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace ark::stats {
namespace {

Status Xgb(int rc, const char* what) {
  if (rc == 0) return Status::OK();
  return Status::Internal(std::string("xgboost ") + what + ": " + XGBGetLastError());
}

struct MatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using Matrix = std::unique_ptr<void, MatrixFree>;
using Booster = std::unique_ptr<void, BoosterFree>;

Result<Matrix> MakeMatrix(const Design& x) {
  if (x.values.size() != x.rows * x.cols) return Status::InvalidArgument("design has the wrong number of values");
  std::vector<float> v(x.values.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(x.values[i])) return Status::InvalidArgument("a feature value is not finite (row " + std::to_string(i / x.cols + 1) + ")");
    v[i] = static_cast<float>(x.values[i]);
  }
  DMatrixHandle h = nullptr;
  // NaN marks missing values; none reach here (checked above).
  ARK_RETURN_IF_ERROR(Xgb(XGDMatrixCreateFromMat(v.data(), x.rows, x.cols, NAN, &h), "matrix"));
  return Matrix(h);
}

Status Set(BoosterHandle b, const char* k, const std::string& v) { return Xgb(XGBoosterSetParam(b, k, v.c_str()), k); }

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

Status CheckGbtParams(const GbtParams& p) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (p.trees < 1 || p.trees > 10000) return bad("trees must be between 1 and 10000");
  if (p.max_depth < 1 || p.max_depth > 16) return bad("max_depth must be between 1 and 16");
  if (!(p.eta > 0 && p.eta <= 1)) return bad("eta must be in (0, 1]");
  if (!(p.min_child_weight >= 0)) return bad("min_child_weight must be >= 0");
  if (!(p.subsample > 0 && p.subsample <= 1)) return bad("subsample must be in (0, 1]");
  if (!(p.colsample > 0 && p.colsample <= 1)) return bad("colsample must be in (0, 1]");
  if (!(p.lambda >= 0)) return bad("lambda must be >= 0");
  if (p.threads < 1 || p.threads > 64) return bad("threads must be between 1 and 64");
  return Status::OK();
}

Result<GbtModel> FitGbt(const Design& x, const std::vector<int>& y, const GbtParams& p) {
  ARK_RETURN_IF_ERROR(CheckGbtParams(p));
  if (x.rows == 0) return Status::InvalidArgument("no rows to fit");
  if (y.size() != x.rows) return Status::InvalidArgument("outcomes and rows differ in number");
  std::vector<float> label(y.size());
  double prevalence = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) return Status::InvalidArgument("outcome of row " + std::to_string(i + 1) + " is not 0 or 1");
    label[i] = static_cast<float>(y[i]);
    prevalence += y[i];
  }
  // Boosting starts from the outcome's prevalence (xgboost's default is 0.5, which many trees
  // must first undo when the outcome is rare).
  prevalence = std::clamp(prevalence / static_cast<double>(y.size()), 1e-6, 1 - 1e-6);
  ARK_ASSIGN_OR_RETURN(Matrix m, MakeMatrix(x));
  ARK_RETURN_IF_ERROR(Xgb(XGDMatrixSetFloatInfo(m.get(), "label", label.data(), label.size()), "label"));
  DMatrixHandle dm = m.get();
  BoosterHandle bh = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterCreate(&dm, 1, &bh), "booster"));
  Booster b(bh);
  const std::vector<std::pair<const char*, std::string>> params = {
      {"objective", "binary:logistic"}, {"tree_method", "hist"}, {"verbosity", "0"},
      {"max_depth", std::to_string(p.max_depth)}, {"eta", Num(p.eta)}, {"min_child_weight", Num(p.min_child_weight)},
      {"subsample", Num(p.subsample)}, {"colsample_bytree", Num(p.colsample)}, {"lambda", Num(p.lambda)},
      {"seed", std::to_string(p.seed)}, {"nthread", std::to_string(p.threads)}, {"base_score", Num(prevalence)}};
  for (const auto& [k, v] : params) ARK_RETURN_IF_ERROR(Set(bh, k, v));
  for (int it = 0; it < p.trees; ++it) ARK_RETURN_IF_ERROR(Xgb(XGBoosterUpdateOneIter(bh, it, dm), "training"));

  GbtModel out;
  bst_ulong len = 0;
  const char* buf = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterSaveModelToBuffer(bh, R"({"format": "json"})", &len, &buf), "save"));
  out.json.assign(buf, len);

  // Importance: total gain per feature ("f<j>"), as a share of all gain.
  bst_ulong nf = 0, dim = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterFeatureScore(bh, R"({"importance_type": "total_gain"})", &nf, &names, &dim, &shape, &scores),
                          "feature scores"));
  out.gain_share.assign(x.cols, 0);
  double total = 0;
  for (bst_ulong i = 0; i < nf; ++i) {
    const std::string n = names[i];
    if (n.size() < 2 || n[0] != 'f') continue;
    const size_t j = std::stoul(n.substr(1));
    if (j < x.cols) out.gain_share[j] += scores[i], total += scores[i];
  }
  if (total > 0) for (double& g : out.gain_share) g /= total;
  return out;
}

Result<std::vector<double>> PredictGbt(const GbtModel& m, const Design& x, int threads) {
  BoosterHandle bh = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterCreate(nullptr, 0, &bh), "booster"));
  Booster b(bh);
  if (XGBoosterLoadModelFromBuffer(bh, m.json.data(), m.json.size()) != 0)
    return Status::InvalidArgument(std::string("not an xgboost model: ") + XGBGetLastError());
  ARK_RETURN_IF_ERROR(Set(bh, "nthread", std::to_string(threads < 1 ? 1 : threads)));
  bst_ulong nfeat = 0;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterGetNumFeature(bh, &nfeat), "features"));
  if (nfeat != x.cols)
    return Status::InvalidArgument("the model has " + std::to_string(nfeat) + " features, the table " + std::to_string(x.cols));
  if (x.rows == 0) return std::vector<double>{};
  ARK_ASSIGN_OR_RETURN(Matrix mat, MakeMatrix(x));
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* res = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterPredictFromDMatrix(
                              bh, mat.get(), R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
                              &shape, &dim, &res),
                          "predict"));
  return std::vector<double>(res, res + x.rows);
}

Result<GbtPredictor> GbtPredictor::Load(const GbtModel& m, size_t cols) {
  BoosterHandle bh = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterCreate(nullptr, 0, &bh), "booster"));
  Booster b(bh);
  if (XGBoosterLoadModelFromBuffer(bh, m.json.data(), m.json.size()) != 0)
    return Status::InvalidArgument(std::string("not an xgboost model: ") + XGBGetLastError());
  ARK_RETURN_IF_ERROR(Set(bh, "nthread", "1"));
  bst_ulong nfeat = 0;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterGetNumFeature(bh, &nfeat), "features"));
  if (nfeat != cols)
    return Status::InvalidArgument("the model has " + std::to_string(nfeat) + " features, the table " + std::to_string(cols));
  GbtPredictor p;
  p.booster_ = b.release();
  p.cols_ = cols;
  return p;
}

GbtPredictor::GbtPredictor(GbtPredictor&& o) noexcept : booster_(o.booster_), cols_(o.cols_) { o.booster_ = nullptr; }
GbtPredictor& GbtPredictor::operator=(GbtPredictor&& o) noexcept {
  if (this != &o) {
    if (booster_) XGBoosterFree(booster_);
    booster_ = o.booster_, cols_ = o.cols_;
    o.booster_ = nullptr;
  }
  return *this;
}
GbtPredictor::~GbtPredictor() {
  if (booster_) XGBoosterFree(booster_);
}

Result<double> GbtPredictor::Predict(const double* row) const {
  Design x;
  x.rows = 1, x.cols = cols_;
  x.values.assign(row, row + cols_);
  ARK_ASSIGN_OR_RETURN(Matrix mat, MakeMatrix(x));
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* res = nullptr;
  ARK_RETURN_IF_ERROR(Xgb(XGBoosterPredictFromDMatrix(
                              booster_, mat.get(), R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
                              &shape, &dim, &res),
                          "predict"));
  return static_cast<double>(res[0]);
}

}  // namespace ark::stats
