// CSV (core/csv.h): UTF-8 check, the record parser, and CsvFile (memory-mapped, header, chunks
// for parallel parsing, per-row field counts) on a file holding the input. The parallel split
// must see the same records as the sequential parser.
#include <cstdint>
#include <string>
#include <vector>

#include "core/csv.h"
#include "fuzz_util.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  (void)ValidateUtf8(text);
  {
    CsvParser p(text);
    std::vector<std::string_view> row;
    for (int n = 0; n < 100000; ++n) {
      auto more = p.Next(&row);
      if (!more.ok() || !*more) break;
    }
  }
  for (int n : {2, 3}) {
    int64_t lines = 0;
    for (std::string_view piece : SplitAtLines(text, n)) lines += CountLines(piece);
    if (lines != CountLines(text)) __builtin_trap();
  }
  const std::string path = fuzz::ScratchDir() + "/in.csv";
  fuzz::WriteBytes(path, text);
  for (int threads : {1, 3}) {
    auto f = CsvFile::Open(path, threads);
    if (!f.ok()) continue;
    (void)f->ColumnIndex("id");
    uint64_t rows = 0;
    (void)f->ForEachRow([&](int64_t, const std::vector<std::string_view>&) {
      ++rows;
      return Status::OK();
    });
    for (size_t c = 0; c < f->chunks().size(); ++c) {
      CsvParser p(f->chunks()[c], f->chunk_first_lines()[c]);
      std::vector<std::string_view> row;
      for (;;) {
        auto more = f->NextRow(p, &row);
        if (!more.ok() || !*more) break;
      }
    }
  }
  return 0;
}
