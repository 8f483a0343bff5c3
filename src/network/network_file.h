// The network file: which sites form a network of Arks and how each is recognised.
//
//   network: north-pilot
//   members:
//     - name: site-a
//       address: 127.0.0.1:7101
//       fingerprint: 3f0c…   (SHA-256 of the site's certificate, 64 hex; colons and upper case allowed)
//
// Written by `ark network file` from the sites' certificates (identity.h), or by hand. A site uses
// a network only after its admin accepted that exact file (`ark network accept`): the file is copied
// to ARK/network/accepted/<network>.yaml (mode 0600) and its SHA-256 put on the Ark's ledger
// ("network.accepted"). `serve`, `run` and `glm` refuse a file whose bytes differ from the accepted
// copy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "governance/governance.h"

namespace ark::net {

struct Member {
  std::string name, address, fingerprint;
};

struct Network {
  std::string name;
  std::vector<Member> members;
  std::string sha256;  // of the file's bytes
  const Member* Find(const std::string& site) const;
  const Member* FindByFingerprint(const std::string& fp) const;
};

// Parses a network file; errors name the file, the member (by position) and the field. Duplicate
// names, addresses or fingerprints are refused.
Result<Network> ParseNetworkFile(const std::string& path);
Result<Network> ParseNetworkText(const std::string& text, const std::string& path);

// The YAML text of a network of these certificates (each a PEM file, or an Ark directory whose
// ARK/network/site.crt is used).
Result<std::string> NetworkFileFromCerts(const std::string& network_name, const std::vector<std::string>& certs);

// `ark network accept`: an admin of the Ark accepts the network file; the Ark's own site must be a
// member with its own certificate's fingerprint. Appends "network.accepted" (network, sha256,
// members, by). Returns the parsed network.
Result<Network> AcceptNetwork(const std::string& ark_dir, const gov::Actor& by, const std::string& path);

// The network in `path`, only if this Ark accepted exactly that file (FailedPrecondition otherwise,
// saying how to accept it).
Result<Network> LoadAcceptedNetwork(const std::string& ark_dir, const std::string& path);

}  // namespace ark::net
