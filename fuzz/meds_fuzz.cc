// MEDS CSV import (import/meds_import.h ImportMeds) into a fresh Ark; inputs starting with the
// gzip magic are read as a .csv.gz file.
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "fuzz_util.h"
#include "import/meds_import.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const std::string path = fuzz::ScratchDir() + (gz ? "/meds.csv.gz" : "/meds.csv");
  fuzz::WriteBytes(path, fuzz::AsText(data, size));
  auto cat = fuzz::FreshArk("ark");
  (void)ImportMeds(*cat, path);
  return 0;
}
