// A site as it takes part in a network: its Ark, its configuration and key, and the network file
// its admin accepted. Used by both the server (server.h) and the coordinator (client.h).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ark/status.h"
#include "network/identity.h"
#include "network/network_file.h"
#include "network/wire.h"

namespace ark::net {

struct Site {
  std::string ark_dir;
  SiteConfig config;
  std::shared_ptr<SiteKey> key;
  Network network;
  int64_t request_ttl = 60;  // seconds from issue to expiry of the requests this site sends
};

// Loads the Ark's site (identity.h) and the network in `network_file`, which this Ark must have
// accepted (network_file.h); the site must be a member with its own certificate's fingerprint.
Result<Site> LoadSite(const std::string& ark_dir, const std::string& network_file);

// Held while a process appends to a site's ledger or runs an operation that may (RecordRun, a
// refusal): the governance ledger is one writer per process, so the server's threads take turns.
std::recursive_mutex& LedgerMutex();

// Appends one entry to the site's ledger (under LedgerMutex: the server answers on several threads).
Status AppendNetworkEntry(const std::string& ark_dir, Json entry);
// Several entries as one durable batch (one intent, one checkpoint: gov::Ledger::Append).
Status AppendNetworkEntries(const std::string& ark_dir, std::vector<Json> entries);

// Records a request's nonce until it expires; FailedPrecondition ("replayed") when the same site
// already used it. Kept in the Ark's catalog (table net_nonces), so a restart does not forget:
// the purge of expired nonces and the insert are one transaction (one synced commit).
Status RememberNonce(const std::string& ark_dir, const std::string& from, const std::string& nonce, int64_t expires_at);

}  // namespace ark::net
