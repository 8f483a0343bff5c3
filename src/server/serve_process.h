// `ark serve` as a child process on free 127.0.0.1 ports: what `ark demo`, the kill -9 crash test
// and the live benchmark start, stop and kill.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::server {

struct ServeProcess {
  pid_t pid = -1;
  uint16_t mllp = 0, http = 0;
};

// Starts `binary serve ARK --mllp 127.0.0.1:M --http 127.0.0.1:H ARGS...` on free ports, with its
// standard output and error appended to `log`, and waits up to `wait_ms` for GET /healthz to
// answer 200 (a start replays the records logged since the live snapshot).
// Errors: no free port or no fork; no answer in time (the child is then killed and reaped).
Result<ServeProcess> StartServe(const std::string& binary, const std::string& ark, const std::string& log,
                                const std::vector<std::string>& args = {}, int wait_ms = 5000);

// Sends `sig` (SIGTERM: a clean stop; SIGKILL: a crash) and reaps the process.
void StopServe(const ServeProcess& p, int sig = SIGTERM);

}  // namespace ark::server
