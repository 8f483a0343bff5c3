// A custodian's raw CSV extract read with a feed spec: `ark pseudonymise` (ingest/pseudonymise.h)
// on the input's files, then, when that succeeds, `ark ingest` (ingest/ingest.h) of its output
// into a fresh Ark. Multi-file input (fuzz_util.h): "=== spec.yaml" gives the feed spec
// (default: the built-in gp spec); the default file is patients.csv.
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "fuzz_util.h"
#include "ingest/feed_spec.h"
#include "ingest/ingest.h"
#include "ingest/pseudonymise.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ProgrammeKey key = [] {
    Digest d{};
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 5 + 3);
    return ProgrammeKey::FromBytes(d);
  }();
  std::vector<fuzz::FilePart> parts = fuzz::SplitFiles(fuzz::AsText(data, size), "patients.csv");
  Result<FeedSpec> spec = BuiltinFeedSpec("gp");
  for (auto it = parts.begin(); it != parts.end(); ++it) {
    if (it->name == "spec.yaml") {
      spec = ParseFeedSpec(std::string(it->body), "spec.yaml");
      parts.erase(it);
      break;
    }
  }
  if (!spec.ok()) return 0;
  const std::string in = fuzz::FreshDir("raw");
  fuzz::WriteParts(in, parts);
  const std::string out = fuzz::ScratchDir() + "/out";
  auto rep = Pseudonymise(*spec, key, in, out, /*replace=*/true, /*threads=*/2);
  if (!rep.ok()) return 0;
  auto cat = fuzz::FreshArk("ark");
  (void)Ingest(*cat, {out}, IngestOptions{});
  return 0;
}
