#include "server/webhook.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace ark::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Status PostJson(const std::string& url, const std::string& body, int timeout_ms) {
  if (url.rfind("http://", 0) != 0)
    return Status::InvalidArgument("webhook " + url + ": only http:// is supported");
  std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = hostport.rfind(':');
  const std::string host = hostport.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req(http::verb::post, target, 11);
    req.set(http::field::host, hostport);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "ark-live");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    const unsigned code = res.result_int();
    if (code < 200 || code >= 300)
      return Status::IOError("webhook " + url + ": HTTP " + std::to_string(code));
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::IOError("webhook " + url + ": " + e.what());
  }
}

WebhookSender::WebhookSender(std::vector<std::string> urls, live::Metrics* metrics)
    : urls_(std::move(urls)), metrics_(metrics), thread_([this] { Loop(); }) {}

WebhookSender::~WebhookSender() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WebhookSender::Enqueue(std::string json) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.size() >= 10000) queue_.pop_front();
    queue_.push_back(std::move(json));
  }
  cv_.notify_one();
}

void WebhookSender::Loop() {
  for (;;) {
    std::string body;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    for (const std::string& url : urls_) {
      int delay_ms = 500;
      for (int attempt = 0; attempt < 6; ++attempt) {
        if (PostJson(url, body, 5000).ok()) {
          metrics_->webhook_sent++;
          break;
        }
        metrics_->webhook_failed++;
        std::unique_lock<std::mutex> l(mu_);
        if (cv_.wait_for(l, std::chrono::milliseconds(delay_ms), [&] { return stop_; })) return;
        delay_ms *= 2;
      }
    }
  }
}

}  // namespace ark::server
