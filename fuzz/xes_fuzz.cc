// XES event logs (pathways/log_io.h ParseXes); a parsed log is written back and read again.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "pathways/log_io.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto log = pathways::ParseXes(fuzz::AsText(data, size), "fuzz.xes");
  if (!log.ok()) return 0;
  (void)pathways::ParseXes(pathways::XesText(*log), "round-trip.xes");
  return 0;
}
