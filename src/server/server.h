// `ark serve`'s network side: an MLLP listener (HL7 v2 in, ACKs out) and an HTTP API, on one
// Boost.Asio io_context run by a small thread pool, in front of an Ingestor (ingestor.h).
//
// MLLP: any number of concurrent connections; frames split across reads or several per read
// (mllp.h); each message is parsed (hl7::Message), mapped (live::FromHl7) and submitted; its ACK
// is written when the ingestor has made it durable (AA), or AE/AR with an ERR segment naming the
// position for a message that cannot be parsed or mapped (AR for an unsupported message type).
// ACKs go back in the order the messages arrived on the connection, each in one write.
//
// HTTP (Boost.Beast), or HTTPS with ServeOptions::tls_cert/tls_key: the API under /api/v1 and GET /healthz (api.h; docs/api.md, described by
// docs/api/openapi.json), with the old live paths /api/live/... as aliases of /api/v1/live/...;
// GET /metrics (Prometheus) and POST /fhir (FHIR R4 transaction Bundle or NDJSON), which need
// "Authorization: Bearer <token>" (the interim API token, ARK/live/api.token, or a governance
// user's "user:token"); 401 otherwise. Writing data (POST /fhir) needs the interim token or a
// user with the `feed` role: 403 for any other user. Who asks, the route and the body's announced
// size are decided from the request head, before any of the body is read (auth.h).
//
// This is the layer above governance: the only one that catches exceptions and maps a Status to
// an HTTP status or an ACK.
//
// Robustness: no input stops the server. Every exception escaping the handling of one message
// or request becomes an AE for that message (or a 500 for that request) and is logged to stderr;
// the io threads catch anything else and go on serving. Limits: ServeOptions::max_*.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ark/status.h"
#include "live/ingestor.h"
#include "live/metrics.h"
#include "server/auth.h"

namespace ark::server {

struct ServeOptions {
  std::string ark_dir;
  std::string mllp_host = "127.0.0.1";
  uint16_t mllp_port = 2575;  // 0 = any free port (see Server::mllp_port)
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8080;
  int threads = 2;
  std::string api_token;  // the interim bearer token; "" = governance tokens only
  std::vector<std::string> webhooks;
  // Limits against a peer that sends too much (0 = the environment variable, else the default).
  // An HL7 message longer than max_message_bytes gets an AR naming the limit (its bytes are not
  // kept: the MLLP connection skips to the next frame). An HTTP request body longer than
  // max_body_bytes gets 413 before it is read (Content-Length) or as soon as it passes the limit
  // (chunked); a request without a valid token gets 401 before its body is read.
  size_t max_message_bytes = 0;  // ARK_SERVE_MAX_MESSAGE_BYTES, default kDefaultMaxMessageBytes
  size_t max_body_bytes = 0;     // ARK_SERVE_MAX_BODY_BYTES, default kDefaultMaxBodyBytes
  SignInLimits sign_in;          // throttling of POST /api/v1/session (auth.h)
  // HTTPS (tls.h): both set = the HTTP port speaks TLS only (HSTS on every response, session
  // cookies Secure). A peer that has not finished its handshake within the timeout is dropped.
  std::string tls_cert, tls_key;  // PEM files
  int tls_handshake_timeout_ms = 10000;
  int job_retention_days = 7;  // a finished job's work directory ARK/jobs/<id>/ is deleted after this
};

// Checks --tls-cert/--tls-key before anything is served: both or neither; the files readable
// PEM, the key the certificate's. Errors: InvalidArgument naming the file.
Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file);

constexpr size_t kDefaultMaxMessageBytes = 8u << 20;  // 8 MiB
constexpr size_t kDefaultMaxBodyBytes = 32u << 20;    // 32 MiB

class Server {
 public:
  // Binds both listeners and starts the threads. Errors: IOError naming the address.
  static Result<std::unique_ptr<Server>> Start(const ServeOptions& opts, live::Ingestor* ingestor,
                                               live::Metrics* metrics);
  // Shutdown order: Stop(), then destroy the Ingestor, then the Server (pending ACK handlers the
  // ingestor posts after Stop() are dropped with the Server). Metrics must outlive both.
  ~Server();  // Stop()
  uint16_t mllp_port() const;
  uint16_t http_port() const;
  void Stop();

  struct Impl;

 private:
  Server() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ark::server
