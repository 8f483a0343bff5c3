// `ark demo`: the whole pipeline on a synthetic region, end to end, as its users would run it:
// synth (the region) -> keygen and pseudonymise (each custodian, at source) -> init, ingest,
// link, build (the Ark) -> a report a person can read.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/demo.h"
#include "pathways/pathway.h"
#include "ingest/build.h"
#include "ingest/feed_spec.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"
#include "link/link.h"
#include "privacy/key.h"
#include "report/region_report.h"
#include "report/study_section.h"
#include "store/store.h"

namespace ark::cli {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

Status RunSelf(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string self = fs::read_symlink("/proc/self/exe").string();
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return Status::Internal("'ark " + args[0] + "' failed");
  return Status::OK();
}

// Adds an HTML fragment at the end of the report's body.
Status InsertIntoReport(const std::string& path, const std::string& fragment) {
  ARK_ASSIGN_OR_RETURN(std::string html, ReadFile(path));
  const size_t at = html.rfind("</body>");
  html.insert(at == std::string::npos ? html.size() : at, fragment);
  return WriteFileAtomic(path, html);
}

// The example study definitions: beside the binary's source tree, or in ./definitions.
std::vector<std::string> StudyDefinitions() {
  for (const std::string dir : {std::string(ARK_SOURCE_DIR) + "/definitions", std::string("definitions")}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".yaml") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  return {};
}

// A token from the governance demo's tokens.env (NAME=token lines).
std::string DemoToken(const std::string& file, const std::string& name) {
  auto text = ReadFile(file);
  if (!text.ok()) return "";
  size_t at = text->find("\n" + name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return text->substr(at, text->find('\n', at) - at);
}

// The example pathway definition `name`: beside the binary's source tree, or in ./pathways.
std::string PathwayDefinition(const std::string& name) {
  for (const std::string dir : {std::string(ARK_SOURCE_DIR) + "/pathways", std::string("pathways")}) {
    const std::string p = dir + "/" + name + ".yaml";
    if (PathExists(p)) return p;
  }
  return "";
}

int Demo(int argc, char** argv) {
  CLI::App app("Run the whole pipeline on a synthetic region and write a report.", "ark demo");
  std::string out = "out/demo";
  int people = 200000, years = 10, seed = 1, threads = 2;
  app.add_option("--out", out, "output directory (replaced if it holds an earlier demo)")->capture_default_str();
  app.add_option("--people", people, "people in the synthetic region")->capture_default_str()->check(CLI::Range(100, 20000000));
  app.add_option("--years", years, "years of history")->capture_default_str()->check(CLI::Range(1, 50));
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--threads", threads, "worker threads")->capture_default_str();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;

  if (PathExists(out)) {
    if (!PathExists(out + "/.ark-demo") && !fs::is_empty(out)) {
      return ReportError(Status::FailedPrecondition(out + " exists and is not an earlier demo's output: choose another --out"));
    }
    if (int rc = ReportError(RemoveAll(out))) return rc;
  }
  if (int rc = ReportError(MakeDirs(out))) return rc;
  if (int rc = ReportError(WriteFileAtomic(out + "/.ark-demo", "written by ark demo\n"))) return rc;
  const std::string region = out + "/region", cust = out + "/custodians", ark = out + "/ark";
  std::vector<std::pair<std::string, double>> steps;
  auto t_all = Clock::now();
  auto step = [&](const std::string& name, const std::function<Status()>& fn) -> Status {
    std::printf("[%zu/10] %s ...\n", steps.size() + 1, name.c_str());
    std::fflush(stdout);
    auto t0 = Clock::now();
    Status s = fn();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s.ok()) {
      steps.emplace_back(name, secs);
      std::printf("      done in %.2f s\n", secs);
    }
    return s.WithContext(name);
  };

  Status s = step(fmt::format("synthesise a region of {} people over {} years", people, years), [&] {
    return RunSelf({"synth", "--people", std::to_string(people), "--years", std::to_string(years), "--seed",
                    std::to_string(seed), "--out", region});
  });
  if (!s.ok()) return ReportError(s);
  OJson manifest;
  {
    auto text = ReadFile(region + "/manifest.json");
    if (!text.ok()) return ReportError(text.status());
    manifest = OJson::parse(*text, nullptr, false);
  }
  std::vector<std::string> custodians;
  for (auto& [name, v] : manifest["custodians"].items()) custodians.push_back(name);

  s = step("custodians pseudonymise their extracts at source", [&]() -> Status {
    ARK_RETURN_IF_ERROR(MakeDirs(cust));
    ARK_ASSIGN_OR_RETURN(ProgrammeKey key, ProgrammeKey::Generate());
    ARK_RETURN_IF_ERROR(key.Save(cust + "/programme.key"));
    for (auto& c : custodians) {
      ARK_ASSIGN_OR_RETURN(FeedSpec spec, BuiltinFeedSpec(c));
      ARK_ASSIGN_OR_RETURN(auto r, Pseudonymise(spec, key, region + "/" + c, cust + "/" + c));
      std::printf("      %-12s %9llu records, NHS number missing %llu / invalid %llu\n", c.c_str(),
                  (unsigned long long)r.records, (unsigned long long)r.nhs_missing, (unsigned long long)r.nhs_invalid);
    }
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  std::unique_ptr<Catalog> cat;
  s = step("create the Ark and ingest the pseudonymised extracts", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(cat, Catalog::Create(ark));
    std::vector<std::string> dirs;
    for (auto& c : custodians) dirs.push_back(cust + "/" + c);
    IngestOptions o;
    o.threads = threads;
    ARK_ASSIGN_OR_RETURN(auto reps, Ingest(*cat, dirs, o));
    for (auto& r : reps) {
      std::printf("      %-12s %9llu records %11llu events\n", r.feed.c_str(), (unsigned long long)r.records,
                  (unsigned long long)r.events);
    }
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  LinkReport link;
  s = step("link records into persons: NHS-number pseudonym, then PPRL on the encodings", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(link, LinkPprl(*cat, region + "/truth", threads));
    std::printf("      %llu persons; precision %.4f, recall %.4f against the truth\n", (unsigned long long)link.persons,
                link.quality->precision, link.quality->recall);
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  s = step("build the timeline store", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto r, BuildTimelines(*cat, threads));
    std::printf("      %llu persons, %llu events\n", (unsigned long long)r.persons, (unsigned long long)r.events);
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  StoreStats stats;
  s = step("verify the store", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark + "/store"));
    ARK_RETURN_IF_ERROR(store->Verify());
    stats = store->Stats();
    std::printf("      %llu bytes on disk, %.2f bytes per event\n", (unsigned long long)stats.bytes_on_disk,
                stats.events ? static_cast<double>(stats.bytes_on_disk) / stats.events : 0.0);
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  OJson figures;
  s = step("write the report", [&]() -> Status {
    ReportContext ctx;
    ctx.ark_dir = fs::absolute(ark).string();
    ctx.link = link;
    ctx.steps = steps;
    ctx.region = manifest;
    ARK_ASSIGN_OR_RETURN(figures, WriteRegionReport(ctx, out + "/report.html"));
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  s = step("care pathways: falls to social care, COPD, by deprivation", [&]() -> Status {
    std::string sections;
    for (const char* name : {"falls", "copd"}) {
      const std::string def = PathwayDefinition(name);
      if (def.empty()) {
        std::printf("      pathways/%s.yaml not found: section left out\n", name);
        continue;
      }
      ARK_ASSIGN_OR_RETURN(std::string html, pathways::PathwaySectionHtml(fs::absolute(ark).string(), def, threads));
      sections += html;
    }
    return InsertIntoReport(out + "/report.html", sections);
  });
  if (!s.ok()) return ReportError(s);

  OJson governance;
  s = step("governance: project, run, output checking, ledger", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(gov::GovernanceDemo g, gov::RunGovernanceDemo(fs::absolute(ark).string(), out + "/governance"));
    ARK_RETURN_IF_ERROR(InsertIntoReport(out + "/report.html", g.html));
    governance = std::move(g.summary);
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  OJson studies = OJson::array();
  s = step("study definitions in the project: diabetes register, readmissions, COPD", [&]() -> Status {
    const std::string token = DemoToken(out + "/governance/tokens.env", "ANA");
    if (token.empty()) return Status::NotFound(out + "/governance/tokens.env: no token for the demo's analyst");
    ::setenv("ARK_TOKEN", token.c_str(), 1);
    std::string html = "<section><h2>Study definitions</h2><p>Analysts define a population, variables and measures in "
                       "YAML (docs/study-definitions.md); Ark evaluates them over every timeline. Each definition below "
                       "ran in the approved project <code>demo-planning</code> as its analyst: authorised first, its "
                       "population checked against the opt-outs and recorded on the ledger before any output was "
                       "written. Measures follow OpenSAFELY's rules: counts of 7 or fewer redacted, the rest rounded to "
                       "5, ratios from the rounded counts. The same definitions give identical results on SQLite and "
                       "PostgreSQL (<code>ark run --engine sqlite|postgres</code>).</p>";
    for (const std::string& def : StudyDefinitions()) {
      const std::string name = fs::path(def).stem().string(), dir = out + "/study/" + name;
      ARK_RETURN_IF_ERROR(RunSelf({"run", ark, def, "--out", dir, "--project", "demo-planning", "--as", "ana", "--threads",
                                   std::to_string(threads), "--quiet"}));
      ARK_ASSIGN_OR_RETURN(std::string part, StudySectionHtml(def, dir));
      html += part;
      studies.push_back({{"definition", name}, {"out", fs::absolute(dir).string()}});
      std::printf("      %s\n", name.c_str());
    }
    ::unsetenv("ARK_TOKEN");
    return InsertIntoReport(out + "/report.html", html + "</section>");
  });
  if (!s.ok()) return ReportError(s);

  OJson summary;
  summary["ark"] = fs::absolute(ark).string();
  summary["studies"] = studies;
  summary["report"] = fs::absolute(out + "/report.html").string();
  summary["people"] = people;
  summary["years"] = years;
  summary["seed"] = seed;
  summary["persons"] = stats.persons;
  summary["events"] = stats.events;
  summary["bytes_on_disk"] = stats.bytes_on_disk;
  summary["events_by_custodian"] = stats.events_by_source;
  summary["link"] = {{"persons", link.persons}, {"precision", link.quality->precision}, {"recall", link.quality->recall}};
  OJson st = OJson::object();
  for (auto& [n, t] : steps) st[n] = t;
  summary["seconds"] = st;
  summary["figures"] = figures;
  summary["governance"] = governance;
  if (int rc = ReportError(WriteFileAtomic(out + "/summary.json", summary.dump(2) + "\n"))) return rc;
  std::printf("\nDone in %.1f s. Open %s/report.html in a browser; the Ark is %s.\n",
              std::chrono::duration<double>(Clock::now() - t_all).count(), out.c_str(), ark.c_str());
  return 0;
}

ARK_COMMAND(kDemo, "demo", "run the whole pipeline on a synthetic region", Demo);

}  // namespace
}  // namespace ark::cli
