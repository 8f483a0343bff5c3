#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ark {

Result<uint16_t> FreeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::IOError(std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(e));
  }
  ::close(fd);
  return static_cast<uint16_t>(ntohs(a.sin_port));
}

int ConnectLocal(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

Result<HttpReply> HttpGetLocal(uint16_t port, const std::string& target, const std::string& token) {
  const std::string where = "http://127.0.0.1:" + std::to_string(port) + target;
  int fd = ConnectLocal(port);
  if (fd < 0) return Status::IOError(where + ": cannot connect");
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  for (size_t off = 0; off < req.size();) {
    const ssize_t k = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      ::close(fd);
      return Status::IOError(where + ": send failed");
    }
    off += static_cast<size_t>(k);
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    const ssize_t k = ::read(fd, buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    resp.append(buf, static_cast<size_t>(k));
  }
  ::close(fd);
  const size_t end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || end == std::string::npos) {
    return Status::IOError(where + ": not an HTTP reply");
  }
  HttpReply r;
  const size_t sp = resp.find(' ');
  r.status = sp < end ? std::atoi(resp.c_str() + sp + 1) : 0;
  r.body = resp.substr(end + 4);
  return r;
}

}  // namespace ark
