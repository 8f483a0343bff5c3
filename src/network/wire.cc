#include "network/wire.h"

#include <openssl/rand.h>

#include <chrono>

#include "governance/merkle.h"

namespace ark::net {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string NewNonce() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::string Sha256Hex(std::string_view s) { return merkle::HexOf(merkle::Sha256(s)); }

std::string RequestText(const Request& r) {
  Json j = {{"ark_network", 1}, {"network", r.network}, {"from", r.from}, {"to", r.to}, {"op", r.op},
            {"project", r.project}, {"user", r.user}, {"nonce", r.nonce}, {"issued_at", r.issued_at},
            {"expires_at", r.expires_at}, {"body", r.body}};
  return j.dump();
}

std::string AnswerText(const Answer& a) {
  Json j = {{"ark_network", 1}, {"from", a.from}, {"to", a.to}, {"request_sha256", a.request_sha256}, {"status", a.status}};
  if (!a.reason.empty()) j["reason"] = a.reason;
  j["body"] = a.body;
  return j.dump();
}

Result<std::string> SignFrame(const SiteKey& key, const std::string& kind, const std::string& text) {
  ARK_ASSIGN_OR_RETURN(std::string sig, key.Sign(text));
  Json f = {{kind, text}, {"signature", sig}};
  return f.dump();
}

Result<SignedText> OpenFrame(const std::string& frame, const std::string& kind) {
  auto j = Json::parse(frame, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains(kind) || !j[kind].is_string() || !j.contains("signature") ||
      !j["signature"].is_string()) {
    return Status::InvalidArgument("malformed " + kind + " frame (expected {\"" + kind + "\": text, \"signature\": hex})");
  }
  SignedText s;
  s.text = j[kind].get<std::string>();
  s.signature = j["signature"].get<std::string>();
  s.sha256 = Sha256Hex(s.text);
  return s;
}

namespace {

Result<std::string> Str(const Json& j, const char* f, const std::string& what) {
  if (!j.contains(f) || !j[f].is_string()) return Status::InvalidArgument(what + ": field '" + f + "' is missing or not text");
  return j[f].get<std::string>();
}

Result<int64_t> Int(const Json& j, const char* f, const std::string& what) {
  if (!j.contains(f) || !j[f].is_number_integer()) return Status::InvalidArgument(what + ": field '" + f + "' is missing or not a whole number");
  return j[f].get<int64_t>();
}

}  // namespace

Result<Request> ParseRequest(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("request: not a JSON object");
  if (j.value("ark_network", 0) != 1) return Status::InvalidArgument("request: unknown protocol version");
  Request r;
  ARK_ASSIGN_OR_RETURN(r.network, Str(j, "network", "request"));
  ARK_ASSIGN_OR_RETURN(r.from, Str(j, "from", "request"));
  ARK_ASSIGN_OR_RETURN(r.to, Str(j, "to", "request"));
  ARK_ASSIGN_OR_RETURN(r.op, Str(j, "op", "request"));
  ARK_ASSIGN_OR_RETURN(r.project, Str(j, "project", "request"));
  ARK_ASSIGN_OR_RETURN(r.user, Str(j, "user", "request"));
  ARK_ASSIGN_OR_RETURN(r.nonce, Str(j, "nonce", "request"));
  ARK_ASSIGN_OR_RETURN(r.issued_at, Int(j, "issued_at", "request"));
  ARK_ASSIGN_OR_RETURN(r.expires_at, Int(j, "expires_at", "request"));
  if (j.contains("body") && j["body"].is_object()) r.body = j["body"];
  if (r.nonce.size() < 16 || r.nonce.size() > 128) return Status::InvalidArgument("request: nonce must be 16 to 128 characters");
  return r;
}

Result<Answer> ParseAnswer(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("answer: not a JSON object");
  Answer a;
  ARK_ASSIGN_OR_RETURN(a.from, Str(j, "from", "answer"));
  ARK_ASSIGN_OR_RETURN(a.to, Str(j, "to", "answer"));
  ARK_ASSIGN_OR_RETURN(a.request_sha256, Str(j, "request_sha256", "answer"));
  ARK_ASSIGN_OR_RETURN(a.status, Str(j, "status", "answer"));
  if (j.contains("reason") && j["reason"].is_string()) a.reason = j["reason"].get<std::string>();
  if (j.contains("body") && j["body"].is_object()) a.body = j["body"];
  return a;
}

}  // namespace ark::net
