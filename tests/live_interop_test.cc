// Interop: the independent npm MLLP client @medplum/hl7 4.5.2 (Hl7Client.sendAndWait, run by
// tests/interop/mllp_client.mjs on Node.js) gets AA for a sample and AE with the error position
// for a malformed message. Needs tests/interop/node_modules: `make test` installs it
// (`npm ci --prefix tests/interop`).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "core/process.h"
#include "server/test_util.h"

namespace ark::live {
namespace {

using namespace testing;

TEST(LiveInterop, MedplumHl7ClientGetsAAandAE) {
  const std::string dir = std::string(ARK_SOURCE_DIR) + "/tests/interop";
  if (!PathExists(dir + "/node_modules/@medplum/hl7/package.json")) {
    FAIL()
        << dir
        << "/node_modules is missing: run `make test` (it runs `npm ci --prefix tests/interop`), "
        << "or `cd tests/interop && npm ci` yourself";
  }
  const std::string ark = TempArk("interop");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  const std::string cmd = "cd '" + dir + "' && node mllp_client.mjs 127.0.0.1 " +
                          std::to_string(s.mllp()) + " '" + std::string(ARK_SOURCE_DIR) +
                          "/tests/data/hl7/adt_a01.hl7' 2>&1";
  const CommandOutput r = RunCommand(cmd);
  const std::string& out = r.output;
  ASSERT_NE(r.exit_code, -1) << out;
  EXPECT_EQ(r.exit_code, 0) << out;
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
}

}  // namespace
}  // namespace ark::live
