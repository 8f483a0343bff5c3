// Study definitions (study/definition.h ParseDefinition) with their codelist files, and the
// study test-data format (study/test_data.h ParseTestData). Multi-file input (fuzz_util.h):
// the default file is study.yaml; codelists are read relative to the input's directory
// (e.g. "=== codelists/copd.csv"); "=== data" holds test data.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "study/definition.h"
#include "study/test_data.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<fuzz::FilePart> parts =
      fuzz::SplitFiles(fuzz::AsText(data, size), "study.yaml");
  const std::string dir = fuzz::FreshDir("study");
  fuzz::WriteParts(dir, parts);
  for (const fuzz::FilePart& p : parts) {
    if (p.name == "study.yaml") (void)study::ParseDefinition(p.body, "study.yaml", dir);
    if (p.name == "data") (void)study::ParseTestData(std::string(p.body), "data");
  }
  return 0;
}
