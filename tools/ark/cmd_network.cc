// `ark network init|file|accept|serve|run`: the network of Arks (docs/network.md). Sites hold their
// own keys, trust each other by certificate fingerprint (an accepted network file), talk over
// mutually authenticated TLS 1.3 with signed, expiring, single-use requests, and answer only
// disclosure-controlled aggregates in projects their own committees approved.
#include <csignal>
#include <cstdio>
#include <fstream>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
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

int Glm(int argc, char** argv) {
  CLI::App app("Fit a GLM across the network by Fisher scoring: one round trip to every site per iteration, each site\n"
               "returning only XᵀWX, XᵀWz and its deviance at the current coefficients.\n"
               "  ark network glm net.yaml --definition DEF.yaml --ark ARK --project P --as USER --outcome Y --covariates A,B\n"
               "      [--offset O] [--family binomial|poisson|gaussian] [--deadline S] [--retries N] [--out FIT.json]",
               "ark network glm");
  std::string file, def, dir, project, outcome, covariates, offset, family = "binomial", out;
  double deadline = 60, pause = 1;
  int retries = 5;
  Who who;
  app.add_option("network", file, "the accepted network file")->required();
  app.add_option("--definition", def, "study definition whose variables are the design")->required();
  app.add_option("--ark", dir, "this site's Ark")->required();
  app.add_option("--project", project, "the federated project")->required();
  app.add_option("--outcome", outcome, "outcome variable (bool, int or float)")->required();
  app.add_option("--covariates", covariates, "covariate variables, comma-separated (an intercept is added)")->required();
  app.add_option("--offset", offset, "offset variable (e.g. log person-years), optional");
  app.add_option("--family", family, "binomial (logit), poisson (log) or gaussian (identity)")->capture_default_str();
  app.add_option("--deadline", deadline, "seconds each site has per round trip")->capture_default_str();
  app.add_option("--retries", retries, "times a site's step is retried when it does not answer")->capture_default_str();
  app.add_option("--retry-pause", pause, "seconds between retries")->capture_default_str();
  app.add_option("--out", out, "write the fit as JSON here");
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
  if (!out.empty()) {
    nlohmann::ordered_json j = {{"family", family}, {"terms", run->names}, {"beta", run->fit.beta}, {"se", run->fit.se},
                                {"deviance", run->fit.deviance}, {"n", run->fit.n}, {"iterations", run->fit.iterations},
                                {"round_trips", run->fit.round_trips}, {"exchanges", run->exchanges}, {"bytes", run->bytes},
                                {"seconds", secs}};
    if (int rc = ReportError(WriteFileAtomic(out, j.dump(2) + "\n"))) return rc;
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
      "  ark network glm net.yaml --definition DEF --ark ARK --project P --as USER --outcome Y --covariates A,B\n";
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
  std::fprintf(stderr, "ark network: unknown subcommand '%s'\n%s", sub.c_str(), usage);
  return 2;
}

}  // namespace

ARK_COMMAND(kNetwork, "network", "a network of Arks: sites, trust, federated measures and GLMs", Network);

}  // namespace ark::cli
