#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/checkpoint.h"
#include "governance/citizen.h"
#include "governance/encoding.h"
#include "governance/gate.h"
#include "governance/governance.h"
#include "governance/lifecycle.h"
#include "governance/ledger.h"
#include "governance/listing.h"
#include "governance/release.h"
#include "server/ops.h"
#include "server/read_cache.h"
#include "server/api_ctx.h"
#include "server/api_json.h"

namespace ark::server {

using OJson = nlohmann::ordered_json;

constexpr size_t kJsonBodyLimit = 64u << 10;  // sign-in, applications, decisions
constexpr size_t kCodeBodyLimit = 1u << 10;    // a citizen's receipt code
constexpr size_t kDefinitionBodyLimit = 256u << 10;  // a study definition (jobs)

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kFailedPrecondition: return 409;
    default: return 500;
  }
}

namespace {

bool Unsafe(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

// Percent-decodes a path segment; false for a malformed escape.
bool Decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(in[i + 2])))
      return false;
    out->push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return true;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t at = 1;
  while (at <= path.size()) {
    const size_t end = std::min(path.find('/', at), path.size());
    out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

Result<std::string> Text(const OJson& j, const char* field, bool required = true) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string("field '") + field + "' is missing");
    return std::string();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("field '") + field + "' must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> Texts(const OJson& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return Status::InvalidArgument(std::string("field '") + field + "' is missing");
  if (!it->is_array()) return Status::InvalidArgument(std::string("field '") + field + "' must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return Status::InvalidArgument(std::string("field '") + field + "' must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

OJson PrincipalJson(const Principal& p) {
  const char* kind = p.kind == Principal::Kind::kUser ? "user" : "interim-token";
  return {{"user", p.kind == Principal::Kind::kUser ? OJson(p.user) : OJson(nullptr)},
          {"kind", kind},
          {"roles", p.roles},
          {"via", p.session.empty() ? "bearer" : "session"}};
}

}  // namespace


Api::Api(std::string ark_dir, live::Ingestor* ingestor, Auth* auth, int job_retention_days)
    : ark_dir_(std::move(ark_dir)), ingestor_(ingestor), auth_(auth) {
  routes_ = {
      {"GET", "/healthz", false, 0, &Api::Health},
      {"GET", "/api/v1/openapi.json", false, 0, &Api::Spec},
      {"GET", "/api/v1/projects", false, 0, &Api::Projects},
      {"POST", "/api/v1/projects", true, kJsonBodyLimit, &Api::ProjectApply},
      {"GET", "/api/v1/projects/{id}", false, 0, &Api::ProjectShow},
      {"POST", "/api/v1/projects/{id}/decision", true, kJsonBodyLimit, &Api::ProjectDecision},
      {"POST", "/api/v1/projects/{id}/suspension", true, kJsonBodyLimit, &Api::ProjectLifecycle},
      {"POST", "/api/v1/projects/{id}/reinstatement", true, kJsonBodyLimit, &Api::ProjectLifecycle},
      {"POST", "/api/v1/projects/{id}/revocation", true, kJsonBodyLimit, &Api::ProjectLifecycle},
      {"POST", "/api/v1/projects/{id}/amendment", true, kJsonBodyLimit, &Api::ProjectLifecycle},
      {"GET", "/api/v1/releases", false, 0, &Api::Releases},
      {"POST", "/api/v1/citizen/receipt", false, kCodeBodyLimit, &Api::Citizen},
      {"POST", "/api/v1/citizen/objection", false, kCodeBodyLimit, &Api::Citizen},
      {"GET", "/api/v1/ledger/checkpoint", false, 0, &Api::Checkpoint},
      {"GET", "/api/v1/ledger/proof/{seq}", false, 0, &Api::Proof},
      {"POST", "/api/v1/session", false, kJsonBodyLimit, &Api::SignIn},
      {"DELETE", "/api/v1/session", true, 0, &Api::SignOut},
      {"GET", "/api/v1/me", true, 0, &Api::Me},
      {"GET", "/api/v1/outputs", true, 0, &Api::Outputs},
      {"GET", "/api/v1/outputs/{id}", true, 0, &Api::OutputShow},
      {"POST", "/api/v1/outputs/{id}/review", true, kJsonBodyLimit, &Api::OutputReview},
      {"GET", "/api/v1/runs", true, 0, &Api::Runs},
      {"GET", "/api/v1/runs/{id}", true, 0, &Api::RunShow},
      {"GET", "/api/v1/users", true, 0, &Api::Users},
      {"GET", "/api/v1/ledger/entries", true, 0, &Api::LedgerEntries},
      {"GET", "/api/v1/live/indicators", true, 0, &Api::LiveIndicators},
      {"GET", "/api/v1/live/alerts", true, 0, &Api::LiveAlerts},
      {"GET", "/api/v1/live/alerts/stream", true, 0, &Api::LiveStream},
      {"GET", "/api/v1/live/feeds", true, 0, &Api::LiveFeeds},
      {"GET", "/api/v1/live/latency", true, 0, &Api::LiveLatency},
      // Jobs and the analyst's definitions (api_jobs.cc).
      {"POST", "/api/v1/definitions/check", true, kDefinitionBodyLimit, &Api::DefinitionCheck},
      {"POST", "/api/v1/projects/{id}/jobs", true, kDefinitionBodyLimit, &Api::JobSubmit},
      {"GET", "/api/v1/jobs", true, 0, &Api::JobList},
      {"GET", "/api/v1/jobs/{id}", true, 0, &Api::JobShow},
      {"POST", "/api/v1/jobs/{id}/cancellation", true, 0, &Api::JobCancel},
      {"GET", "/api/v1/jobs/{id}/measures/{name}", true, 0, &Api::JobMeasure},
      {"GET", "/api/v1/jobs/{id}/report", true, 0, &Api::JobReport},
      {"POST", "/api/v1/outputs", true, kJsonBodyLimit, &Api::OutputSubmit},
  };
  StartJobs(job_retention_days);
}

std::vector<std::string> Api::Routes() const {
  std::vector<std::string> out;
  for (const Entry& e : routes_) out.push_back(e.method + " " + e.tmpl);
  return out;
}

bool Api::Serves(std::string_view path) {
  return path == "/healthz" || path == "/api/v1" || path.substr(0, 8) == "/api/v1/";
}

bool Api::Traversal(std::string_view path) {
  for (std::string_view seg : Segments(path)) {
    std::string d;
    if (!Decode(seg, &d)) d = std::string(seg);
    for (std::string_view part : {std::string_view(seg), std::string_view(d)}) {
      if (part == "." || part == "..") return true;
    }
    if (d.find("/../") != std::string::npos || d.rfind("../", 0) == 0 || d.find("/..") != std::string::npos) return true;
  }
  return false;
}

const Api::Entry* Api::Find(const std::string& method, const std::string& path, std::vector<std::string>* params,
                            std::string* allow) const {
  const auto segs = Segments(path);
  const Entry* hit = nullptr;
  for (const Entry& e : routes_) {
    const auto tsegs = Segments(e.tmpl);
    if (tsegs.size() != segs.size()) continue;
    std::vector<std::string> ps;
    bool match = true;
    for (size_t i = 0; i < segs.size() && match; ++i) {
      if (!tsegs[i].empty() && tsegs[i].front() == '{') {
        ps.emplace_back(segs[i]);
      } else {
        match = tsegs[i] == segs[i];
      }
    }
    if (!match) continue;
    if (allow) *allow += (allow->empty() ? "" : ", ") + e.method;
    if (e.method == method && !hit) {
      hit = &e;
      if (params) *params = std::move(ps);
    }
  }
  return hit;
}

RouteInfo Api::Route(const std::string& method, const std::string& path) const {
  RouteInfo info;
  const Entry* e = Find(method, path, nullptr, &info.allow);
  info.found = e != nullptr || !info.allow.empty();
  info.method_ok = e != nullptr;
  if (e) {
    info.needs_principal = e->needs_principal;
    info.max_body = e->max_body;
    info.name = e->method + " " + e->tmpl;
  }
  return info;
}

bool Api::Once(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(once_mu_);
  auto it = once_.find(key);
  if (it != once_.end() && now - it->second < std::chrono::seconds(60)) return false;
  if (once_.size() > 100000) once_.clear();
  once_[key] = now;
  return true;
}

void Api::LogRefusal(const ApiRequest& r, const std::string& route, int status, const std::string& why) {
  const std::string who = r.who.anonymous() ? "-" : r.who.Name();
  const std::string key = "refusal " + (r.who.anonymous() ? "addr:" + r.address : who) + " " + route + " " +
                          std::to_string(status);
  if (!Once(key)) return;
  std::lock_guard<std::mutex> g(LedgerMutex());
  // The ledger is public (proofs, bundles): the client's address goes to the server's own log on
  // stderr, never onto the ledger.
  std::fprintf(stderr, "api: refused HTTP %d on %s for %s from %s: %s\n", status, route.c_str(), who.c_str(),
               r.address.c_str(), why.c_str());
  (void)gov::LogRefusal(ark_dir_, who, Status::PermissionDenied("HTTP " + std::to_string(status) + " on " + route + ": " + why));
}

void Api::Record(const Ctx& c, const ApiResponse& res) {
  if (c.ledgered) return;
  const std::string route = c.route.method + " " + c.route.tmpl;
  if (res.status == 401 || res.status == 403 || res.status == 429) {
    std::string why;
    try {
      why = OJson::parse(res.body).value("error", "");
    } catch (const std::exception&) {
    }
    return LogRefusal(c.req, route, res.status, why);
  }
  if (c.req.who.anonymous() || res.status >= 400) return;
  const bool write = Unsafe(c.req.method);
  if (!write && !Once("access " + c.req.who.Name() + " " + route)) return;
  std::lock_guard<std::mutex> g(LedgerMutex());
  (void)gov::AppendToArkLedger(ark_dir_, gov::Json{{"type", "api.access"},
                                                   {"by", c.req.who.Name()},
                                                   {"route", route},
                                                   {"status", res.status}});
}

ApiResponse Api::Handle(const ApiRequest& r) {
  std::vector<std::string> params;
  std::string allow;
  const Entry* e = Find(r.method, r.path, &params, &allow);
  if (!e && !allow.empty()) {
    ApiResponse res = Error(405, r.method + " is not allowed on " + r.path + " (allowed: " + allow + ")");
    res.headers.emplace_back("Allow", allow);
    return res;
  }
  if (!e) return Error(404, "no such route: " + r.method + " " + r.path + " (see /api/v1/openapi.json)");
  Ctx c{r, *e, {}};
  for (const std::string& raw : params) {
    std::string v;
    if (!Decode(raw, &v) || v.empty() || v.find_first_of("/\\") != std::string::npos || v[0] == '.' ||
        v.find('\0') != std::string::npos)
      return Error(400, "bad path parameter '" + raw + "' in " + r.path + " (no '/', '\\', leading '.' or bad escapes)");
    c.params.push_back(std::move(v));
  }
  ApiResponse res;
  if (e->needs_principal && r.who.anonymous()) {
    res = Error(401, "sign in (POST /api/v1/session) or send Authorization: Bearer user:token");
  } else if (Unsafe(r.method) && !r.who.session.empty() && r.csrf != r.who.csrf) {
    res = Error(403, "missing or wrong X-CSRF-Token header (the csrf_token returned at sign-in)");
  } else {
    res = (this->*(e->handler))(c);
  }
  Record(c, res);
  return res;
}

// ------------------------------------------------------------------ public

ApiResponse Api::Health(Ctx&) {
  return Json(200, OJson{{"status", "ok"}, {"records", ingestor_ ? ingestor_->records() : 0}});
}

ApiResponse Api::Spec(Ctx&) {
  ApiResponse r;
  r.body = std::string(OpenApiSpec());
  return r;
}

namespace {
// A 200 with the catalog answer `body` (read_cache.h: kept until the catalog changes), or the error.
ApiResponse Answer(const Result<std::string>& body) {
  if (!body.ok()) return FromStatus(body.status());
  ApiResponse r;
  r.body = *body;
  return r;
}

std::string Dump(const OJson& j) { return j.dump(-1, ' ', false, OJson::error_handler_t::replace); }
}  // namespace

ApiResponse Api::Projects(Ctx&) {
  return Answer(CatalogAnswer(ark_dir_, "GET /api/v1/projects", [](Catalog& cat) -> Result<std::string> {
    ARK_ASSIGN_OR_RETURN(auto ps, gov::ListProjects(cat));
    OJson j = OJson::array();
    for (const auto& p : ps) j.push_back(gov::ProjectJson(p));
    return Dump(j);
  }));
}

ApiResponse Api::ProjectShow(Ctx& c) {
  auto cat = ThreadCatalog(ark_dir_);  // a read: this thread's kept connection
  if (!cat.ok()) return FromStatus(cat.status());
  auto p = gov::GetProject(**cat, c.params[0]);
  if (!p.ok()) return FromStatus(p.status());
  return Json(200, gov::ProjectJson(*p));
}

ApiResponse Api::Releases(Ctx&) {
  return Answer(CatalogAnswer(ark_dir_, "GET /api/v1/releases", [](Catalog& cat) -> Result<std::string> {
    ARK_ASSIGN_OR_RETURN(auto outs, gov::ListOutputs(cat));
    OJson j = OJson::array();
    for (const auto& o : outs) {
      if (o.state == "approved") j.push_back(gov::OutputJson(o));
    }
    return Dump(j);
  }));
}


ApiResponse Api::Checkpoint(Ctx&) {
  auto latest = checkpoints_.Get(ark_dir_);
  if (!latest.ok()) return FromStatus(latest.status());
  const SignedCheckpoint& s = **latest;
  return Json(200, OJson{{"origin", s.cp.origin},
                         {"size", s.cp.size},
                         {"root", gov::Base64Encode(merkle::View(s.cp.root))},
                         {"checkpoint", s.note},
                         {"verifier_key", s.vkey}});
}

std::shared_ptr<const gov::LoadedLog> Api::Log(uint64_t at_least) {
  std::lock_guard<std::mutex> l(log_mu_);
  if (!log_ || log_->tree.size() < at_least) {
    auto loaded = gov::LoadLog(gov::LedgerDirOf(ark_dir_));
    if (!loaded.ok()) return nullptr;
    log_ = std::make_shared<const gov::LoadedLog>(std::move(*loaded));
  }
  return log_;
}

ApiResponse Api::Proof(Ctx& c) {
  const std::string& arg = c.params[0];
  if (arg.size() > 18 || arg.find_first_not_of("0123456789") != std::string::npos)
    return Error(400, "seq '" + arg + "' is not an entry number (0, 1, 2, ...)");
  const uint64_t seq = std::stoull(arg);
  auto latest = checkpoints_.Get(ark_dir_);
  if (!latest.ok()) return FromStatus(latest.status());
  const SignedCheckpoint* s = latest->get();
  if (seq >= s->cp.size)
    return Error(404, "no entry " + arg + " under the latest checkpoint (" + std::to_string(s->cp.size) + " entries)");
  auto log = Log(s->cp.size);
  if (!log) return Error(500, "the ledger's entries cannot be read");
  if (log->tree.size() < s->cp.size) return Error(500, "the ledger holds fewer entries than its checkpoint");
  auto proof = log->tree.InclusionProof(seq, s->cp.size);
  if (!proof.ok()) return FromStatus(proof.status());
  auto b64 = [](const merkle::Hash& h) { return gov::Base64Encode(merkle::View(h)); };
  OJson hashes = OJson::array();
  for (const auto& h : *proof) hashes.push_back(b64(h));
  return Json(200, OJson{{"leafIdx", seq},
                         {"treeSize", s->cp.size},
                         {"root", b64(s->cp.root)},
                         {"leafHash", b64(log->tree.leaf(seq))},
                         {"entry", log->lines[seq]},
                         {"proof", hashes},
                         {"checkpoint", s->note}});
}

// ------------------------------------------------------------------ citizen

namespace {
// The receipt code of a citizen's request body, trimmed and in lower case (as printed on the
// letter, case does not matter), or a 400. The format is public; checking it says nothing about
// whether a code exists.
Result<std::string> CodeOf(const OJson& j) {
  for (const auto& [k, v] : j.items()) {
    if (k != "code") return Status::InvalidArgument("field '" + k + "' is not expected: the body has one field, 'code'");
  }
  ARK_ASSIGN_OR_RETURN(std::string code, Text(j, "code"));
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.pop_back();
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.erase(0, 1);
  for (auto& ch : code) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const std::string prefix = "ark-rc-";
  if (code.size() != prefix.size() + 32 || code.compare(0, prefix.size(), prefix) != 0 ||
      code.find_first_not_of("0123456789abcdef", prefix.size()) != std::string::npos)
    return Status::InvalidArgument("field 'code' must be a receipt code: 'ark-rc-' and 32 hex digits, as your GP practice gave it");
  return code;
}

ApiResponse TooMany(int retry_after_s) {
  ApiResponse r = Error(429, "too many wrong receipt codes: try again later");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

OJson CitizenJson(const gov::CitizenView& v) {
  OJson uses = OJson::array();
  for (const gov::Use& u : v.uses)
    uses.push_back({{"project", u.project}, {"title", u.title}, {"purpose", u.purpose}, {"date", u.date}});
  return {{"uses", uses}, {"optouts", v.optouts}, {"objected", v.objected()}};
}
}  // namespace

// A citizen's receipt (POST /citizen/receipt) or local objection (POST /citizen/objection), by
// the code alone, through gov::CitizenLookup / gov::RecordObjection. A wrong or spent code is one
// 403 with one message (whether the code ever existed is not said); wrong codes are throttled per
// client address (Auth::CodeThrottled) and, by governance, across all addresses (429 while locked
// out). Nothing about who asked goes on the ledger: governance records the objection and the
// refusals, never the code or the pseudonym.
ApiResponse Api::Citizen(Ctx& c) {
  c.ledgered = true;  // governance ledgers what is to be ledgered; a signed-in user is not linked to a code
  if (int wait = auth_->CodeThrottled(c.req.address)) {
    c.ledgered = false;  // the throttled address: on the ledger once a minute (Record)
    return TooMany(wait);
  }
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  auto code = CodeOf(*j);
  if (!code.ok()) return FromStatus(code.status());
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  const int64_t now = gov::UnixNow();
  auto locked = gov::ReceiptLockedOut(**cat, now);
  if (!locked.ok()) return FromStatus(locked.status());
  if (*locked) {
    c.ledgered = false;
    return TooMany(static_cast<int>(gov::kWindowSeconds));
  }
  const bool object = c.route.tmpl.size() >= 9 && c.route.tmpl.compare(c.route.tmpl.size() - 9, 9, "objection") == 0;
  Result<gov::CitizenView> v = Status::Internal("unset");
  {
    std::lock_guard<std::mutex> g(LedgerMutex());
    v = object ? gov::RecordObjection(**cat, *code, now) : gov::CitizenLookup(**cat, *code, now);
  }
  if (!v.ok() && v.status().code() == StatusCode::kPermissionDenied) {
    auth_->CodeFailed(c.req.address);
    return Error(403, "this receipt code is not valid: it is wrong, or it was for one use and has been used");
  }
  if (!v.ok()) return FromStatus(v.status());
  ApiResponse r = Json(200, CitizenJson(*v));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// ------------------------------------------------------------------ sessions

ApiResponse Api::SignIn(Ctx& c) {
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  auto user = Text(*j, "user");
  if (!user.ok()) return FromStatus(user.status());
  auto token = Text(*j, "token");
  if (!token.ok()) return FromStatus(token.status());
  SignInResult s = auth_->SignIn(*user, *token, c.req.address);
  if (s.http == 401) c.ledgered = true;  // governance put the wrong token on the ledger
  if (s.http == 429) {
    ApiResponse r = Error(429, s.error);
    r.headers.emplace_back("Retry-After", std::to_string(s.retry_after_s));
    return r;
  }
  if (s.http != 201) return Error(s.http, s.error);
  std::lock_guard<std::mutex> g(LedgerMutex());
  std::fprintf(stderr, "api: session started for %s from %s\n", user->c_str(), c.req.address.c_str());
  (void)gov::AppendToArkLedger(ark_dir_, gov::Json{{"type", "session.started"}, {"by", *user}});
  c.ledgered = true;
  OJson body = PrincipalJson(s.who);
  body["csrf_token"] = s.csrf;
  ApiResponse r = Json(201, body);
  r.headers.emplace_back("Set-Cookie", "ark_session=" + s.session + "; Path=/; HttpOnly; SameSite=Strict" +
                                           (c.req.tls ? "; Secure" : ""));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

ApiResponse Api::SignOut(Ctx& c) {
  if (!c.req.who.session.empty()) {
    auth_->SignOut(c.req.who.session);
    std::lock_guard<std::mutex> g(LedgerMutex());
    (void)gov::AppendToArkLedger(ark_dir_, gov::Json{{"type", "session.ended"}, {"by", c.req.who.Name()}});
    c.ledgered = true;
  }
  ApiResponse r;
  r.status = 204;
  r.headers.emplace_back("Set-Cookie", std::string("ark_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0") +
                                           (c.req.tls ? "; Secure" : ""));
  return r;
}

ApiResponse Api::Me(Ctx& c) { return Json(200, PrincipalJson(c.req.who)); }

// ------------------------------------------------------------------ committee

namespace {
// Only a governance user acts in governance; the interim token never does.
std::optional<ApiResponse> NeedsUser(const Principal& p) {
  if (p.kind == Principal::Kind::kUser) return std::nullopt;
  return Error(403, "the interim API token cannot act in governance: sign in as a user");
}
gov::Actor ActorOf(const Principal& p) { return gov::Actor{p.user, p.roles}; }
}  // namespace

ApiResponse Api::ProjectApply(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  gov::Project p;
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(p.id, Text(*j, "id"));
    ARK_ASSIGN_OR_RETURN(p.title, Text(*j, "title"));
    ARK_ASSIGN_OR_RETURN(std::string purpose, Text(*j, "purpose"));
    ARK_ASSIGN_OR_RETURN(p.purpose, gov::ParsePurpose(purpose));
    ARK_ASSIGN_OR_RETURN(p.legal_basis, Text(*j, "legal_basis"));
    ARK_ASSIGN_OR_RETURN(p.datasets, Texts(*j, "datasets"));
    ARK_ASSIGN_OR_RETURN(p.people, Texts(*j, "people"));
    ARK_ASSIGN_OR_RETURN(p.start, Text(*j, "start"));
    ARK_ASSIGN_OR_RETURN(p.end, Text(*j, "end"));
    ARK_ASSIGN_OR_RETURN(p.optout_exemption, Text(*j, "optout_exemption", false));
    return Status::OK();
  }();
  if (!s.ok()) return FromStatus(s);
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  {
    std::lock_guard<std::mutex> g(LedgerMutex());
    s = gov::CreateProject(**cat, ActorOf(c.req.who), p);
  }
  if (s.code() == StatusCode::kPermissionDenied) c.ledgered = true;  // governance logged it
  if (!s.ok()) return FromStatus(s);
  auto created = gov::GetProject(**cat, p.id);
  if (!created.ok()) return FromStatus(created.status());
  return Json(201, gov::ProjectJson(*created));
}

ApiResponse Api::ProjectDecision(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  auto decision = Text(*j, "decision");
  if (!decision.ok()) return FromStatus(decision.status());
  auto reason = Text(*j, "reason");
  if (!reason.ok()) return FromStatus(reason.status());
  if (*decision != "approve" && *decision != "reject")
    return Error(400, "field 'decision' must be \"approve\" or \"reject\", not \"" + *decision + "\"");
  if (reason->empty()) return Error(400, "field 'reason' must not be empty: every decision has a reason");
  const bool approve = *decision == "approve";
  return ActOnProject(c, [&](Catalog& cat, gov::Ledger& ledger, const gov::Actor& by, const std::string& id) {
    return approve ? gov::ApproveProject(cat, ledger, by, id, gov::Today(), *reason)
                   : gov::RejectProject(cat, ledger, by, id, *reason);
  });
}

// The committee's actions on project c.params[0]: `act` runs under the ledger lock, as the
// signed-in user; governance puts the action, or its refusal, on the ledger. The project as it
// is afterwards, or the refusal's status.
ApiResponse Api::ActOnProject(Ctx& c, const ProjectAction& act) {
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  Status s;
  {
    std::lock_guard<std::mutex> g(LedgerMutex());
    auto ledger = gov::Ledger::Open(ark_dir_);
    if (!ledger.ok()) return FromStatus(ledger.status());
    s = act(**cat, **ledger, ActorOf(c.req.who), c.params[0]);
  }
  if (s.ok() || s.code() == StatusCode::kPermissionDenied) c.ledgered = true;
  if (!s.ok()) return FromStatus(s);
  auto p = gov::GetProject(**cat, c.params[0]);
  if (!p.ok()) return FromStatus(p.status());
  return Json(200, gov::ProjectJson(*p));
}


namespace {
// The fields of an amendment body besides "reason"; any other field is refused (a typo would
// otherwise be an amendment that silently changes nothing).
Result<gov::Amendment> AmendmentOf(const OJson& j) {
  static const std::vector<std::string> kFields = {"reason", "title", "legal_basis", "datasets", "people", "end",
                                                   "optout_exemption"};
  for (const auto& [k, v] : j.items()) {
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end())
      return Status::InvalidArgument("field '" + k + "' cannot be amended (title, legal_basis, datasets, people, end, "
                                     "optout_exemption)");
  }
  gov::Amendment a;
  for (auto [field, slot] : {std::pair{"title", &a.title}, {"legal_basis", &a.legal_basis}, {"end", &a.end},
                             {"optout_exemption", &a.optout_exemption}}) {
    if (!j.contains(field)) continue;
    ARK_ASSIGN_OR_RETURN(std::string v, Text(j, field, false));
    *slot = v;
  }
  for (auto [field, slot] : {std::pair{"datasets", &a.datasets}, {"people", &a.people}}) {
    if (!j.contains(field)) continue;
    ARK_ASSIGN_OR_RETURN(*slot, Texts(j, field));
  }
  return a;
}
}  // namespace

// Suspend, reinstate, revoke or amend (the route's last segment), with a reason, through the
// governance function `ark project suspend|reinstate|revoke|amend` calls.
ApiResponse Api::ProjectLifecycle(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  auto reason = Text(*j, "reason");
  if (!reason.ok()) return FromStatus(reason.status());
  if (reason->empty()) return Error(400, "field 'reason' must not be empty: every committee action has a reason");
  const std::string action = c.route.tmpl.substr(c.route.tmpl.rfind('/') + 1);
  gov::Amendment amendment;
  if (action == "amendment") {
    auto a = AmendmentOf(*j);
    if (!a.ok()) return FromStatus(a.status());
    amendment = std::move(*a);
  } else if (j->size() != 1) {
    return Error(400, "the body of a " + action + " has one field, 'reason'");
  }
  return ActOnProject(c, [&](Catalog& cat, gov::Ledger& ledger, const gov::Actor& by, const std::string& id) {
    if (action == "suspension") return gov::SuspendProject(cat, ledger, by, id, *reason);
    if (action == "reinstatement") return gov::ReinstateProject(cat, ledger, by, id, *reason);
    if (action == "revocation") return gov::RevokeProject(cat, ledger, by, id, *reason);
    return gov::AmendProject(cat, ledger, by, id, amendment, *reason);
  });
}


// ------------------------------------------------------------------ outputs, runs, users, ledger

namespace {
// A positive decimal id ("12"), or a 400 naming it.
Result<int64_t> IdOf(const std::string& what, const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument(what + " '" + s + "' is not a number (1, 2, ...)");
  return static_cast<int64_t>(std::stoll(s));
}

// The value of `key` in a query string ("from=3&limit=10"), or "" when absent.
std::string QueryValue(const std::string& query, const std::string& key) {
  size_t at = 0;
  while (at <= query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string_view kv(query.data() + at, end - at);
    if (kv.substr(0, key.size() + 1) == key + "=") return std::string(kv.substr(key.size() + 1));
    at = end + 1;
  }
  return "";
}

// Output checkers and admins see every output; anyone else only the outputs they wrote.
bool SeesEveryOutput(const Principal& p) { return p.Has("output_checker") || p.Has("admin"); }

// The ACRO-style results.json of an output (per-cell SDC outcomes), or null when unreadable.
OJson ResultsOf(const std::string& ark_dir, int64_t id) {
  auto text = ReadFile(ark_dir + "/outputs/" + std::to_string(id) + "/results.json");
  if (!text.ok()) return nullptr;
  try {
    return OJson::parse(*text);
  } catch (const std::exception&) {
    return nullptr;
  }
}

OJson RunJson(const gov::RunRecord& r) {
  return {{"id", r.id}, {"project", r.project}, {"user", r.user}, {"definition_hash", r.definition_hash},
          {"at", r.at}, {"population_band", gov::SizeBand(r.population)}};
}

// Runs are seen by admins, and by the people of the run's project.
Result<bool> SeesRun(Catalog& cat, const Principal& p, const gov::RunRecord& r) {
  if (p.Has("admin")) return true;
  ARK_ASSIGN_OR_RETURN(gov::Project proj, gov::GetProject(cat, r.project));
  for (const std::string& u : proj.people) {
    if (u == p.user) return true;
  }
  return false;
}
}  // namespace

ApiResponse Api::Outputs(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  const Principal& who = c.req.who;
  if (!SeesEveryOutput(who) && !who.Has("analyst"))
    return Error(403, "the review queue is for output checkers and admins; analysts see their own outputs");
  // Kept per view: the whole queue (checkers, admins), or one analyst's own outputs.
  const bool all = SeesEveryOutput(who);
  const std::string key = "GET /api/v1/outputs " + (all ? std::string("*") : "user:" + who.user);
  return Answer(CatalogAnswer(ark_dir_, key, [&](Catalog& cat) -> Result<std::string> {
    ARK_ASSIGN_OR_RETURN(auto outs, gov::ListOutputs(cat));
    OJson j = OJson::array();
    for (const auto& o : outs) {
      if (all || o.author == who.user) j.push_back(gov::OutputJson(o));
    }
    return Dump(j);
  }));
}

ApiResponse Api::OutputShow(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto id = IdOf("output", c.params[0]);
  if (!id.ok()) return FromStatus(id.status());
  auto cat = ThreadCatalog(ark_dir_);  // a read: this thread's kept connection
  if (!cat.ok()) return FromStatus(cat.status());
  auto outs = gov::ListOutputs(**cat);
  if (!outs.ok()) return FromStatus(outs.status());
  for (const auto& o : *outs) {
    if (o.id != *id) continue;
    if (!SeesEveryOutput(c.req.who) && o.author != c.req.who.user)
      return Error(403, "output " + c.params[0] + " is seen by its author, output checkers and admins");
    OJson j = gov::OutputJson(o);
    j["results"] = ResultsOf(ark_dir_, o.id);
    return Json(200, j);
  }
  return Error(404, "no output " + c.params[0]);
}

ApiResponse Api::OutputReview(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto id = IdOf("output", c.params[0]);
  if (!id.ok()) return FromStatus(id.status());
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  auto decision = Text(*j, "decision");
  if (!decision.ok()) return FromStatus(decision.status());
  auto reason = Text(*j, "reason");
  if (!reason.ok()) return FromStatus(reason.status());
  if (*decision != "approve" && *decision != "reject")
    return Error(400, "field 'decision' must be \"approve\" or \"reject\", not \"" + *decision + "\"");
  if (reason->empty()) return Error(400, "field 'reason' must not be empty: every decision has a reason");
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  Result<gov::OutputRecord> r = Status::Internal("unset");
  {
    std::lock_guard<std::mutex> g(LedgerMutex());
    auto ledger = gov::Ledger::Open(ark_dir_);
    if (!ledger.ok()) return FromStatus(ledger.status());
    r = gov::DecideOutput(**cat, **ledger, ActorOf(c.req.who), *id, *decision == "approve", *reason);
  }
  // Governance logged its refusal, or the decision itself.
  if (r.ok() || r.status().code() == StatusCode::kPermissionDenied) c.ledgered = true;
  if (!r.ok()) return FromStatus(r.status());
  return Json(200, gov::OutputJson(*r));
}

ApiResponse Api::Runs(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  // Kept per view: every run (admins), or the runs of the projects this user is a person of.
  const Principal& who = c.req.who;
  const std::string key = "GET /api/v1/runs " + (who.Has("admin") ? std::string("*") : "user:" + who.user);
  return Answer(CatalogAnswer(ark_dir_, key, [&](Catalog& cat) -> Result<std::string> {
    ARK_ASSIGN_OR_RETURN(auto runs, gov::ListRuns(cat));
    OJson j = OJson::array();
    std::unordered_map<std::string, bool> sees_project;  // one project lookup per project, not per run
    for (const auto& r : runs) {
      auto known = sees_project.find(r.project);
      if (known == sees_project.end()) {
        ARK_ASSIGN_OR_RETURN(bool sees, SeesRun(cat, who, r));
        known = sees_project.emplace(r.project, sees).first;
      }
      if (known->second) j.push_back(RunJson(r));
    }
    return Dump(j);
  }));
}

ApiResponse Api::RunShow(Ctx& c) {
  if (auto r = NeedsUser(c.req.who)) return *r;
  auto id = IdOf("run", c.params[0]);
  if (!id.ok()) return FromStatus(id.status());
  auto cat = ThreadCatalog(ark_dir_);  // a read: this thread's kept connection
  if (!cat.ok()) return FromStatus(cat.status());
  auto runs = gov::ListRuns(**cat);
  if (!runs.ok()) return FromStatus(runs.status());
  for (const auto& r : *runs) {
    if (r.id != *id) continue;
    auto sees = SeesRun(**cat, c.req.who, r);
    if (!sees.ok()) return FromStatus(sees.status());
    if (!*sees) return Error(403, "run " + c.params[0] + " is seen by the people of project " + r.project + " and admins");
    return Json(200, RunJson(r));
  }
  return Error(404, "no run " + c.params[0]);
}

ApiResponse Api::Users(Ctx& c) {
  if (!c.req.who.Has("admin") || c.req.who.kind != Principal::Kind::kUser)
    return Error(403, "the list of users is for admins");
  auto cat = ThreadCatalog(ark_dir_);  // a read: this thread's kept connection
  if (!cat.ok()) return FromStatus(cat.status());
  auto users = gov::ListUsers(**cat);
  if (!users.ok()) return FromStatus(users.status());
  OJson j = OJson::array();
  for (const auto& u : *users)
    j.push_back({{"name", u.name}, {"roles", u.roles}, {"created_at", u.created_at}, {"created_by", u.created_by}});
  return Json(200, j);
}

// Admin only: entries name users and hold client addresses (sign-ins, refusals).
ApiResponse Api::LedgerEntries(Ctx& c) {
  if (!c.req.who.Has("admin") || c.req.who.kind != Principal::Kind::kUser)
    return Error(403, "the ledger's entries are for admins (they name users)");
  const std::string from_s = QueryValue(c.req.query, "from"), limit_s = QueryValue(c.req.query, "limit");
  uint64_t from = 0, limit = 100;
  auto number = [](const std::string& s, uint64_t* out) {
    if (s.empty()) return true;
    if (s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::stoull(s);
    return true;
  };
  if (!number(from_s, &from)) return Error(400, "query 'from' must be an entry number (0, 1, ...), not '" + from_s + "'");
  if (!number(limit_s, &limit) || limit < 1 || limit > 1000)
    return Error(400, "query 'limit' must be a number from 1 to 1000, not '" + limit_s + "'");
  auto loaded = gov::LoadLog(gov::LedgerDirOf(ark_dir_));
  if (!loaded.ok()) return FromStatus(loaded.status());
  const uint64_t size = loaded->lines.size();
  OJson entries = OJson::array();
  for (uint64_t i = from; i < size && i < from + limit; ++i) {
    OJson e;
    try {
      e = OJson::parse(loaded->lines[i]);
    } catch (const std::exception&) {
      e = loaded->lines[i];
    }
    entries.push_back({{"seq", i}, {"entry", e}});
  }
  return Json(200, OJson{{"size", size}, {"from", from}, {"entries", entries}});
}

// ------------------------------------------------------------------ live

// Counts of people under the disclosure rules for every governance user (ops.h).
ApiResponse Api::LiveIndicators(Ctx& c) {
  ApiResponse r;
  r.body = DiscloseIndicators(ingestor_->IndicatorsJson(), SeesExactCounts(c.req.who));
  return r;
}

ApiResponse Api::LiveAlerts(Ctx&) {
  ApiResponse r;
  r.body = "[";
  bool first = true;
  for (const std::string& a : ingestor_->RecentAlerts()) {
    if (!first) r.body += ",";
    r.body += a;
    first = false;
  }
  r.body += "]";
  return r;
}

ApiResponse Api::LiveStream(Ctx&) {
  ApiResponse r;
  r.stream = true;
  r.content_type = "text/event-stream";
  return r;
}

}  // namespace ark::server

// ------------------------------------------------------------------ operations (ops.h)

namespace ark::server {

ApiResponse Api::LiveFeeds(Ctx& c) {
  if (!SeesOperations(c.req.who)) return Error(403, "feed health is for the engineer and admin roles");
  if (!feeds_) return Error(503, "feed health is not kept by this server");
  ApiResponse r;
  r.body = feeds_->Json(live::NowMicros());
  return r;
}

ApiResponse Api::LiveLatency(Ctx& c) {
  if (!SeesOperations(c.req.who)) return Error(403, "the data-action latency is for the engineer and admin roles");
  if (!metrics_) return Error(503, "latency is not measured by this server");
  ApiResponse r;
  r.body = LatencyJson(*metrics_);
  return r;
}

}  // namespace ark::server
