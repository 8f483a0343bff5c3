// `ark run` (a study definition on an Ark: dataset, measures, manifest) and `ark sql` (the SQL a
// definition compiles to). docs/study-definitions.md has the language and the semantics.
#include <cstdio>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/gate.h"
#include "runs/governed_run.h"
#include "study/definition.h"
#include "study/run.h"
#include "study/sql_compile.h"
#include "who.h"

namespace ark::cli {
namespace {

int Run(int argc, char** argv) {
  CLI::App app(
      "Run a study definition (population, variables, measures) on an Ark.\n"
      "  ark run ARK DEF.yaml --out DIR [--engine native|sqlite|postgres] [--purpose research|planning|direct-care]\n"
      "Writes DIR/dataset.csv (patient-level: stays in the Ark's workspace), DIR/measures/NAME.csv\n"
      "(disclosure control applied) and DIR/manifest.json. Opt-outs apply to every purpose but direct care.",
      "ark run");
  std::string ark_dir, yaml, out, engine = "native", purpose = "research", pg;
  int threads = 2;
  bool quiet = false, json = false;
  app.add_option("ark", ark_dir, "Ark directory")->required();
  app.add_option("definition", yaml, "study definition (YAML)")->required();
  app.add_option("--out", out, "output directory (an earlier run's directory there is replaced)")->required();
  app.add_option("--engine", engine, "native, sqlite (ARK/export/ark.sqlite) or postgres")->capture_default_str();
  app.add_option("--purpose", purpose, "research, planning or direct-care")->capture_default_str();
  app.add_option("--pg", pg, "PostgreSQL URL (default: env ARK_POSTGRES_URL, else a private server)");
  app.add_option("--threads", threads, "worker threads of the native engine")->capture_default_str();
  app.add_flag("--quiet", quiet, "no summary line");
  app.add_flag("--json", json, "print the run's manifest (DIR/manifest.json) on stdout instead of the summary line");
  GateFlags gate;
  gate.Add(app);
  CLI::Option* purpose_opt = app.get_option("--purpose");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  study::RunOptions o;
  o.ark_dir = ark_dir;
  o.definition = yaml;
  o.out_dir = out;
  o.pg_url = pg;
  o.threads = threads;
  auto e = study::ParseEngine(engine);
  if (!e.ok()) return ReportError(e.status());
  o.engine = *e;
  auto p = study::ParsePurpose(purpose);
  if (!p.ok()) return ReportError(p.status());
  o.purpose = *p;

  // Governance (docs/governance.md): one governed-run function (runs::GovernedRun), the one the
  // server's jobs use: the gate (gov::Admit) authorises a run in a project before it starts;
  // RecordRun checks its population against every opt-out list and puts it on the ledger before
  // anything is written. Without --project the run is a workspace run: refused when the Ark
  // enforces governance, otherwise allowed and still put on the ledger as such.
  runs::RunRequest req;
  req.gate.project = gate.project;
  req.gate.user = gate.who.user;
  req.gate.purpose = purpose_opt->count() > 0 ? purpose : "";
  if (!gate.project.empty()) {
    auto token = gate.who.Token();
    if (!token.ok()) return ReportError(token.status());
    req.gate.token = *token;
  }
  req.run = o;
  const std::string& project = gate.project;
  auto outcome = runs::GovernedRun(std::move(req));
  if (!outcome.ok()) return ReportError(outcome.status());
  const study::RunReport* rep = &outcome->report;
  const int64_t run_id = outcome->run_id;
  if (json) {
    auto manifest = ReadFile(out + "/manifest.json");
    if (!manifest.ok()) return ReportError(manifest.status());
    std::fputs(manifest->c_str(), stdout);
    const std::string note = study::OptOutNote(*rep);
    if (!note.empty()) std::fprintf(stderr, "note: %s\n", note.c_str());
  } else if (!quiet) {
    std::printf("%s: population %llu, engine %s, %.3f s; outputs in %s\n", yaml.c_str(), static_cast<unsigned long long>(rep->population),
                study::EngineName(o.engine), rep->seconds, out.c_str());
    const std::string note = study::OptOutNote(*rep);
    if (!note.empty()) std::fprintf(stderr, "note: %s\n", note.c_str());
    if (run_id) std::printf("run %lld recorded in project %s (ledger: run.executed)\n", static_cast<long long>(run_id), project.c_str());
  }
  return 0;
}

int Sql(int argc, char** argv) {
  CLI::App app("Print the SQL a study definition compiles to (Ark relational schema; SQLite, PostgreSQL and DuckDB run it).", "ark sql");
  std::string ark_dir, yaml, dialect = "sqlite", purpose = "research";
  app.add_option("ark", ark_dir, "Ark directory (the compiled SQL reads its exported relational schema)")->required();
  app.add_option("definition", yaml, "study definition (YAML)")->required();
  app.add_option("--dialect", dialect, "sqlite or postgres (the SQL is the same portable text)")->capture_default_str();
  app.add_option("--purpose", purpose, "research, planning or direct-care")->capture_default_str();
  GateFlags gate;
  gate.Add(app);
  CLI::Option* purpose_opt = app.get_option("--purpose");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (dialect != "sqlite" && dialect != "postgres" && dialect != "postgresql" && dialect != "duckdb") {
    return ReportError(Status::InvalidArgument("--dialect must be sqlite or postgres"));
  }
  auto p = study::ParsePurpose(purpose);
  if (!p.ok()) return ReportError(p.status());
  // The gate (gov::Admit): in a project, the SQL is compiled for the project's purpose (opt-outs as
  // it requires) and put on the ledger before it is printed.
  auto access = gate.Admit(ark_dir, "sql", purpose_opt->count() > 0 ? purpose : "");
  if (!access.ok()) return ReportError(access.status());
  if (access->governed) {
    const std::string pname = gov::PurposeName(access->project.purpose);
    p = study::ParsePurpose(!gov::OptOutsApply(access->project) || pname == "direct_care" ? "direct-care" : pname);
    if (!p.ok()) return ReportError(p.status());
  }
  auto def = study::ParseDefinitionFile(yaml);
  if (!def.ok()) return ReportError(def.status());
  auto script = study::CompileSql(*def, *p, access->Feeds());  // in a project: only its approved feeds
  if (!script.ok()) return ReportError(script.status());
  if (access->governed) {
    auto text = ReadFile(yaml);
    if (!text.ok()) return ReportError(text.status());
    gov::Json details = {{"definition_sha256", merkle::HexOf(merkle::Sha256(*text))}, {"dialect", dialect}};
    if (int rc = ReportError(gov::RecordAccess(ark_dir, *access, std::move(details)))) return rc;
  }
  std::fputs(script->Text().c_str(), stdout);
  return 0;
}

}  // namespace

ARK_COMMAND(kRun, "run", "run a study definition: dataset, measures, manifest", Run);
ARK_COMMAND(kSql, "sql", "print the SQL a study definition compiles to", Sql);

}  // namespace ark::cli
