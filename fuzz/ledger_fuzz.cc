// Transparency ledger directories (governance/ledger.h): entries.jsonl, checkpoint, ledger.pub,
// and for Ledger::Open also ledger.key and an interrupted batch's pending intent. Verified
// (VerifyLedger, with "=== earlier" as an earlier checkpoint when given), loaded (LoadLog), then
// opened for appending (crash recovery) and, when that works, appended to. Multi-file input
// (fuzz_util.h); the default file is entries.jsonl.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_util.h"
#include "governance/ledger.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<fuzz::FilePart> parts = fuzz::SplitFiles(fuzz::AsText(data, size), "entries.jsonl");
  std::optional<std::string> earlier;
  for (auto it = parts.begin(); it != parts.end(); ++it) {
    if (it->name == "earlier") {
      earlier = std::string(it->body);
      parts.erase(it);
      break;
    }
  }
  const std::string ark = fuzz::FreshDir("ark");
  const std::string dir = ark + "/ledger";
  fuzz::FreshDir("ark/ledger");
  fuzz::WriteParts(dir, parts);
  (void)gov::VerifyLedger(dir, std::nullopt, earlier);
  (void)gov::LoadLog(dir);
  (void)gov::LedgerDirOf(ark);
  auto l = gov::Ledger::Open(ark);
  if (l.ok()) {
    (void)(*l)->Append(gov::Json{{"event", "fuzz"}});
    (void)gov::VerifyLedger(dir);
  }
  return 0;
}
