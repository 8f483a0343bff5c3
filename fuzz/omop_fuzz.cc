// OMOP CDM 5.4 CSV import (import/omop_import.h ImportOmop) into a fresh Ark. Multi-file input
// (fuzz_util.h); the default file is person.csv.
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "fuzz_util.h"
#include "import/omop_import.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::FreshDir("omop");
  fuzz::WriteParts(dir, fuzz::SplitFiles(fuzz::AsText(data, size), "person.csv"));
  auto cat = fuzz::FreshArk("ark");
  (void)ImportOmop(*cat, dir);
  return 0;
}
