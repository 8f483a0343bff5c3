#include "core/net.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ark {
namespace {

// A one-shot server on a free port: reads the request, answers `reply`, closes.
class OneShot {
 public:
  explicit OneShot(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t k = ::read(c, buf, sizeof buf);
        if (k <= 0) break;
        req.append(buf, static_cast<size_t>(k));
      }
      request_ = req;
      (void)!::write(c, reply_.data(), reply_.size());
      ::close(c);
    });
  }
  ~OneShot() {
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  const std::string& request() const { return request_; }

 private:
  std::string reply_, request_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Net, HttpGetLocalReadsStatusAndBodyAndSendsTheToken) {
  std::string request;
  {
    OneShot s("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way");
    auto r = HttpGetLocal(s.port(), "/api/x", "tok123");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->body, "no way");
  }
  {
    OneShot s("HTTP/1.1 200 OK\r\n\r\n{}");
    auto r = HttpGetLocal(s.port(), "/metrics", "secret");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{}");
    request = s.request();
  }
  EXPECT_EQ(request.rfind("GET /metrics HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Authorization: Bearer secret\r\n"), std::string::npos) << request;
}

TEST(Net, ErrorsNameTheAddress) {
  {
    OneShot s("SSH-2.0-not-http\r\n");
    auto r = HttpGetLocal(s.port(), "/healthz");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("not an HTTP reply"), std::string::npos);
  }
  auto port = FreeLocalPort();
  ASSERT_TRUE(port.ok());
  EXPECT_GT(*port, 0);
  auto r = HttpGetLocal(*port, "/healthz");  // nobody listens there
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("http://127.0.0.1:" + std::to_string(*port) + "/healthz: cannot connect"),
            std::string::npos)
      << r.status().message();
  EXPECT_LT(ConnectLocal(*port), 0);
}

}  // namespace
}  // namespace ark
