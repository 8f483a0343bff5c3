// `ark send-hl7`: send HL7 v2 messages from files over MLLP and report ACKs, rate and latency.
#include <cstdio>

#include "command.h"
#include "core/fs.h"
#include "live/sender.h"
#include "live/mllp.h"

namespace ark::cli {
namespace {

int SendHl7(int argc, char** argv) {
  CLI::App app(
      "Send HL7 v2 messages over MLLP and wait for their ACKs. A file holds one message or many\n"
      "(each starts at a line beginning \"MSH|\"; segments end with CR, LF or CRLF).\n"
      "Reports sent, acknowledged (AA), errors (AE), rejected (AR), rate and ACK latency "
      "percentiles.\n"
      "Exit status 1 when it cannot connect or a message got no ACK.",
      "ark send-hl7");
  std::vector<std::string> files;
  std::string to;
  live::SendOptions o;
  int repeat = 1;
  bool json = false, unique = false;
  app.add_option("files", files, "files of HL7 v2 messages")->required();
  app.add_option("--to", to, "HOST:PORT of the MLLP listener")->required();
  app.add_option("--rate", o.rate, "messages per second in total (default: as fast as ACKs come)");
  app.add_option("--connections", o.connections,
                 "concurrent connections (messages are dealt round-robin)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--window", o.window,
                 "messages in flight per connection (default 1: wait for each ACK)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--repeat", repeat, "send the messages this many times (load tests)")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--unique-ids", unique,
               "make each copy's MSH-10 unique (suffix -N) so repeats are not retransmits");
  app.add_option("--timeout", o.timeout_ms, "milliseconds to wait for an ACK");
  app.add_flag("--json", json, "print the report as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (Status s = live::ParseHostPort(to, &o.host, &o.port); !s.ok())
    return ReportError(s.WithContext("--to"));
  std::vector<std::string> base;
  for (const std::string& f : files) {
    auto text = ReadFile(f);
    if (!text.ok()) return ReportError(text.status());
    auto msgs = live::SplitHl7Messages(*text);
    if (msgs.empty())
      return ReportError(Status::InvalidArgument(f + ": no HL7 message (no line starting MSH)"));
    if (msgs[0].rfind("MSH", 0) != 0)
      return ReportError(Status::InvalidArgument(f + ": line 1: expected a segment MSH"));
    for (auto& m : msgs) base.push_back(std::move(m));
  }
  std::vector<std::string> all;
  all.reserve(base.size() * repeat);
  for (int r = 0; r < repeat; ++r) {
    for (const std::string& m : base) {
      if (!unique) {
        all.push_back(m);
        continue;
      }
      // MSH-10 is the 10th field: after the 9th field separator following "MSH".
      const char sep = m.size() > 3 ? m[3] : '|';
      size_t pos = 3, count = 0;
      while (pos < m.size() && count < 9) {
        pos = m.find(sep, pos + (count == 0 ? 0 : 1));
        if (pos == std::string::npos) break;
        ++count;
      }
      size_t end =
          pos == std::string::npos ? pos : m.find_first_of(std::string(1, sep) + "\r", pos + 1);
      if (pos == std::string::npos || end == std::string::npos) {
        all.push_back(m);
        continue;
      }
      std::string copy = m;
      copy.insert(end, "-" + std::to_string(r) + "-" + std::to_string(all.size()));
      all.push_back(std::move(copy));
    }
  }
  auto rep = live::SendMessages(all, o);
  if (!rep.ok()) return ReportError(rep.status());
  if (json) {
    std::printf("%s\n", live::SendReportJson(*rep).c_str());
  } else {
    std::printf(
        "sent %llu, acknowledged (AA) %llu, errors (AE) %llu, rejected (AR) %llu, no ACK %llu\n",
        (unsigned long long)rep->sent, (unsigned long long)rep->acknowledged,
        (unsigned long long)rep->errors, (unsigned long long)rep->rejected,
        (unsigned long long)rep->unacknowledged);
    std::printf(
        "%.0f messages/s over %.3f s; ACK latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f "
        "ms\n",
        rep->rate, rep->seconds, rep->p50_ms, rep->p90_ms, rep->p99_ms, rep->max_ms);
    for (const std::string& p : rep->problems) std::printf("  %s\n", p.c_str());
  }
  if (rep->unacknowledged > 0) {
    std::fprintf(stderr, "ark: %llu message(s) got no ACK\n",
                 (unsigned long long)rep->unacknowledged);
    return 1;
  }
  return 0;
}

}  // namespace

ARK_COMMAND(kSendHl7, "send-hl7",
            "send HL7 v2 messages over MLLP (a load generator with ACK statistics)", SendHl7);

}  // namespace ark::cli
