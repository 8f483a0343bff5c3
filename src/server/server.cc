#include "server/server.h"

#include <openssl/crypto.h>
#include <xxhash.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "hl7/hl7.h"
#include "live/mllp.h"
#include "live/record.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/feeds.h"
#include "server/ops.h"
#include "server/tls.h"
#include "server/web.h"
#include "server/webhook.h"

namespace ark::server {

using namespace ark::live;  // the ingestor, records, metrics: the layer below

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Server::Impl {
  ServeOptions opts;
  Ingestor* ingestor = nullptr;
  Metrics* metrics = nullptr;
  asio::io_context ioc;
  std::unique_ptr<tcp::acceptor> mllp, web;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::unique_ptr<WebhookSender> webhooks;
  size_t max_message_bytes = kDefaultMaxMessageBytes, max_body_bytes = kDefaultMaxBodyBytes;
  size_t max_outstanding_bytes = 0;  // per MLLP connection: reading pauses above it
  uint64_t webhook_sub = 0;
  std::unique_ptr<Auth> auth;
  std::unique_ptr<Api> api;
  std::shared_ptr<asio::ssl::context> tls;  // HTTPS when set
  FeedHealth feeds;                          // per sending facility (GET /api/v1/live/feeds)

  void AcceptMllp();
  void AcceptHttp();
};

namespace {

// ---------------------------------------------------------------- MLLP
class MllpSession : public std::enable_shared_from_this<MllpSession> {
 public:
  MllpSession(tcp::socket s, Server::Impl* srv)
      : sock_(std::move(s)),
        strand_(sock_.get_executor()),
        srv_(srv),
        decoder_(srv->max_message_bytes) {}
  void Start() {
    srv_->metrics->connections_total++;
    srv_->metrics->connections_open++;
    Read();
  }
  ~MllpSession() { srv_->metrics->connections_open--; }

 private:
  static constexpr int kMaxOutstanding = 2048;

  void Read() {
    reading_ = true;
    sock_.async_read_some(
        asio::buffer(buf_),
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->reading_ = false;
          if (ec == asio::error::eof && self->outstanding_ > 0) {
            self->eof_ =
                true;  // the sender is done sending: answer what is outstanding, then close
            return;
          }
          if (ec) return self->Close();
          self->srv_->metrics->bytes_received += n;
          self->decoder_.Feed(
              std::string_view(self->buf_.data(), n),
              [&](std::string_view frame) { self->OnFrame(frame); },
              [&](std::string_view prefix) { self->OnOversized(prefix); });
          if (self->MayRead()) self->Read();
        }));
  }

  // One message: parse, map, submit. Whatever goes wrong (an error or an exception) becomes an
  // AE/AR for this message only; the session and the server go on.
  void OnFrame(std::string_view frame) {
    srv_->metrics->frames++;
    ++outstanding_;
    outstanding_bytes_ += frame.size();
    try {
      Process(frame);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ark serve: MLLP message not processed: %s\n", e.what());
      Reject(nullptr, frame, frame.size(), "AE",
             Status::Internal(std::string("message not processed: ") + e.what()));
    }
  }

  // A frame over the limit: its first bytes only (for the MSH of the AR).
  void OnOversized(std::string_view prefix) {
    srv_->metrics->frames++;
    ++outstanding_;
    std::fprintf(stderr, "ark serve: MLLP message longer than %zu bytes refused (AR)\n",
                 srv_->max_message_bytes);
    Reject(nullptr, prefix, 0, "AR",
           Status::InvalidArgument("message longer than " + std::to_string(srv_->max_message_bytes) +
                                   " bytes (the limit, ARK_SERVE_MAX_MESSAGE_BYTES); not processed"));
  }

  void Process(std::string_view frame) {
    const int64_t received = NowMicros();
    const size_t bytes = frame.size();
    auto self = shared_from_this();
    auto m = hl7::Message::Parse(frame);
    if (!m.ok()) {
      const bool unsupported = m.status().message().find("unsupported") != std::string::npos;
      return Reject(nullptr, frame, bytes, unsupported ? "AR" : "AE", m.status());
    }
    auto msg = std::make_shared<hl7::Message>(std::move(*m));
    auto rec = FromHl7(*msg);
    if (!rec.ok()) {
      const bool unsupported = rec.status().message().find("unsupported") != std::string::npos;
      return Reject(msg.get(), frame, bytes, unsupported ? "AR" : "AE", rec.status());
    }
    srv_->ingestor->Submit(*rec, received, [self, msg, bytes, source = rec->sending_facility](const Outcome& o) {
      self->srv_->feeds.Count(source, o.code, NowMicros());
      asio::post(self->strand_, [self, msg, o, bytes] {
        std::string ack;
        try {
          ack = hl7::MakeAck(msg.get(), "", o.code, o.error);
        } catch (const std::exception& e) {  // never expected; the sender still gets an answer
          ack = hl7::MakeAck(nullptr, "", "AE", Status::Internal(e.what()));
        }
        self->Send(std::move(ack), bytes);
      });
    });
  }

  // Queues an AE/AR behind the connection's earlier messages (ACK order is kept).
  void Reject(const hl7::Message* msg, std::string_view raw, size_t bytes, const char* code,
              const Status& error) {
    std::string ack = hl7::MakeAck(msg, raw, code, error);
    srv_->feeds.Count(msg ? msg->Get("MSH", 4) : SendingFacilityOf(raw), code, NowMicros());
    auto self = shared_from_this();
    srv_->ingestor->SubmitError(
        code, error, [self, bytes, ack = std::move(ack)](const Outcome&) mutable {
          asio::post(self->strand_, [self, bytes, ack = std::move(ack)]() mutable {
            self->Send(std::move(ack), bytes);
          });
        });
  }

  bool MayRead() const {
    return outstanding_ < kMaxOutstanding && outstanding_bytes_ < srv_->max_outstanding_bytes;
  }

  void Send(std::string ack, size_t bytes) {
    --outstanding_;
    outstanding_bytes_ -= std::min(bytes, outstanding_bytes_);
    AppendMllpFrame(ack, &pending_);
    if (!writing_) Flush();
    const bool low = outstanding_ == 0 || (outstanding_ < kMaxOutstanding / 2 &&
                                           outstanding_bytes_ < srv_->max_outstanding_bytes / 2);
    if (!reading_ && !closed_ && !eof_ && low) Read();
  }

  void CloseIfDone() {
    if (eof_ && outstanding_ == 0 && pending_.empty() && !writing_) Close();
  }

  void Flush() {
    if (pending_.empty() || closed_) return CloseIfDone();
    writing_ = true;
    out_.swap(pending_);
    pending_.clear();
    asio::async_write(
        sock_, asio::buffer(out_),
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t) {
          self->writing_ = false;
          self->out_.clear();
          if (ec) return self->Close();
          self->Flush();
        }));
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

  tcp::socket sock_;
  asio::strand<tcp::socket::executor_type> strand_;
  Server::Impl* srv_;
  std::array<char, 65536> buf_;
  MllpDecoder decoder_;
  std::string pending_, out_;
  bool writing_ = false, reading_ = false, closed_ = false, eof_ = false;
  int outstanding_ = 0;
  size_t outstanding_bytes_ = 0;  // of the messages awaiting their ACK
};

// ---------------------------------------------------------------- HTTP
// One connection: plain HTTP (Stream = beast::tcp_stream) or HTTPS (beast::ssl_stream of one).
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<HttpSession<Stream>>::shared_from_this;

 public:
  HttpSession(tcp::socket s, Server::Impl* srv)
      : stream_(MakeStream(std::move(s), srv)), strand_(stream_.get_executor()), srv_(srv) {}
  ~HttpSession() {
    if (sub_ && !srv_->stopped) {
      srv_->ingestor->Unsubscribe(sub_);
      srv_->metrics->sse_clients--;
    }
  }
  // HTTPS: the handshake first, within the handshake timeout; a peer that fails it (plain HTTP,
  // garbage, an old protocol) or stalls is dropped without holding anything but its socket.
  void Start() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::milliseconds(srv_->opts.tls_handshake_timeout_ms));
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->Close();
            self->Read();
          }));
    } else {
      Read();
    }
  }

 private:
  using Response = http::response<http::string_body>;

  static Stream MakeStream(tcp::socket&& s, Server::Impl* srv) {
    if constexpr (kTls) return Stream(std::move(s), *srv->tls);
    else return Stream(std::move(s));
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // The header first: authentication and the body's size are decided before any of the body
  // is read, so an unauthenticated or oversized upload costs its headers only.
  void Read() {
    req_ = {};
    who_ = {};
    parser_.emplace();
    parser_->header_limit(64u << 10);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // checked in OnHeader
    Lowest().expires_after(std::chrono::seconds(60));
    http::async_read_header(
        stream_, buffer_, *parser_,
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          self->Guard([&] { self->OnHeader(); });
        }));
  }

  // Only the request head is known here: who asks, the route, and the body's announced size.
  void OnHeader() {
    const auto& h = parser_->get();
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    const std::string target(h.target());
    path_ = target.substr(0, target.find('?'));
    query_ = path_.size() < target.size() ? target.substr(path_.size() + 1) : "";
    method_ = std::string(h.method_string());
    const auto csrf = h.find("X-CSRF-Token");
    csrf_ = csrf == h.end() ? "" : std::string(csrf->value());
    // The old live paths are aliases of /api/v1/live/...
    if (path_.rfind("/api/live/", 0) == 0) path_ = "/api/v1/live/" + path_.substr(10);
    // Health also under the API's base (clients that resolve every path against /api/v1).
    if (path_ == "/api/v1/healthz") path_ = "/healthz";
    const auto auth = h.find(http::field::authorization);
    if (auth != h.end()) {
      who_ = srv_->auth->FromBearer(std::string(auth->value()));
    } else if (const auto cookie = h.find(http::field::cookie); cookie != h.end() && Api::Serves(path_)) {
      who_ = srv_->auth->FromCookie(std::string(cookie->value()));  // browsers: the API only
    } else {
      who_ = {};
    }
    if (Api::Serves(path_)) return OnApiHeader();
    // The web app (only its embedded assets), and any other path that tries to climb out.
    if (WebServes(path_) || Api::Traversal(path_)) {
      keep_alive_ = parser_->is_done() && keep_alive_;  // no body is read
      ApiResponse res = ServeWeb(method_, path_);
      return Reply(static_cast<http::status>(res.status), std::move(res.body), res.content_type.c_str(), res.headers);
    }
    // /metrics and POST /fhir: bearer tokens only.
    if (who_.anonymous()) {
      keep_alive_ = parser_->is_done() && keep_alive_;  // an unread body ends the connection
      return Reply(http::status::unauthorized,
                   R"({"error":"a bearer token is required (Authorization: Bearer <token>); see docs/live.md"})");
    }
    if (path_ == "/fhir" && h.method() == http::verb::post && !MayWrite()) {
      keep_alive_ = parser_->is_done() && keep_alive_;
      return Reply(http::status::forbidden,
                   R"({"error":"writing data needs a user with the 'feed' role (or the interim API token); see docs/live.md"})");
    }
    ReadBodyUpTo(srv_->max_body_bytes, [this] { Handle(); });
  }

  bool MayWrite() const { return who_.kind == Principal::Kind::kInterim || who_.Has("feed"); }

  void OnApiHeader() {
    if (Api::Traversal(path_)) {
      keep_alive_ = parser_->is_done() && keep_alive_;
      return Reply(http::status::bad_request,
                   nlohmann::json({{"error", "path traversal refused: '" + path_ + "' has a '.' or '..' segment"}}).dump(
                       -1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    route_ = srv_->api->Route(method_, path_);
    if (!route_.method_ok || (route_.needs_principal && who_.anonymous())) {
      keep_alive_ = parser_->is_done() && keep_alive_;  // refused from the head: the body is not read
      return Guard([&] { HandleApi(); });
    }
    ReadBodyUpTo(std::min(route_.max_body, srv_->max_body_bytes), [this] { HandleApi(); });
  }

  // Reads the body (up to `limit` bytes: 413 beyond, before it is read when announced), then `then`.
  template <typename F>
  void ReadBodyUpTo(size_t limit, F then) {
    const auto length = parser_->content_length();
    if (length && *length > limit) return TooLarge(limit);
    parser_->body_limit(limit);
    if (parser_->is_done()) {
      req_ = parser_->release();
      return Guard(then);
    }
    body_limit_ = limit;
    after_body_ = then;
    const auto& h = parser_->get();
    const auto expect = h.find(http::field::expect);
    if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      http::async_write(
          stream_, *cont,
          asio::bind_executor(strand_, [self = shared_from_this(), cont](beast::error_code ec, size_t) {
            if (ec) return self->Close();
            self->ReadBody();
          }));
      return;
    }
    ReadBody();
  }

  void HandleApi() {
    ApiRequest r;
    r.method = method_;
    r.path = path_;
    r.query = query_;
    r.body = req_.body();
    beast::error_code ec;
    const auto peer = Lowest().socket().remote_endpoint(ec);
    r.address = ec ? "unknown" : peer.address().to_string();
    r.csrf = csrf_;
    r.who = who_;
    r.tls = kTls;
    ApiResponse res = srv_->api->Handle(r);
    if (res.stream) return StartStream();
    Reply(static_cast<http::status>(res.status), std::move(res.body), res.content_type.c_str(), res.headers);
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec == http::error::body_limit) return self->TooLarge(self->body_limit_);
          if (ec) return self->Close();
          self->req_ = self->parser_->release();
          self->Guard(self->after_body_);
        }));
  }

  void TooLarge(size_t limit) {
    keep_alive_ = false;  // the rest of the body is not read
    Reply(http::status::payload_too_large,
          nlohmann::json({{"error", "request body larger than " + std::to_string(limit) + " bytes (the limit" +
                                        (limit == srv_->max_body_bytes ? ", ARK_SERVE_MAX_BODY_BYTES" : " of this route") +
                                        ")"}})
              .dump());
  }

  // Runs a handler; an exception becomes a 500 for this request (logged), never a dead server.
  template <typename F>
  void Guard(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ark serve: HTTP request failed: %s\n", e.what());
      if (replied_) return Close();
      keep_alive_ = false;
      Reply(http::status::internal_server_error,
            nlohmann::json({{"error", std::string("internal error: ") + e.what()}})
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }

  void Reply(http::status st, std::string body, const char* type = "application/json",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    replied_ = true;
    auto res = std::make_shared<Response>(st, version_);
    res->set(http::field::server, "ark");
    res->set(http::field::content_type, type);
    res->set("X-Content-Type-Options", "nosniff");
    if constexpr (kTls) res->set("Strict-Transport-Security", kHstsValue);
    for (const auto& [k, v] : headers) res->set(k, v);
    if (st == http::status::unauthorized)
      res->set(http::field::www_authenticate, "Bearer realm=\"ark\"");
    res->keep_alive(keep_alive_);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      asio::bind_executor(
                          strand_, [self = shared_from_this(), res](beast::error_code ec, size_t) {
                            self->replied_ = false;
                            if (ec || !res->keep_alive()) return self->Close();
                            self->Read();
                          }));
  }

  // /metrics and POST /fhir (the API, /api/v1 and /healthz, is Api's).
  void Handle() {
    if (req_.method() == http::verb::get && path_ == "/metrics")
      return Reply(http::status::ok,
                   srv_->metrics->Prometheus() +
                       ClinicalPrometheus(DiscloseIndicators(srv_->ingestor->IndicatorsJson(), SeesExactCounts(who_))),
                   "text/plain; version=0.0.4");
    if (path_ == "/fhir" && req_.method() == http::verb::post) {
      if (!MayWrite()) return Reply(http::status::forbidden, R"({"error":"writing data needs the 'feed' role"})");
      return Fhir();
    }
    return Reply(http::status::not_found, "{\"error\":\"no such endpoint (the API is under /api/v1: see /api/v1/openapi.json)\"}");
  }

  void Fhir() {
    const int64_t received = NowMicros();
    Result<std::vector<LiveRecord>> recs = Status::Internal("not parsed");
    try {
      recs = FromFhirBundle(req_.body());
    } catch (const nlohmann::json::exception& e) {  // a value of an unexpected JSON type
      recs = Status::InvalidArgument(std::string("FHIR resource has a value of the wrong type: ") + e.what());
    }
    if (!recs.ok()) {
      nlohmann::json o = {{"resourceType", "OperationOutcome"},
                          {"issue",
                           {{{"severity", "error"},
                             {"code", "invalid"},
                             {"diagnostics", recs.status().message()}}}}};
      return Reply(http::status::bad_request,
                   o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                   "application/fhir+json");
    }
    if (recs->empty())
      return Reply(http::status::ok,
                   R"({"resourceType":"Bundle","type":"transaction-response","entry":[]})",
                   "application/fhir+json");
    const uint64_t h = XXH3_64bits(req_.body().data(), req_.body().size());
    struct Pending {
      std::mutex mu;
      size_t left;
      std::vector<Outcome> outcomes;
    };
    auto pending = std::make_shared<Pending>();
    pending->left = recs->size();
    pending->outcomes.resize(recs->size());
    auto self = shared_from_this();
    for (size_t i = 0; i < recs->size(); ++i) {
      LiveRecord& r = (*recs)[i];
      if (r.control_id.empty())
        r.control_id = "fhir:" + std::to_string(h) + ":" + std::to_string(i);
      if (r.sending_facility.empty()) r.sending_facility = "FHIR";
      srv_->metrics->fhir_records++;
      srv_->ingestor->Submit(r, received, [self, pending, i, source = r.sending_facility](const Outcome& o) {
        self->srv_->feeds.Count(source, o.code, NowMicros());
        bool last;
        {
          std::lock_guard<std::mutex> l(pending->mu);
          pending->outcomes[i] = o;
          last = --pending->left == 0;
        }
        if (last) {
          asio::post(self->strand_,
                     [self, pending] { self->Guard([&] { self->FhirDone(*pending); }); });
        }
      });
    }
  }

  template <typename P>
  void FhirDone(P& p) {
    nlohmann::json entries = nlohmann::json::array();
    bool all_ok = true;
    for (const Outcome& o : p.outcomes) {
      if (o.code == "AA") {
        entries.push_back({{"response", {{"status", o.duplicate ? "200 OK" : "201 Created"}}}});
      } else {
        all_ok = false;
        entries.push_back({{"response",
                            {{"status", "500 Internal Server Error"},
                             {"outcome",
                              {{"resourceType", "OperationOutcome"},
                               {"issue",
                                {{{"severity", "error"},
                                  {"code", "exception"},
                                  {"diagnostics", o.error.message()}}}}}}}}});
      }
    }
    nlohmann::json b = {
        {"resourceType", "Bundle"}, {"type", "transaction-response"}, {"entry", entries}};
    Reply(all_ok ? http::status::ok : http::status::internal_server_error,
          b.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/fhir+json");
  }

  // Server-Sent Events: one "event: alert" per alert, a comment every 15 s to keep it open.
  void StartStream() {
    Lowest().expires_never();
    std::string head =
        "HTTP/1.1 200 OK\r\nServer: ark\r\nContent-Type: text/event-stream\r\nCache-Control: "
        "no-cache\r\n" +
        std::string(kTls ? std::string("Strict-Transport-Security: ") + kHstsValue + "\r\n" : "") +
        "Connection: close\r\n\r\nretry: 2000\n: connected\n\n";
    streaming_ = true;
    srv_->metrics->sse_clients++;
    std::weak_ptr<HttpSession> weak = shared_from_this();
    sub_ = srv_->ingestor->Subscribe([weak](const Alert& a, const std::string& json) {
      if (auto self = weak.lock()) {
        std::string ev = "id: " + std::to_string(a.id) + "\nevent: alert\ndata: " + json + "\n\n";
        asio::post(self->strand_, [self, ev = std::move(ev)] { self->Push(ev); });
      }
    });
    Push(head);
    timer_ = std::make_unique<asio::steady_timer>(strand_);
    Ping();
    // Detect the client going away.
    stream_.async_read_some(
        asio::buffer(sink_),
        asio::bind_executor(
            strand_, [self = shared_from_this()](beast::error_code, size_t) { self->Close(); }));
  }

  void Ping() {
    timer_->expires_after(std::chrono::seconds(15));
    timer_->async_wait(
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec) {
          if (ec || self->closed_) return;
          self->Push(": ping\n\n");
          self->Ping();
        }));
  }

  void Push(std::string s) {
    if (closed_) return;
    if (queue_.size() > 10000) return Close();  // a client that does not read
    queue_.push_back(std::move(s));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (queue_.empty() || closed_) return;
    writing_ = true;
    asio::async_write(
        stream_, asio::buffer(queue_.front()),
        asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t) {
          self->writing_ = false;
          if (ec) return self->Close();
          self->queue_.pop_front();
          self->WriteNext();
        }));
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (sub_) {
      srv_->ingestor->Unsubscribe(sub_);
      srv_->metrics->sse_clients--;
      sub_ = 0;
    }
    if (timer_) timer_->cancel();
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().socket().close(ec);
  }

  Stream stream_;
  asio::strand<beast::tcp_stream::executor_type> strand_;
  Server::Impl* srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  bool streaming_ = false, writing_ = false, closed_ = false;
  bool keep_alive_ = false, replied_ = false;
  std::string method_, path_, query_, csrf_;
  Principal who_;
  RouteInfo route_;
  size_t body_limit_ = 0;
  std::function<void()> after_body_;
  unsigned version_ = 11;
  uint64_t sub_ = 0;
  std::deque<std::string> queue_;
  std::unique_ptr<asio::steady_timer> timer_;
  std::array<char, 256> sink_;
};

// `value` when set, else the environment variable `env` (a positive byte count), else `def`.
size_t LimitFromEnv(size_t value, const char* env, size_t def) {
  if (value > 0) return value;
  const char* e = std::getenv(env);
  if (!e || !*e) return def;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  if (*end != '\0' || v == 0) {
    std::fprintf(stderr, "ark serve: ignoring %s='%s' (not a positive byte count)\n", env, e);
    return def;
  }
  return static_cast<size_t>(v);
}

Result<tcp::endpoint> Endpoint(const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Status::InvalidArgument("'" + host + "' is not an IP address");
  return tcp::endpoint(addr, port);
}

Result<std::unique_ptr<tcp::acceptor>> Listen(asio::io_context& ioc, const std::string& host,
                                              uint16_t port, const char* what) {
  ARK_ASSIGN_OR_RETURN(tcp::endpoint ep, Endpoint(host, port));
  auto a = std::make_unique<tcp::acceptor>(ioc);
  beast::error_code ec;
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::IOError(std::string(what) + ": cannot listen on " + host + ":" +
                           std::to_string(port) + ": " + ec.message());
  return a;
}

}  // namespace

void Server::Impl::AcceptMllp() {
  mllp->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
    if (stopped) return;
    if (!ec) {
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<MllpSession>(std::move(s), this)->Start();
    }
    AcceptMllp();
  });
}

void Server::Impl::AcceptHttp() {
  web->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
    if (stopped) return;
    if (!ec && tls) std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(std::move(s), this)->Start();
    else if (!ec) std::make_shared<HttpSession<beast::tcp_stream>>(std::move(s), this)->Start();
    AcceptHttp();
  });
}

Result<std::unique_ptr<Server>> Server::Start(const ServeOptions& opts, live::Ingestor* ingestor,
                                              live::Metrics* metrics) {
  std::unique_ptr<Server> s(new Server());
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  im.opts = opts;
  im.ingestor = ingestor;
  im.metrics = metrics;
  im.max_message_bytes = LimitFromEnv(opts.max_message_bytes, "ARK_SERVE_MAX_MESSAGE_BYTES",
                                      kDefaultMaxMessageBytes);
  im.max_body_bytes =
      LimitFromEnv(opts.max_body_bytes, "ARK_SERVE_MAX_BODY_BYTES", kDefaultMaxBodyBytes);
  im.max_outstanding_bytes = std::max<size_t>(64u << 20, 2 * im.max_message_bytes);
  if (!opts.tls_cert.empty() || !opts.tls_key.empty()) {
    ARK_RETURN_IF_ERROR(CheckTlsFiles(opts.tls_cert, opts.tls_key));
    ARK_ASSIGN_OR_RETURN(im.tls, MakeTlsContext(opts.tls_cert, opts.tls_key));
  }
  im.auth = std::make_unique<Auth>(opts.ark_dir, opts.api_token, opts.sign_in);
  im.api = std::make_unique<Api>(opts.ark_dir, ingestor, im.auth.get(), opts.job_retention_days);
  im.api->SetOps(metrics, &im.feeds);
  ARK_ASSIGN_OR_RETURN(im.mllp, Listen(im.ioc, opts.mllp_host, opts.mllp_port, "MLLP"));
  ARK_ASSIGN_OR_RETURN(im.web, Listen(im.ioc, opts.http_host, opts.http_port, "HTTP"));
  if (!opts.webhooks.empty()) {
    im.webhooks = std::make_unique<WebhookSender>(opts.webhooks, metrics);
    WebhookSender* w = im.webhooks.get();
    im.webhook_sub =
        ingestor->Subscribe([w](const Alert&, const std::string& json) { w->Enqueue(json); });
  }
  im.AcceptMllp();
  im.AcceptHttp();
  for (int i = 0; i < std::max(1, opts.threads); ++i) {
    im.threads.emplace_back([p = s->impl_.get()] {
      for (;;) {  // a handler's exception must not end the thread (and the process)
        try {
          p->ioc.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "ark serve: handler failed, serving on: %s\n", e.what());
        } catch (...) {
          std::fprintf(stderr, "ark serve: handler failed, serving on\n");
        }
      }
    });
  }
  return s;
}

uint16_t Server::mllp_port() const { return impl_->mllp->local_endpoint().port(); }
uint16_t Server::http_port() const { return impl_->web->local_endpoint().port(); }

void Server::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  if (impl_->webhook_sub) impl_->ingestor->Unsubscribe(impl_->webhook_sub);
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ec;
  impl_->mllp->close(ec);
  impl_->web->close(ec);
  impl_->webhooks.reset();
}

Server::~Server() { Stop(); }

}  // namespace ark::server
