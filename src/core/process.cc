#include "core/process.h"

#include <sys/wait.h>

#include <cstdio>

namespace ark {

CommandOutput RunCommand(const std::string& command) {
  CommandOutput r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace ark
