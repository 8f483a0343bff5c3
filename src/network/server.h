// `ark network serve`: a site answers the network's requests on its own TLS listener (separate
// from `ark serve`). Each connection gets its own thread (at most `max_connections` at once; more
// are closed at once), may carry several requests, and has deadlines on every read and write.
//
// A request is answered only when all of these hold, in this order (else a signed refusal saying
// which, and a "network.refused" entry on this site's ledger):
//   the frame is a request; it names this site's network; it comes from a member ("unknown site");
//   the certificate the peer presented in TLS is that member's ("wrong certificate"); the
//   signature verifies with that certificate; it is addressed to this site; it is not expired, not
//   issued in the future beyond the allowed skew, and lives at most kMaxRequestLifetime; its nonce
//   has not been used by that site before ("replayed").
// Then the operation runs (measure.h; "ping" answers {"site"}), one at a time per site (they share
// its ledger: LedgerMutex); a PermissionDenied from it is a
// refusal, any other error (and any exception) an "error" answer: one bad request never stops the
// server. Every exchange is on this site's ledger, with the SHA-256 of the request and of the
// answer, before the answer is sent ("network.answered" / "network.refused"); a TLS handshake that
// fails after the peer sent something (e.g. no client certificate) is "network.refused" too.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "ark/status.h"
#include "network/channel.h"
#include "network/site.h"

namespace ark::net {

struct ServeOptions {
  int max_connections = 32;
  int handshake_seconds = 10;
  int idle_seconds = 60;  // between requests on one connection
  const std::atomic<bool>* stop = nullptr;  // when set and true, Serve returns (checked every 200 ms)
};

// Listens on the site's address (SiteConfig::listen) and answers until stopped. `on_listening` is
// called once the socket is bound, with the address.
Status Serve(const Site& site, const ServeOptions& o, const std::function<void(const std::string&)>& on_listening);

// One request frame in, one signed answer frame out (the checks above, the operation, the ledger).
std::string HandleRequestFrame(const Site& site, const std::string& peer_fingerprint, X509* peer_cert,
                               const std::string& peer_address, const std::string& frame);

}  // namespace ark::net
