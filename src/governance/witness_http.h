// The C2SP tlog-witness HTTP interface: a witness server (POST /add-checkpoint) and the client an
// Ark uses to ask a witness for a cosignature. Plain HTTP/1.1 (Boost.Beast); put TLS in front
// (a reverse proxy) where the witness is reached over an untrusted network.
//
// Thread safety: the server handles one connection at a time on the calling thread; Witness::Add
// also serialises on the state directory's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "ark/status.h"
#include "governance/witness.h"

namespace ark::gov {

struct WitnessHttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Answers one request: POST <prefix>/add-checkpoint → 200 with the cosignature line, or the
// protocol's error status (409 with "<size>\n" as text/x.tlog.size); anything else 404/405.
WitnessHttpReply HandleWitnessRequest(Witness& w, const std::string& method, const std::string& target, const std::string& body,
                                      uint64_t now);

// Serves on host:port (port 0 = any free port; `on_listen` gets the port) until *stop is set
// (checked between connections, at least every 200 ms).
Status ServeWitness(Witness& w, const std::string& host, uint16_t port, const std::atomic<bool>* stop,
                    const std::function<void(uint16_t)>& on_listen);

// POSTs an add-checkpoint body to `url` (http://host:port[/prefix]; "/add-checkpoint" is
// appended). IOError when the witness cannot be reached; otherwise the reply, whatever its status.
Result<WitnessHttpReply> PostAddCheckpoint(const std::string& url, const std::string& body, int timeout_ms = 10000);

}  // namespace ark::gov
