// `ark init` and `ark ingest`.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "fhir/bulk.h"
#include "ingest/ingest.h"

namespace ark::cli {
namespace {

int Init(int argc, char** argv) {
  CLI::App app("Create an empty Ark directory.", "ark init");
  std::string dir;
  app.add_option("ark", dir, "Ark directory to create")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto c = Catalog::Create(dir);
  if (!c.ok()) return ReportError(c.status());
  std::printf("created Ark %s\n", dir.c_str());
  return 0;
}

// FHIR NDJSON directories, each one imported batch (fhir/bulk.h): identifiers pseudonymised in
// this process with the programme key and never written.
int IngestFhir(Catalog& cat, const std::vector<std::string>& dirs, const std::string& key_path, bool json) {
  if (key_path.empty()) return ReportError(Status::InvalidArgument("--format fhir-ndjson needs --key KEYFILE"));
  auto key = ProgrammeKey::Load(key_path);
  if (!key.ok()) return ReportError(key.status());
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const std::string& d : dirs) {
    auto r = fhir::IngestBulkNdjson(cat, d, *key);
    if (!r.ok()) return ReportError(r.status());
    if (json) {
      j.push_back({{"feed", "fhir"}, {"dir", d}, {"batch", r->batch.batch}, {"persons", r->batch.persons},
                   {"new_persons", r->batch.new_persons}, {"events", r->batch.events}, {"resources", r->resources},
                   {"skipped", r->skipped}, {"nhs_valid", r->nhs_valid}, {"nhs_missing", r->nhs_missing},
                   {"nhs_invalid", r->nhs_invalid}, {"events_without_time", r->events_without_time}});
    } else {
      std::printf("batch %lld %-12s %9llu persons %11llu events (%llu with a valid NHS number)\n",
                  (long long)r->batch.batch, "fhir", (unsigned long long)r->batch.persons,
                  (unsigned long long)r->batch.events, (unsigned long long)r->nhs_valid);
    }
  }
  if (json) std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

int IngestCmd(int argc, char** argv) {
  CLI::App app("Load pseudonymised extracts into the Ark's staging area (all or nothing).", "ark ingest");
  std::string dir;
  std::vector<std::string> extracts;
  IngestOptions opt;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("extracts", extracts, "pseudonymised extract directories")->required();
  app.add_option("--quarantine", opt.quarantine_dir, "set bad rows aside here instead of failing");
  app.add_option("--threads", opt.threads, "parser threads")->check(CLI::Range(1, 64));
  app.add_flag("--json", json, "print the counts as JSON");
  std::string format = "extract", key_path;
  app.add_option("--format", format,
                 "extract (pseudonymised extract directories) | fhir-ndjson (FHIR R4 Bulk Data NDJSON "
                 "directories, pseudonymised here with --key; docs/hl7-fhir.md)")
      ->check(CLI::IsMember({"extract", "fhir-ndjson"}));
  app.add_option("--key", key_path, "programme key file (with --format fhir-ndjson)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  if (format == "fhir-ndjson") return IngestFhir(**cat, extracts, key_path, json);
  auto r = Ingest(**cat, extracts, opt);
  if (!r.ok()) return ReportError(r.status());
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (auto& b : *r) {
    if (json) {
      j.push_back({{"feed", b.feed}, {"batch", b.batch}, {"records", b.records}, {"events", b.events},
                   {"optouts", b.optouts}, {"quarantined", b.quarantined}, {"rows", b.rows}});
    } else {
      std::printf("batch %lld %-12s %9llu records %11llu events %7llu opt-outs%s\n", (long long)b.batch,
                  b.feed.c_str(), (unsigned long long)b.records, (unsigned long long)b.events,
                  (unsigned long long)b.optouts,
                  b.quarantined ? (" (" + std::to_string(b.quarantined) + " rows quarantined)").c_str() : "");
    }
  }
  if (json) std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

ARK_COMMAND(kInit, "init", "create an empty Ark", Init);
ARK_COMMAND(kIngest, "ingest", "load pseudonymised extracts", IngestCmd);

}  // namespace
}  // namespace ark::cli
