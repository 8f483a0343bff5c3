// `ark synth`: writes a synthetic city region with ground truth (docs/synthetic-region.md).
#include <chrono>
#include <cstdio>

#include "command.h"
#include "synth/hl7_feed.h"
#include "synth/profile.h"
#include "synth/synth.h"

namespace {

int RunSynth(int argc, char** argv) {
  ark::synth::SynthOptions o;
  CLI::App app{"Write a synthetic city region: custodians' extracts, ground truth, manifest.json"};
  app.add_option("--people", o.people, "distinct people ever in the region, births included")->capture_default_str();
  app.add_option("--years", o.years, "window length in years, ending 2025-12-31")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (same seed, same bytes)")->capture_default_str();
  app.add_option("--profile", o.profile,
                 "region profile: default, young-deprived (14,000 people), old-affluent (6,000) or mixed (9,000); "
                 "sets age structure, deprivation and, without --people, size")
      ->capture_default_str();
  app.add_option("--out", o.out_dir, "output directory: new or empty (created if missing)")->required();
  app.add_flag("--force", o.force,
               "write into a non-empty --out: a region written there before (custodian folders, truth/, "
               "manifest.json) is replaced");
  app.add_option("--threads", o.threads, "worker threads (output does not depend on it)")->capture_default_str();
  bool quiet = false, hl7 = false;
  app.add_flag("--quiet", quiet, "no progress messages on stderr");
  app.add_flag("--hl7", hl7, "also write the acute trust's HL7 v2 feed, acute/feed.hl7 (docs/hl7-fhir.md)");
  if (int rc = ark::cli::Parse(app, argc, argv); rc >= 0) return rc;
  if (app.get_option("--people")->count() == 0) {
    auto profile = ark::synth::FindRegionProfile(o.profile);
    if (!profile.ok()) return ark::cli::ReportError(profile.status());
    o.people = profile->people;
  }

  const auto start = std::chrono::steady_clock::now();
  if (!quiet) {
    o.progress = [start](const std::string& m) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "synth: [%6.1fs] %s\n", s, m.c_str());
    };
  }
  auto result = ark::synth::GenerateRegion(o);
  if (!result.ok()) return ark::cli::ReportError(result.status());
  const auto& s = *result;
  std::printf("wrote %s: %llu people, %.1f event rows per person, %.1f MB in %.1f s\n", o.out_dir.c_str(),
              static_cast<unsigned long long>(o.people), static_cast<double>(s.event_rows) / static_cast<double>(o.people),
              static_cast<double>(s.bytes) / 1e6, s.seconds);
  for (const auto& f : s.files) std::printf("  %-32s %12llu rows\n", f.path.c_str(), static_cast<unsigned long long>(f.rows));
  if (hl7) {
    if (o.progress) o.progress("writing acute/feed.hl7");
    auto feed = ark::synth::WriteHl7Feed(o.out_dir, o.seed);
    if (!feed.ok()) return ark::cli::ReportError(feed.status());
    std::printf("  %-32s %12llu messages (%llu A01, %llu A02, %llu A03, %llu A04, %llu ORU^R01 lab results, "
                "%llu ORU^R01 vital signs)\n", "acute/feed.hl7",
                static_cast<unsigned long long>(feed->messages), static_cast<unsigned long long>(feed->admits),
                static_cast<unsigned long long>(feed->transfers), static_cast<unsigned long long>(feed->discharges),
                static_cast<unsigned long long>(feed->registrations), static_cast<unsigned long long>(feed->results),
                static_cast<unsigned long long>(feed->vitals));
  }
  return 0;
}

}  // namespace

ARK_COMMAND(synth_command, "synth", "write a synthetic city region with ground truth", RunSynth);
