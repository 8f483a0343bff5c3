#include "network/channel.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <optional>

namespace ark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Channel::Impl {
  asio::io_context io;
  asio::ssl::context ctx;
  std::optional<asio::ssl::stream<tcp::socket>> s;
  Clock::time_point deadline;
  bool timed_out = false;
  std::string peer_fp;
  X509* peer = nullptr;

  Impl(asio::ssl::context::method m, const SiteKey& me, Clock::time_point d) : ctx(m), deadline(d) {
    SSL_CTX* c = ctx.native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_use_certificate(c, me.cert());
    SSL_CTX_use_PrivateKey(c, me.pkey());
    // Both sides must present a certificate; which certificates belong to the network is decided
    // by fingerprint after the handshake (pinning), so no chain is built here.
    ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    ctx.set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
    s.emplace(io, ctx);
  }
  ~Impl() {
    boost::system::error_code ig;
    if (s) s->lowest_layer().close(ig);
    X509_free(peer);
  }

  // Runs one asynchronous operation until it completes or the deadline passes.
  template <class Start>
  Status Run(Start start, const std::string& what, boost::system::error_code* out_ec = nullptr) {
    bool done = false;
    boost::system::error_code ec;
    start([&](const boost::system::error_code& e, auto&&...) {
      done = true;
      ec = e;
    });
    io.restart();
    io.run_until(deadline);
    if (!done) {
      timed_out = true;
      boost::system::error_code ig;
      s->lowest_layer().close(ig);
      io.restart();
      io.run();
      return Status::IOError(what + ": no answer within the deadline");
    }
    if (out_ec) *out_ec = ec;
    if (ec) return Status::IOError(what + ": " + ec.message());
    return Status::OK();
  }

  Status AfterHandshake() {
    peer = SSL_get1_peer_certificate(s->native_handle());
    if (!peer) return Status::PermissionDenied("the peer presented no certificate");
    peer_fp = Fingerprint(peer);
    return Status::OK();
  }
};

namespace {
std::atomic<uint64_t> g_client_handshakes{0};
}  // namespace

uint64_t Channel::client_handshakes() { return g_client_handshakes.load(); }

Channel::Channel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Channel::~Channel() = default;

Result<std::unique_ptr<Channel>> Channel::Connect(const SiteKey& me, const std::string& address, Clock::time_point deadline,
                                                  bool* timed_out) {
  std::string host;
  uint16_t port = 0;
  ARK_RETURN_IF_ERROR(SplitAddress(address, &host, &port, "address"));
  auto impl = std::make_unique<Impl>(asio::ssl::context::tls_client, me, deadline);
  Impl& m = *impl;
  auto fail = [&](const Status& s) -> Status {
    if (timed_out) *timed_out = m.timed_out;
    return s;
  };
  tcp::resolver resolver(m.io);
  tcp::resolver::results_type endpoints;
  Status st = m.Run([&](auto h) {
    resolver.async_resolve(host, std::to_string(port), [&, h](const boost::system::error_code& e, tcp::resolver::results_type r) mutable {
      endpoints = r;
      h(e);
    });
  }, "resolving " + address);
  if (!st.ok()) return fail(st);
  st = m.Run([&](auto h) { asio::async_connect(m.s->lowest_layer(), endpoints, h); }, "connecting to " + address);
  if (!st.ok()) return fail(st);
  st = m.Run([&](auto h) { m.s->async_handshake(asio::ssl::stream_base::client, h); }, "TLS handshake with " + address);
  if (!st.ok()) return fail(st);
  st = m.AfterHandshake();
  if (!st.ok()) return fail(st);
  ++g_client_handshakes;
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

Result<std::unique_ptr<Channel>> Channel::Accept(const SiteKey& me, int fd, Clock::time_point deadline) {
  auto impl = std::make_unique<Impl>(asio::ssl::context::tls_server, me, deadline);
  Impl& m = *impl;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  boost::system::error_code ec;
  m.s->lowest_layer().assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) return Status::IOError("accepting a connection: " + ec.message());
  ARK_RETURN_IF_ERROR(m.Run([&](auto h) { m.s->async_handshake(asio::ssl::stream_base::server, h); }, "TLS handshake"));
  ARK_RETURN_IF_ERROR(m.AfterHandshake());
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

void Channel::set_deadline(Clock::time_point d) { impl_->deadline = d; }
bool Channel::timed_out() const { return impl_->timed_out; }
const std::string& Channel::peer_fingerprint() const { return impl_->peer_fp; }
X509* Channel::peer_cert() const { return impl_->peer; }

Status Channel::WriteFrame(const std::string& payload) {
  const uint32_t n = static_cast<uint32_t>(payload.size());
  const unsigned char hdr[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  std::array<asio::const_buffer, 2> bufs = {asio::buffer(hdr, 4), asio::buffer(payload)};
  return impl_->Run([&](auto h) { asio::async_write(*impl_->s, bufs, h); }, "sending");
}

Result<std::string> Channel::ReadFrame(size_t max_bytes) {
  unsigned char hdr[4];
  boost::system::error_code ec;
  Status st = impl_->Run([&](auto h) { asio::async_read(*impl_->s, asio::buffer(hdr, 4), h); }, "receiving", &ec);
  if (!st.ok()) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return Status::NotFound("the peer closed the connection");
    return st;
  }
  const size_t n = (size_t{hdr[0]} << 24) | (size_t{hdr[1]} << 16) | (size_t{hdr[2]} << 8) | size_t{hdr[3]};
  if (n > max_bytes) return Status::InvalidArgument("a frame of " + std::to_string(n) + " bytes is over the limit of " + std::to_string(max_bytes));
  std::string payload(n, '\0');
  ARK_RETURN_IF_ERROR(impl_->Run([&](auto h) { asio::async_read(*impl_->s, asio::buffer(payload), h); }, "receiving"));
  return payload;
}

}  // namespace ark::net
