// `ark network init|file|accept|serve|run`: the network of Arks (docs/network.md). Sites hold their
// own keys, trust each other by certificate fingerprint (an accepted network file), talk over
// mutually authenticated TLS 1.3 with signed, expiring, single-use requests, and answer only
// disclosure-controlled aggregates in projects their own committees approved.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "network/borrow.h"
#include <fmt/format.h>
#include "network/coordinator.h"
#include "network/glm.h"
#include "network/identity.h"
#include "network/network_file.h"
#include "network/server.h"
#include "who.h"

namespace ark::cli {
namespace {

int Init(int argc, char** argv) {
  CLI::App app("Make this Ark a network site: a key pair and a self-signed certificate in ARK/network/ (0700, files 0600).\n"
               "  ark network init ARK --site NAME --listen HOST:PORT [--key-type ed25519|p256] [--rules opensafely|acro]\n"
               "Prints the certificate's SHA-256 fingerprint (what the network file lists).",
               "ark network init");
  std::string dir;
  net::SiteConfig c;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--site", c.name, "the site's name in the network")->required();
  app.add_option("--listen", c.listen, "HOST:PORT `ark network serve` binds (e.g. 127.0.0.1:7101)")->required();
  app.add_option("--key-type", c.key_type, "ed25519 or p256")->capture_default_str();
  app.add_option("--rules", c.rules, "the site's disclosure rules for what it answers: opensafely or acro")->capture_default_str();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (c.listen.find(':') == std::string::npos) c.listen = "127.0.0.1:" + c.listen;
  auto r = net::InitSite(dir, c);
  if (!r.ok()) return ReportError(r.status());
  std::printf("site %s: certificate %s\nSHA-256 fingerprint %s\n", c.name.c_str(), r->cert_path.c_str(), r->fingerprint.c_str());
  return 0;
}

int File(int argc, char** argv) {
  CLI::App app("Write a network file from the members' certificates (PEM files, or Ark directories).\n"
               "  ark network file --network NAME --out net.yaml SITE_CERT...",
               "ark network file");
  std::string name, out;
  std::vector<std::string> certs;
  app.add_option("--network", name, "the network's name")->required();
  app.add_option("--out", out, "the network file to write")->required();
  app.add_option("certs", certs, "members' certificates (ARK/network/site.crt) or Ark directories")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto y = net::NetworkFileFromCerts(name, certs);
  if (!y.ok()) return ReportError(y.status());
  if (int rc = ReportError(WriteFileAtomic(out, *y))) return rc;
  std::printf("wrote %s (%zu members)\n", out.c_str(), certs.size());
  return 0;
}

int Accept(int argc, char** argv) {
  CLI::App app("Accept a network file at this Ark (admin): copied to ARK/network/accepted/, its SHA-256 on the ledger.\n"
               "  ark network accept ARK net.yaml --as ADMIN",
               "ark network accept");
  std::string dir, file;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("file", file, "the network file")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  if (int rc = ReportError(gov::EnsureGovernanceSchema(**cat))) return rc;
  auto actor = who.Resolve(**cat);
  if (!actor.ok()) return ReportError(actor.status());
  auto n = net::AcceptNetwork(dir, *actor, file);
  if (!n.ok()) return ReportError(n.status());
  std::printf("accepted network %s (%zu members), sha256 %s (ledger: network.accepted)\n", n->name.c_str(), n->members.size(),
              n->sha256.c_str());
  return 0;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Serve(int argc, char** argv) {
  CLI::App app("Answer the network's requests (its own TLS listener, at the address given to `ark network init`).\n"
               "  ark network serve ARK --network net.yaml",
               "ark network serve");
  std::string dir, file;
  net::ServeOptions o;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--network", file, "the accepted network file")->required();
  app.add_option("--max-connections", o.max_connections, "connections served at once")->capture_default_str();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto site = net::LoadSite(dir, file);
  if (!site.ok()) return ReportError(site.status());
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  o.stop = &g_stop;
  Status s = net::Serve(*site, o, [&](const std::string& addr) {
    std::printf("site %s of network %s listening on %s\n", site->config.name.c_str(), site->network.name.c_str(), addr.c_str());
    std::fflush(stdout);
  });
  return ReportError(s);
}

int RunFederated(int argc, char** argv) {
  CLI::App app("Run a study definition at every site of a network and pool the released measures.\n"
               "  ark network run net.yaml DEF.yaml --ark ARK --project P --as USER --out DIR [--deadline SECONDS]\n"
               "Writes DIR/sites/<site>/<measure>.csv (what each site released under its own rules), DIR/pooled/<measure>.csv\n"
               "and DIR/network.json. Fails, naming each site, when a site refuses or does not answer within the deadline.",
               "ark network run");
  std::string file, def, dir, project, out;
  double deadline = 60;
  Who who;
  app.add_option("network", file, "the accepted network file")->required();
  app.add_option("definition", def, "study definition (YAML)")->required();
  app.add_option("--ark", dir, "this site's Ark (its key, acceptance, users and ledger)")->required();
  app.add_option("--project", project, "the federated project (approved at every site)")->required();
  app.add_option("--out", out, "output directory")->required();
  app.add_option("--deadline", deadline, "seconds each site has to answer")->capture_default_str();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  std::signal(SIGPIPE, SIG_IGN);
  auto site = net::LoadSite(dir, file);
  if (!site.ok()) return ReportError(site.status());
  auto token = who.Token();
  if (!token.ok()) return ReportError(token.status());
  if (int rc = ReportError(net::AuthoriseCoordinator(*site, who.user, *token, project))) return rc;
  auto m = net::RunFederatedMeasure(*site, def, project, who.user, std::chrono::milliseconds(static_cast<int64_t>(deadline * 1000)));
  if (!m.ok()) return ReportError(m.status());
  if (int rc = ReportError(net::WriteFederatedMeasures(*m, out))) return rc;
  for (const auto& x : m->sites) std::printf("%s: ok in %.3f s (request %s)\n", x.site.c_str(), x.seconds, x.request_sha256.substr(0, 12).c_str());
  for (const auto& [k, why] : m->withheld) std::printf("withheld %s: %s\n", k.c_str(), why.c_str());
  std::printf("pooled %zu measure(s) from %zu sites into %s\n", m->pooled.size(), m->sites.size(), out.c_str());
  return 0;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  for (size_t a = 0; a <= s.size();) {
    size_t b = s.find(',', a);
    if (b == std::string::npos) b = s.size();
    if (b > a) out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

int Glm(int argc, char** argv) {
  CLI::App app("Fit a GLM across the network by Fisher scoring: one round trip to every site per iteration, each site\n"
               "returning only XᵀWX, XᵀWz and its deviance at the current coefficients.\n"
               "  ark network glm net.yaml --definition DEF.yaml --ark ARK --project P --as USER --outcome Y --covariates A,B\n"
               "      [--factor F=L1|L2|..] [--offset O] [--family binomial|poisson|gaussian] [--deadline S] [--retries N] [--out FIT.json]\n"
               "Each site applies the model disclosure rules first (nfilter.subset, nfilter.glm, nfilter.tab, factor levels,\n"
               "differencing against the project's earlier requests); a refusal names the site and the rule.",
               "ark network glm");
  std::string file, def, dir, project, outcome, covariates, offset, family = "binomial", out;
  std::vector<std::string> factors;
  double deadline = 60, pause = 1;
  int retries = 5;
  Who who;
  app.add_option("network", file, "the accepted network file")->required();
  app.add_option("--definition", def, "study definition whose variables are the design")->required();
  app.add_option("--ark", dir, "this site's Ark")->required();
  app.add_option("--project", project, "the federated project")->required();
  app.add_option("--outcome", outcome, "outcome variable (bool, int or float)")->required();
  app.add_option("--covariates", covariates, "covariate variables, comma-separated (an intercept is added)");
  app.add_option("--factor", factors, "a factor covariate NAME=LEVEL1|LEVEL2|... (the first is the reference); repeatable");
  app.add_option("--offset", offset, "offset variable (e.g. log person-years), optional");
  app.add_option("--family", family, "binomial (logit), poisson (log) or gaussian (identity)")->capture_default_str();
  app.add_option("--deadline", deadline, "seconds each site has per round trip")->capture_default_str();
  app.add_option("--retries", retries, "times a site's step is retried when it does not answer")->capture_default_str();
  app.add_option("--retry-pause", pause, "seconds between retries")->capture_default_str();
  app.add_option("--out", out, "write the fit as JSON here");
  std::string pooled_from;
  app.add_option("--pooled-from", pooled_from,
                 "benchmarks and checks only: also fit the same model pooled in this process on these Arks' rows "
                 "(ARK,ARK,...; only possible for whoever holds them all) and print its time and largest difference");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  std::signal(SIGPIPE, SIG_IGN);
  auto site = net::LoadSite(dir, file);
  if (!site.ok()) return ReportError(site.status());
  auto token = who.Token();
  if (!token.ok()) return ReportError(token.status());
  if (int rc = ReportError(net::AuthoriseCoordinator(*site, who.user, *token, project))) return rc;
  net::GlmSpec spec;
  spec.outcome = outcome;
  spec.offset = offset;
  for (size_t a = 0; a <= covariates.size();) {
    size_t b = covariates.find(',', a);
    if (b == std::string::npos) b = covariates.size();
    if (b > a) spec.covariates.push_back(covariates.substr(a, b - a));
    a = b + 1;
  }
  for (const auto& f : factors) {
    auto g = net::ParseGlmFactor(f);
    if (!g.ok()) return ReportError(g.status());
    spec.factors.push_back(*g);
  }
  auto fam = stats::ParseGlmFamily(family);
  if (!fam.ok()) return ReportError(fam.status());
  spec.family = *fam;
  net::GlmRunOptions o;
  o.deadline = std::chrono::milliseconds(static_cast<int64_t>(deadline * 1000));
  o.retries = retries;
  o.retry_pause = std::chrono::milliseconds(static_cast<int64_t>(pause * 1000));
  const auto t0 = std::chrono::steady_clock::now();
  auto run = net::RunFederatedGlm(*site, def, spec, project, who.user, o);
  if (!run.ok()) return ReportError(run.status());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-24s %14s %14s\n", "term", "estimate", "std.error");
  for (size_t j = 0; j < run->names.size(); ++j) std::printf("%-24s %14.8g %14.8g\n", run->names[j].c_str(), run->fit.beta[j], run->fit.se[j]);
  std::printf("deviance %.10g on %lld residual df (n %lld); %d iterations, %d round trips, %d exchanges (%d retried), %llu bytes, %.3f s\n",
              run->fit.deviance, static_cast<long long>(run->fit.df_residual), static_cast<long long>(run->fit.n), run->fit.iterations,
              run->fit.round_trips, run->exchanges, run->retried, static_cast<unsigned long long>(run->bytes), secs);
  std::printf("round trips (s):");
  for (double t : run->round_seconds) std::printf(" %.3f", t);
  std::printf("  (the first evaluates the design at each site)\n");
  if (!pooled_from.empty()) {
    const auto t1 = std::chrono::steady_clock::now();
    stats::GlmData all;
    for (const auto& ark : SplitCommas(pooled_from)) {
      auto d = net::GlmDesign(ark, def, spec, study::Purpose::kResearch, nullptr);
      if (!d.ok()) return ReportError(d.status().WithContext(ark));
      all.cols = d->cols;
      all.rows += d->rows;
      all.x.insert(all.x.end(), d->x.begin(), d->x.end());
      all.y.insert(all.y.end(), d->y.begin(), d->y.end());
      all.offset.insert(all.offset.end(), d->offset.begin(), d->offset.end());
    }
    const double read = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const auto t2 = std::chrono::steady_clock::now();
    auto pooled = stats::FitGlm(all, spec.family);
    if (!pooled.ok()) return ReportError(pooled.status());
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
    double worst = 0;
    for (size_t j = 0; j < pooled->beta.size(); ++j)
      worst = std::max(worst, std::abs(pooled->beta[j] - run->fit.beta[j]) / std::max(1.0, std::abs(pooled->beta[j])));
    std::printf("pooled fit in one process: %d iterations, %.3f s fitting (+ %.3f s evaluating the design at the %zu Arks), "
                "largest relative coefficient difference %.1e\n",
                pooled->iterations, fit, read, SplitCommas(pooled_from).size(), worst);
  }
  if (!out.empty()) {
    nlohmann::ordered_json j = {{"family", family}, {"terms", run->names}, {"beta", run->fit.beta}, {"se", run->fit.se},
                                {"deviance", run->fit.deviance}, {"n", run->fit.n}, {"iterations", run->fit.iterations},
                                {"round_trips", run->fit.round_trips}, {"exchanges", run->exchanges}, {"bytes", run->bytes},
                                {"seconds", secs}};
    if (int rc = ReportError(WriteFileAtomic(out, j.dump(2) + "\n"))) return rc;
  }
  return 0;
}

// What `meta`, `eb` and `funnel` share: the network, the definition, this site's Ark, project, user.
struct FederatedArgs {
  std::string file, def, dir, project;
  double deadline = 60;
  Who who;
  void Add(CLI::App& app) {
    app.add_option("network", file, "the accepted network file")->required();
    app.add_option("--definition", def, "study definition whose variables are used")->required();
    app.add_option("--ark", dir, "this site's Ark")->required();
    app.add_option("--project", project, "the federated project")->required();
    app.add_option("--deadline", deadline, "seconds each site has per round trip")->capture_default_str();
    who.Add(app);
  }
  // The site, after authenticating the user here and checking the project.
  Result<net::Site> Open() {
    std::signal(SIGPIPE, SIG_IGN);
    ARK_ASSIGN_OR_RETURN(net::Site site, net::LoadSite(dir, file));
    ARK_ASSIGN_OR_RETURN(std::string token, who.Token());
    ARK_RETURN_IF_ERROR(net::AuthoriseCoordinator(site, who.user, token, project));
    return site;
  }
  std::chrono::milliseconds Deadline() const { return std::chrono::milliseconds(static_cast<int64_t>(deadline * 1000)); }
};

void PrintMeta(const char* name, const stats::MetaResult& r) {
  std::printf("%-5s estimate %.6g  tau2 %.4g  I2 %.1f%%  Q %.4g (p %.3g)\n", name, r.estimate, r.tau2, r.i2, r.q, r.q_p_value);
  std::printf("      Wald 95%% CI [%.6g, %.6g] p %.3g; HKSJ 95%% CI [%.6g, %.6g] p %.3g\n", r.wald.low, r.wald.high, r.wald.p_value,
              r.hksj.low, r.hksj.high, r.hksj.p_value);
}

int Meta(int argc, char** argv) {
  CLI::App app("Random-effects meta-analysis of one model coefficient across the network: each site fits the GLM on its\n"
               "own rows (after the model disclosure rules) and returns its estimates; pooled by DerSimonian-Laird and REML,\n"
               "with Wald and Hartung-Knapp-Sidik-Jonkman intervals.\n"
               "  ark network meta net.yaml --definition DEF --ark ARK --project P --as USER --outcome Y --covariates A,B --term A",
               "ark network meta");
  FederatedArgs fa;
  std::string outcome, covariates, family = "binomial", term, out;
  std::vector<std::string> factors;
  fa.Add(app);
  app.add_option("--outcome", outcome, "outcome variable")->required();
  app.add_option("--covariates", covariates, "covariate variables, comma-separated");
  app.add_option("--factor", factors, "a factor covariate NAME=LEVEL1|LEVEL2|...; repeatable");
  app.add_option("--family", family, "binomial, poisson or gaussian")->capture_default_str();
  app.add_option("--term", term, "the coefficient to pool (a covariate, or NAME=LEVEL)")->required();
  app.add_option("--out", out, "write the result as JSON here");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  net::GlmSpec spec;
  spec.outcome = outcome;
  spec.covariates = SplitCommas(covariates);
  for (const auto& f : factors) {
    auto g = net::ParseGlmFactor(f);
    if (!g.ok()) return ReportError(g.status());
    spec.factors.push_back(*g);
  }
  auto fam = stats::ParseGlmFamily(family);
  if (!fam.ok()) return ReportError(fam.status());
  spec.family = *fam;
  auto site = fa.Open();
  if (!site.ok()) return ReportError(site.status());
  auto m = net::RunFederatedMeta(*site, fa.def, spec, term, fa.project, fa.who.user, fa.Deadline());
  if (!m.ok()) return ReportError(m.status());
  std::printf("%-16s %14s %14s\n", "site", term.c_str(), "std.error");
  for (size_t i = 0; i < m->sites.size(); ++i) std::printf("%-16s %14.8g %14.8g\n", m->sites[i].c_str(), m->estimate[i], std::sqrt(m->variance[i]));
  PrintMeta("DL", m->dl);
  PrintMeta("REML", m->reml);
  if (!out.empty()) {
    auto mj = [](const stats::MetaResult& r) {
      return nlohmann::ordered_json{{"estimate", r.estimate}, {"tau2", r.tau2}, {"i2", r.i2}, {"q", r.q},
                                    {"wald", {r.wald.se, r.wald.low, r.wald.high, r.wald.p_value}},
                                    {"hksj", {r.hksj.se, r.hksj.low, r.hksj.high, r.hksj.p_value}}};
    };
    nlohmann::ordered_json j = {{"term", term}, {"sites", m->sites}, {"estimate", m->estimate}, {"variance", m->variance},
                                {"dl", mj(m->dl)}, {"reml", mj(m->reml)}};
    if (int rc = ReportError(WriteFileAtomic(out, j.dump(2) + "\n"))) return rc;
  }
  return 0;
}

// `eb` and `funnel`: counts per unit across the network, then shrinkage or a funnel.
int Units(int argc, char** argv, bool funnel) {
  CLI::App app(funnel ? "Funnel plot data across the network: each site returns rounded, disclosure-checked counts per unit and\n"
                        "stratum; units' indirectly standardised ratios against the network's reference rates, with 95% and\n"
                        "99.8% limits (additive tau2 for overdispersion).\n"
                        "  ark network funnel net.yaml --definition DEF --ark ARK --project P --as USER --event E --unit practice\n"
                        "      [--strata age_band,sex] [--sites] [--out FILE.csv]"
                      : "Empirical-Bayes shrunk rates per unit across the network, from rounded, disclosure-checked counts.\n"
                        "  ark network eb net.yaml --definition DEF --ark ARK --project P --as USER --event E --unit practice\n"
                        "      [--out FILE.csv]",
               funnel ? "ark network funnel" : "ark network eb");
  FederatedArgs fa;
  net::CountsSpec spec;
  std::string strata, out;
  bool sites = false;
  fa.Add(app);
  app.add_option("--event", spec.event, "the event variable (bool or int)")->required();
  app.add_option("--unit", spec.unit, "the unit variable (e.g. practice)")->required();
  if (funnel) {
    app.add_option("--strata", strata, "stratum variables for indirect standardisation, comma-separated");
    app.add_flag("--sites", sites, "whole sites as the units (regions), not the units within them");
  }
  app.add_option("--out", out, "write the table as CSV here");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  spec.strata = SplitCommas(strata);
  auto site = fa.Open();
  if (!site.ok()) return ReportError(site.status());
  auto u = net::RunFederatedCounts(*site, fa.def, spec, fa.project, fa.who.user, fa.Deadline());
  if (!u.ok()) return ReportError(u.status());
  std::string csv;
  if (funnel) {
    const auto& units = sites ? u->site_totals : u->units;
    auto f = net::NetworkFunnel(units, {});
    if (!f.ok()) return ReportError(f.status());
    csv = "unit,observed,expected,ratio,z,z_adjusted,flag\n";
    for (const auto& p : f->points)
      csv += fmt::format("{},{},{:.2f},{:.4f},{:.4f},{:.4f},{}\n", p.name, p.observed, p.expected, p.ratio, p.z, p.z_adjusted, p.flag);
    std::printf("%zu units (%d withheld at the sites), tau2 %.4g, phi %.4g\n", f->points.size(), u->withheld, f->tau2, f->phi);
  } else {
    auto eb = net::NetworkEbRates(u->units);
    if (!eb.ok()) return ReportError(eb.status());
    csv = "site,unit,events,people,raw_rate,shrunk_rate\n";
    for (size_t i = 0; i < u->units.size(); ++i)
      csv += fmt::format("{},{},{},{},{:.6g},{:.6g}\n", u->units[i].site, u->units[i].unit, u->units[i].events, u->units[i].people,
                         eb->raw[i], eb->estimate[i]);
    std::printf("%zu units (%d withheld at the sites), global rate %.6g, between-unit variance %.4g\n", u->units.size(), u->withheld,
                eb->b, eb->a);
  }
  if (out.empty()) {
    std::fputs(csv.c_str(), stdout);
  } else if (int rc = ReportError(WriteFileAtomic(out, csv))) {
    return rc;
  }
  return 0;
}

int Network(int argc, char** argv) {
  const char* usage =
      "ark network: a network of Arks that answer each other with aggregates only (docs/network.md).\n"
      "  ark network init ARK --site NAME --listen HOST:PORT   make this Ark a site (key pair, certificate)\n"
      "  ark network file --network NAME --out net.yaml CERT...  write a network file\n"
      "  ark network accept ARK net.yaml --as ADMIN            accept it at this Ark (ledger)\n"
      "  ark network serve ARK --network net.yaml              answer the network's requests\n"
      "  ark network run net.yaml DEF --ark ARK --project P --as USER --out DIR   federated measures\n"
      "  ark network glm net.yaml --definition DEF --ark ARK --project P --as USER --outcome Y --covariates A,B\n"
      "  ark network meta net.yaml ... --outcome Y --covariates A,B --term A   meta-analysis of per-site estimates\n"
      "  ark network eb net.yaml ... --event E --unit practice                 empirical-Bayes rates across sites\n"
      "  ark network funnel net.yaml ... --event E --unit practice --strata S  funnel plot data\n";
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string sub = argv[1];
  std::string prog = std::string("ark network ") + sub;
  std::vector<char*> args(argv + 1, argv + argc);
  args[0] = prog.data();
  const int n = static_cast<int>(args.size());
  if (sub == "init") return Init(n, args.data());
  if (sub == "file") return File(n, args.data());
  if (sub == "accept") return Accept(n, args.data());
  if (sub == "serve") return Serve(n, args.data());
  if (sub == "run") return RunFederated(n, args.data());
  if (sub == "glm") return Glm(n, args.data());
  if (sub == "meta") return Meta(n, args.data());
  if (sub == "eb") return Units(n, args.data(), false);
  if (sub == "funnel") return Units(n, args.data(), true);
  std::fprintf(stderr, "ark network: unknown subcommand '%s'\n%s", sub.c_str(), usage);
  return 2;
}

}  // namespace

ARK_COMMAND(kNetwork, "network", "a network of Arks: sites, trust, federated measures and GLMs", Network);

}  // namespace ark::cli
