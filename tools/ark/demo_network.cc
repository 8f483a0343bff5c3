#include "demo_network.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <fmt/format.h>
#include <thread>

#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "ingest/build.h"
#include "ingest/feed_spec.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"
#include "link/link.h"
#include "network/borrow.h"
#include "network/coordinator.h"
#include "network/glm.h"
#include "network/identity.h"
#include "network/measure.h"
#include "network/network_file.h"
#include "privacy/key.h"
#include "report/network_section.h"
#include "synth/profile.h"
#include "synth/synth.h"

namespace ark::cli {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A region: synthesised, pseudonymised at source, ingested, linked and built into an Ark.
Status BuildRegionArk(const std::string& profile, uint64_t people, uint64_t seed, int threads, const std::string& dir) {
  synth::SynthOptions so;
  so.people = people;
  so.years = 3;
  so.seed = seed;
  so.profile = profile;
  so.out_dir = dir + "/region";
  so.threads = threads;
  ARK_RETURN_IF_ERROR(synth::GenerateRegion(so).status());
  ARK_ASSIGN_OR_RETURN(std::string mtext, ReadFile(so.out_dir + "/manifest.json"));
  const OJson manifest = OJson::parse(mtext, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("custodians")) return Status::Internal(so.out_dir + "/manifest.json: unreadable");
  ARK_ASSIGN_OR_RETURN(ProgrammeKey key, ProgrammeKey::Generate());
  std::vector<std::string> dirs;
  for (auto& [c, v] : manifest["custodians"].items()) {
    ARK_ASSIGN_OR_RETURN(FeedSpec spec, BuiltinFeedSpec(c));
    ARK_RETURN_IF_ERROR(Pseudonymise(spec, key, so.out_dir + "/" + c, dir + "/custodians/" + c, false, threads).status());
    dirs.push_back(dir + "/custodians/" + c);
  }
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Create(dir + "/ark"));
  IngestOptions io;
  io.threads = threads;
  ARK_RETURN_IF_ERROR(Ingest(*cat, dirs, io).status());
  ARK_RETURN_IF_ERROR(LinkPprl(*cat, so.out_dir + "/truth", threads).status());
  ARK_RETURN_IF_ERROR(BuildTimelines(*cat, threads).status());
  // The extracts stay with the custodians: the site keeps only its Ark.
  (void)RemoveAll(dir + "/custodians");
  return Status::OK();
}

// The definition every region runs: emergency admissions among registered adults.
Result<std::string> WriteDefinition(const std::string& dir) {
  std::string codelist;
  for (const std::string& d : {std::string(ARK_SOURCE_DIR) + "/definitions", std::string("definitions")}) {
    if (PathExists(d + "/codelists/emergency-admission.csv")) {
      codelist = d + "/codelists/emergency-admission.csv";
      break;
    }
  }
  if (codelist.empty()) return Status::NotFound("definitions/codelists/emergency-admission.csv not found");
  ARK_RETURN_IF_ERROR(MakeDirs(dir + "/codelists"));
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(codelist));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/codelists/emergency-admission.csv", text));
  const std::string def = dir + "/network_emergency.yaml";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(def,
      "# Emergency admissions among registered adults, asked of every region of the network.\n"
      "name: network_emergency\n"
      "codelists:\n"
      "  emergency: {file: codelists/emergency-admission.csv, system: ADMIMETH}\n"
      "  reg:       {codes: ['REG/*']}\n"
      "index_date: 2025-01-01\n"
      "population: {registered: true, alive: true, age: [18, 120], where: \"imd_decile is not null and sex != 'U'\"}\n"
      "variables:\n"
      "  emergency_admission: {exists: emergency, from: -365d, to: -1d}\n"
      "  age_years:           age\n"
      "  female:              \"sex = 'F'\"\n"
      "  deprivation:         imd_decile\n"
      "  age_band:            {band: age, breaks: [40, 65, 80]}\n"
      "  sex_s:               sex\n"
      "  gp:                  practice\n"
      "  registered_quarter:  {exists: reg, spanning: true, from: 0d, to: interval_end}\n"
      "  admitted_in_quarter: {exists: emergency, overlapping: true, from: 0d, to: interval_end}\n"
      "measures:\n"
      "  emergency_admission_by_quarter:\n"
      "    numerator: admitted_in_quarter\n"
      "    denominator: registered_quarter\n"
      "    intervals: {every: quarter, from: 2023-01-01, to: 2024-12-31}\n"));
  return def;
}

struct Server {
  pid_t pid = -1;
};

Result<Server> StartServer(const std::string& ark, const std::string& net, const std::string& log) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a server never outlives the demo, even one that crashes
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(self.c_str(), self.c_str(), "network", "serve", ark.c_str(), "--network", net.c_str(), nullptr);
    ::_exit(127);
  }
  for (int k = 0; k < 400; ++k) {
    auto text = ReadFile(log);
    if (text.ok() && text->find("listening on") != std::string::npos) return Server{pid};
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) return Status::Internal("ark network serve " + ark + " exited: see " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return Status::Internal("ark network serve " + ark + " did not start: see " + log);
}

// One measure's CSV (no groups) as numerators and denominators by interval start.
void ReadMeasure(const std::string& csv, std::vector<std::string>* intervals, std::vector<std::optional<int64_t>>* num,
                 std::vector<std::optional<int64_t>>* den) {
  CsvParser p(csv);
  std::vector<std::string_view> row;
  bool first = true;
  auto count = [](std::string_view v) -> std::optional<int64_t> {
    if (v.empty() || v == "[REDACTED]") return std::nullopt;
    return std::stoll(std::string(v));
  };
  while (true) {
    auto more = p.Next(&row);
    if (!more.ok() || !*more) break;
    if (first) {
      first = false;
      continue;
    }
    if (row.size() < 6) continue;
    if (intervals) intervals->emplace_back(row[1]);
    num->push_back(count(row[4]));
    den->push_back(count(row[5]));
  }
}

}  // namespace

Result<std::string> NetworkDemo(const std::string& work_in, int largest, uint64_t seed, int threads, OJson* summary) {
  const std::string work = fs::absolute(work_in).string();
  ARK_RETURN_IF_ERROR(MakeDirs(work));
  const std::vector<std::string> profiles = {"default", "young-deprived", "old-affluent", "mixed"};
  const std::vector<std::string> names = {"north", "east", "south", "west"};
  NetworkFigures f;
  std::vector<std::string> arks;
  std::vector<std::string> listen;
  auto t0 = Clock::now();
  for (size_t i = 0; i < profiles.size(); ++i) {
    ARK_ASSIGN_OR_RETURN(synth::RegionProfile prof, synth::FindRegionProfile(profiles[i]));
    const uint64_t people = std::max<uint64_t>(500, static_cast<uint64_t>(largest) * prof.people / 14000);
    const std::string dir = work + "/" + names[i];
    (void)RemoveAll(dir);
    ARK_RETURN_IF_ERROR(BuildRegionArk(profiles[i], people, seed + i, threads, dir).WithContext("region " + names[i]));
    arks.push_back(dir + "/ark");
    listen.push_back("127.0.0.1:" + std::to_string(FreeLoopbackPort()));
    ARK_RETURN_IF_ERROR(net::InitSite(arks.back(), {.name = names[i], .listen = listen.back()}).status());
    f.regions.push_back({names[i], fmt::format("{} ({} people ever in the region)", profiles[i], people), "", 0});
    std::printf("      region %-6s %-15s %6llu people, its own Ark and key (%.1f s)\n", names[i].c_str(), profiles[i].c_str(),
                static_cast<unsigned long long>(people), Since(t0));
    std::fflush(stdout);
  }
  const std::string net_file = work + "/network.yaml";
  ARK_ASSIGN_OR_RETURN(std::string ny, net::NetworkFileFromCerts("four-regions", arks));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(net_file, ny));
  std::string ana_token;
  for (size_t i = 0; i < arks.size(); ++i) {
    ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(arks[i]));
    ARK_RETURN_IF_ERROR(gov::EnsureGovernanceSchema(*cat));
    ARK_RETURN_IF_ERROR(gov::AddUser(*cat, nullptr, "admin", {"admin"}).status());
    gov::Actor admin{"admin", {"admin"}};
    if (i == 0) {
      ARK_ASSIGN_OR_RETURN(ana_token, gov::AddUser(*cat, &admin, "ana", {"analyst"}));
    }
    ARK_RETURN_IF_ERROR(net::AcceptNetwork(arks[i], admin, net_file).status());
    ARK_ASSIGN_OR_RETURN(auto batches, cat->Batches());
    std::set<std::string> feed_set;  // the project is approved for every feed of the region's Ark
    for (const auto& b : batches) feed_set.insert(b.feed);
    const std::vector<std::string> feeds(feed_set.begin(), feed_set.end());
    gov::Project p;
    p.id = "fed-emergency";
    p.title = "Emergency admissions across the four regions";
    p.purpose = gov::Purpose::kResearch;
    p.legal_basis = "UK GDPR 6(1)(e), 9(2)(j)";
    p.datasets = feeds;
    p.people = {"ana@" + names[0]};
    p.start = "2025-01-01";
    p.end = "2099-12-31";
    ARK_RETURN_IF_ERROR(gov::CreateProject(*cat, admin, p));
    ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(arks[i]));
    ARK_RETURN_IF_ERROR(gov::ApproveProject(*cat, *ledger, admin, p.id));  // this region's committee
  }
  std::vector<Server> servers;
  auto stop_all = [&] {
    for (auto& s : servers) {
      if (s.pid <= 0) continue;
      ::kill(s.pid, SIGTERM);
      ::waitpid(s.pid, nullptr, 0);
      s.pid = -1;
    }
  };
  struct StopGuard {
    std::function<void()> fn;
    ~StopGuard() { fn(); }
  } guard{stop_all};
  for (size_t i = 0; i < arks.size(); ++i) {
    ARK_ASSIGN_OR_RETURN(Server s, StartServer(arks[i], net_file, work + "/" + names[i] + "-serve.log"));
    servers.push_back(s);
  }
  ARK_ASSIGN_OR_RETURN(std::string def, WriteDefinition(work + "/def"));
  ARK_ASSIGN_OR_RETURN(net::Site site, net::LoadSite(arks[0], net_file));
  const std::string project = "fed-emergency", user = "ana";
  ARK_RETURN_IF_ERROR(net::AuthoriseCoordinator(site, user, ana_token, project));
  const auto deadline = std::chrono::milliseconds(120000);

  // 1. The federated measure.
  auto t1 = Clock::now();
  ARK_ASSIGN_OR_RETURN(net::FederatedMeasures m, net::RunFederatedMeasure(site, def, project, user, deadline));
  const double measure_s = Since(t1);
  ARK_RETURN_IF_ERROR(net::WriteFederatedMeasures(m, work + "/measure"));
  f.measure = "network_emergency.yaml";
  f.ledger_exchanges += static_cast<int>(m.sites.size());
  const std::string mname = "emergency_admission_by_quarter";
  for (size_t i = 0; i < m.sites.size(); ++i) {
    f.regions[i].population_band = m.sites[i].body.value("population_band", std::string());
    f.regions[i].seconds = m.sites[i].seconds;
    f.numerator.emplace_back();
    f.denominator.emplace_back();
    ReadMeasure(m.per_site[m.sites[i].site][mname], i == 0 ? &f.intervals : nullptr, &f.numerator.back(), &f.denominator.back());
  }
  f.numerator.emplace_back();
  f.denominator.emplace_back();
  ReadMeasure(m.pooled[mname], nullptr, &f.numerator.back(), &f.denominator.back());
  for (size_t s = 0; s < f.numerator.size(); ++s) {  // a table a region withheld: shown as redacted
    f.numerator[s].resize(f.intervals.size());
    f.denominator[s].resize(f.intervals.size());
  }
  std::printf("      federated measure: %zu regions in %.2f s\n", m.sites.size(), measure_s);

  // 2. The federated logistic regression, and the pooled fit for comparison.
  net::GlmSpec spec;
  spec.outcome = "emergency_admission";
  spec.covariates = {"age_years", "female", "deprivation"};
  auto t2 = Clock::now();
  ARK_ASSIGN_OR_RETURN(net::GlmRun run, net::RunFederatedGlm(site, def, spec, project, user, {.deadline = deadline}));
  f.fed_seconds = Since(t2);
  f.terms = run.names;
  f.fed_beta = run.fit.beta;
  f.fed_se = run.fit.se;
  f.n = run.fit.n;
  f.iterations = run.fit.iterations;
  f.round_trips = run.fit.round_trips;
  f.exchanges = run.exchanges;
  f.bytes = run.bytes;
  f.ledger_exchanges += run.exchanges;
  auto t3 = Clock::now();
  stats::GlmData all;
  for (const auto& ark : arks) {  // for comparison only: nobody in a real network holds these rows together
    ARK_ASSIGN_OR_RETURN(stats::GlmData d, net::GlmDesign(ark, def, spec, study::Purpose::kResearch, nullptr));
    all.cols = d.cols;
    all.rows += d.rows;
    all.x.insert(all.x.end(), d.x.begin(), d.x.end());
    all.y.insert(all.y.end(), d.y.begin(), d.y.end());
  }
  ARK_ASSIGN_OR_RETURN(stats::GlmFit pooled, stats::FitGlm(all, spec.family));
  f.pooled_seconds = Since(t3);
  f.pooled_beta = pooled.beta;
  f.pooled_se = pooled.se;
  std::printf("      federated logistic regression: %d iterations, %d round trips, %.2f s (pooled fit %.2f s)\n", f.iterations,
              f.round_trips, f.fed_seconds, f.pooled_seconds);

  // 3. Meta-analysis of the deprivation coefficient.
  ARK_ASSIGN_OR_RETURN(net::NetworkMeta meta, net::RunFederatedMeta(site, def, spec, "deprivation", project, user, deadline));
  f.meta_term = meta.term;
  f.meta_estimate = meta.estimate;
  f.meta_variance = meta.variance;
  f.meta_dl = meta.dl;
  f.meta_reml = meta.reml;
  f.ledger_exchanges += static_cast<int>(meta.exchanges.size());

  // 4. Counts per practice and stratum: funnel plots and shrinkage.
  ARK_ASSIGN_OR_RETURN(net::NetworkUnits u,
                       net::RunFederatedCounts(site, def, {"emergency_admission", "gp", {"age_band", "sex_s"}}, project, user, deadline));
  for (const auto& x : u.units) f.practices.push_back({x.site, x.unit, x.events, x.people, x.expected});
  for (const auto& x : u.site_totals) f.region_totals.push_back({x.site, x.unit, x.events, x.people, x.expected});
  f.withheld = u.withheld;
  f.ledger_exchanges += static_cast<int>(u.exchanges.size());
  stop_all();

  f.ledgers_verified = true;
  for (const auto& ark : arks) f.ledgers_verified = f.ledgers_verified && gov::VerifyLedger(gov::LedgerDirOf(ark)).ok();
  OJson section;
  std::string html = NetworkSectionHtml(f, &section);
  *summary = {{"regions", names}, {"profiles", profiles}, {"measure_seconds", measure_s}, {"glm_seconds", f.fed_seconds},
              {"pooled_glm_seconds", f.pooled_seconds}, {"exchanges", f.ledger_exchanges}, {"ledgers_verified", f.ledgers_verified},
              {"total_seconds", Since(t0)}, {"section", section}};
  return html;
}

}  // namespace ark::cli
