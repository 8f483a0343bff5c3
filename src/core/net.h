// Loopback networking for tools, tests and benchmarks that drive a local server (`ark demo`,
// the live tests and benchmark, the private PostgreSQL cluster). The server side is src/live.
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"

namespace ark {

// A TCP port on 127.0.0.1 that was free at the time of the call (bound, then released, so
// another process can take it first: callers that start a server retry on a bind failure).
Result<uint16_t> FreeLocalPort();

// A blocking socket connected to 127.0.0.1:`port`, or -1. The caller closes it.
int ConnectLocal(uint16_t port);

struct HttpReply {
  int status = 0;    // the status line's code, e.g. 200
  std::string body;  // everything after the header block
};

// GET `target` (e.g. "/metrics") from 127.0.0.1:`port` over HTTP/1.1 with "Connection: close",
// sending "Authorization: Bearer <token>" when `token` is not empty. Reads until the server
// closes. Errors: cannot connect, or the reply is not HTTP.
Result<HttpReply> HttpGetLocal(uint16_t port, const std::string& target, const std::string& token = "");

}  // namespace ark
