// The requesting side: one signed request to one site over mutual TLS, with a deadline, and the
// same to every member at once (Broadcast, one thread per site). Each exchange is put on the
// requester's ledger ("network.requested": to, op, project, user, nonce, request_sha256,
// answer_sha256, outcome ok | refused | error | no_answer, reason), whatever its outcome.
//
// The answering site is checked as the server checks the requester: the certificate it presents
// must have the fingerprint the network file gives for it (else the exchange is refused here, the
// request never sent), and the answer must be signed by it, name it, and carry the request's hash.
//
// Connections are kept alive: after an answer, the mutually authenticated TLS connection goes back
// to a process-wide pool (at most kKeepAlivePerSite idle per site, closed after kKeepAliveIdle
// idle, below the server's idle timeout) and the next request to that site reuses it, so a fit
// makes one TLS handshake per site. Every request is still signed and carries its own nonce and
// expiry. A kept-alive connection that fails before an answer is never retried with the same
// request: that attempt is ledgered as no_answer and a new request goes on a new connection.
// Broadcast puts the entries of all its exchanges on the ledger as one batch (one durable append)
// before it returns; an exchange whose entry could not be written is not used (outcome error).
//
// Thread safety: Exchange may run on several threads for one Site.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ark/status.h"
#include "network/site.h"

namespace ark::net {

constexpr auto kKeepAliveIdle = std::chrono::seconds(20);
constexpr size_t kKeepAlivePerSite = 4;

// Closes the kept-alive connections (tests; a process may also call it when a session ends).
void DropKeptAliveConnections();

struct Exchange {
  std::string site;
  enum class Outcome { kOk, kRefused, kError, kNoAnswer } outcome = Outcome::kError;
  std::string reason;  // refused / error / no_answer: for a person
  Json body = Json::object();
  std::string request_sha256, answer_sha256;
  double seconds = 0;
  uint64_t bytes = 0;  // frames sent and received
  bool ok() const { return outcome == Outcome::kOk; }
};
const char* OutcomeName(Exchange::Outcome o);

// Sends `op` with `body` to `to`, as USER of `site`, in `project`; waits at most `deadline`.
Exchange SendRequest(const Site& site, const Member& to, const std::string& op, const std::string& project,
                     const std::string& user, const Json& body, std::chrono::milliseconds deadline);

// The same request to every member of the network, in parallel; results in member order.
std::vector<Exchange> Broadcast(const Site& site, const std::string& op, const std::string& project, const std::string& user,
                                const Json& body, std::chrono::milliseconds deadline);

// Sends an already signed frame (tests: replays, forged or expired requests) to `address`
// presenting `key`; returns the answer frame's inner text (not verified).
Result<std::string> SendRawFrame(const SiteKey& key, const std::string& address, const std::string& frame,
                                 std::chrono::milliseconds deadline);

// A one-line summary of the failed exchanges ("site-c: no answer within 5 s; site-d refused: ...").
std::string DescribeFailures(const std::vector<Exchange>& xs);

}  // namespace ark::net
