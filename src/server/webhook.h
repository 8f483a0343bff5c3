// Webhooks: alerts POSTed as JSON (Content-Type application/json) to each configured http:// URL
// by one background thread, retried with exponential backoff (0.5 s, 1 s, 2 s, ... up to 6 tries),
// then dropped and counted. The queue holds at most 10,000 alerts (older ones are dropped first).
// Thread safety: Enqueue may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ark/status.h"
#include "live/metrics.h"

namespace ark::server {

class WebhookSender {
 public:
  WebhookSender(std::vector<std::string> urls, live::Metrics* metrics);
  ~WebhookSender();  // stops after the attempt in progress; queued alerts are dropped
  void Enqueue(std::string json);

 private:
  void Loop();
  std::vector<std::string> urls_;
  live::Metrics* metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// One POST; OK for a 2xx answer. `url` is http://host[:port]/path.
Status PostJson(const std::string& url, const std::string& body, int timeout_ms);

}  // namespace ark::server
