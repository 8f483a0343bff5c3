// CSV event logs (pathways/log_io.h ReadCsvLog) with automatic column detection; the first byte
// picks named columns instead for a quarter of the inputs.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "pathways/log_io.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pathways::CsvLogOptions opts;
  if (size > 0 && data[0] % 4 == 0) {
    opts.case_col = "c";
    opts.activity_col = "a";
    opts.timestamp_col = "t";
    opts.resource_col = "-";
    opts.case_attr_cols = {"x", "c"};
  }
  const std::string path = fuzz::ScratchDir() + "/log.csv";
  fuzz::WriteBytes(path, fuzz::AsText(data, size));
  (void)pathways::ReadCsvLog(path, opts);
  return 0;
}
