#include "network/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

#include "network/borrow.h"
#include "network/glm.h"
#include "network/measure.h"

namespace ark::net {
namespace {

// The checks of server.h, in order; OK when the request may be answered.
Status CheckRequest(const Site& site, const std::string& peer_fp, X509* peer_cert, const SignedText& st, const Request& r) {
  if (r.network != site.network.name) {
    return Status::PermissionDenied("this site serves network '" + site.network.name + "', not '" + r.network + "'");
  }
  const Member* from = site.network.Find(r.from);
  if (!from) return Status::PermissionDenied("unknown site '" + r.from + "': not a member of network '" + site.network.name + "'");
  if (from->fingerprint != peer_fp) {
    return Status::PermissionDenied("wrong certificate: the peer claims to be '" + r.from + "' but presented certificate " + peer_fp +
                                    ", not the one in the network file");
  }
  if (!VerifySignature(peer_cert, st.text, st.signature)) return Status::PermissionDenied("bad signature on a request from '" + r.from + "'");
  if (r.to != site.config.name) return Status::PermissionDenied("request addressed to '" + r.to + "', not this site");
  const int64_t now = UnixNow();
  if (r.expires_at <= now) return Status::PermissionDenied("expired request (expired at " + std::to_string(r.expires_at) + ", now " + std::to_string(now) + ")");
  if (r.issued_at > now + kClockSkew) return Status::PermissionDenied("request issued in the future (clock skew beyond " + std::to_string(kClockSkew) + " s)");
  if (r.expires_at - r.issued_at > kMaxRequestLifetime) {
    return Status::PermissionDenied("request lives longer than " + std::to_string(kMaxRequestLifetime) + " s");
  }
  Status n = RememberNonce(site.ark_dir, r.from, r.nonce, r.expires_at);
  if (n.code() == StatusCode::kFailedPrecondition) return Status::PermissionDenied(n.message());
  return n;
}

Result<Json> RunOp(const Site& site, const Request& r) {
  if (r.op == "ping") return Json{{"site", site.config.name}};
  if (r.op == "measure") return MeasureAtSite(site, r);
  if (r.op == "glm") return GlmAtSite(site, r);
  if (r.op == "estimate") return EstimateAtSite(site, r);
  if (r.op == "counts") return CountsAtSite(site, r);
  return Status::InvalidArgument("unknown operation '" + r.op + "' (this site answers ping, measure, glm, estimate, counts)");
}

}  // namespace

std::string HandleRequestFrame(const Site& site, const std::string& peer_fp, X509* peer_cert, const std::string& peer_address,
                               const std::string& frame) {
  Answer a;
  a.from = site.config.name;
  Json entry = {{"type", "network.answered"}, {"network", site.network.name}, {"peer_address", peer_address},
                {"peer_fingerprint", peer_fp}};
  Request r;
  auto set_error = [&](const Status& s) {
    a.status = s.code() == StatusCode::kPermissionDenied ? "refused" : "error";
    a.reason = s.message();
  };
  auto st = OpenFrame(frame, "request");
  if (!st.ok()) {
    set_error(Status::PermissionDenied(st.status().message()));
    a.request_sha256 = Sha256Hex(frame);
  } else {
    a.request_sha256 = st->sha256;
    auto pr = ParseRequest(st->text);
    if (!pr.ok()) {
      set_error(Status::PermissionDenied(pr.status().message()));
    } else {
      r = std::move(*pr);
      a.to = r.from;
      Status ok = CheckRequest(site, peer_fp, peer_cert, *st, r);
      if (!ok.ok()) {
        set_error(ok);
      } else {
        try {
          std::lock_guard<std::recursive_mutex> l(LedgerMutex());  // operations take turns (site.h)
          auto body = RunOp(site, r);
          if (body.ok()) {
            a.body = std::move(*body);
          } else {
            set_error(body.status());
          }
        } catch (const std::exception& e) {
          set_error(Status::Internal(std::string("internal error: ") + e.what()));
        } catch (...) {
          set_error(Status::Internal("internal error"));
        }
      }
    }
  }
  std::string text = AnswerText(a);
  entry["from"] = r.from;
  entry["op"] = r.op;
  entry["project"] = r.project;
  entry["user"] = r.user;
  entry["nonce"] = r.nonce;
  entry["request_sha256"] = a.request_sha256;
  entry["outcome"] = a.status;
  if (!a.reason.empty()) entry["reason"] = a.reason;
  if (a.status == "refused") entry["type"] = "network.refused";
  entry["answer_sha256"] = Sha256Hex(text);
  // The exchange is on the ledger before the answer leaves; if the ledger cannot take it, nothing
  // but an error leaves.
  Status logged = AppendNetworkEntry(site.ark_dir, entry);
  if (!logged.ok()) {
    a.status = "error";
    a.reason = "this site's ledger cannot record the exchange: " + logged.message();
    a.body = Json::object();
    text = AnswerText(a);
  }
  auto signed_frame = SignFrame(*site.key, "answer", text);
  return signed_frame.ok() ? *signed_frame : std::string();
}

namespace {

void ServeConnection(const Site& site, const ServeOptions& o, int fd, const std::string& peer) {
  try {
    auto ch = Channel::Accept(*site.key, fd, Clock::now() + std::chrono::seconds(o.handshake_seconds));
    if (!ch.ok()) {
      const std::string m = ch.status().message();
      // A peer that connects and sends nothing (a port probe) is not a refusal; a failed handshake is.
      if (m.find("stream truncated") == std::string::npos && m.find("End of file") == std::string::npos) {
        (void)AppendNetworkEntry(site.ark_dir, {{"type", "network.refused"}, {"network", site.network.name}, {"stage", "tls"},
                                                {"peer_address", peer}, {"outcome", "refused"}, {"reason", m}});
      }
      return;
    }
    for (;;) {
      (*ch)->set_deadline(Clock::now() + std::chrono::seconds(o.idle_seconds));
      auto frame = (*ch)->ReadFrame(kMaxFrameBytes);
      if (!frame.ok()) return;
      std::string answer = HandleRequestFrame(site, (*ch)->peer_fingerprint(), (*ch)->peer_cert(), peer, *frame);
      (*ch)->set_deadline(Clock::now() + std::chrono::seconds(o.idle_seconds));
      if (answer.empty() || !(*ch)->WriteFrame(answer).ok()) return;
    }
  } catch (...) {
    // A connection's failure ends that connection only.
  }
}

Result<int> Listen(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  ARK_RETURN_IF_ERROR(SplitAddress(address, &host, &port, "listen address"));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    return Status::InvalidArgument("cannot resolve listen address " + address);
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = fd >= 0 && ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd, 64) == 0;
  ::freeaddrinfo(res);
  if (!ok) {
    const std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return Status::IOError("cannot listen on " + address + ": " + err);
  }
  return fd;
}

std::string PeerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  return std::string(buf) + ":" + std::to_string(port);
}

}  // namespace

Status Serve(const Site& site, const ServeOptions& o, const std::function<void(const std::string&)>& on_listening) {
  ARK_ASSIGN_OR_RETURN(int lfd, Listen(site.config.listen));
  if (on_listening) on_listening(site.config.listen);
  auto active = std::make_shared<std::atomic<int>>(0);
  while (!(o.stop && o.stop->load())) {
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active->load() >= o.max_connections) {
      ::close(fd);
      continue;
    }
    ++*active;
    const std::string peer = PeerAddress(ss);
    std::thread([&site, o, fd, peer, active] {
      ServeConnection(site, o, fd, peer);
      --*active;
    }).detach();
  }
  ::close(lfd);
  // Let connections in flight finish (bounded by their deadlines) before the site goes away.
  for (int i = 0; i < 600 && active->load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return Status::OK();
}

}  // namespace ark::net
