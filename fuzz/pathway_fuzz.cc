// Pathway definitions (pathways/pathway.h ParsePathwayDefinition).
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "pathways/pathway.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)pathways::ParsePathwayDefinition(std::string(fuzz::AsText(data, size)), "fuzz.yaml");
  return 0;
}
