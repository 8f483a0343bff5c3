#include "server/serve_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>

#include "core/net.h"

namespace ark::server {

Result<ServeProcess> StartServe(const std::string& binary, const std::string& ark, const std::string& log,
                                const std::vector<std::string>& args, int wait_ms) {
  ServeProcess p;
  ARK_ASSIGN_OR_RETURN(p.mllp, FreeLocalPort());
  ARK_ASSIGN_OR_RETURN(p.http, FreeLocalPort());
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> full = {binary, "serve", ark, "--mllp", "127.0.0.1:" + std::to_string(p.mllp),
                                   "--http", "127.0.0.1:" + std::to_string(p.http)};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  p.pid = ::fork();
  if (p.pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (p.pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    auto r = HttpGetLocal(p.http, "/healthz");
    if (r.ok() && r->status == 200) return p;
    int st = 0;
    if (::waitpid(p.pid, &st, WNOHANG) == p.pid) {
      return Status::IOError("ark serve exited before it answered /healthz (see " + log + ")");
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  StopServe(p, SIGKILL);
  return Status::IOError("ark serve did not answer /healthz within " + std::to_string(wait_ms) + " ms (see " + log + ")");
}

void StopServe(const ServeProcess& p, int sig) {
  if (p.pid <= 0) return;
  ::kill(p.pid, sig);
  int st = 0;
  while (::waitpid(p.pid, &st, 0) < 0 && errno == EINTR) {}
}

}  // namespace ark::server
