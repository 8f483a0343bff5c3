// HTTP requests as `ark serve` reads them (live/server.cc): the bytes of one connection are fed
// to Boost.Beast's request parser (body limit 64 MiB, as the server sets it) in reads whose size
// the first byte picks; up to eight keep-alive requests in a row. Each parsed request is routed
// as the server routes it: path without the query, the Authorization header, and for POST /fhir
// the body through live::FromFhirBundle; the reply is built and serialised with the request's
// HTTP version and keep-alive. The server's request handling is bound to its session (sockets,
// ingestor), so this harness calls the parts that can run on their own.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_util.h"
#include "live/record.h"

using namespace ark;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

void Route(const http::request<http::string_body>& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  http::status st = http::status::not_found;
  std::string body;
  const auto auth = req.find(http::field::authorization);
  if (path == "/healthz") {
    st = http::status::ok;
  } else if (auth == req.end() || auth->value().substr(0, 7) != "Bearer ") {
    st = http::status::unauthorized;
  } else if (path == "/fhir" && req.method() == http::verb::post) {
    auto recs = live::FromFhirBundle(req.body());
    st = recs.ok() ? http::status::ok : http::status::bad_request;
    body = recs.ok() ? std::to_string(recs->size()) : recs.status().message();
  }
  http::response<http::string_body> res(st, req.version());
  res.set(http::field::server, "ark");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  std::ostringstream out;
  out << res;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] % 128;
  std::string_view rest = fuzz::AsText(data + 1, size - 1);
  std::string buf;  // received, not yet consumed by the parser
  for (int n = 0; n < 8; ++n) {
    http::request_parser<http::string_body> p;
    p.body_limit(64u << 20);
    beast::error_code ec;
    for (;;) {
      const size_t take = std::min(chunk, rest.size());
      buf.append(rest.substr(0, take));
      rest.remove_prefix(take);
      // Beast's read loop calls put() only after a read brought bytes; asio makes an empty
      // string a null buffer, which the parser must never see (null + offset in its field
      // scan). So nothing left to give is end of stream here, as it is on a socket.
      if (buf.empty()) {
        if (!p.got_some()) return 0;  // end of stream between requests
        p.put_eof(ec);
        if (!ec && p.is_done()) break;
        return 0;  // connection closed mid-request
      }
      const size_t used = p.put(boost::asio::buffer(buf), ec);
      buf.erase(0, used);
      if (p.is_done()) break;
      if (ec == http::error::need_more) {
        ec = {};
        if (take == 0 && rest.empty()) {
          if (!p.got_some()) return 0;  // end of stream between requests
          p.put_eof(ec);
          if (!ec && p.is_done()) break;
          return 0;  // connection closed mid-request
        }
        continue;
      }
      if (ec) return 0;  // the server closes the connection
      if (take == 0 && used == 0) return 0;
    }
    if (ec) return 0;
    http::request<http::string_body> req = p.release();
    Route(req);
    if (!req.keep_alive()) return 0;
  }
  return 0;
}
