#include "synth/block_writer.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/fs.h"

namespace ark::synth {

namespace {
constexpr size_t kBlockRows = 1 << 18;
}

Status WriteCsvFile(const std::string& path, std::string_view header, size_t rows, int threads,
                    const FormatRows& format, uint64_t* bytes) {
  ARK_ASSIGN_OR_RETURN(AppendFile file, AppendFile::Open(path, /*truncate=*/true));
  std::string head(header);
  head.push_back('\n');
  ARK_RETURN_IF_ERROR(file.Append(head));

  const size_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t turn = 0;
  Status error;
  auto worker = [&] {
    std::string buf;
    for (;;) {
      const size_t b = next.fetch_add(1);
      if (b >= blocks) return;
      buf.clear();
      format(b * kBlockRows, std::min(rows, (b + 1) * kBlockRows), &buf);
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return turn == b; });
      if (error.ok()) error = file.Append(buf);
      if (error.ok()) error = file.Flush();
      ++turn;
      cv.notify_all();
    }
  };
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(blocks)));
  std::vector<std::thread> pool;
  for (int i = 1; i < n; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  ARK_RETURN_IF_ERROR(error);
  ARK_RETURN_IF_ERROR(file.Sync());
  *bytes += file.size();
  return file.Close();
}

}  // namespace ark::synth
