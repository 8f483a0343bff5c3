// `ark corrupt`: applies a second, independent error model ("model2", src/synth/corrupt.h) to the
// identity files of a synthetic region, in place. docs/synthetic-region.md.
#include <cstdio>

#include "command.h"
#include "synth/corrupt.h"

namespace {

int RunCorrupt(int argc, char** argv) {
  ark::synth::CorruptOptions o;
  std::string model = "model2";
  CLI::App app{"Apply a second error model (OCR confusions, swapped names, day/month, missing postcodes,\n"
               "nicknames, moves, twins) to a synthetic region's identity files, in place"};
  app.add_option("region", o.region_dir, "region directory written by 'ark synth'")->required();
  app.add_option("--model", model, "error model (only model2)")->check(CLI::IsMember({"model2"}))->capture_default_str();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--rate-scale", o.rate_scale, "multiply every error rate")->check(CLI::Range(0.0, 30.0))->capture_default_str();
  if (int rc = ark::cli::Parse(app, argc, argv); rc >= 0) return rc;
  auto r = ark::synth::CorruptRegion(o);
  if (!r.ok()) return ark::cli::ReportError(r.status());
  std::printf("%s: %s changed %llu of %llu identity records (log: truth/model2_errors.csv)\n", o.region_dir.c_str(),
              model.c_str(), (unsigned long long)r->records_changed, (unsigned long long)r->records);
  for (auto& [k, n] : r->by_kind) std::printf("  %-18s %llu\n", k.c_str(), (unsigned long long)n);
  return 0;
}

}  // namespace

ARK_COMMAND(corrupt_command, "corrupt", "apply a second error model to a synthetic region's identity files", RunCorrupt);
