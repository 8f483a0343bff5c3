// FHIR Bulk Data NDJSON import (fhir/bulk.h IngestBulkNdjson) into a fresh Ark. Multi-file
// input (fuzz_util.h); the default file is Patient.000.ndjson.
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "fhir/bulk.h"
#include "fuzz_util.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ProgrammeKey key = [] {
    Digest d{};
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + 1);
    return ProgrammeKey::FromBytes(d);
  }();
  const std::string dir = fuzz::FreshDir("in");
  fuzz::WriteParts(dir, fuzz::SplitFiles(fuzz::AsText(data, size), "Patient.000.ndjson"));
  auto cat = fuzz::FreshArk("ark");
  (void)fhir::IngestBulkNdjson(*cat, dir, key);
  return 0;
}
