#include "governance/witness_http.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <ctime>
#include <thread>

namespace ark::gov {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr size_t kMaxBody = 64 * 1024;  // a checkpoint, 63 proof lines and a few signatures fit easily

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One request and its reply; a client gets 10 s for each (async operations, so the timeout holds).
void ServeOne(Witness& w, asio::io_context& ioc, asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  http::request_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  beast::error_code read_ec;
  stream.expires_after(std::chrono::seconds(10));
  http::async_read(stream, buf, parser, [&](beast::error_code ec, size_t) { read_ec = ec; });
  ioc.restart();
  ioc.run();
  if (read_ec == beast::error::timeout) return;
  http::response<http::string_body> res;
  res.version(11);
  res.keep_alive(false);
  if (read_ec) {
    res.result(http::status::bad_request);
    res.set(http::field::content_type, "text/plain");
    res.body() = "bad request: " + read_ec.message() + "\n";
  } else {
    const auto& req = parser.get();
    const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
    const auto method = req.method_string();
    const auto target = req.target();
    WitnessHttpReply r = HandleWitnessRequest(w, std::string(method.data(), method.size()), std::string(target.data(), target.size()),
                                              req.body(), now);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::content_type, r.content_type);
    res.body() = r.body;
  }
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(10));
  http::async_write(stream, res, [](beast::error_code, size_t) {});
  ioc.restart();
  ioc.run();
  beast::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace

WitnessHttpReply HandleWitnessRequest(Witness& w, const std::string& method, const std::string& target, const std::string& body,
                                      uint64_t now) {
  if (!EndsWith(target, "/add-checkpoint")) return {404, "text/plain", "not found: the witness serves POST /add-checkpoint\n"};
  if (method != "POST") return {405, "text/plain", "method not allowed: POST /add-checkpoint\n"};
  auto req = ParseAddCheckpoint(body);
  if (!req.ok()) return {400, "text/plain", req.status().message() + "\n"};
  uint64_t latest = 0;
  auto line = w.Add(*req, now, &latest);
  if (line.ok()) return {200, "text/plain; charset=utf-8", *line};
  const int code = WitnessHttpStatus(line.status());
  if (code == 409) return {409, "text/x.tlog.size", std::to_string(latest) + "\n"};
  return {code, "text/plain", line.status().message() + "\n"};
}

Status ServeWitness(Witness& w, const std::string& host, uint16_t port, const std::atomic<bool>* stop,
                    const std::function<void(uint16_t)>& on_listen) {
  try {
    asio::io_context ioc;
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address(host), port});
    acceptor.non_blocking(true);
    if (on_listen) on_listen(acceptor.local_endpoint().port());
    while (!stop || !stop->load()) {
      beast::error_code ec;
      asio::ip::tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (ec) return Status::IOError("witness: accept: " + ec.message());
      ServeOne(w, ioc, std::move(socket));
    }
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::IOError("witness: cannot serve on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
}

Result<WitnessHttpReply> PostAddCheckpoint(const std::string& url, const std::string& body, int timeout_ms) {
  if (url.rfind("http://", 0) != 0) return Status::InvalidArgument("witness " + url + ": only http:// URLs are supported");
  std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  const size_t colon = hostport.rfind(':');
  const std::string host = hostport.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req(http::verb::post, prefix + "/add-checkpoint", 11);
    req.set(http::field::host, hostport);
    req.set(http::field::content_type, "text/plain; charset=utf-8");
    req.set(http::field::user_agent, "ark-ledger-cosign");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    const auto type = res[http::field::content_type];
    return WitnessHttpReply{static_cast<int>(res.result_int()), std::string(type.data(), type.size()), res.body()};
  } catch (const std::exception& e) {
    return Status::IOError("witness " + url + ": " + e.what());
  }
}

}  // namespace ark::gov
