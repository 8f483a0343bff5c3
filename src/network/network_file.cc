#include "network/network_file.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "core/fs.h"
#include "governance/ledger.h"
#include "governance/merkle.h"
#include "network/identity.h"

namespace ark::net {

const Member* Network::Find(const std::string& site) const {
  for (const auto& m : members) {
    if (m.name == site) return &m;
  }
  return nullptr;
}

const Member* Network::FindByFingerprint(const std::string& fp) const {
  for (const auto& m : members) {
    if (m.fingerprint == fp) return &m;
  }
  return nullptr;
}

Result<Network> ParseNetworkText(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": not YAML: " + e.msg);
  }
  if (!root.IsMap()) return Status::InvalidArgument(path + ": a network file is a mapping with 'network' and 'members'");
  Network n;
  n.sha256 = merkle::HexOf(merkle::Sha256(text));
  if (!root["network"] || !root["network"].IsScalar() || !ValidSiteName(root["network"].as<std::string>())) {
    return Status::InvalidArgument(path + ": field 'network': a name (letters, digits, '-', '_', '.') is required");
  }
  n.name = root["network"].as<std::string>();
  const YAML::Node ms = root["members"];
  if (!ms || !ms.IsSequence() || ms.size() == 0) return Status::InvalidArgument(path + ": field 'members': a list of sites is required");
  std::set<std::string> names, addrs, fps;
  for (size_t i = 0; i < ms.size(); ++i) {
    const std::string where = path + ":" + std::to_string(ms[i].Mark().line + 1) + ": member " + std::to_string(i + 1);
    if (!ms[i].IsMap()) return Status::InvalidArgument(where + ": a mapping with name, address, fingerprint");
    Member m;
    for (const char* f : {"name", "address", "fingerprint"}) {
      if (!ms[i][f] || !ms[i][f].IsScalar()) return Status::InvalidArgument(where + ": field '" + f + "' is missing");
    }
    m.name = ms[i]["name"].as<std::string>();
    if (!ValidSiteName(m.name)) return Status::InvalidArgument(where + ": field 'name': '" + m.name + "' is not a site name");
    m.address = ms[i]["address"].as<std::string>();
    std::string host;
    uint16_t port = 0;
    ARK_RETURN_IF_ERROR(SplitAddress(m.address, &host, &port, where + ": field 'address'"));
    auto fp = NormaliseFingerprint(ms[i]["fingerprint"].as<std::string>());
    if (!fp.ok()) return fp.status().WithContext(where + ": field 'fingerprint'");
    m.fingerprint = *fp;
    if (!names.insert(m.name).second) return Status::InvalidArgument(where + ": site '" + m.name + "' is listed twice");
    if (!addrs.insert(m.address).second) return Status::InvalidArgument(where + ": address " + m.address + " is listed twice");
    if (!fps.insert(m.fingerprint).second) return Status::InvalidArgument(where + ": fingerprint listed twice (two sites cannot share a key)");
    n.members.push_back(std::move(m));
  }
  return n;
}

Result<Network> ParseNetworkFile(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseNetworkText(text, path);
}

Result<std::string> NetworkFileFromCerts(const std::string& network_name, const std::vector<std::string>& certs) {
  if (!ValidSiteName(network_name)) return Status::InvalidArgument("--network: '" + network_name + "' is not a name");
  if (certs.empty()) return Status::InvalidArgument("give the members' certificates (or Ark directories)");
  std::string y = "# Ark network file: members and their certificates' SHA-256 fingerprints.\n";
  y += "network: " + network_name + "\nmembers:\n";
  for (const auto& c : certs) {
    const std::string pem = PathExists(c + "/network/site.crt") ? c + "/network/site.crt" : c;
    ARK_ASSIGN_OR_RETURN(CertInfo info, ReadCertFile(pem));
    y += "  - name: " + info.name + "\n    address: \"" + info.address + "\"\n    fingerprint: " + info.fingerprint + "\n";
  }
  ARK_RETURN_IF_ERROR(ParseNetworkText(y, "(generated)").status());  // duplicates refused here
  return y;
}

Result<Network> AcceptNetwork(const std::string& ark_dir, const gov::Actor& by, const std::string& path) {
  if (!by.Has("admin")) {
    return gov::LogRefusal(ark_dir, by.user, Status::PermissionDenied("only an admin of this Ark accepts a network file"));
  }
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ARK_ASSIGN_OR_RETURN(Network n, ParseNetworkText(text, path));
  ARK_ASSIGN_OR_RETURN(SiteConfig site, LoadSiteConfig(ark_dir));
  ARK_ASSIGN_OR_RETURN(auto key, LoadSiteKey(ark_dir));
  const Member* me = n.Find(site.name);
  if (!me) return Status::InvalidArgument(path + ": this Ark's site '" + site.name + "' is not a member of network '" + n.name + "'");
  if (me->fingerprint != key->fingerprint()) {
    return Status::InvalidArgument(path + ": member '" + site.name + "' has fingerprint " + me->fingerprint +
                                   ", not this Ark's certificate (" + key->fingerprint() + ")");
  }
  const std::string dir = NetworkDir(ark_dir) + "/accepted";
  ARK_RETURN_IF_ERROR(MakeDirs(dir));
  ::chmod(dir.c_str(), 0700);
  const std::string copy = dir + "/" + n.name + ".yaml";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(copy, text));
  if (::chmod(copy.c_str(), 0600) != 0) return Status::IOError("cannot chmod " + copy);
  gov::Json members = gov::Json::array();
  for (auto& m : n.members) members.push_back({{"name", m.name}, {"address", m.address}, {"fingerprint", m.fingerprint}});
  gov::Json e = {{"type", "network.accepted"}, {"network", n.name}, {"sha256", n.sha256}, {"members", members}, {"by", by.user}};
  ARK_RETURN_IF_ERROR(gov::AppendToArkLedger(ark_dir, std::move(e)).status());
  return n;
}

Result<Network> LoadAcceptedNetwork(const std::string& ark_dir, const std::string& path) {
  ARK_ASSIGN_OR_RETURN(Network n, ParseNetworkFile(path));
  const std::string copy = NetworkDir(ark_dir) + "/accepted/" + n.name + ".yaml";
  if (!PathExists(copy)) {
    return Status::FailedPrecondition("network '" + n.name + "' has not been accepted at this Ark: an admin runs 'ark network accept " +
                                      ark_dir + " " + path + " --as ADMIN'");
  }
  ARK_ASSIGN_OR_RETURN(std::string accepted, ReadFile(copy));
  if (merkle::HexOf(merkle::Sha256(accepted)) != n.sha256) {
    return Status::FailedPrecondition(path + " differs from the network file this Ark accepted (" + copy +
                                      "): accept the new file first");
  }
  return n;
}

}  // namespace ark::net
