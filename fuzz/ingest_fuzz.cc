// `ark ingest` (ingest/ingest.h) of a pseudonymised extract as it arrives from a custodian:
// manifest.json, feed.yaml and the CSV files, into a fresh Ark; every other input with a
// quarantine directory too (bad rows set aside instead of failing). Multi-file input
// (fuzz_util.h); the default file is records.csv.
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "fuzz_util.h"
#include "ingest/ingest.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in = fuzz::FreshDir("extract");
  fuzz::WriteParts(in, fuzz::SplitFiles(fuzz::AsText(data, size), "records.csv"));
  auto cat = fuzz::FreshArk("ark");
  IngestOptions opt;
  opt.threads = 2;
  if (size % 2 == 1) opt.quarantine_dir = fuzz::FreshDir("quarantine");
  (void)Ingest(*cat, {in}, opt);
  return 0;
}
