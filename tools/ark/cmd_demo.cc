// `ark demo`: the whole pipeline on a synthetic region, end to end, as its users would run it:
// synth (the region) -> keygen and pseudonymise (each custodian, at source) -> init, ingest,
// link, build (the Ark) -> a report a person can read.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "core/net.h"
#include "core/process.h"
#include "demo_citizens.h"
#include "demo_network.h"
#include "disclosure/opensafely.h"
#include "server/serve_process.h"
#include "governance/demo.h"
#include "governance/governance.h"
#include "pathways/pathway.h"
#include "ingest/build.h"
#include "ingest/feed_spec.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"
#include "link/link.h"
#include "privacy/key.h"
#include "report/contents.h"
#include "report/region_report.h"
#include "report/study_section.h"
#include "report/targeting_section.h"
#include "stats/metrics.h"
#include "report/svg.h"
#include "synth/hl7_feed.h"
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
  for (const std::string& dir : {std::string(ARK_SOURCE_DIR) + "/definitions", std::string("definitions")}) {
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

// Quantile of a Prometheus histogram (cumulative buckets `name_bucket{...,le="x"} n`) for the
// series whose labels contain `label`; upper bucket bound, or -1 without data.
double HistogramQuantile(const std::string& metrics, const std::string& name, const std::string& label, double q) {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  size_t pos = 0;
  const std::string prefix = name + "_bucket{";
  while ((pos = metrics.find(prefix, pos)) != std::string::npos) {
    const size_t eol = metrics.find('\n', pos);
    const std::string line = metrics.substr(pos, eol - pos);
    pos = eol == std::string::npos ? metrics.size() : eol;
    if (line.find(label) == std::string::npos) continue;
    const size_t le = line.find("le=\"");
    if (le == std::string::npos) continue;
    const std::string bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
    const double b = bound == "+Inf" ? 1e300 : std::atof(bound.c_str());
    buckets.emplace_back(b, std::atof(line.substr(line.rfind(' ') + 1).c_str()));
  }
  if (buckets.empty() || buckets.back().second <= 0) return -1;
  const double want = q * buckets.back().second;
  for (auto& [b, c] : buckets)
    if (c >= want) return b;
  return buckets.back().first;
}

// An alert rule's name in words: "aki_stage_2_or_more" -> "AKI stage 2 or more",
// "emergency_readmission_30d" -> "emergency readmission within 30 days".
std::string RuleLabel(const std::string& name) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string w = word == "aki" ? "AKI" : word == "news2" ? "NEWS2" : word == "ae" ? "A&E" : word;
    if (w.size() > 1 && w.back() == 'd' && std::all_of(w.begin(), w.end() - 1, ::isdigit))
      w = "within " + w.substr(0, w.size() - 1) + " days";
    out += (out.empty() ? "" : " ") + w;
    word.clear();
  };
  for (char c : name) c == '_' ? flush() : void(word += c);
  flush();
  return out;
}

std::string Ms(double seconds) {
  if (seconds < 0) return "&ndash;";
  if (seconds >= 1e299) return "&gt; the largest bucket";
  return fmt::format("&le; {:g} ms", seconds * 1000);
}

// The live part of the demo: the acute trust's last days of HL7 messages replayed through
// `ark serve` (one connection, in order, as a trust's interface engine sends), then its
// indicators, alerts and measured latencies. Returns the report section.
Result<std::string> LiveDemo(const std::string& region, const std::string& ark, const std::string& key_file,
                             const std::string& work, uint64_t seed, int days, OJson* summary) {
  ARK_ASSIGN_OR_RETURN(synth::Hl7FeedReport feed, synth::WriteHl7Feed(region, seed, days));
  ARK_RETURN_IF_ERROR(MakeDirs(work));
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::fflush(stdout);
  ARK_ASSIGN_OR_RETURN(server::ServeProcess serve,
                       server::StartServe(self, ark, work + "/serve.log", {"--key", key_file}, /*wait_ms=*/10000));
  auto stop = [&] { server::StopServe(serve); };
  const uint16_t mllp = serve.mllp, http = serve.http;
  const CommandOutput send = RunCommand(self + " send-hl7 " + region + "/acute/feed.hl7 --to 127.0.0.1:" +
                                        std::to_string(mllp) + " --connections 1 --json 2>" + work + "/send.log");
  auto token = ReadFile(ark + "/live/api.token");
  std::string tok = token.ok() ? *token : "";
  while (!tok.empty() && (tok.back() == '\n' || tok.back() == '\r')) tok.pop_back();
  // The body of an authorised GET, or "" (then parsing fails below and names the API).
  auto get = [&](const char* target) {
    auto r = HttpGetLocal(http, target, tok);
    return r.ok() && r->status == 200 ? r->body : std::string();
  };
  const std::string ind_text = get("/api/live/indicators");
  const std::string alerts_text = get("/api/live/alerts");
  const std::string metrics = get("/metrics");
  stop();
  OJson sent = OJson::parse(send.output, nullptr, false), ind = OJson::parse(ind_text, nullptr, false),
        alerts = OJson::parse(alerts_text, nullptr, false);
  if (send.exit_code != 0 || sent.is_discarded()) return Status::Internal("ark send-hl7 failed (see " + work + "/send.log)");
  if (metrics.empty() || ind.is_discarded() || alerts.is_discarded()) return Status::Internal("the live API did not answer");
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work + "/indicators.json", ind.dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work + "/metrics.txt", metrics));

  const double r50 = HistogramQuantile(metrics, "ark_live_data_action_latency_seconds", "from=\"receipt\"", 0.5);
  const double r99 = HistogramQuantile(metrics, "ark_live_data_action_latency_seconds", "from=\"receipt\"", 0.99);
  const double a50 = HistogramQuantile(metrics, "ark_live_ack_latency_seconds", "", 0.5);
  const double a99 = HistogramQuantile(metrics, "ark_live_ack_latency_seconds", "", 0.99);
  auto num = [](const OJson& j, const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
  std::string h = "<section><h2>Live: HL7 feed to alerts</h2><p>What a hospital's own messages tell a service manager "
                  "seconds after each event, not months later: beds in use, A&amp;E waits, kidney injury and "
                  "early-warning scores, and alerts raised for the care teams. Counts of people are shown under the "
                  "same disclosure rules as the rest of this report.</p>";
  h += fmt::format(
      "<p>The acute trust's last {} days of HL7 v2 messages ({} messages: admissions, transfers, discharges, A&amp;E "
      "attendances, lab results and vital signs) were replayed over MLLP into <code>ark serve</code>, one connection "
      "waiting for each acknowledgement as a trust's interface engine does. Each message was pseudonymised at the edge "
      "with the programme key (no NHS number or name is written), made durable in the write-ahead log before its ACK, "
      "and updated the indicators at once. <b>{}</b> of {} messages acknowledged (AA), {} messages/s.</p>",
      days, svg::Grouped(static_cast<double>(feed.messages), 0), svg::Grouped(num(sent, "acknowledged"), 0),
      svg::Grouped(num(sent, "sent"), 0), svg::Grouped(num(sent, "rate"), 0));
  h += "<p><b>Data-action latency</b> (receipt of a message to its alert emitted): median " + Ms(r50) + ", 99th percentile " +
       Ms(r99) + " (histogram buckets). ACK latency, including the fdatasync: median " + Ms(a50) + ", 99th percentile " +
       Ms(a99) + ".</p>";
  // Every count of people (and of beds, wards and alerts, which are people too) goes through the
  // disclosure rules before it is printed; no row-level alert is printed: those go to care teams.
  auto pub = [](uint64_t n) { auto p = sdc::PublishCount(static_cast<int64_t>(n)); return p.ok() ? *p : std::nullopt; };
  auto show = [](const std::optional<int64_t>& v) { return v ? svg::Grouped(static_cast<double>(*v), 0) : std::string("[REDACTED]"); };
  auto cnt = [&](const OJson& j, const char* k) { return show(pub(j.value(k, uint64_t{0}))); };
  std::vector<std::vector<std::string>> rows;
  const OJson& beds = ind["bed_occupancy"];
  rows.push_back({"beds occupied now", cnt(beds, "occupied")});
  const OJson& ae = ind["ae_4h"];
  // "Today" may have just begun: the latest day with completed attendances.
  const OJson* ae_day = nullptr;
  if (ae.contains("by_day") && ae["by_day"].is_array())
    for (const OJson& d : ae["by_day"])
      if (d.value("completed", uint64_t{0}) > 0) ae_day = &d;
  if (ae_day) {
    const auto done = pub((*ae_day).value("completed", uint64_t{0})), within = pub((*ae_day).value("within_4h", uint64_t{0}));
    const auto rate = sdc::PublishRate(within, done, 100);
    rows.push_back({"A&amp;E: seen within 4 hours on " + (*ae_day).value("day", std::string()) +
                        " (the latest day with completed attendances; the standard is 95%)",
                    rate ? fmt::format("{:.1f}% of {} completed attendances", *rate, show(done))
                         : "[REDACTED] (too few attendances to show)"});
  } else {
    rows.push_back({"A&amp;E: seen within 4 hours", "no completed attendance in the feed"});
  }
  const OJson& ra = ind["readmissions_30d"];
  rows.push_back({"emergency admissions; of them, within 30 days of a discharge",
                  cnt(ra, "emergency_admissions") + "; " + cnt(ra, "readmissions")});
  const OJson& aki = ind["aki"];
  rows.push_back({"creatinine results; people at acute kidney injury stage 1 / 2 / 3",
                  cnt(aki, "results") + "; " + cnt(aki, "persons_stage_1") + " / " + cnt(aki, "persons_stage_2") + " / " +
                      cnt(aki, "persons_stage_3")});
  const OJson& nw = ind["news2"];
  rows.push_back({"vital-sign sets; people with an early-warning score (NEWS2) of 5 or more / 7 or more / a single 3",
                  cnt(nw, "observation_sets") + "; " + cnt(nw, "persons_5_or_more") + " / " + cnt(nw, "persons_7_or_more") +
                      " / " + cnt(nw, "persons_single_3")});
  std::string tbl = "<table><tr><th>indicator</th><th>value</th></tr>";
  for (auto& r : rows) tbl += "<tr><td>" + r[0] + "</td><td class=num>" + r[1] + "</td></tr>";
  h += tbl + "</table>";
  // Beds by ward (the fullest first), and alerts by rule.
  std::vector<std::tuple<double, std::string, std::string>> wards;
  if (beds.contains("by_site"))
    for (auto& [site, v] : beds["by_site"].items())
      if (v.contains("wards"))
        for (auto& [ward, n] : v["wards"].items()) wards.emplace_back(n.get<double>(), site, ward);
  std::sort(wards.begin(), wards.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<std::string> rules;
  std::vector<std::optional<double>> fired;
  std::string rt = "<table><tr><th>alert rule</th><th>alerts raised</th></tr>";
  if (ind["alerts"].contains("by_rule"))
    for (auto& [rule, n] : ind["alerts"]["by_rule"].items()) {
      const auto p = pub(n.get<uint64_t>());
      rules.push_back(RuleLabel(rule));
      fired.push_back(p ? std::optional<double>(static_cast<double>(*p)) : std::nullopt);
      rt += "<tr><td>" + svg::Escape(RuleLabel(rule)) + "</td><td class=num>" + show(p) + "</td></tr>";
    }
  h += "<div class=row>";
  if (!rules.empty()) h += svg::BarChart(rules, {{"alerts", fired, ""}}, {.title = "Alerts raised, by rule", .y_label = "alerts", .width = 460, .height = 300, .decimals = 0});
  std::string wt = "<table><tr><th>site</th><th>ward</th><th>beds occupied now</th></tr>";
  for (size_t i = 0; i < wards.size() && i < 10; ++i)
    wt += fmt::format("<tr><td>{}</td><td>{}</td><td class=num>{}</td></tr>", svg::Escape(std::get<1>(wards[i])),
                      svg::Escape(std::get<2>(wards[i])), show(pub(static_cast<uint64_t>(std::get<0>(wards[i])))));
  h += "<div>" + wt + "</table>" + (wards.size() > 10 ? fmt::format("<p>… and {} more wards.</p>", wards.size() - 10) : "") + "</div></div>";
  h += "<p>Alerts go to the care teams' own screens as they are raised (Server-Sent Events and webhooks), "
       "each naming the person by the Ark's pseudonymous key; this report shows only how many were raised.</p>" +
       rt + "</table></section>";
  *summary = {{"messages", feed.messages}, {"sent", sent.value("sent", 0)}, {"acknowledged", sent.value("acknowledged", 0)},
              {"rate", num(sent, "rate")}, {"data_action_latency_receipt_p50_s", r50}, {"data_action_latency_receipt_p99_s", r99},
              {"ack_latency_p50_s", a50}, {"ack_latency_p99_s", a99}, {"indicators", ind}};
  return h;
}

// The example pathway definition `name`: beside the binary's source tree, or in ./pathways.
std::string PathwayDefinition(const std::string& name) {
  for (const std::string dir : {std::string(ARK_SOURCE_DIR) + "/pathways", std::string("pathways")}) {
    const std::string p = dir + "/" + name + ".yaml";
    if (PathExists(p)) return p;
  }
  return "";
}


// The example risk model `name`: beside the binary's source tree, or in ./models.
std::string ModelFile(const std::string& name) {
  for (const std::string dir : {std::string(ARK_SOURCE_DIR) + "/models", std::string("models")}) {
    const std::string p = dir + "/" + name;
    if (PathExists(p)) return p;
  }
  return "";
}

// The oracle: the AUROC of the synthetic region's true risks (truth/emergency_risk.csv), the best
// any model can reach on it. NotFound without the file.
Result<std::tuple<stats::Roc, int64_t, std::string>> OracleAuroc(const std::string& region) {
  const std::string path = region + "/truth/emergency_risk.csv";
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<double> p;
  std::vector<int> y;
  std::string date;
  size_t pos = text.find('\n'), line = 1;
  while (pos != std::string::npos && pos + 1 < text.size()) {
    const size_t end = text.find('\n', pos + 1);
    const std::string row = text.substr(pos + 1, (end == std::string::npos ? text.size() : end) - pos - 1);
    pos = end;
    ++line;
    if (row.empty()) continue;
    const size_t a = row.find(','), b = row.find(',', a + 1), c = row.find(',', b + 1);
    if (c == std::string::npos) return Status::InvalidArgument(path + ":" + std::to_string(line) + ": expected 4 fields");
    if (date.empty()) date = row.substr(a + 1, b - a - 1);
    p.push_back(std::atof(row.substr(b + 1, c - b - 1).c_str()));
    y.push_back(row.substr(c + 1) == "1");
  }
  ARK_ASSIGN_OR_RETURN(stats::Roc roc, stats::Auroc(p, y));
  return std::make_tuple(roc, static_cast<int64_t>(p.size()), date);
}

// The targeting part of the demo: a planning project of its own for the risk model (proposed by
// the analyst, approved by the admin, both on the ledger), `ark model train` in it with the
// deprivation remedy, and the report section from its card. Returns the section.
Result<std::string> TargetingDemo(const std::string& out, const std::string& ark, const std::string& region,
                                  Catalog& cat, int years, int threads, OJson* summary) {
  const std::string model = ModelFile("emergency_admission_12m.yaml");
  auto note = [](const std::string& why) {
    return "<section><h2>Targeting: who is most likely to be admitted as an emergency</h2><p>" + svg::Escape(why) + "</p></section>";
  };
  if (model.empty()) return note("No risk model was trained: models/emergency_admission_12m.yaml was not found.");
  if (years < 2)
    return note("No risk model was trained: it is fitted at 1 January 2024 and checked on 2025, so the region needs at "
                "least two years of history (ark demo --years 2 or more).");
  const std::string tokens = out + "/governance/tokens.env";
  const std::string ana = DemoToken(tokens, "ANA"), admin = DemoToken(tokens, "ADMIN");
  if (ana.empty() || admin.empty()) return Status::NotFound(tokens + ": no token for the demo's analyst or admin");
  ARK_ASSIGN_OR_RETURN(gov::Project planning, gov::GetProject(cat, "demo-planning"));
  std::string datasets;
  for (const std::string& d : planning.datasets) datasets += (datasets.empty() ? "" : ",") + d;
  const std::string today = gov::Today();
  std::string end = std::to_string(std::stoi(today.substr(0, 4)) + 1) + today.substr(4);
  if (end.substr(4) == "-02-29") end = end.substr(0, 8) + "28";
  const std::string project = "demo-targeting";
  auto as = [&](const std::string& token, std::vector<std::string> args) {
    ::setenv("ARK_TOKEN", token.c_str(), 1);
    Status st = RunSelf(args);
    ::unsetenv("ARK_TOKEN");
    return st;
  };
  ARK_RETURN_IF_ERROR(as(ana, {"project", "create", ark, project, "--title",
                               "Targeting community services to the risk of emergency admission (risk model and need)",
                               "--purpose", "planning", "--legal-basis",
                               "UK GDPR 6(1)(e) and 9(2)(h); NHS Act 2006 s251 support (illustrative)", "--datasets", datasets,
                               "--people", "ana", "--start", today, "--end", end, "--as", "ana"}));
  ARK_RETURN_IF_ERROR(as(admin, {"project", "approve", ark, project, "--as", "admin"}));
  // The model, and a second copy with the remedy for the false-negative-rate gap between
  // deprivation quintiles (its card gives the gap and calibration before and after).
  const std::string dir = out + "/targeting/model", remedied = out + "/targeting/model_remedy";
  ARK_RETURN_IF_ERROR(as(ana, {"model", "train", ark, model, "--out", dir, "--project", project, "--as", "ana", "--threads",
                               std::to_string(threads)}));
  ARK_RETURN_IF_ERROR(as(ana, {"model", "train", ark, model, "--out", remedied, "--project", project, "--as", "ana",
                               "--threads", std::to_string(threads), "--remedy", "recalibrate-by-deprivation"}));
  auto card = [](const std::string& d) -> Result<OJson> {
    ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(d + "/model_card.json"));
    OJson j = OJson::parse(text, nullptr, false);
    if (j.is_discarded()) return Status::InvalidArgument(d + "/model_card.json: not JSON");
    return j;
  };
  TargetingInputs in;
  ARK_ASSIGN_OR_RETURN(in.card, card(dir));
  ARK_ASSIGN_OR_RETURN(in.remedy_card, card(remedied));
  in.project = project;
  if (auto oracle = OracleAuroc(region); oracle.ok()) {
    std::tie(in.oracle, in.oracle_people, in.oracle_date) = *oracle;
  } else {
    std::printf("      no oracle: %s\n", oracle.status().ToString().c_str());
  }
  OJson figures;
  ARK_ASSIGN_OR_RETURN(std::string html, TargetingSectionHtml(in, &figures));
  *summary = figures["targeting"];
  (*summary)["model_dir"] = fs::absolute(dir).string();
  return html;
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
  int live_days = 7;
  app.add_option("--live-days", live_days, "days of the acute trust's HL7 feed to replay through ark serve")->capture_default_str()->check(CLI::Range(1, 3650));
  int network_people = 6000;  // network (issue 15): size of the largest of the four regions; 0 leaves it out
  app.add_option("--network-people", network_people, "people in the largest of the network's four regions (0: no network part)")
      ->capture_default_str()->check(CLI::Range(0, 2000000));
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
  const size_t total_steps = network_people > 0 ? 14 : 13;  // the network step is optional
  auto step = [&](const std::string& name, const std::function<Status()>& fn) -> Status {
    std::printf("[%zu/%zu] %s ...\n", steps.size() + 1, total_steps, name.c_str());
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
      ARK_ASSIGN_OR_RETURN(auto r, Pseudonymise(spec, key, region + "/" + c, cust + "/" + c, false, threads));
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

  s = step("citizens: receipt codes for the web app's \"Your data\" view", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(int issued, IssueDemoReceiptCodes(*cat, out + "/governance/receipt_codes.txt"));
    std::printf("      %d receipt codes in %s/governance/receipt_codes.txt\n", issued, out.c_str());
    return Status::OK();
  });
  if (!s.ok()) return ReportError(s);

  OJson targeting;
  s = step("targeting: a risk model in its own planning project, with the deprivation remedy", [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(std::string html, TargetingDemo(out, fs::absolute(ark).string(), region, *cat, years, threads, &targeting));
    if (targeting.contains("auroc"))
      std::printf("      AUROC %.3f%s\n", targeting["auroc"]["estimate"].get<double>(),
                  targeting.contains("oracle_auroc") ? fmt::format(" (oracle {:.3f})", targeting["oracle_auroc"]["estimate"].get<double>()).c_str() : "");
    return InsertIntoReport(out + "/report.html", html);
  });
  if (!s.ok()) return ReportError(s);

  OJson live;
  s = step(fmt::format("live: the acute trust's last {} days of HL7 messages through ark serve", live_days), [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(std::string html, LiveDemo(region, fs::absolute(ark).string(), cust + "/programme.key",
                                                     out + "/live", static_cast<uint64_t>(seed), live_days, &live));
    std::printf("      %s of %s messages acknowledged\n", live["acknowledged"].dump().c_str(), live["sent"].dump().c_str());
    return InsertIntoReport(out + "/report.html", html);
  });
  if (!s.ok()) return ReportError(s);

  // Network (issue 15): four regions, each its own Ark with its own keys, answering one analyst.
  OJson network;
  if (network_people > 0) {
    s = step("network: four regions, each its own Ark, answer a federated analysis", [&]() -> Status {
      ARK_ASSIGN_OR_RETURN(std::string html, NetworkDemo(out + "/network", network_people, static_cast<uint64_t>(seed), threads, &network));
      return InsertIntoReport(out + "/report.html", html);
    });
    if (!s.ok()) return ReportError(s);
  }

  if (auto html = ReadFile(out + "/report.html"); html.ok()) {
    if (Status c = WriteFileAtomic(out + "/report.html", WithContents(*html)); !c.ok()) return ReportError(c);
  }

  OJson summary;
  summary["ark"] = fs::absolute(ark).string();
  summary["studies"] = studies;
  summary["live"] = live;
  summary["targeting"] = targeting;
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
  if (!network.is_null()) summary["network"] = network;
  if (int rc = ReportError(WriteFileAtomic(out + "/summary.json", summary.dump(2) + "\n"))) return rc;
  std::printf("\nDone in %.1f s. Open %s/report.html in a browser; the Ark is %s.\n",
              std::chrono::duration<double>(Clock::now() - t_all).count(), out.c_str(), ark.c_str());
  return 0;
}

ARK_COMMAND(kDemo, "demo", "run the whole pipeline on a synthetic region", Demo);

}  // namespace
}  // namespace ark::cli
