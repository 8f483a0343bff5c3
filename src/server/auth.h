// Who is asking, for `ark serve`'s HTTP side (docs/api.md, "Signing in").
//
// Three kinds of credential, all checked by governance (gov::Identify in governance/gate.h):
//  - "Authorization: Bearer user:token": a governance user's API token (programs). Checked results,
//    right or wrong, are cached for 60 s, so a revoked token stops working within a minute and a
//    client retrying a wrong one is refused on the ledger once a minute, not per request.
//  - "Authorization: Bearer <interim token>": ARK/live/api.token (the listener's own token; reads
//    the live API and writes data; never acts in governance).
//  - the session cookie `ark_session` set by POST /api/v1/session (browsers): sign in with a user
//    name and that user's API token; the session remembers the token (in memory only) and checks it
//    again with governance at most every 60 s, so replacing the token (`ark user token`) ends it.
//    Sessions end after 1 h idle or 12 h in all, at sign-out, or when the server stops.
//
// Sign-in is throttled: more than `max_failures_per_user` failed sign-ins for one user name, or
// `max_failures_per_address` from one client address, within 15 minutes are refused (429) until
// the oldest failure is 15 minutes old — even with the right token.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ark/status.h"

namespace ark::server {

struct Principal {
  enum class Kind { kAnonymous, kInterim, kUser };
  Kind kind = Kind::kAnonymous;
  std::string user;  // kUser
  std::vector<std::string> roles;
  std::string session;  // the session id when the credential was the cookie
  std::string csrf;     // that session's CSRF token
  bool Has(const std::string& role) const;
  bool anonymous() const { return kind == Kind::kAnonymous; }
  // The name put on the ledger: the user, "interim-token", or "-".
  std::string Name() const;
};

struct SignInLimits {
  int max_failures_per_user = 5;
  int max_failures_per_address = 20;
  std::chrono::seconds window{15 * 60};
};

struct SignInResult {
  int http = 201;           // 201, 401 (wrong), 429 (throttled)
  std::string error;        // for 401/429
  int retry_after_s = 0;    // 429
  std::string session, csrf;
  Principal who;
};

class Auth {
 public:
  Auth(std::string ark_dir, std::string interim_token, SignInLimits limits = {});

  // The principal of an Authorization header value ("" = none): anonymous when absent or wrong.
  Principal FromBearer(const std::string& header);
  // The principal of a Cookie header value: anonymous unless it names a live session whose token
  // is still the user's.
  Principal FromCookie(const std::string& cookie_header);

  SignInResult SignIn(const std::string& user, const std::string& token, const std::string& address);
  // Citizen receipt codes (POST /api/v1/citizen/*), throttled like sign-in per client address
  // (max_failures_per_address wrong codes in the window): seconds until `address` may try a code
  // again (0 = now); CodeFailed counts a wrong code.
  int CodeThrottled(const std::string& address);
  void CodeFailed(const std::string& address);
  void SignOut(const std::string& session);
  size_t sessions() const;

 private:
  struct Cached {
    std::chrono::steady_clock::time_point expires;
    std::optional<std::vector<std::string>> roles;  // nullopt: refused
  };
  struct Session {
    std::string user, token, csrf;
    std::chrono::steady_clock::time_point created, seen;
  };
  // Governance's verdict on user:token (cached 60 s); nullopt when refused.
  std::optional<std::vector<std::string>> Check(const std::string& user, const std::string& token);
  // Seconds until `key` may try again (0 = now), forgetting failures older than the window.
  int Throttled(const std::string& key, int limit, std::chrono::steady_clock::time_point now);
  void Failed(const std::string& key, std::chrono::steady_clock::time_point now);

  const std::string ark_dir_, interim_;
  const SignInLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<std::string, Session> sessions_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> failures_;
};

// Held around every call into governance that may append to the ledger: a Ledger object is not
// synchronised, and governance appends through the one this process has open (ledger.h).
std::mutex& LedgerMutex();

// A random hex string of `bytes` bytes (OpenSSL RAND_bytes).
std::string RandomHex(size_t bytes);

}  // namespace ark::server
