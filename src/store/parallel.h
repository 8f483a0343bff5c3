// ParallelFor: runs fn(i, worker) for every i in [0, n) on up to `threads` std::threads that take
// indices from a shared counter (so uneven items balance). Returns the first error; after an error
// the remaining items are skipped. threads <= 1 runs inline, in index order.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "ark/status.h"

namespace ark::store {

inline Status ParallelFor(size_t n, int threads, const std::function<Status(size_t i, int worker)>& fn) {
  const int workers = static_cast<int>(std::min<size_t>(n, static_cast<size_t>(std::max(threads, 1))));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) ARK_RETURN_IF_ERROR(fn(i, 0));
    return Status::OK();
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto run = [&](int worker) {
    for (;;) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n || failed.load(std::memory_order_relaxed)) return;
      Status s = fn(i, worker);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (auto& t : pool) t.join();
  return first;
}

}  // namespace ark::store
