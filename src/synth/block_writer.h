// Writing big CSV files fast: rows are formatted in blocks on several threads and the blocks
// are appended to the file in order, so the bytes do not depend on the thread count. Also a
// counting sort by day for row vectors, which orders tens of millions of rows in linear time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::synth {

// Formats rows [begin, end) onto *out (each row ending in '\n').
using FormatRows = std::function<void(size_t begin, size_t end, std::string* out)>;

// Writes `header` (without newline) and `rows` rows to `path`, formatting blocks of rows on
// `threads` threads, then fsyncs the file. Adds the file size to *bytes.
// Errors: IOError naming the path.
Status WriteCsvFile(const std::string& path, std::string_view header, size_t rows, int threads,
                    const FormatRows& format, uint64_t* bytes);

// Sorts *rows by day_of(row) (counting sort over [min_day, max_day]; days outside are clamped),
// then each day by `less`. `less` must be a strict total order for deterministic output.
template <typename T, typename DayOf, typename Less>
void SortByDay(std::vector<T>* rows, int32_t min_day, int32_t max_day, DayOf day_of, Less less) {
  if (rows->empty()) return;
  const size_t buckets = static_cast<size_t>(max_day - min_day) + 1;
  auto bucket = [&](const T& r) {
    int32_t d = std::clamp<int32_t>(day_of(r), min_day, max_day);
    return static_cast<size_t>(d - min_day);
  };
  std::vector<size_t> start(buckets + 1, 0);
  for (const T& r : *rows) ++start[bucket(r) + 1];
  for (size_t i = 1; i <= buckets; ++i) start[i] += start[i - 1];
  std::vector<T> sorted(rows->size());
  std::vector<size_t> next(start.begin(), start.end() - 1);
  for (T& r : *rows) sorted[next[bucket(r)]++] = std::move(r);
  for (size_t b = 0; b < buckets; ++b) std::sort(sorted.begin() + start[b], sorted.begin() + start[b + 1], less);
  rows->swap(sorted);
}

}  // namespace ark::synth
