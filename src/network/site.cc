#include "network/site.h"

#include <mutex>

#include "catalog/catalog.h"

namespace ark::net {

Result<Site> LoadSite(const std::string& ark_dir, const std::string& network_file) {
  Site s;
  s.ark_dir = ark_dir;
  ARK_ASSIGN_OR_RETURN(s.config, LoadSiteConfig(ark_dir));
  ARK_ASSIGN_OR_RETURN(auto key, LoadSiteKey(ark_dir));
  s.key = std::move(key);
  ARK_ASSIGN_OR_RETURN(s.network, LoadAcceptedNetwork(ark_dir, network_file));
  const Member* me = s.network.Find(s.config.name);
  if (!me || me->fingerprint != s.key->fingerprint()) {
    return Status::FailedPrecondition(network_file + ": this Ark's site '" + s.config.name + "' is not a member with its own certificate");
  }
  return s;
}

std::recursive_mutex& LedgerMutex() {
  static std::recursive_mutex mu;
  return mu;
}

Status AppendNetworkEntry(const std::string& ark_dir, Json entry) {
  std::lock_guard<std::recursive_mutex> l(LedgerMutex());
  return gov::AppendToArkLedger(ark_dir, std::move(entry)).status();
}

Status AppendNetworkEntries(const std::string& ark_dir, std::vector<Json> entries) {
  if (entries.empty()) return Status::OK();
  std::lock_guard<std::recursive_mutex> l(LedgerMutex());
  return gov::AppendBatchToArkLedger(ark_dir, std::move(entries)).status();
}

Status RememberNonce(const std::string& ark_dir, const std::string& from, const std::string& nonce, int64_t expires_at) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_RETURN_IF_ERROR(cat->Exec(
      "CREATE TABLE IF NOT EXISTS net_nonces (site TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, "
      "PRIMARY KEY (site, nonce))"));
  // Expired nonces can go: a request carrying one is refused as expired before its nonce is looked up.
  // The purge and the insert are one transaction: one synced commit per request.
  ARK_RETURN_IF_ERROR(cat->Begin());
  bool fresh = false;
  Status st = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto del, cat->Prepare("DELETE FROM net_nonces WHERE expires_at < ?"));
    del->Bind(1, UnixNow() - kMaxRequestLifetime);
    ARK_RETURN_IF_ERROR(del->Run());
    ARK_ASSIGN_OR_RETURN(auto ins, cat->Prepare("INSERT OR IGNORE INTO net_nonces (site, nonce, expires_at) VALUES (?, ?, ?)"));
    ins->Bind(1, from).Bind(2, nonce).Bind(3, expires_at);
    ARK_RETURN_IF_ERROR(ins->Run());
    ARK_ASSIGN_OR_RETURN(auto changed, cat->Prepare("SELECT changes()"));
    ARK_ASSIGN_OR_RETURN(bool row, changed->Step());
    fresh = row && changed->Int(0) == 1;
    return Status::OK();
  }();
  if (!st.ok()) {
    cat->Rollback();
    return st;
  }
  ARK_RETURN_IF_ERROR(cat->Commit());
  if (!fresh) return Status::FailedPrecondition("replayed request: nonce " + nonce + " was already used by " + from);
  return Status::OK();
}

}  // namespace ark::net
