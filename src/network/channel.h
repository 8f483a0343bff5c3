// One mutually authenticated TLS 1.3 connection between two sites, carrying length-prefixed frames
// (4-byte big-endian length, then that many bytes), with a deadline on every operation: when the
// deadline passes, the operation is cancelled and the call returns an error saying so, so that
// nothing waits forever on a site that is down or slow.
//
// Both sides present their site certificate. The TLS layer checks only that each peer holds the
// key of the certificate it presents (TLS 1.3 CertificateVerify); whether that certificate belongs
// to the network is decided by the caller from PeerFingerprint() (pinning by fingerprint, from the
// accepted network file), never by a certificate authority.
//
// Thread safety: one Channel per thread (each has its own I/O context).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ark/status.h"
#include "network/identity.h"

namespace ark::net {

using Clock = std::chrono::steady_clock;

class Channel {
 public:
  ~Channel();
  // Connects to HOST:PORT and completes the TLS handshake as a client presenting `me`.
  // Errors (IOError) say what failed; `*timed_out` is set when the deadline passed.
  static Result<std::unique_ptr<Channel>> Connect(const SiteKey& me, const std::string& address, Clock::time_point deadline,
                                                  bool* timed_out = nullptr);
  // Takes over an accepted socket and completes the TLS handshake as a server presenting `me`.
  static Result<std::unique_ptr<Channel>> Accept(const SiteKey& me, int fd, Clock::time_point deadline);

  void set_deadline(Clock::time_point d);
  Status WriteFrame(const std::string& payload);
  // NotFound when the peer closed the connection cleanly before a frame; InvalidArgument when the
  // frame is longer than `max_bytes`.
  Result<std::string> ReadFrame(size_t max_bytes);
  bool timed_out() const;
  // TLS handshakes this process completed as a client (Connect), for tests and figures.
  static uint64_t client_handshakes();
  // SHA-256 of the certificate the peer presented.
  const std::string& peer_fingerprint() const;
  // The peer's certificate (owned by the channel), for checking signatures.
  X509* peer_cert() const;

 private:
  struct Impl;
  explicit Channel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ark::net
