// `ark model score ARK MODEL_DIR --at DATE --out DIR --project P --as USER`: scores everyone in
// the Ark's population at DATE with a model `ark model train` wrote (docs/risk-models.md,
// "Scoring"). The project's purpose decides what comes out:
//  - direct care: case-finding lists, one per practice, of that practice's registered people at or
//    above the threshold (pseudonymous person keys and risks). Opt-outs do not apply, as for
//    `ark run` in a direct-care project; the lists are person-level and stay in the Ark's
//    workspace, like a run's dataset.csv.
//  - planning: aggregate need only (expected emergency admissions and people above the threshold
//    by practice, small area (LSOA) and deprivation decile), counts of people under the disclosure
//    rules; opt-outs apply.
//  - research: refused, and the refusal logged.
// Gated and recorded as `ark model train` is (AuthoriseRun; RecordRun on the ledger before any
// output is written).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <set>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "core/time.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "model_features.h"
#include "stats/metrics.h"
#include "stats/need.h"
#include "stats/remedy.h"
#include "stats/score.h"
#include "store/store.h"
#include "study/definition.h"
#include "who.h"

namespace ark::cli {
namespace {

using Json = nlohmann::ordered_json;

// A practice code as a file name (anything but letters, digits, '-' and '_' becomes '_').
std::string FileName(const std::string& code) {
  std::string s = code;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return s;
}

// A directory holding anything but an earlier score's outputs is refused; with `clear`, those
// outputs are removed (so that no stale list or table survives a change of purpose).
Status EarlierScore(const std::string& out, bool clear) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(out, ec)) return Status::OK();
  std::vector<fs::path> ours;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string n = e.path().filename().string();
    if (n == "summary.json" || n == "case_finding" || (n.rfind("need_by_", 0) == 0 && e.path().extension() == ".csv")) ours.push_back(e.path());
    else return Status::FailedPrecondition(out + " holds " + n + ": not an earlier `ark model score` output; choose another --out");
  }
  if (clear)
    for (const fs::path& p : ours) fs::remove_all(p, ec);
  if (ec) return Status::IOError(out + ": " + ec.message());
  return Status::OK();
}

double Round(double v, int digits) {
  const double f = std::pow(10, digits);
  return std::round(v * f) / f;
}

}  // namespace

int ModelScore(int argc, char** argv) {
  CLI::App app(
      "Score everyone in an Ark's population at a date with a trained risk model.\n"
      "  ark model score ARK MODEL_DIR --at DATE --out DIR --project P --as USER [--top-percent K | --threshold R]\n"
      "Direct care: DIR/case_finding/PRACTICE.csv (person keys and risks at or above the threshold; stays in the Ark).\n"
      "Planning: DIR/need_by_{practice,lsoa,deprivation_decile}.csv (aggregate, disclosure rules applied).\n"
      "Research projects are refused. DIR/summary.json either way.",
      "ark model score");
  std::string ark_dir, model_dir, at, out, project;
  double top_percent = 0, threshold = -1;
  int threads = 2;
  Who who;
  app.add_option("ark", ark_dir, "Ark directory")->required();
  app.add_option("model", model_dir, "the directory `ark model train` wrote (model.json)")->required();
  app.add_option("--at", at, "the index date to score at (YYYY-MM-DD)")->required();
  app.add_option("--out", out, "output directory")->required();
  app.add_option("--project", project, "the approved project (direct care or planning)")->required();
  auto* top = app.add_option("--top-percent", top_percent, "flag the top K% of risks (default: the model's top_percent)");
  auto* thr = app.add_option("--threshold", threshold, "flag risks at or above R (0..1) instead");
  top->excludes(thr);
  app.add_option("--threads", threads, "worker threads")->capture_default_str();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  const auto t0 = std::chrono::steady_clock::now();
  auto day = ParseTime(at, "%Y-%m-%d");
  if (!day.ok()) return ReportError(Status::InvalidArgument("--at: " + day.status().message()));
  if (thr->count() && !(threshold >= 0 && threshold <= 1)) return ReportError(Status::InvalidArgument("--threshold must be in [0, 1]"));
  if (top->count() && !(top_percent > 0 && top_percent <= 100)) return ReportError(Status::InvalidArgument("--top-percent must be in (0, 100]"));
  if (int rc = ReportError(EarlierScore(out, false))) return rc;
  auto model = LoadTrainedModel(model_dir);
  if (!model.ok()) return ReportError(model.status());

  // The gate of `ark model train`: an approved project, one of its people, its dates and datasets.
  auto gate = AdmitModelProject(ark_dir, who, project, "risk scores are for direct care (case finding) or planning (aggregate need)");
  if (!gate.ok()) return ReportError(gate.status());
  std::unique_ptr<Catalog>* cat = &gate->cat;
  const gov::Actor* actor = &gate->actor;
  const gov::Project* proj = &gate->project;
  const std::vector<std::string>& datasets = gate->datasets;
  const bool direct = proj->purpose == gov::Purpose::kDirectCare;
  // As `ark run`: opt-outs apply unless the purpose is direct care or the project has an exemption.
  auto sp = study::ParsePurpose(gov::OptOutsApply(*proj) ? "planning" : "direct-care");
  if (!sp.ok()) return ReportError(sp.status());

  // A remedy (`ark model train --remedy`) recalibrates each person's risk within their group.
  std::optional<stats::Recalibration> remedy;
  if (model->json.contains("remedy")) {
    auto r = stats::RecalibrationFromJson(model->json["remedy"]);
    if (!r.ok()) return ReportError(Status::InvalidArgument(model_dir + "/model.json: " + r.status().message()));
    remedy = std::move(*r);
  }
  std::vector<PersonKey> persons;
  const FeatureRequest req{model->json.value("definition_path", std::string()), model->scorer.features,
                           remedy ? std::vector<std::string>{remedy->group_variable} : std::vector<std::string>{}, "",
                           datasets};
  auto table = FeatureTableAt(model->def, DayOf(*day), req, ark_dir, *sp, threads, &persons);
  if (!table.ok()) return ReportError(table.status());
  if (persons.empty()) return ReportError(Status::FailedPrecondition("nobody in the population at " + at + ": nothing to score"));
  const auto ts = std::chrono::steady_clock::now();
  auto risk = model->scorer.Score(table->x, threads);
  if (!risk.ok()) return ReportError(risk.status());
  if (remedy) *risk = stats::ApplyRecalibration(*remedy, *risk, table->groups[remedy->group_variable]);
  const double seconds_score = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
  if (!thr->count()) {
    const double k = top->count() ? top_percent : model->json.value("top_percent", 5.0);
    auto t = stats::TopThreshold(*risk, k);
    if (!t.ok()) return ReportError(t.status());
    threshold = *t, top_percent = k;
  }

  auto store = Store::Open(ark_dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  std::vector<std::string> practice, area, decile;
  if (int rc = ReportError(PersonPlaces(**store, persons, &practice, &area, &decile))) return rc;

  // On the ledger (and checked against opt-outs) before anything is written.
  auto ledger = gov::Ledger::Open(ark_dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  std::vector<PersonKey> population = persons;
  std::sort(population.begin(), population.end());
  auto rec = gov::RecordRun(**cat, **ledger, **store, *actor, *proj, datasets, model->def.sha256, population, gov::Today());
  if (!rec.ok()) return ReportError(rec.status());

  Json summary;
  summary["model"] = model->json.value("model", std::string());
  summary["type"] = model->scorer.type;
  summary["scored_at"] = at;
  summary["project"] = project;
  summary["purpose"] = gov::PurposeName(proj->purpose);
  summary["run_id"] = rec->id;
  summary["threshold"] = {{"risk", Round(threshold, 6)}};
  if (!thr->count()) summary["threshold"]["top_percent"] = top_percent;
  if (int rc = ReportError(EarlierScore(out, true))) return rc;
  if (int rc = ReportError(MakeDirs(out))) return rc;
  if (direct) {
    auto lists = stats::CaseFindingLists(std::vector<uint64_t>(persons.begin(), persons.end()), practice, *risk, threshold);
    if (!lists.ok()) return ReportError(lists.status());
    if (int rc = ReportError(MakeDirs(out + "/case_finding"))) return rc;
    Json files = Json::array();
    size_t listed = 0;
    for (const stats::CaseList& l : *lists) {
      const std::string f = "case_finding/" + FileName(l.practice) + ".csv";
      if (int rc = ReportError(WriteFileAtomic(out + "/" + f, stats::CaseListCsv(l)))) return rc;
      files.push_back({{"practice", l.practice}, {"file", f}, {"people", l.people.size()}});
      listed += l.people.size();
    }
    summary["people_scored"] = persons.size();
    summary["people_without_practice"] = std::count(practice.begin(), practice.end(), std::string());
    summary["expected_admissions"] = Round(std::accumulate(risk->begin(), risk->end(), 0.0), 4);
    summary["case_finding"] = files;
    summary["note"] = "person-level (Ark person keys): for the practices' direct care only; stays in the Ark's workspace and is not released";
    std::printf("%s: scored %zu people at %s in %.3f s; %zu at or above risk %.4f listed for %zu practices in %s/case_finding; "
                "run %lld in project %s (direct care); total %.2f s\n",
                model_dir.c_str(), persons.size(), at.c_str(), seconds_score, listed, threshold, lists->size(), out.c_str(),
                static_cast<long long>(rec->id), project.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } else {
    Json tables = Json::array();
    for (const auto& [by, labels] : {std::pair{std::string("practice"), &practice}, std::pair{std::string("lsoa"), &area},
                                     std::pair{std::string("deprivation_decile"), &decile}}) {
      auto t = stats::AggregateNeed(by, *labels, *risk, threshold);
      if (!t.ok()) return ReportError(t.status());
      const std::string f = "need_by_" + by + ".csv";
      if (int rc = ReportError(WriteFileAtomic(out + "/" + f, stats::NeedCsv(*t)))) return rc;
      tables.push_back(f);
      if (by == "practice") {
        summary["people_scored"] = t->total.people_published ? Json(*t->total.people_published) : Json("[REDACTED]");
        summary["expected_admissions"] = t->total.expected_published ? Json(*t->total.expected_published) : Json("[REDACTED]");
        summary["people_at_or_above_threshold"] = t->total.above_published ? Json(*t->total.above_published) : Json("[REDACTED]");
      }
    }
    summary["tables"] = tables;
    summary["disclosure"] = "counts of people: opensafely (redacted at or below 7, then rounded to 5); expected admissions "
                            "(sum of risks) to 0.1, withheld with a redacted count of people";
    std::printf("%s: scored %s people at %s in %.3f s; expected emergency admissions %s; need by practice, LSOA and "
                "deprivation decile in %s; run %lld in project %s (planning); total %.2f s\n",
                model_dir.c_str(), summary["people_scored"].dump().c_str(), at.c_str(), seconds_score,
                summary["expected_admissions"].dump().c_str(), out.c_str(), static_cast<long long>(rec->id), project.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return ReportError(WriteFileAtomic(out + "/summary.json", summary.dump(2) + "\n"));
}

}  // namespace ark::cli
