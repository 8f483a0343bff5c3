#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ark::server {

namespace asio = boost::asio;

namespace {

// The first queued OpenSSL error's reason ("no start line", "key values mismatch": the cause, not
// the wrapper "PEM lib"), or `fallback`; clears the queue.
std::string OpenSslReason(const std::string& fallback) {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return fallback;
  const char* r = ERR_reason_error_string(first);
  return r ? r : fallback;
}

Status Readable(const char* flag, const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return Status::InvalidArgument(std::string(flag) + " " + file + ": cannot read: " + std::strerror(errno));
  std::fclose(f);
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  ARK_RETURN_IF_ERROR(Readable("--tls-cert", cert_file));
  ARK_RETURN_IF_ERROR(Readable("--tls-key", key_file));
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An encrypted key is refused, never prompted for on the terminal.
  SSL_CTX_set_default_passwd_cb(native, [](char*, int, int, void*) { return 0; });
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    return Status::InvalidArgument("--tls-cert " + cert_file + ": not a PEM certificate (" +
                                   OpenSslReason("unreadable") + ")");
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string why = OpenSslReason("unreadable");
    if (why.find("mismatch") != std::string::npos)
      return Status::InvalidArgument("--tls-key " + key_file + ": does not match the certificate in " + cert_file);
    return Status::InvalidArgument("--tls-key " + key_file + ": not an unencrypted PEM private key (" + why + ")");
  }
  if (SSL_CTX_check_private_key(native) != 1)
    return Status::InvalidArgument("--tls-key " + key_file + ": does not match the certificate in " + cert_file + " (" +
                                   OpenSslReason("key values mismatch") + ")");
  return ctx;
}

Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty())
    return Status::InvalidArgument(cert_file.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
  if (cert_file.empty()) return Status::OK();
  return MakeTlsContext(cert_file, key_file).status();
}

}  // namespace ark::server
