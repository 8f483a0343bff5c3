// The Python client (clients/python, standard library only) run by Debian's python3:
//  - PythonClient.OfflineChecks: its Ed25519 against RFC 8032 and against signatures made by the
//    `openssl` command, and its inclusion-proof checks against RFC 9162's recursive audit paths;
//  - PythonClient.AgainstARealServer: a dummy-data Ark with an analyst, an output checker and an
//    approved project, served by a real `ark serve` on loopback; clients/python/tests/test_live.py
//    signs in, checks a definition, runs it on dummy data and then on the Ark as jobs, reads a
//    measure as a DataFrame, requests its release and verifies a ledger entry's inclusion proof
//    against the verifier key read from the Ark's directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "demo_ark.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "server/serve_process.h"

namespace ark::server {
namespace {

const std::string kClient = std::string(ARK_SOURCE_DIR) + "/clients/python";

// Inline codelists, so the definition is one text the client sends.
constexpr const char* kDefinition = R"(name: copd_admissions
description: COPD patients and their emergency admissions, for the client test.
codelists:
  copd: {codes: ['J44*'], system: ICD10}
  emergency: {codes: [21, 22, 28], system: ADMIMETH}
index_date: 2025-03-31
population: {registered: true, alive: true, age: [18, 120]}
variables:
  has_copd: {exists: copd, to: 0d}
  admitted: {exists: emergency, from: -365d, to: 0d}
  age_band: {band: age, breaks: [40, 65, 80]}
measures:
  admissions:
    numerator: admitted
    denominator: has_copd
    group_by: [age_band]
    intervals: {every: quarter, from: 2024-04-01, to: 2025-03-31}
)";

TEST(PythonClient, OfflineChecks) {
  std::string out;
  const int rc = test::Sh("cd " + kClient + " && /usr/bin/python3 -m unittest -v tests/test_offline.py", &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Ran 5 tests"), std::string::npos) << out;
}

TEST(PythonClient, AgainstARealServer) {
  const std::string base = ::testing::TempDir() + "ark_pyclient_" + std::to_string(::getpid());
  const std::string ark = base + "/ark", def = base + "/copd.yaml";
  (void)RemoveAll(base);
  ASSERT_TRUE(MakeDirs(base).ok());
  ASSERT_TRUE(WriteFileAtomic(def, kDefinition).ok());
  std::string out;
  ASSERT_EQ(test::Sh(std::string(ARK_BINARY) + " dummy " + def + " --people 150 --seed 5 --out " + ark, &out), 0) << out;

  std::map<std::string, std::string> token;
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    auto admin_token = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    ASSERT_TRUE(admin_token.ok()) << admin_token.status().ToString();
    const gov::Actor admin{"admin", {"admin"}};
    for (const auto& [user, role] : std::map<std::string, std::string>{{"ana", "analyst"}, {"chris", "output_checker"}}) {
      auto t = gov::AddUser(**cat, &admin, user, {role});
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      token[user] = *t;
    }
    gov::Project p;
    p.id = "copd-2026";
    p.title = "COPD admissions";
    p.legal_basis = "UK GDPR 6(1)(e), 9(2)(j)";
    p.datasets = {"dummy"};
    p.people = {"ana"};
    p.start = "2026-01-01";
    p.end = "2099-12-31";
    auto ledger = gov::Ledger::Open(ark);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
    ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, p.id, gov::Today(), "meets the criteria").ok());
  }
  auto vkey = ReadFile(ark + "/ledger/ledger.pub");
  ASSERT_TRUE(vkey.ok()) << vkey.status().ToString();
  auto served = StartServe(ARK_BINARY, ark, base + "/serve.log", {}, 20000);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  const std::string env = "ARK_URL=http://127.0.0.1:" + std::to_string(served->http) + " ARK_USER=ana ARK_TOKEN=" +
                          token["ana"] + " ARK_PROJECT=copd-2026 ARK_DEFINITION=" + def + " ARK_VKEY='" +
                          vkey->substr(0, vkey->find('\n')) + "' ARK_CHECKER=chris:" + token["chris"];
  const int rc = test::Sh("cd " + kClient + " && " + env + " /usr/bin/python3 -m unittest -v tests/test_live.py", &out);
  StopServe(*served);
  EXPECT_EQ(rc, 0) << out << "\n--- serve log ---\n" << test::Slurp(base + "/serve.log");
  EXPECT_NE(out.find("Ran 6 tests"), std::string::npos) << out;
}

}  // namespace
}  // namespace ark::server
