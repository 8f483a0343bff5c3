// `ark link-records`: probabilistic linkage of identifiable CSV files (plaintext, for a trusted
// third party) or on privacy-preserving encodings of them (pprl). docs/linkage.md.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "link/cluster.h"
#include "link/link_records.h"

namespace ark::cli {
namespace {

using OJson = nlohmann::ordered_json;

OJson ModelJson(const LinkOutcome& o) {
  OJson m = OJson::array();
  for (auto& f : o.model) {
    OJson lv = OJson::array();
    for (size_t l = 0; l < f.levels.size(); ++l) {
      lv.push_back({{"level", f.levels[l]}, {"m", f.m[l]}, {"u", f.u[l]}, {"weight", std::log2(f.m[l] / f.u[l])}});
    }
    m.push_back({{"field", f.name}, {"levels", lv}});
  }
  return m;
}

void PrintModel(const LinkOutcome& o, FILE* out) {
  std::fprintf(out, "model (m by EM over %llu candidate pairs, %llu iterations; u from random pairs):\n",
               (unsigned long long)o.candidate_pairs, (unsigned long long)o.em_iterations);
  for (auto& f : o.model) {
    std::fprintf(out, "  %-16s", f.name.c_str());
    for (size_t l = 0; l < f.levels.size(); ++l) {
      std::fprintf(out, " %s m=%.3g u=%.3g;", f.levels[l].c_str(), f.m[l], f.u[l]);
    }
    std::fprintf(out, "\n");
  }
  std::fprintf(out,
               "estimated match share among candidates lambda=%.5f; threshold: match weight >= %.2f "
               "(posterior probability >= %.2f)\n",
               o.lambda, o.threshold_weight, o.threshold_probability);
}

int LinkRecordsCmd(int argc, char** argv) {
  CLI::App app("Link identifiable CSV files probabilistically (Fellegi-Sunter), in plaintext or on encodings.",
               "ark link-records");
  LinkRecordsOptions o;
  bool json = false;
  double threshold = -1;
  app.add_option("--left", o.left, "CSV file (deduplicated when --right is absent)");
  app.add_option("--right", o.right, "second CSV file: link --left to it");
  app.add_option("--spec", o.spec_path, "YAML column mapping (columns: {role: column}, id: column)");
  app.add_option("--clks-left", o.clks_left, "instead of CSV: pre-encoded CLKs in anonlink's clks.json");
  app.add_option("--clks-right", o.clks_right, "second clks.json: link --clks-left to it (one-to-one)");
  app.add_option("--write-clks", o.write_clks, "pprl: write the CLKs of --left in anonlink's clks.json");
  app.add_option("--mode", o.mode, "plaintext | pprl (encode both sides as 'ark pseudonymise' would, link on the encodings)")
      ->check(CLI::IsMember({"plaintext", "pprl"}));
  app.add_option("--truth-column", o.truth_column, "column holding the true entity id: score precision and recall");
  app.add_option("--truth-pattern", o.truth_pattern, "regex applied to the truth column; group 1 (or the match) is the id");
  app.add_option("--key", o.key_path, "pprl: programme key file (default: a fresh random key)");
  app.add_option("--tf-band-k", o.tf_band_k,
                 "pprl: term-frequency bands, none finer than 'fewer than K occurrences' (0: no term frequencies)");
  app.add_option("--blip", o.blip, "pprl: bit-flip probability hardening the field filters");
  app.add_option("--threshold", threshold, "override the estimated threshold: posterior match probability in (0,1)");
  double cluster_bound = -1;
  app.add_option("--cluster-bound", cluster_bound,
                 "mean cross-pair match probability two clusters need to merge (default: the pair threshold)");
  std::string band;
  app.add_option("--review-band", band,
                 "LOW,HIGH: pairs with a match probability in [LOW,HIGH) go to --review-out, neither linked nor discarded");
  app.add_option("--review-out", o.review_out, "review file (CSV) for --review-band: record ids, levels and weights");
  app.add_option("--decisions", o.decisions_path,
                 "reviewed pairs (CSV: left_id,right_id,decision,reviewer; decision match|non-match), applied to this run");
  app.add_option("--threads", o.threads, "worker threads");
  app.add_option("--out", o.out_pairs, "write scored pairs (weight, probability, explanation) to this CSV");
  app.add_option("--clusters-out", o.clusters_out, "write each record's cluster (file,id,cluster,cluster_size) to this CSV");
  app.add_flag("--clustered", o.clustered, "two inputs: cluster across them instead of one-to-one links");
  app.add_option("--truth", o.truth_path,
                 "--clks-left: CSV with one row per CLK (left, then right); --truth-column names the entity id");
  app.add_flag("--json", json, "print the report as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (o.clks_left.empty() && (o.left.empty() || o.spec_path.empty())) {
    return ReportError(Status::InvalidArgument("give --left and --spec (CSV files) or --clks-left (clks.json)"));
  }
  if (!o.clks_left.empty() && (!o.left.empty() || !o.right.empty())) {
    return ReportError(Status::InvalidArgument("--clks-left links clks.json files: not with --left or --right"));
  }
  if (!o.clks_left.empty() && !o.truth_column.empty() && o.truth_path.empty()) {
    return ReportError(Status::InvalidArgument("--clks-left: --truth-column names a column of --truth FILE"));
  }
  if (o.clustered && o.right.empty() && o.clks_right.empty()) {
    return ReportError(Status::InvalidArgument("--clustered is for two inputs (--right or --clks-right)"));
  }
  if (!o.clks_right.empty() && o.clks_left.empty()) {
    return ReportError(Status::InvalidArgument("--clks-right needs --clks-left"));
  }
  if (threshold >= 0) {
    if (threshold <= 0 || threshold >= 1) return ReportError(Status::InvalidArgument("--threshold must be in (0,1)"));
    o.threshold_probability = threshold;
  }
  if (cluster_bound >= 0) {
    if (cluster_bound > 1) return ReportError(Status::InvalidArgument("--cluster-bound must be in [0,1]"));
    o.cluster_bound = cluster_bound;
  }
  if (!band.empty()) {
    auto b = ParseReviewBand(band);
    if (!b.ok()) return ReportError(b.status());
    o.review_band = *b;
  }
  auto r = LinkRecords(o);
  if (!r.ok()) return ReportError(r.status());
  const LinkOutcome& lo = r->outcome;
  PrintModel(lo, json ? stderr : stdout);
  OJson j;
  j["mode"] = r->mode;
  j["records"] = r->records;
  if (!o.right.empty() || !o.clks_right.empty()) j["left_records"] = r->left_records, j["right_records"] = r->right_records;
  if (r->quality) {
    j["precision"] = r->quality->precision;
    j["recall"] = r->quality->recall;
    j["f1"] = r->quality->f1;
  }
  j["persons"] = lo.clusters;
  if (r->quality) {
    j["true_persons"] = r->quality->true_persons;
    j["found_persons"] = r->quality->found_persons;
    j["true_pairs"] = r->quality->true_pairs;
    j["found_pairs"] = r->quality->found_pairs;
    j["correct_pairs"] = r->quality->correct_pairs;
  }
  j["candidate_pairs"] = lo.candidate_pairs;
  OJson rules = OJson::object();
  for (size_t i = 0; i < lo.pairs_per_rule.size(); ++i) {
    if (lo.pairs_per_rule[i]) rules[BlockingRuleNames()[i]] = lo.pairs_per_rule[i];
  }
  j["pairs_per_blocking_rule"] = rules;
  j["skipped_blocks"] = lo.skipped_blocks;
  j["linked_pairs"] = r->linked_pairs;
  if (!o.right.empty() || !o.clks_right.empty()) j["output"] = o.clustered ? "clustered" : "one-to-one";
  if (!o.out_pairs.empty()) j["pairs_file"] = o.out_pairs;
  if (!o.clusters_out.empty()) j["clusters_file"] = o.clusters_out;
  j["lambda"] = lo.lambda;
  j["threshold_weight"] = lo.threshold_weight;
  j["threshold_probability"] = lo.threshold_probability;
  j["expected_false_matches"] = lo.expected_false_matches;
  j["expected_missed_matches"] = lo.expected_missed_matches;
  j["clustering"] = ClusteringJson(lo.clustering, lo.clusters, lo.refused_merges);
  if (o.review_band || !o.decisions_path.empty()) {
    j["review"] = ReviewJson(o.review_band, lo.review.size(), o.review_out, r->decisions, lo.decisions);
  }
  j["em_iterations"] = lo.em_iterations;
  if (!r->key_fingerprint.empty()) j["key_fingerprint"] = r->key_fingerprint;
  j["model"] = ModelJson(lo);
  j["seconds"] = lo.seconds_total;
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("records %llu, candidate pairs %llu, linked pairs %llu, persons %llu\n", (unsigned long long)r->records,
                (unsigned long long)lo.candidate_pairs, (unsigned long long)r->linked_pairs,
                (unsigned long long)lo.clusters);
    std::printf("clusters: largest %llu records; %llu merges, refused %llu incoherent and %llu hard conflicts; "
                "expected false-merge rate %.4f\n",
                (unsigned long long)lo.clustering.largest, (unsigned long long)lo.clustering.merges,
                (unsigned long long)lo.clustering.incoherent_merges, (unsigned long long)lo.refused_merges,
                lo.clustering.ExpectedFalseMergeRate());
    if (j.contains("review")) {
      const auto& d = j["review"]["decisions"];
      if (o.review_band) {
        std::printf("review: %zu pairs in [%g, %g) written to %s\n", lo.review.size(), (*o.review_band)[0],
                    (*o.review_band)[1], o.review_out.c_str());
      }
      std::printf("decisions: %llu given, %llu linked, %llu kept apart, %zu refused (hard rule)\n",
                  (unsigned long long)d["given"].get<uint64_t>(), (unsigned long long)d["linked"].get<uint64_t>(),
                  (unsigned long long)d["kept_apart"].get<uint64_t>(), d["conflicts"].size());
      for (auto& c : d["conflicts"]) {
        std::printf("  refused: %s: %s\n", c["at"].get<std::string>().c_str(), c["reason"].get<std::string>().c_str());
      }
    }
    if (r->quality) {
      std::printf("precision %.4f  recall %.4f  F1 %.4f  (true persons %llu, found %llu)\n", r->quality->precision,
                  r->quality->recall, r->quality->f1, (unsigned long long)r->quality->true_persons,
                  (unsigned long long)r->quality->found_persons);
    }
  }
  return 0;
}

ARK_COMMAND(kLinkRecords, "link-records", "probabilistic linkage of CSV files (plaintext or PPRL)", LinkRecordsCmd);

}  // namespace
}  // namespace ark::cli
