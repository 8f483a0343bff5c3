// `ark model train ARK MODEL.yaml --out DIR --project P --as USER`: a risk model from a study
// definition's variables, fitted at one index date and validated at a later one, with its model
// card (docs/risk-models.md). Runs only inside an approved project for planning or direct care,
// gated and recorded as `ark run` is (governance::AuthoriseRun, then RecordRun before writing).
// The learner is logistic regression or gradient-boosted trees (`model:` in the model file).
// `ark model score` is in cmd_model_score.cc.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <type_traits>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "core/time.h"
#include "governance/gate.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "model_features.h"
#include "stats/risk_model.h"
#include "store/store.h"
#include "study/definition.h"
#include "study/run.h"
#include "who.h"

namespace ark::cli {

int ModelScore(int argc, char** argv);  // cmd_model_score.cc
int DispatchGroup(const char* group, const std::vector<std::pair<const char*, int (*)(int, char**)>>& subs, int argc,
                  char** argv);

namespace {

struct ModelFile {
  stats::ModelSpec spec;
  std::string definition_path;
  std::vector<std::string> features, groups;
  int32_t train_day = 0, validate_day = 0;
};

Result<int32_t> Day(const YAML::Node& n, const std::string& where) {
  auto t = ParseTime(n.as<std::string>(), "%Y-%m-%d");
  if (!t.ok()) return Status::InvalidArgument(where + ": " + t.status().message());
  return DayOf(*t);
}

Status Check(bool ok, const std::string& file, const YAML::Node& n, const std::string& what) {
  if (ok) return Status::OK();
  return Status::InvalidArgument(file + ":" + std::to_string(n.Mark().line + 1) + ": " + what);
}

// The `model:` mapping: {type: logistic, lambda: L} or {type: gbt, trees: N, max_depth: D, ...}.
// A bad or unknown parameter is named with its line.
Status ParseLearner(const std::string& path, const YAML::Node& n, stats::ModelSpec* spec) {
  ARK_RETURN_IF_ERROR(Check(n.IsMap(), path, n, "model: a mapping with 'type' (logistic or gbt) and its parameters"));
  ARK_RETURN_IF_ERROR(Check(static_cast<bool>(n["type"]), path, n, "model: missing key 'type' (logistic or gbt)"));
  spec->type = n["type"].as<std::string>();
  ARK_RETURN_IF_ERROR(Check(spec->type == "logistic" || spec->type == "gbt", path, n["type"],
                            "model.type: '" + spec->type + "' is not logistic or gbt"));
  const std::set<std::string> keys = spec->type == "gbt"
      ? std::set<std::string>{"type", "trees", "max_depth", "eta", "min_child_weight", "subsample", "colsample", "lambda", "seed", "threads"}
      : std::set<std::string>{"type", "lambda"};
  for (const auto& kv : n)
    ARK_RETURN_IF_ERROR(Check(keys.count(kv.first.as<std::string>()) > 0, path, kv.first,
                              "model: unknown key '" + kv.first.as<std::string>() + "' for type " + spec->type));
  if (spec->type == "logistic") {
    if (n["lambda"]) spec->lambda = n["lambda"].as<double>();
    return Check(spec->lambda >= 0, path, n["lambda"], "model.lambda must be >= 0");
  }
  stats::GbtParams& g = spec->gbt;
  auto num = [&](const char* k, auto* v) { if (n[k]) *v = n[k].as<std::remove_pointer_t<decltype(v)>>(); };
  num("trees", &g.trees), num("max_depth", &g.max_depth), num("eta", &g.eta), num("min_child_weight", &g.min_child_weight);
  num("subsample", &g.subsample), num("colsample", &g.colsample), num("lambda", &g.lambda), num("seed", &g.seed);
  num("threads", &g.threads);
  if (Status st = stats::CheckGbtParams(g); !st.ok()) {
    // The field named in the message, with its line.
    const std::string field = st.message().substr(0, st.message().find(' '));
    return Check(false, path, n[field] ? n[field] : n, "model." + st.message());
  }
  return Status::OK();
}

// Parses MODEL.yaml; the definition path is relative to the model file's folder.
Result<ModelFile> ParseModelFile(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  ARK_RETURN_IF_ERROR(Check(root.IsMap(), path, root, "expected a mapping"));
  static const std::set<std::string> kKeys = {"name", "definition", "outcome", "features", "groups", "train_index",
                                              "validate_index", "lambda", "top_percent", "intended_use", "min_cell", "model"};
  for (const auto& kv : root)
    ARK_RETURN_IF_ERROR(Check(kKeys.count(kv.first.as<std::string>()) > 0, path, kv.first, "unknown key '" + kv.first.as<std::string>() + "'"));
  for (const char* k : {"name", "definition", "outcome", "features", "train_index", "validate_index"})
    ARK_RETURN_IF_ERROR(Check(static_cast<bool>(root[k]), path, root, std::string("missing key '") + k + "'"));
  ModelFile m;
  try {
    m.spec.name = root["name"].as<std::string>();
    m.spec.outcome = root["outcome"].as<std::string>();
    const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    const std::string def = root["definition"].as<std::string>();
    m.definition_path = !def.empty() && def[0] == '/' ? def : dir + "/" + def;
    ARK_RETURN_IF_ERROR(Check(root["features"].IsSequence() && root["features"].size() > 0, path, root["features"], "features: a list of variable names"));
    for (const auto& f : root["features"]) m.features.push_back(f.as<std::string>());
    if (root["groups"]) for (const auto& g : root["groups"]) m.groups.push_back(g.as<std::string>());
    ARK_ASSIGN_OR_RETURN(m.train_day, Day(root["train_index"], path + ": train_index"));
    ARK_ASSIGN_OR_RETURN(m.validate_day, Day(root["validate_index"], path + ": validate_index"));
    ARK_RETURN_IF_ERROR(Check(m.validate_day > m.train_day, path, root["validate_index"], "validate_index must be after train_index"));
    if (root["lambda"]) m.spec.lambda = root["lambda"].as<double>();
    if (root["top_percent"]) m.spec.top_percent = root["top_percent"].as<double>();
    if (root["min_cell"]) m.spec.min_cell = root["min_cell"].as<int>();
    if (root["model"]) ARK_RETURN_IF_ERROR(ParseLearner(path, root["model"], &m.spec));
    ARK_RETURN_IF_ERROR(Check(m.spec.lambda >= 0, path, root["lambda"], "lambda must be >= 0"));
    ARK_RETURN_IF_ERROR(Check(m.spec.top_percent > 0 && m.spec.top_percent <= 100, path, root["top_percent"], "top_percent must be in (0, 100]"));
    m.spec.intended_use = root["intended_use"] ? root["intended_use"].as<std::string>()
                                               : "Find people at high risk of emergency admission so that services reach them first.";
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return m;
}

int Train(int argc, char** argv) {
  CLI::App app(
      "Train a risk model: a study definition's variables at one index date, validated at a later one.\n"
      "  ark model train ARK MODEL.yaml --out DIR --project P --as USER\n"
      "Writes DIR/model.json (coefficients), DIR/model_card.json and DIR/model_card.html (no person-level data).\n"
      "Only inside an approved project for planning or direct care.",
      "ark model train");
  std::string ark_dir, yaml, out, project;
  int threads = 2;
  Who who;
  app.add_option("ark", ark_dir, "Ark directory")->required();
  app.add_option("model", yaml, "model file (YAML; docs/risk-models.md)")->required();
  app.add_option("--out", out, "output directory")->required();
  app.add_option("--project", project, "the approved project (planning or direct care) this model belongs to")->required();
  app.add_option("--threads", threads, "worker threads of the study engine")->capture_default_str();
  std::string remedy;
  app.add_option("--remedy", remedy,
                 "recalibrate-by-deprivation: recalibrate risks within each deprivation_quintile (the model's groups must "
                 "name it); the card gives the false-negative-rate gap and calibration before and after")
      ->check(CLI::IsMember({"recalibrate-by-deprivation"}));
  std::string dump;
  app.add_option("--dump-features", dump,
                 "also write the training and validation feature tables (DIR/train.csv, DIR/validate.csv: "
                 "features and outcome, no identifiers) for comparison with other learners; refused on an Ark "
                 "that enforces governance (benchmarks and sandbox Arks only)");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  const auto t0 = std::chrono::steady_clock::now();
  if (!dump.empty()) {
    auto enforced = gov::Enforced(ark_dir);
    if (!enforced.ok()) return ReportError(enforced.status());
    if (*enforced)
      return ReportError(gov::LogRefusal(ark_dir, who.user, Status::PermissionDenied(
          "--dump-features writes row-level features: refused on an Ark that enforces governance (use it on a "
          "synthetic or sandbox Ark, as bench/model does)")));
  }
  auto mf = ParseModelFile(yaml);
  if (!mf.ok()) return ReportError(mf.status());
  mf->spec.remedy = remedy;
  if (!remedy.empty() && std::find(mf->groups.begin(), mf->groups.end(), mf->spec.remedy_group) == mf->groups.end())
    return ReportError(Status::InvalidArgument(yaml + ": groups: --remedy " + remedy + " needs '" + mf->spec.remedy_group +
                                               "' among the model's groups"));
  auto def = study::ParseDefinitionFile(mf->definition_path);
  if (!def.ok()) return ReportError(def.status());
  if (def->index.kind != study::IndexSpec::Kind::kFixed)
    return ReportError(Status::InvalidArgument(mf->definition_path + ": a model needs a fixed index_date (it is moved to the training and validation dates)"));
  for (const auto& v : def->variables)
    if (v.name == mf->spec.outcome && v.kind == study::Variable::Kind::kAggregate && v.window.to)
      mf->spec.horizon_days = *v.window.to + 1 - v.window.from.value_or(0);

  // The gate of `ark run`: an approved project, one of its people, its dates and datasets.
  auto gate = AdmitModelProject(ark_dir, who, project, "risk models are trained for planning or direct care");
  if (!gate.ok()) return ReportError(gate.status());
  std::unique_ptr<Catalog>* cat = &gate->cat;
  const gov::Actor* actor = &gate->actor;
  const gov::Project* proj = &gate->project;
  const std::vector<std::string>& datasets = gate->datasets;
  const std::string pname = gov::PurposeName(proj->purpose);
  mf->spec.purpose = pname;
  auto sp = study::ParsePurpose(gov::OptOutsApply(*proj) ? (pname == "direct_care" ? "direct-care" : pname) : "direct-care");
  if (!sp.ok()) return ReportError(sp.status());

  std::vector<PersonKey> persons;
  const FeatureRequest req{mf->definition_path, mf->features, mf->groups, mf->spec.outcome, datasets};
  auto train = FeatureTableAt(*def, mf->train_day, req, ark_dir, *sp, threads, &persons);
  if (!train.ok()) return ReportError(train.status());
  auto validate = FeatureTableAt(*def, mf->validate_day, req, ark_dir, *sp, threads, &persons);
  if (!validate.ok()) return ReportError(validate.status());
  mf->spec.definition = mf->definition_path.substr(mf->definition_path.rfind('/') + 1);
  mf->spec.definition_sha256 = def->sha256;
  auto model = stats::TrainAndValidate(*train, *validate, mf->spec);
  if (!model.ok()) return ReportError(model.status());

  // Recorded (and checked against opt-outs) before anything is written, as `ark run` does.
  std::sort(persons.begin(), persons.end());
  persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
  auto ledger = gov::Ledger::Open(ark_dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  auto store = Store::Open(ark_dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  auto rec = gov::RecordRun(**cat, **ledger, **store, *actor, *proj, datasets, def->sha256, persons, gov::Today());
  if (!rec.ok()) return ReportError(rec.status());
  model->card["run_id"] = rec->id;
  // `ark model score` evaluates the same definition (checked against its SHA-256) at a new date.
  std::error_code ec;
  model->model["definition_path"] = std::filesystem::absolute(mf->definition_path, ec).lexically_normal().string();

  if (int rc = ReportError(MakeDirs(out))) return rc;
  if (!dump.empty()) {
    if (int rc = ReportError(MakeDirs(dump))) return rc;
    if (int rc = ReportError(WriteFileAtomic(dump + "/train.csv", FeatureCsv(*train, mf->spec.outcome)))) return rc;
    if (int rc = ReportError(WriteFileAtomic(dump + "/validate.csv", FeatureCsv(*validate, mf->spec.outcome)))) return rc;
  }
  if (!model->booster_json.empty())
    if (int rc = ReportError(WriteFileAtomic(out + "/booster.json", model->booster_json))) return rc;
  if (int rc = ReportError(WriteFileAtomic(out + "/model.json", model->model.dump(2) + "\n"))) return rc;
  if (int rc = ReportError(WriteFileAtomic(out + "/model_card.json", model->card.dump(2) + "\n"))) return rc;
  if (int rc = ReportError(WriteFileAtomic(out + "/model_card.html", stats::ModelCardHtml(model->card)))) return rc;
  const auto& v = model->card["performance"]["temporal_validation"];
  if (model->card.contains("remedy") && !model->card["remedy"]["before"]["fnr_gap"].is_null() &&
      !model->card["remedy"]["after"]["fnr_gap"].is_null())
    std::printf("remedy %s: false-negative-rate gap %.1f -> %.1f points, calibration slope %.3f -> %.3f\n", remedy.c_str(),
                100 * model->card["remedy"]["before"]["fnr_gap"]["difference"].get<double>(),
                100 * model->card["remedy"]["after"]["fnr_gap"]["difference"].get<double>(),
                model->card["remedy"]["before"]["calibration"]["slope"].get<double>(),
                model->card["remedy"]["after"]["calibration"]["slope"].get<double>());
  std::printf("%s (%s): trained on %zu people at %s, validated on %zu at %s: AUROC %.4f (%.4f-%.4f), calibration slope %.3f; "
              "fit %.3f s, total %.2f s; run %lld in project %s; outputs in %s\n",
              mf->spec.name.c_str(), mf->spec.type.c_str(), train->x.rows, train->index_date.c_str(), validate->x.rows, validate->index_date.c_str(),
              v["auroc"]["estimate"].get<double>(), v["auroc"]["ci95"][0].get<double>(), v["auroc"]["ci95"][1].get<double>(),
              v["calibration"]["slope"].get<double>(), model->seconds_fit,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), static_cast<long long>(rec->id),
              project.c_str(), out.c_str());
  return 0;
}

int Model(int argc, char** argv) { return DispatchGroup("model", {{"train", Train}, {"score", ModelScore}}, argc, argv); }
ARK_COMMAND(kModel, "model", "risk models: train (with a model card), score (case finding or aggregate need)", Model);

}  // namespace
}  // namespace ark::cli
