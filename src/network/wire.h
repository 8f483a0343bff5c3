// The wire format between sites (docs/network.md, "Wire format"). Every frame is one JSON object:
//
//   request frame: {"request": "<request JSON text>", "signature": "<hex>"}
//   answer frame:  {"answer":  "<answer JSON text>",  "signature": "<hex>"}
//
// The signature is the sending site's signature (identity.h: Ed25519 or ECDSA P-256/SHA-256) over
// the exact bytes of the inner text, verified with the public key of the certificate the sender
// presented in the TLS handshake. The hashes put on both ledgers are SHA-256 of those inner texts.
//
//   request: {"ark_network": 1, "network", "from", "to", "op", "project", "user", "nonce" (32 hex),
//             "issued_at", "expires_at" (Unix seconds), "body": {...}}
//   answer:  {"ark_network": 1, "from", "to", "request_sha256", "status": "ok"|"refused"|"error",
//             "reason" (refused/error), "body": {...}}
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"
#include "governance/ledger.h"
#include "network/identity.h"

namespace ark::net {

using Json = gov::Json;

inline constexpr size_t kMaxFrameBytes = 64u << 20;
inline constexpr int64_t kMaxRequestLifetime = 300;  // seconds: a longer expiry is refused
inline constexpr int64_t kClockSkew = 30;            // seconds a request may be issued in the future

struct Request {
  std::string network, from, to, op, project, user, nonce;
  int64_t issued_at = 0, expires_at = 0;
  Json body = Json::object();
};

struct Answer {
  std::string from, to, request_sha256;
  std::string status = "ok";  // ok | refused | error
  std::string reason;
  Json body = Json::object();
};

// A signed frame as received: the inner text, its signature, and the text's SHA-256.
struct SignedText {
  std::string text, signature, sha256;
};

int64_t UnixNow();
std::string NewNonce();  // 16 random bytes, hex
std::string Sha256Hex(std::string_view s);

std::string RequestText(const Request& r);
std::string AnswerText(const Answer& a);
// A frame: {"<kind>": text, "signature": sig}; kind is "request" or "answer".
Result<std::string> SignFrame(const SiteKey& key, const std::string& kind, const std::string& text);
// Splits a frame; InvalidArgument when it is not one of `kind`.
Result<SignedText> OpenFrame(const std::string& frame, const std::string& kind);
Result<Request> ParseRequest(const std::string& text);
Result<Answer> ParseAnswer(const std::string& text);

}  // namespace ark::net
