// HTTPS for `ark serve --tls-cert CERT.pem --tls-key KEY.pem` (docs/server.md).
//
// The server's TLS context: TLS 1.2 or later, OpenSSL's default cipher list (no SSLv2/3, TLS
// 1.0/1.1, no compression, no renegotiation), the certificate chain and private key from PEM files.
// Internal to the server layer (server.cc): the Asio type is not exposed above it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "ark/status.h"

namespace ark::server {

// Loads `cert_file` (PEM certificate chain, the server's first) and `key_file` (PEM private key,
// unencrypted). Errors (InvalidArgument, naming the file): a file that is missing or unreadable,
// not PEM, or a key that does not match the certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                  const std::string& key_file);

// The Strict-Transport-Security value sent on every HTTPS response (one year).
inline constexpr const char* kHstsValue = "max-age=31536000";

}  // namespace ark::server
