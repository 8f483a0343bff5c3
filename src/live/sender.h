// The MLLP client behind `ark send-hl7` and the live benchmarks: sends messages over C
// connections (message i on connection i mod C), each with up to `window` messages awaiting their
// ACK (window 1 = the usual HL7 sender, waiting for each ACK before the next message), optionally
// paced to `rate` messages per second in total; counts ACK codes (MSA-1) and ACK latencies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::live {

struct SendOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 2575;
  int connections = 1;
  int window = 1;
  double rate = 0;         // messages per second in total; 0 = as fast as ACKs allow
  int timeout_ms = 30000;  // no ACK for this long: the connection is given up
};

struct SendReport {
  uint64_t sent = 0, acknowledged = 0 /*AA*/, errors = 0 /*AE*/, rejected = 0 /*AR*/,
           unacknowledged = 0;
  double seconds = 0, rate = 0;  // acknowledged-or-not messages answered per second
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  std::vector<std::string> problems;  // first few errors (ERR text, lost connections)
};

// Parses "HOST:PORT". Errors: InvalidArgument.
Status ParseHostPort(const std::string& text, std::string* host, uint16_t* port);

// Errors: IOError when no connection could be opened. A connection lost later is reported in
// `problems`, its messages without an ACK in `unacknowledged`.
Result<SendReport> SendMessages(const std::vector<std::string>& messages, const SendOptions& opts);
std::string SendReportJson(const SendReport& r);

// MSA-1 of an ACK message, the acknowledgement code ("" when absent).
std::string AckCode(std::string_view ack);
// MSA-2 of an ACK message, the control id of the message acknowledged ("" when absent).
std::string AckControlId(std::string_view ack);

}  // namespace ark::live
