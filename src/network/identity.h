// A site's identity in the network of Arks (docs/network.md): its key pair (Ed25519 by default,
// or NIST P-256) and a self-signed X.509 certificate naming the site (CN) and where it listens
// (subjectAltName URI ark://HOST:PORT/NAME). Peers are trusted by the SHA-256 fingerprint of the
// certificate's DER bytes, listed in the network file each site accepts (network_file.h), never by
// a certificate authority.
//
//   ARK/network/            mode 0700
//   ARK/network/site.key    the private key (PEM, mode 0600; never leaves the Ark)
//   ARK/network/site.crt    the certificate (PEM, mode 0600; what the site sends the network's organiser)
//   ARK/network/site.json   {"name", "listen", "rules", "key_type"} (mode 0600)
//
// The same key signs every request and answer (Sign/Verify), on top of mutually authenticated TLS.
// Thread safety: a SiteKey is immutable after Load; Sign and Verify may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "ark/status.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace ark::net {

struct SiteConfig {
  std::string name;            // the site's name in the network ("site-a"): letters, digits, '-', '_', '.'
  std::string listen;          // HOST:PORT the site serves on (default host 127.0.0.1)
  std::string rules = "opensafely";  // the site's disclosure rule set (sdc: opensafely | acro)
  std::string key_type = "ed25519";  // ed25519 | p256
};

// What `ark network init` makes: refuses an Ark that already has a site key (FailedPrecondition)
// and a bad name or address (InvalidArgument). Appends "network.site_created" to the Ark's ledger.
struct InitResult {
  std::string fingerprint;  // SHA-256 of the certificate (64 lower-case hex)
  std::string cert_path;
};
Result<InitResult> InitSite(const std::string& ark_dir, const SiteConfig& c);

// A loaded key and certificate (own site, or a test's impostor).
class SiteKey {
 public:
  ~SiteKey();
  SiteKey(const SiteKey&) = delete;
  SiteKey& operator=(const SiteKey&) = delete;
  // From PEM files; errors name the file.
  static Result<std::unique_ptr<SiteKey>> Load(const std::string& key_pem_path, const std::string& cert_pem_path);
  // A fresh key and certificate in memory (tests; `ark network init` uses InitSite).
  static Result<std::unique_ptr<SiteKey>> Generate(const std::string& name, const std::string& listen, const std::string& key_type);

  // The signature of `data` (hex): Ed25519, or ECDSA P-256 over SHA-256.
  Result<std::string> Sign(std::string_view data) const;
  const std::string& fingerprint() const { return fingerprint_; }
  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }
  EVP_PKEY* pkey() const { return pkey_; }
  X509* cert() const { return cert_; }

 private:
  SiteKey() = default;
  static Result<std::unique_ptr<SiteKey>> FromPem(std::string key_pem, std::string cert_pem, const std::string& where);
  EVP_PKEY* pkey_ = nullptr;
  X509* cert_ = nullptr;
  std::string fingerprint_, cert_pem_, key_pem_;
};

// The site's files under ARK/network.
std::string NetworkDir(const std::string& ark_dir);
Result<SiteConfig> LoadSiteConfig(const std::string& ark_dir);
Result<std::unique_ptr<SiteKey>> LoadSiteKey(const std::string& ark_dir);

// SHA-256 of a certificate's DER bytes, 64 lower-case hex.
std::string Fingerprint(X509* cert);
// Normalises a fingerprint as people write it ("AB:CD:..", upper case) to 64 lower-case hex;
// InvalidArgument when it is not 32 bytes of hex.
Result<std::string> NormaliseFingerprint(const std::string& text);

// What a certificate file says about its site: CN and the ark:// URI's address.
struct CertInfo {
  std::string name, address, fingerprint;
};
Result<CertInfo> ReadCertFile(const std::string& pem_path);

// Verifies a hex signature of `data` with the public key of `cert`.
bool VerifySignature(X509* cert, std::string_view data, const std::string& sig_hex);

// Splits HOST:PORT; InvalidArgument naming `what` when malformed.
Status SplitAddress(const std::string& addr, std::string* host, uint16_t* port, const std::string& what);
bool ValidSiteName(const std::string& name);

}  // namespace ark::net
