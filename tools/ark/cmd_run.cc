// `ark run` (a study definition on an Ark: dataset, measures, manifest) and `ark sql` (the SQL a
// definition compiles to). docs/study-definitions.md has the language and the semantics.
#include <cstdio>

#include "command.h"
#include "study/definition.h"
#include "study/run.h"
#include "study/sql_compile.h"

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
  bool quiet = false;
  app.add_option("ark", ark_dir, "Ark directory")->required();
  app.add_option("definition", yaml, "study definition (YAML)")->required();
  app.add_option("--out", out, "output directory (an earlier run's directory there is replaced)")->required();
  app.add_option("--engine", engine, "native, sqlite (ARK/export/ark.sqlite) or postgres")->capture_default_str();
  app.add_option("--purpose", purpose, "research, planning or direct-care")->capture_default_str();
  app.add_option("--pg", pg, "PostgreSQL URL (default: env ARK_POSTGRES_URL, else a private server)");
  app.add_option("--threads", threads, "worker threads of the native engine")->capture_default_str();
  app.add_flag("--quiet", quiet, "no summary line");
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
  auto rep = study::RunStudy(o);
  if (!rep.ok()) return ReportError(rep.status());
  if (!quiet) {
    std::printf("%s: population %llu, engine %s, %.3f s; outputs in %s\n", yaml.c_str(), static_cast<unsigned long long>(rep->population),
                study::EngineName(o.engine), rep->seconds, out.c_str());
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
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (dialect != "sqlite" && dialect != "postgres" && dialect != "postgresql" && dialect != "duckdb") {
    return ReportError(Status::InvalidArgument("--dialect must be sqlite or postgres"));
  }
  auto p = study::ParsePurpose(purpose);
  if (!p.ok()) return ReportError(p.status());
  auto def = study::ParseDefinitionFile(yaml);
  if (!def.ok()) return ReportError(def.status());
  auto script = study::CompileSql(*def, *p);
  if (!script.ok()) return ReportError(script.status());
  std::fputs(script->Text().c_str(), stdout);
  return 0;
}

}  // namespace

ARK_COMMAND(kRun, "run", "run a study definition: dataset, measures, manifest", Run);
ARK_COMMAND(kSql, "sql", "print the SQL a study definition compiles to", Sql);

}  // namespace ark::cli
