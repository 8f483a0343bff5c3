// PgCluster: a private PostgreSQL 15 cluster (initdb + pg_ctl), see export.h.
// Settings are for tests and benchmarks on a private copy: fsync=off, synchronous_commit=off and
// full_page_writes=off (a crash of the machine may lose the cluster; it is rebuilt from the Ark).
//
// The watchdog: after the server starts, a child process in its own session blocks reading a
// pipe whose only write end this process holds (close-on-exec, so programs we start do not
// inherit it). When this process exits in any way, the read returns end-of-file and the child
// execs `pg_ctl stop -m immediate`. Stop() kills the watchdog first and stops the server itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/fs.h"
#include "core/net.h"
#include "sql/export.h"

namespace ark::sql {
namespace {

const char* kPgBin = "/usr/lib/postgresql/15/bin";

// Runs argv (as the postgres user when we are root), output appended to `log`. Returns the
// exit code, or -1 when the process could not be started.
int RunAs(bool as_postgres, const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full;
  if (as_postgres) full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Tail(const std::string& path) {
  auto s = ReadFile(path);
  if (!s.ok()) return "";
  std::string t = s->size() > 800 ? s->substr(s->size() - 800) : *s;
  return t;
}

}  // namespace

Result<std::unique_ptr<PgCluster>> PgCluster::Start(const std::string& data_dir_in) {
  const std::string data_dir = std::filesystem::absolute(data_dir_in).lexically_normal().string();
  const bool root = ::geteuid() == 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (root) {
    passwd* pw = ::getpwnam("postgres");
    if (!pw) return Status::FailedPrecondition("postgresql: running as root but there is no 'postgres' user (install postgresql-15)");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (!PathExists(std::string(kPgBin) + "/initdb")) {
    return Status::FailedPrecondition(std::string("postgresql: ") + kPgBin + "/initdb not found (install postgresql-15)");
  }
  ARK_RETURN_IF_ERROR(MakeDirs(data_dir));
  ::chmod(data_dir.c_str(), 0700);
  if (root && ::chown(data_dir.c_str(), uid, gid) != 0) {
    return Status::IOError("postgresql: chown " + data_dir + ": " + std::strerror(errno));
  }
  const std::string pgdata = data_dir + "/pgdata";
  const std::string log = data_dir + "/setup.log";
  if (!PathExists(pgdata + "/PG_VERSION")) {
    int rc = RunAs(root, {std::string(kPgBin) + "/initdb", "-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                          "--locale=C", "--no-sync", "--no-instructions"}, log);
    if (rc != 0) {
      return Status::IOError("postgresql: initdb in " + pgdata + " failed (exit " + std::to_string(rc) +
                             "; is every parent directory searchable by the postgres user?): " + Tail(log));
    }
  }
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->data_dir_ = data_dir;
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ARK_ASSIGN_OR_RETURN(int port, FreeLocalPort());
    const std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port) + " -k " + data_dir +
                             " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                             " -c max_connections=40 -c shared_buffers=128MB -c max_wal_size=4GB"
                             " -c wal_level=minimal -c max_wal_senders=0";
    int rc = RunAs(root, {std::string(kPgBin) + "/pg_ctl", "-D", pgdata, "-l", data_dir + "/server.log", "-w", "-t", "60",
                          "-o", opts, "start"}, log);
    if (rc == 0) {
      c->port_ = port;
      c->url_ = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
      c->running_ = true;
      c->StartWatchdog(root);
      return c;
    }
    last = Status::IOError("postgresql: pg_ctl start failed (exit " + std::to_string(rc) + "): " + Tail(data_dir + "/server.log"));
  }
  return last;
}

void PgCluster::StartWatchdog(bool as_postgres) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // no watchdog: Stop() still works
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  const std::string pg_ctl = std::string(kPgBin) + "/pg_ctl", pgdata = data_dir_ + "/pgdata";
  const char* runuser = PathExists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
  std::vector<const char*> argv;
  if (as_postgres) argv = {runuser, "-u", "postgres", "--"};
  for (const char* a : {pg_ctl.c_str(), "-D", pgdata.c_str(), "-m", "immediate", "stop"}) argv.push_back(a);
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  if (pid == 0) {
    ::setsid();  // out of the owner's process group: a kill of the group leaves the watchdog
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(fds[0], 0);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::close_range(3, ~0u, 0);  // hold none of the owner's files, sockets or pipes
    char byte;
    while (::read(0, &byte, 1) != 0) {
      if (errno != EINTR) break;
    }
    ::execv(argv[0], const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_ = pid;
  watchdog_pipe_ = fds[1];
}

void PgCluster::StopWatchdog() {
  if (watchdog_ > 0) {
    ::kill(watchdog_, SIGKILL);
    int st = 0;
    while (::waitpid(watchdog_, &st, 0) < 0 && errno == EINTR) {}
    watchdog_ = -1;
  }
  if (watchdog_pipe_ >= 0) {
    ::close(watchdog_pipe_);
    watchdog_pipe_ = -1;
  }
}

Status PgCluster::Stop() {
  StopWatchdog();
  if (!running_) return Status::OK();
  running_ = false;
  const bool root = ::geteuid() == 0;
  int rc = RunAs(root, {std::string(kPgBin) + "/pg_ctl", "-D", data_dir_ + "/pgdata", "-w", "-t", "60", "-m", "fast", "stop"},
                 data_dir_ + "/setup.log");
  if (rc != 0) return Status::IOError("postgresql: pg_ctl stop failed (exit " + std::to_string(rc) + ")");
  return Status::OK();
}

PgCluster::~PgCluster() { (void)Stop(); }

}  // namespace ark::sql
