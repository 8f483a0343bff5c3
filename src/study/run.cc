#include "study/run.h"

#include <algorithm>

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "store/store.h"
#include "study/native.h"
#include "study/output.h"
#include "study/sql_run.h"

namespace ark::study {

Result<Engine> ParseEngine(const std::string& s) {
  if (s == "native") return Engine::kNative;
  if (s == "sqlite") return Engine::kSqlite;
  if (s == "postgres" || s == "postgresql") return Engine::kPostgres;
  return Status::InvalidArgument("--engine must be native, sqlite or postgres, not '" + s + "'");
}

const char* EngineName(Engine e) {
  switch (e) {
    case Engine::kNative: return "native";
    case Engine::kSqlite: return "sqlite";
    case Engine::kPostgres: return "postgres";
  }
  return "?";
}

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Result<EngineResult> OnConnection(const Definition& def, const std::string& ark_dir, const std::string& url, Purpose purpose,
                                  const Feeds& feeds) {
  auto t0 = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(auto conn, sql::Connection::Open(url));
  ARK_RETURN_IF_ERROR(sql::EnsureExported(ark_dir, *conn));
  double exported = Since(t0);
  ARK_ASSIGN_OR_RETURN(EngineResult r, RunSql(def, *conn, purpose, feeds));
  r.seconds["export_if_needed"] = exported;
  return r;
}

}  // namespace

Status Cancelled(const std::string& stage) {
  return Status::FailedPrecondition("cancelled at stage '" + stage + "': nothing was written");
}

bool IsCancelled(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition && s.message().rfind("cancelled", 0) == 0;
}

Result<EngineResult> Evaluate(const Definition& def, const std::string& ark_dir, Engine engine, Purpose purpose,
                              const std::string& pg_url, int threads, const Feeds& feeds) {
  return Evaluate(def, ark_dir, engine, purpose, pg_url, threads, feeds, nullptr, nullptr);
}

Result<EngineResult> Evaluate(const Definition& def, const std::string& ark_dir, Engine engine, Purpose purpose,
                              const std::string& pg_url, int threads, const Feeds& feeds,
                              const std::function<void(double)>& progress, const std::function<bool()>& cancelled,
                              bool row_text) {
  if (!PathExists(ark_dir + "/store") && !PathExists(ark_dir + "/catalog.db")) return Status::NotFound(ark_dir + ": not an Ark (no store)");
  switch (engine) {
    case Engine::kNative: {
      auto t0 = std::chrono::steady_clock::now();
      ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
      double open = Since(t0);
      NativeOptions o;
      o.threads = threads;
      o.feeds = feeds;
      o.progress = progress;
      o.cancelled = cancelled;
      o.row_text = row_text;
      ARK_ASSIGN_OR_RETURN(EngineResult r, RunNative(def, *store, purpose, o));
      r.seconds["open_store"] = open;
      return r;
    }
    case Engine::kSqlite: {
      ARK_RETURN_IF_ERROR(MakeDirs(ark_dir + "/export"));
      return OnConnection(def, ark_dir, "sqlite:" + ark_dir + "/export/ark.sqlite", purpose, feeds);
    }
    case Engine::kPostgres: {
      std::string url = pg_url;
      if (url.empty()) {
        const char* env = getenv("ARK_POSTGRES_URL");
        if (env && *env) url = env;
      }
      if (!url.empty()) return OnConnection(def, ark_dir, url, purpose, feeds);
      char tmpl[] = "/tmp/ark-run-pg-XXXXXX";
      if (!mkdtemp(tmpl)) return Status::IOError("cannot create a temporary directory for PostgreSQL");
      std::string dir = tmpl;
      chmod(dir.c_str(), 0755);  // the postgres user must be able to enter it
      auto t0 = std::chrono::steady_clock::now();
      auto cluster = sql::PgCluster::Start(dir + "/data");
      if (!cluster.ok()) {
        (void)RemoveAll(dir);
        return cluster.status();
      }
      double started = Since(t0);
      auto r = OnConnection(def, ark_dir, (*cluster)->url(), purpose, feeds);
      Status stop = (*cluster)->Stop();
      (void)RemoveAll(dir);
      if (!r.ok()) return r.status();
      ARK_RETURN_IF_ERROR(stop);
      r->seconds["start_postgres"] = started;
      return r;
    }
  }
  return Status::InvalidArgument("unknown engine");
}

// The distinct persons of a result's dataset (rows, the native engine's text lines, which start
// with the person key, or its rows' persons).
static std::vector<PersonKey> PopulationPersons(const EngineResult& r) {
  std::vector<PersonKey> out;
  out.reserve(r.num_rows());
  for (const auto& row : r.rows) out.push_back(static_cast<PersonKey>(row.person));
  for (uint32_t p : r.row_persons) out.push_back(static_cast<PersonKey>(p));
  for (const std::string& part : r.text_parts) {
    for (size_t pos = 0; pos < part.size();) {
      uint64_t v = 0;
      size_t i = pos;
      while (i < part.size() && part[i] >= '0' && part[i] <= '9') v = v * 10 + static_cast<uint64_t>(part[i++] - '0');
      out.push_back(static_cast<PersonKey>(v));
      const size_t nl = part.find('\n', pos);
      pos = nl == std::string::npos ? part.size() : nl + 1;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string OptOutNote(const RunReport& rep) {
  if (!rep.optouts_applied || rep.population > 0) return "";
  std::string s;
  if (rep.optout_excluded > 0) {
    s = std::to_string(rep.optout_excluded) + " index row(s) met the population but were left out by opt-outs (national data opt-out, type-1 dissent, or unknown status). ";
  }
  if (rep.optout_unknown > 0) {
    s += std::to_string(rep.optout_unknown) + " of " + std::to_string(rep.persons) +
         " persons in this Ark have no known opt-out status (imported OMOP/MEDS persons carry no NHS-number pseudonym) and are used only for --purpose direct-care (give the source's opt-outs at import: --optouts FILE or --optouts-none).";
  }
  if (s.empty()) return "";
  s = "population 0: " + s;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Result<RunReport> RunStudy(const RunOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  auto stage = [&opts](const std::string& name, double fraction) -> Status {
    if (opts.progress) opts.progress(name, fraction);
    if (name != "write" && name != "done" && opts.cancelled && opts.cancelled()) return Cancelled(name);
    return Status::OK();
  };
  ARK_RETURN_IF_ERROR(stage("parse", 0.0));
  ARK_ASSIGN_OR_RETURN(Definition def, ParseDefinitionFile(opts.definition));
  double parse = Since(t0);
  ARK_RETURN_IF_ERROR(stage("evaluate", 0.05));
  std::function<void(double)> evaluated;
  if (opts.progress) evaluated = [&opts](double f) { opts.progress("evaluate", 0.05 + 0.75 * f); };
  ARK_ASSIGN_OR_RETURN(EngineResult r, Evaluate(def, opts.ark_dir, opts.engine, opts.purpose, opts.pg_url, opts.threads,
                                                opts.feeds, evaluated, opts.cancelled, opts.dataset));
  r.seconds["parse"] = parse;
  RunReport rep;
  nlohmann::ordered_json m;
  m["engine"] = EngineName(opts.engine);
  m["purpose"] = PurposeName(opts.purpose);
  m["optouts_applied"] = AppliesOptOuts(opts.purpose);
  {
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(opts.ark_dir + "/store"));
    StoreStats st = store->Stats();
    m["store_version"] = st.version;
    m["store_persons"] = st.persons;
    m["store_events"] = st.events;
    rep.persons = store->num_persons();
    if (r.num_rows() == 0 && AppliesOptOuts(opts.purpose)) {  // explain an empty population
      ARK_RETURN_IF_ERROR(store->ForEachPerson([&rep](const Person& p, std::span<const Event>) {
        if (!(p.flags & kOptOutKnown)) ++rep.optout_unknown;
        return Status::OK();
      }, 1, Store::Columns::kCore));
    }
  }
  rep.optouts_applied = AppliesOptOuts(opts.purpose);
  rep.population = r.num_rows();
  rep.optout_excluded = r.optout_excluded;
  r.seconds["total_before_write"] = Since(t0);
  ARK_RETURN_IF_ERROR(stage("authorise", 0.85));
  if (opts.authorise) {
    ARK_RETURN_IF_ERROR(opts.authorise(PopulationPersons(r), def.sha256));
  }
  ARK_RETURN_IF_ERROR(stage("write", 0.9));
  ARK_RETURN_IF_ERROR(WriteOutputs(def, r, opts.out_dir, m, opts.dataset));
  ARK_RETURN_IF_ERROR(stage("done", 1.0));
  rep.seconds = Since(t0);
  return rep;
}

}  // namespace ark::study
