// `ark link`, `ark build`, `ark stats`.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "ingest/build.h"
#include "link/cluster.h"
#include "link/link.h"
#include "link/review.h"
#include "privacy/bloom.h"
#include "store/store.h"

namespace ark::cli {
namespace {

using OJson = nlohmann::ordered_json;

OJson LinkJson(const LinkReport& r) {
  OJson j;
  j["mode"] = r.mode;
  j["persons"] = r.persons;
  OJson feeds = OJson::object();
  for (auto& [name, c] : r.feeds) {
    feeds[name] = {{"records", c.records}, {"linked", c.linked}, {"unlinked", c.records - c.linked},
                   {"missing_nhs_number", c.missing_nhs}, {"invalid_nhs_number", c.invalid_nhs},
                   {"linked_rate", c.records ? static_cast<double>(c.linked) / c.records : 0.0}};
  }
  j["custodians"] = feeds;
  if (r.pprl) {
    const PprlStats& p = *r.pprl;
    OJson model = OJson::array();
    for (auto& f : p.model) {
      OJson lv = OJson::array();
      for (size_t l = 0; l < f.levels.size(); ++l) lv.push_back({{"level", f.levels[l]}, {"m", f.m[l]}, {"u", f.u[l]}});
      model.push_back({{"field", f.name}, {"levels", lv}});
    }
    OJson rules = OJson::object();
    for (size_t i = 0; i < p.pairs_per_rule.size(); ++i) rules[BlockingRuleNames()[i]] = p.pairs_per_rule[i];
    j["pprl"] = {{"records", p.records}, {"records_without_nhs_number", p.records_without_nhs},
                 {"linked_without_nhs_number", p.linked_without_nhs}, {"candidate_pairs", p.candidate_pairs},
                 {"pairs_per_blocking_rule", rules}, {"accepted_pairs", p.accepted_pairs},
                 {"refused_merges_different_nhs", p.refused_merges}, {"lambda", p.lambda},
                 {"threshold_weight", p.threshold_weight}, {"threshold_probability", p.threshold_probability},
                 {"expected_false_matches", p.expected_false_matches},
                 {"expected_missed_matches", p.expected_missed_matches},
                 {"nhs_consistency", {{"both_valid_pairs", p.both_valid_pairs},
                                      {"same_nhs_model_match", p.same_nhs_model_match},
                                      {"same_nhs_model_nonmatch", p.same_nhs_model_nonmatch},
                                      {"different_nhs_model_match", p.diff_nhs_model_match}}},
                 {"clustering", ClusteringJson(p.clustering, p.clusters, p.refused_merges)},
                 {"model", model}, {"seconds", p.seconds}};
    auto rows = [](const std::vector<RateRow>& v) {
      OJson a = OJson::array();
      for (auto& r : v) {
        OJson o = {{"group", r.group}, {"records", r.records}, {"linked", r.linked}, {"linked_rate", r.linked_rate}};
        if (r.truth_recall >= 0) o["truth_recall"] = r.truth_recall, o["false_links"] = r.false_links;
        a.push_back(o);
      }
      return a;
    };
    j["bias"] = {{"by_custodian", rows(r.bias.by_custodian)}, {"by_deprivation_decile", rows(r.bias.by_decile)},
                 {"by_age_band", rows(r.bias.by_age_band)}, {"by_sex", rows(r.bias.by_sex)},
                 {"decile_gap_pp", r.bias.decile_gap}};
  }
  if (r.review) {
    const LinkReviewReport& v = *r.review;
    j["review"] = ReviewJson(v.band, v.pairs_in_band, v.review_file, v.decisions, v.outcomes);
    j["review"]["decisions"]["recorded_now"] = v.recorded;
  }
  if (r.quality) {
    const PairwiseQuality& q = *r.quality;
    j["precision"] = q.precision;
    j["recall"] = q.recall;
    j["f1"] = q.f1;
    j["true_persons"] = q.true_persons;
    j["found_persons"] = q.found_persons;
    j["true_pairs"] = q.true_pairs;
    j["found_pairs"] = q.found_pairs;
    j["correct_pairs"] = q.correct_pairs;
  }
  return j;
}

int Link(int argc, char** argv) {
  CLI::App app("Link staged records into persons (deterministic: by NHS-number pseudonym; pprl: also on encodings).", "ark link");
  std::string dir, truth, mode = "deterministic";
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  int threads = 2;
  app.add_option("--mode", mode, "deterministic (NHS-number pseudonym) | pprl (also encodings, probabilistic)")
      ->check(CLI::IsMember({"deterministic", "pprl"}));
  app.add_option("--threads", threads, "worker threads (pprl)");
  app.add_option("--truth", truth, "a synthetic region's truth/ folder: score precision and recall");
  std::string band;
  LinkReviewOptions review;
  app.add_option("--review-band", band,
                 "pprl: LOW,HIGH: pairs with a match probability in [LOW,HIGH) are held for clerical review, not linked");
  app.add_option("--review-out", review.review_out, "pprl: review file (default ARK/link/review.csv)");
  app.add_option("--decisions", review.decisions_path,
                 "pprl: reviewed pairs (CSV: left_id,right_id,decision,reviewer), recorded and applied from now on");
  app.add_flag("--json", json, "print the report as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (mode != "pprl" && (!band.empty() || !review.decisions_path.empty())) {
    return ReportError(Status::InvalidArgument("--review-band and --decisions need --mode pprl"));
  }
  if (!band.empty()) {
    auto b = ParseReviewBand(band);
    if (!b.ok()) return ReportError(b.status());
    review.band = *b;
  }
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = mode == "pprl" ? LinkPprl(**cat, truth, threads, review) : LinkDeterministic(**cat, truth);
  if (!r.ok()) return ReportError(r.status());
  if (r->pprl) {
    std::fprintf(json ? stderr : stdout,
                 "pprl: %llu candidate pairs; estimated match share lambda=%.3g; threshold: match weight >= %.2f "
                 "(posterior >= %.2f); %llu of %llu records without a valid NHS number linked\n",
                 (unsigned long long)r->pprl->candidate_pairs, r->pprl->lambda, r->pprl->threshold_weight,
                 r->pprl->threshold_probability, (unsigned long long)r->pprl->linked_without_nhs,
                 (unsigned long long)r->pprl->records_without_nhs);
  }
  OJson j = LinkJson(*r);
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%-12s %10s %10s %10s %8s\n", "custodian", "records", "linked", "unlinked", "rate");
  for (auto& [name, c] : r->feeds) {
    std::printf("%-12s %10llu %10llu %10llu %7.1f%%\n", name.c_str(), (unsigned long long)c.records,
                (unsigned long long)c.linked, (unsigned long long)(c.records - c.linked),
                c.records ? 100.0 * c.linked / c.records : 0.0);
  }
  std::printf("persons: %llu\n", (unsigned long long)r->persons);
  if (j.contains("review")) {
    const auto& d = j["review"]["decisions"];
    if (r->review->band) {
      std::printf("review: %llu pairs held in the band, written to %s\n", (unsigned long long)r->review->pairs_in_band,
                  r->review->review_file.c_str());
    }
    std::printf("decisions: %llu applied (%llu recorded now), %llu linked, %llu kept apart, %zu refused (hard rule)\n",
                (unsigned long long)d["given"].get<uint64_t>(), (unsigned long long)r->review->recorded,
                (unsigned long long)d["linked"].get<uint64_t>(), (unsigned long long)d["kept_apart"].get<uint64_t>(),
                d["conflicts"].size());
    for (auto& c : d["conflicts"]) {
      std::printf("  refused: %s: %s\n", c["at"].get<std::string>().c_str(), c["reason"].get<std::string>().c_str());
    }
  }
  if (r->quality) {
    std::printf("precision %.4f  recall %.4f  F1 %.4f  (true persons %llu, found %llu)\n", r->quality->precision,
                r->quality->recall, r->quality->f1, (unsigned long long)r->quality->true_persons,
                (unsigned long long)r->quality->found_persons);
  }
  return 0;
}

int Build(int argc, char** argv) {
  CLI::App app("Compile linked staging into a new version of the timeline store.", "ark build");
  std::string dir;
  int threads = 2;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--threads", threads, "worker threads");
  app.add_flag("--json", json, "print the report as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = BuildTimelines(**cat, threads);
  if (!r.ok()) return ReportError(r.status());
  if (json) {
    OJson j = {{"persons", r->persons}, {"events", r->events}, {"batches", r->batches},
               {"opted_out", r->opted_out}, {"optout_unknown", r->optout_unknown}, {"shards", r->shards},
               {"seconds", r->seconds}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("built %llu persons, %llu events from %llu batches in %.2f s\n", (unsigned long long)r->persons,
                (unsigned long long)r->events, (unsigned long long)r->batches, r->seconds);
  }
  return 0;
}

int Stats(int argc, char** argv) {
  CLI::App app("Print the size of the timeline store.", "ark stats");
  std::string dir;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_flag("--json", json, "print as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto store = Store::Open(dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  StoreStats s = (*store)->Stats();
  OJson j = {{"persons", s.persons}, {"events", s.events}, {"bytes_on_disk", s.bytes_on_disk},
             {"bytes_per_event", s.events ? static_cast<double>(s.bytes_on_disk) / s.events : 0.0},
             {"events_by_custodian", s.events_by_source}};
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("persons %llu, events %llu, %llu bytes on disk (%.2f bytes/event)\n", (unsigned long long)s.persons,
                (unsigned long long)s.events, (unsigned long long)s.bytes_on_disk,
                s.events ? static_cast<double>(s.bytes_on_disk) / s.events : 0.0);
    for (auto& [k, v] : s.events_by_source) std::printf("  %-12s %llu\n", k.c_str(), (unsigned long long)v);
  }
  return 0;
}

ARK_COMMAND(kLink, "link", "link records into persons", Link);
ARK_COMMAND(kBuild, "build", "build the timeline store", Build);
ARK_COMMAND(kStats, "stats", "store size and counts", Stats);

}  // namespace
}  // namespace ark::cli
