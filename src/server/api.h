// The HTTP API /api/v1 (docs/api.md; described by docs/api/openapi.json, served at
// /api/v1/openapi.json and embedded at build time, so the file is the one source of truth).
//
// Every route acts through governance: public reads call the same functions as the public CLI
// commands (`ark project list`, `release list`, `ledger checkpoint|prove`); a user acts only as an
// Actor that governance identified (gov::Identify, governance/gate.h) and through the governance
// function the CLI calls (CreateProject, ApproveProject, RejectProject, and the lifecycle actions of
// governance/lifecycle.h), which checks the role; so
// the API can do nothing the CLI may not.
//
// The ledger (governance/ledger.h) gets every sign-in and sign-out, every write, every refusal
// (401/403/429; governance logs its own), and reads by a signed-in principal ("api.access"). Reads,
// and refusals of anonymous requests, are put on it at most once a minute per principal (or client
// address) and route, so that a polling dashboard or a scanner cannot flood the public log.
//
// This layer is the only one that maps a Status to an HTTP status (HttpStatusOf) and the only one
// that catches exceptions (server.cc).
//
// Thread safety: Handle may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ark/status.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "live/ingestor.h"
#include "server/auth.h"
#include "server/feeds.h"
#include "server/read_cache.h"
#include "server/jobs.h"

namespace ark::server {

// The OpenAPI document (docs/api/openapi.json), embedded at build time.
std::string_view OpenApiSpec();

// InvalidArgument 400, PermissionDenied 403, NotFound 404, FailedPrecondition 409, others 500.
int HttpStatusOf(const Status& s);

struct ApiRequest {
  std::string method, path, query, body;
  std::string address;  // the client's IP address
  std::string csrf;     // the X-CSRF-Token header
  Principal who;
  bool tls = false;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;  // the alert stream: the connection becomes Server-Sent Events
};

// What the server needs to know from the request head alone, before any body is read.
struct RouteInfo {
  bool found = false;        // false: 404 (or 405 when only the method is wrong)
  bool method_ok = false;
  std::string allow;         // methods of the path, for 405
  bool needs_principal = false;
  size_t max_body = 0;       // 0 = no body expected
  std::string name;          // "GET /api/v1/projects/{id}" (the spec's path template)
};

class Api {
 public:
  // `job_retention_days`: how long a finished job's work directory is kept (server/jobs.h).
  Api(std::string ark_dir, live::Ingestor* ingestor, Auth* auth, int job_retention_days = 7);
  // For paths under /api/v1 and /healthz.
  static bool Serves(std::string_view path);
  // True when a segment of the path, raw or percent-decoded, is "." or "..".
  static bool Traversal(std::string_view path);
  RouteInfo Route(const std::string& method, const std::string& path) const;
  ApiResponse Handle(const ApiRequest& r);
  // "METHOD /path/{param}" of every route served (tests compare them with the description).
  std::vector<std::string> Routes() const;
  // Puts a refusal the server decided from the head (401 before the body) on the ledger.
  void LogRefusal(const ApiRequest& r, const std::string& route, int status, const std::string& why);
  // The operations routes' sources (ops.h); without them those routes answer 503.
  void SetOps(const live::Metrics* metrics, const FeedHealth* feeds) { metrics_ = metrics, feeds_ = feeds; }

 private:
  struct Ctx;
  using Handler = ApiResponse (Api::*)(Ctx&);
  struct Entry {
    std::string method, tmpl;
    bool needs_principal;
    size_t max_body;
    Handler handler;
  };
  const Entry* Find(const std::string& method, const std::string& path, std::vector<std::string>* params,
                    std::string* allow) const;
  bool Once(const std::string& key);  // true at most once a minute per key
  void Record(const Ctx& c, const ApiResponse& res);

  ApiResponse Health(Ctx&);
  ApiResponse Spec(Ctx&);
  ApiResponse Projects(Ctx&);
  ApiResponse ProjectShow(Ctx&);
  ApiResponse ProjectApply(Ctx&);
  ApiResponse ProjectDecision(Ctx&);
  ApiResponse ProjectLifecycle(Ctx&);
  using ProjectAction =
      std::function<Status(Catalog&, gov::Ledger&, const gov::Actor&, const std::string& project_id)>;
  ApiResponse ActOnProject(Ctx& c, const ProjectAction& act);
  ApiResponse Releases(Ctx&);
  ApiResponse Citizen(Ctx&);
  ApiResponse Checkpoint(Ctx&);
  ApiResponse Proof(Ctx&);
  ApiResponse SignIn(Ctx&);
  ApiResponse SignOut(Ctx&);
  ApiResponse Me(Ctx&);
  ApiResponse Outputs(Ctx&);
  ApiResponse OutputShow(Ctx&);
  ApiResponse OutputReview(Ctx&);
  ApiResponse Runs(Ctx&);
  ApiResponse RunShow(Ctx&);
  ApiResponse Users(Ctx&);
  ApiResponse LedgerEntries(Ctx&);
  ApiResponse LiveIndicators(Ctx&);
  ApiResponse LiveAlerts(Ctx&);
  ApiResponse LiveStream(Ctx&);
  ApiResponse LiveFeeds(Ctx&);    // operations (ops.h)
  ApiResponse LiveLatency(Ctx&);  // operations (ops.h)
  const live::Metrics* metrics_ = nullptr;
  const FeedHealth* feeds_ = nullptr;
  // Jobs and the analyst's definitions (api_jobs.cc, server/jobs.h).
  ApiResponse DefinitionCheck(Ctx&);
  ApiResponse JobSubmit(Ctx&);
  ApiResponse JobList(Ctx&);
  ApiResponse JobShow(Ctx&);
  ApiResponse JobCancel(Ctx&);
  ApiResponse JobMeasure(Ctx&);
  ApiResponse JobReport(Ctx&);  // a pathway job's report.html
  ApiResponse PathwaySubmit(Ctx&, const nlohmann::ordered_json& body);  // JobSubmit, kind "pathway"
  ApiResponse ExportSubmit(Ctx&, const nlohmann::ordered_json& body);   // JobSubmit, kind "export"
  ApiResponse OutputSubmit(Ctx&);
  void StartJobs(int retention_days);
  std::unique_ptr<Jobs> jobs_;

  const std::string ark_dir_;
  live::Ingestor* ingestor_;
  Auth* auth_;
  std::vector<Entry> routes_;
  // The ledger's tree for proofs, reloaded only when a checkpoint covers more entries than it holds
  // (the log is append-only and only checkpointed prefixes are proved).
  std::shared_ptr<const gov::LoadedLog> Log(uint64_t at_least);
  std::mutex log_mu_;
  CheckpointCache checkpoints_;
  std::shared_ptr<const gov::LoadedLog> log_;
  std::mutex once_mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> once_;
};

}  // namespace ark::server
