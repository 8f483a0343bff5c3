#include "network/identity.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "governance/ledger.h"

namespace ark::net {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

bool Unhex(const std::string& h, std::string* out) {
  if (h.size() % 2) return false;
  out->clear();
  auto v = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  for (size_t i = 0; i < h.size(); i += 2) {
    int a = v(h[i]), b = v(h[i + 1]);
    if (a < 0 || b < 0) return false;
    out->push_back(static_cast<char>(a * 16 + b));
  }
  return true;
}

std::string BioText(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  return std::string(p, static_cast<size_t>(n));
}

bool IsEd25519(EVP_PKEY* k) { return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519; }

Result<X509*> MakeCert(EVP_PKEY* k, const std::string& name, const std::string& listen) {
  X509* x = X509_new();
  if (!x) return Status::Internal("X509_new failed");
  auto fail = [&](const char* what) -> Status {
    X509_free(x);
    return Status::Internal(std::string("making the site certificate: ") + what);
  };
  X509_set_version(x, 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 10L * 366 * 24 * 3600);
  if (X509_set_pubkey(x, k) != 1) return fail("public key");
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Ark network site"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::string san = "URI:ark://" + listen + "/" + name;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
  if (!ext) return fail("subjectAltName");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (X509_sign(x, k, IsEd25519(k) ? nullptr : EVP_sha256()) <= 0) return fail("signature");
  return x;
}

Result<std::string> WritePrivate(const std::string& path, const std::string& text) {
  ARK_RETURN_IF_ERROR(WriteFileAtomic(path, text));
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError("cannot chmod " + path);
  return path;
}

}  // namespace

bool ValidSiteName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

Status SplitAddress(const std::string& addr, std::string* host, uint16_t* port, const std::string& what) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
    return Status::InvalidArgument(what + ": '" + addr + "' is not HOST:PORT");
  }
  long p = 0;
  for (size_t i = colon + 1; i < addr.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(addr[i])) || p > 65535) return Status::InvalidArgument(what + ": bad port in '" + addr + "'");
    p = p * 10 + (addr[i] - '0');
  }
  if (p < 1 || p > 65535) return Status::InvalidArgument(what + ": port out of range in '" + addr + "'");
  *host = addr.substr(0, colon);
  *port = static_cast<uint16_t>(p);
  return Status::OK();
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  return Hex(md, n);
}

Result<std::string> NormaliseFingerprint(const std::string& text) {
  std::string h;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (h.rfind("sha256", 0) == 0) h = h.substr(6);
  std::string raw;
  if (h.size() != 64 || !Unhex(h, &raw)) return Status::InvalidArgument("'" + text + "' is not a SHA-256 fingerprint (64 hex digits)");
  return h;
}

SiteKey::~SiteKey() {
  EVP_PKEY_free(pkey_);
  X509_free(cert_);
}

Result<std::unique_ptr<SiteKey>> SiteKey::FromPem(std::string key_pem, std::string cert_pem, const std::string& where) {
  std::unique_ptr<SiteKey> k(new SiteKey());
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  k->pkey_ = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  if (!k->pkey_) return Status::InvalidArgument(where + ": not a PEM private key");
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  k->cert_ = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  if (!k->cert_) return Status::InvalidArgument(where + ": not a PEM certificate");
  if (X509_check_private_key(k->cert_, k->pkey_) != 1) return Status::InvalidArgument(where + ": the key does not match the certificate");
  k->fingerprint_ = Fingerprint(k->cert_);
  k->key_pem_ = std::move(key_pem);
  k->cert_pem_ = std::move(cert_pem);
  return k;
}

Result<std::unique_ptr<SiteKey>> SiteKey::Load(const std::string& key_path, const std::string& cert_path) {
  ARK_ASSIGN_OR_RETURN(std::string key, ReadFile(key_path));
  ARK_ASSIGN_OR_RETURN(std::string cert, ReadFile(cert_path));
  return FromPem(std::move(key), std::move(cert), key_path + " / " + cert_path);
}

Result<std::unique_ptr<SiteKey>> SiteKey::Generate(const std::string& name, const std::string& listen, const std::string& key_type) {
  if (!ValidSiteName(name)) return Status::InvalidArgument("site name '" + name + "': use letters, digits, '-', '_' or '.'");
  EVP_PKEY* k = nullptr;
  if (key_type == "ed25519") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else if (key_type == "p256") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else {
    return Status::InvalidArgument("--key-type must be ed25519 or p256, not '" + key_type + "'");
  }
  if (!k) return Status::Internal("key generation failed");
  auto x = MakeCert(k, name, listen);
  if (!x.ok()) {
    EVP_PKEY_free(k);
    return x.status();
  }
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, k, nullptr, nullptr, 0, nullptr, nullptr);
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, *x);
  std::string key_pem = BioText(kb), cert_pem = BioText(cb);
  BIO_free(kb);
  BIO_free(cb);
  EVP_PKEY_free(k);
  X509_free(*x);
  return FromPem(std::move(key_pem), std::move(cert_pem), "generated key");
}

Result<std::string> SiteKey::Sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t n = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, IsEd25519(pkey_) ? nullptr : EVP_sha256(), nullptr, pkey_) == 1 &&
            EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  if (ok) {
    sig.resize(n);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n, reinterpret_cast<const unsigned char*>(data.data()),
                        data.size()) == 1;
    sig.resize(n);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("signing failed");
  return Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

bool VerifySignature(X509* cert, std::string_view data, const std::string& sig_hex) {
  std::string sig;
  if (!cert || !Unhex(sig_hex, &sig)) return false;
  EVP_PKEY* k = X509_get0_pubkey(cert);
  if (!k) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, IsEd25519(k) ? nullptr : EVP_sha256(), nullptr, k) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string NetworkDir(const std::string& ark_dir) { return ark_dir + "/network"; }

Result<InitResult> InitSite(const std::string& ark_dir, const SiteConfig& c) {
  if (!PathExists(ark_dir + "/catalog.db") && !PathExists(ark_dir + "/store")) return Status::NotFound(ark_dir + ": not an Ark");
  const std::string dir = NetworkDir(ark_dir);
  if (PathExists(dir + "/site.key")) {
    return Status::FailedPrecondition(dir + "/site.key exists: this Ark is already a site (its key is never replaced silently)");
  }
  std::string host;
  uint16_t port = 0;
  ARK_RETURN_IF_ERROR(SplitAddress(c.listen, &host, &port, "--listen"));
  if (c.rules != "opensafely" && c.rules != "acro") return Status::InvalidArgument("--rules must be opensafely or acro");
  ARK_ASSIGN_OR_RETURN(auto key, SiteKey::Generate(c.name, c.listen, c.key_type));
  ARK_RETURN_IF_ERROR(MakeDirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return Status::IOError("cannot chmod " + dir);
  nlohmann::ordered_json j = {{"name", c.name}, {"listen", c.listen}, {"rules", c.rules}, {"key_type", c.key_type}};
  ARK_RETURN_IF_ERROR(WritePrivate(dir + "/site.json", j.dump(2) + "\n").status());
  ARK_RETURN_IF_ERROR(WritePrivate(dir + "/site.crt", key->cert_pem()).status());
  ARK_RETURN_IF_ERROR(WritePrivate(dir + "/site.key", key->key_pem()).status());
  gov::Json e = {{"type", "network.site_created"}, {"site", c.name}, {"listen", c.listen}, {"key_type", c.key_type},
                 {"fingerprint", key->fingerprint()}, {"rules", c.rules}};
  ARK_RETURN_IF_ERROR(gov::AppendToArkLedger(ark_dir, std::move(e)).status());
  return InitResult{key->fingerprint(), dir + "/site.crt"};
}

Result<SiteConfig> LoadSiteConfig(const std::string& ark_dir) {
  const std::string path = NetworkDir(ark_dir) + "/site.json";
  if (!PathExists(path)) return Status::FailedPrecondition(ark_dir + " is not a network site: run 'ark network init' first");
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j.contains("listen")) {
    return Status::Corruption(path + ": not a site file (name, listen)");
  }
  SiteConfig c;
  c.name = j["name"].get<std::string>();
  c.listen = j["listen"].get<std::string>();
  c.rules = j.value("rules", std::string("opensafely"));
  c.key_type = j.value("key_type", std::string("ed25519"));
  return c;
}

Result<std::unique_ptr<SiteKey>> LoadSiteKey(const std::string& ark_dir) {
  const std::string dir = NetworkDir(ark_dir);
  if (!PathExists(dir + "/site.key")) return Status::FailedPrecondition(ark_dir + " has no site key: run 'ark network init' first");
  return SiteKey::Load(dir + "/site.key", dir + "/site.crt");
}

Result<CertInfo> ReadCertFile(const std::string& pem_path) {
  ARK_ASSIGN_OR_RETURN(std::string pem, ReadFile(pem_path));
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!x) return Status::InvalidArgument(pem_path + ": not a PEM certificate");
  CertInfo info;
  info.fingerprint = Fingerprint(x);
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  info.name = cn;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type != GEN_URI) continue;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.uniformResourceIdentifier)),
                    static_cast<size_t>(ASN1_STRING_length(g->d.uniformResourceIdentifier)));
    if (uri.rfind("ark://", 0) != 0) continue;
    uri = uri.substr(6);
    info.address = uri.substr(0, uri.find('/'));
  }
  GENERAL_NAMES_free(sans);
  X509_free(x);
  if (info.name.empty() || info.address.empty()) {
    return Status::InvalidArgument(pem_path + ": not an Ark site certificate (no CN or no ark:// address)");
  }
  return info;
}

}  // namespace ark::net
