// `ark serve`: the Ark's one server (src/server/): the HTTP API /api/v1 (docs/api.md) and the live
// feed listener (HL7 v2 over MLLP, FHIR over HTTP) with indicators, alerts and metrics
// (docs/live.md).
#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "live/ingestor.h"
#include "live/sender.h"
#include "server/server.h"
#include "serve_risk.h"

namespace ark::cli {
namespace {

Result<ProgrammeKey> EdgeKey(const std::string& ark, const std::string& key_file) {
  if (!key_file.empty()) return ProgrammeKey::Load(key_file);
  const std::string path = ark + "/live/edge.key";
  if (PathExists(path)) return ProgrammeKey::Load(path);
  ARK_ASSIGN_OR_RETURN(ProgrammeKey k, ProgrammeKey::Generate());
  ARK_RETURN_IF_ERROR(k.Save(path));
  std::fprintf(
      stderr,
      "ark serve: WARNING: no --key given: created a feed key at %s (fingerprint %s).\n"
      "  Pseudonyms made with it do not match the programme key's, and the key now sits inside\n"
      "  the Ark: use --key with the custodian's programme key for real feeds (docs/live.md).\n",
      path.c_str(), k.Fingerprint().c_str());
  return k;
}

Result<std::string> ApiToken(const std::string& ark) {
  const std::string path = ark + "/live/api.token";
  if (PathExists(path)) {
    ARK_ASSIGN_OR_RETURN(std::string t, ReadFile(path));
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (!t.empty()) return t;
  }
  unsigned char b[24];
  if (RAND_bytes(b, sizeof b) != 1) return Status::Internal("no random bytes for the API token");
  const std::string t = ToHex(b, sizeof b) + "\n";
  // Created 0600 from the start (never readable by others, not even briefly).
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::IOError(tmp + ": " + std::strerror(errno));
  const bool ok =
      ::write(fd, t.data(), t.size()) == static_cast<ssize_t>(t.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::IOError(path + ": " + std::strerror(errno));
  return t.substr(0, t.size() - 1);
}

int Serve(int argc, char** argv) {
  CLI::App app(
      "Serve the HTTP API (/api/v1, docs/api.md); listen for HL7 v2 over MLLP and FHIR over HTTP;\n"
      "keep live indicators, raise alerts. Every message is pseudonymised at the edge and durable\n"
      "before its AA. See docs/live.md.",
      "ark serve");
  std::string ark, mllp = "127.0.0.1:2575", http = "127.0.0.1:8080", key_file, rules_file;
  std::string tls_cert, tls_key;
  std::vector<std::string> webhooks;
  int threads = 2, compact_interval = 60;
  bool no_store = false;
  size_t dedup_window = 1u << 20;
  uint64_t snapshot_records = 25000;
  int snapshot_interval = 60;
  size_t max_message_bytes = 0, max_body_bytes = 0;
  int job_retention_days = 7;
  app.add_option("ark", ark, "Ark directory")->required();
  app.add_option("--job-retention-days", job_retention_days,
                 "delete a finished job's work files (ARK/jobs/<id>/) this many days after it finished; "
                 "its record is kept (default 7)")
      ->check(CLI::Range(0, 36500));
  app.add_option("--mllp", mllp, "MLLP listen address HOST:PORT (default 127.0.0.1:2575)");
  app.add_option("--http", http, "HTTP listen address HOST:PORT (default 127.0.0.1:8080)");
  app.add_option("--tls-cert", tls_cert,
                 "HTTPS: the server's certificate chain (PEM); with --tls-key the HTTP port speaks TLS "
                 "1.2+ only (docs/server.md)");
  app.add_option("--tls-key", tls_key, "HTTPS: the certificate's private key (PEM, unencrypted)");
  app.add_option("--key", key_file,
                 "the feed custodian's programme key (ark keygen); default ARK/live/edge.key, "
                 "created with a warning");
  app.add_option("--rules", rules_file,
                 "alert rules YAML (default: the built-in rules, live/rules.yaml)");
  app.add_option("--webhook", webhooks,
                 "POST every alert as JSON to this http:// URL (repeatable)");
  app.add_option("--threads", threads, "network threads")->check(CLI::Range(1, 64));
  app.add_option("--compact-interval", compact_interval,
                 "seconds between background compactions of the store (0 = never)");
  app.add_option("--dedup-window", dedup_window,
                 "retransmits are recognised within the last N messages (default 1048576)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  app.add_option("--snapshot-records", snapshot_records,
                 "snapshot the live state after this many records (0 = never; default 25000)");
  app.add_option("--snapshot-interval", snapshot_interval,
                 "... or after this many seconds with new records (default 60)")
      ->check(CLI::Range(1, 86400));
  app.add_option("--max-message-bytes", max_message_bytes,
                 "longest HL7 message (MLLP frame) accepted; longer gets AR (default 8 MiB, or "
                 "ARK_SERVE_MAX_MESSAGE_BYTES)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 34));
  app.add_option("--max-body-bytes", max_body_bytes,
                 "largest HTTP request body accepted; larger gets 413 (default 32 MiB, or "
                 "ARK_SERVE_MAX_BODY_BYTES)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 34));
  ServeRiskOptions risk;
  double risk_alert = -1;
  app.add_option("--model", risk.model_dir,
                 "live risk: a model `ark model train` wrote; each person's risk is re-scored when an "
                 "event changes a feature (needs --project, a direct-care project, and --as)");
  app.add_option("--risk-alert", risk_alert,
                 "live risk: alert when a person's risk rises to R or above (0..1; also rules with "
                 "signal: risk)");
  app.add_option("--risk-at", risk.at, "live risk: the baseline date the features are evaluated at (default today)");
  app.add_option("--project", risk.project, "live risk: the approved direct-care project");
  risk.who.Add(app);
  app.add_flag("--no-store", no_store,
               "do not append to the timeline store (live log and indicators only; benchmarks)");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;

  server::ServeOptions so;
  so.ark_dir = ark;
  so.threads = threads;
  so.max_message_bytes = max_message_bytes;  // 0: the environment variable, then the default
  so.max_body_bytes = max_body_bytes;
  so.job_retention_days = job_retention_days;
  if (Status s = live::ParseHostPort(mllp, &so.mllp_host, &so.mllp_port); !s.ok())
    return ReportError(s.WithContext("--mllp"));
  if (Status s = live::ParseHostPort(http, &so.http_host, &so.http_port); !s.ok())
    return ReportError(s.WithContext("--http"));
  // Before anything is opened or served: a bad certificate or key ends here, naming the file.
  if (Status s = server::CheckTlsFiles(tls_cert, tls_key); !s.ok()) return ReportError(s);
  so.tls_cert = tls_cert;
  so.tls_key = tls_key;
  if (auto c = Catalog::Open(ark); !c.ok()) return ReportError(c.status());
  if (Status s = MakeDirs(ark + "/live"); !s.ok()) return ReportError(s);

  live::IngestOptions io;
  io.ark_dir = ark;
  io.use_store = !no_store;
  io.compact_interval_s = compact_interval;
  io.dedup_window = dedup_window;
  io.snapshot_records = snapshot_records;
  io.snapshot_interval_s = snapshot_interval;
  {
    auto k = EdgeKey(ark, key_file);
    if (!k.ok()) return ReportError(k.status());
    io.key = *k;
    auto r = rules_file.empty() ? live::ParseRules(live::DefaultRulesYaml(), "built-in rules")
                                : live::LoadRules(rules_file);
    if (!r.ok()) return ReportError(r.status());
    io.rules = *r;
  }
  const bool risk_rules = std::any_of(io.rules.rules.begin(), io.rules.rules.end(),
                                      [](const live::AlertRule& r) { return r.signal == "risk"; });
  if (risk.model_dir.empty() && (risk_alert >= 0 || risk_rules))
    return ReportError(Status::InvalidArgument("--risk-alert and rules on signal 'risk' need --model"));
  if (!risk.model_dir.empty() && risk.project.empty())
    return ReportError(Status::InvalidArgument("--model needs --project (an approved direct-care project) and --as"));
  if (risk_alert >= 0) {
    if (risk_alert > 1) return ReportError(Status::InvalidArgument("--risk-alert must be in [0, 1]"));
    char name[48];
    std::snprintf(name, sizeof name, "risk_%g_or_more", risk_alert);
    io.rules.rules.push_back(live::AlertRule{name, "risk", ">=", "medium", risk_alert});
  }
  so.webhooks = io.rules.webhooks;
  so.webhooks.insert(so.webhooks.end(), webhooks.begin(), webhooks.end());
  auto token = ApiToken(ark);
  if (!token.ok()) return ReportError(token.status());
  so.api_token = *token;

  // Signals are taken by this thread only (sigwait), so block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  live::Metrics metrics;
  std::unique_ptr<live::LiveRisk> live_risk;
  if (!risk.model_dir.empty()) {
    risk.ark_dir = ark;
    auto lr = BuildLiveRisk(risk, io.rules, &metrics);
    if (!lr.ok()) return ReportError(lr.status());
    live_risk = std::move(*lr);
  }
  const int64_t open_t0 = live::NowMicros();
  auto ingestor = live::Ingestor::Open(io, &metrics);
  const double open_ms = (live::NowMicros() - open_t0) / 1000.0;
  if (!ingestor.ok()) return ReportError(ingestor.status());
  if (live_risk)
    if (Status s = (*ingestor)->SetRisk(std::move(live_risk)); !s.ok()) return ReportError(s);
  auto server = server::Server::Start(so, ingestor->get(), &metrics);
  if (!server.ok()) return ReportError(server.status());
  const char* scheme = tls_cert.empty() ? "http" : "https";
  std::printf("ark serve: MLLP on %s:%u, %s on %s:%u (API: %s://%s:%u/api/v1/openapi.json; threads %d)\n",
              so.mllp_host.c_str(), (*server)->mllp_port(), tls_cert.empty() ? "HTTP" : "HTTPS",
              so.http_host.c_str(), (*server)->http_port(), scheme, so.http_host.c_str(),
              (*server)->http_port(), threads);
  std::printf(
      "ark serve: restored %llu records from the live snapshot, replayed %llu from %s (%.0f ms); "
      "API token in %s/live/api.token (or a governance user's \"user:token\")\n",
      static_cast<unsigned long long>((*ingestor)->restored()),
      static_cast<unsigned long long>((*ingestor)->replayed()), (*ingestor)->log_dir().c_str(),
      open_ms, ark.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("ark serve: signal %d, stopping\n", sig);
  std::fflush(stdout);
  (*server)->Stop();
  Status s = (*ingestor)->FlushStore();
  ingestor->reset();
  server->reset();
  return ReportError(s);
}

}  // namespace

ARK_COMMAND(kServe, "serve",
            "the server: HTTP API (/api/v1), live feeds over MLLP and FHIR, indicators and alerts", Serve);

}  // namespace ark::cli
