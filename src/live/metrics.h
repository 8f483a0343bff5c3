// Counters and histograms for `GET /metrics` (Prometheus text exposition format 0.0.4).
// All methods are thread-safe (atomics; the label maps take a mutex).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ark::live {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // upper bounds in seconds, ascending
  void Observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name` with extra `labels` ("" or `k="v"`).
  void Write(const std::string& name, const std::string& labels, std::string* out) const;
  uint64_t count() const { return count_.load(); }
  double sum_seconds() const { return sum_us_.load() / 1e6; }
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts, bounds().size() + 1 of them (the last is +Inf).
  std::vector<uint64_t> Counts() const;
  // Approximate quantile (upper bound of the bucket holding it), seconds.
  double Quantile(double q) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> counts_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

// Latency buckets from 100 µs to 10 s.
std::vector<double> LatencyBuckets();
// Buckets from 1 ms to 30 days (event time → alert spans replays of old feeds).
std::vector<double> EventLatencyBuckets();

struct Metrics {
  Metrics();
  std::atomic<uint64_t> connections_total{0}, connections_open{0};
  std::atomic<uint64_t> bytes_received{0}, frames{0};
  std::atomic<uint64_t> accepted{0}, duplicates{0}, errors{0}, rejected{0};
  std::atomic<uint64_t> fhir_records{0};
  std::atomic<uint64_t> groups{0}, group_records{0}, log_bytes{0};
  std::atomic<uint64_t> store_events{0}, store_errors{0}, compactions{0};
  std::atomic<uint64_t> alerts{0}, webhook_sent{0}, webhook_failed{0}, sse_clients{0};
  std::atomic<int64_t> started_us{0};
  Histogram ack_latency;     // receipt → ACK handed to the socket (includes the fsync)
  Histogram action_receipt;  // receipt → alert emitted
  Histogram action_event;    // EVN-6 event time → alert emitted
  Histogram commit_latency;  // one group commit (write + fdatasync)
  Histogram snapshot_stall;   // taking a live snapshot's cut on the committer (ACKs wait meanwhile)
  Histogram snapshot_encode;  // encoding it on the snapshot thread (ACKs go on)
  std::atomic<uint64_t> snapshots{0}, snapshot_bytes{0};
  Histogram risk_rescore;        // live risk (risk.h): one re-score (feature update + model)
  Histogram risk_from_receipt;   // receipt of the message → its person re-scored

  void CountType(const std::string& type);
  std::string Prometheus() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> by_type_;
  // Ingest rate over the last ~10 s: (time_us, accepted) samples taken by Prometheus().
  mutable std::vector<std::pair<int64_t, uint64_t>> samples_;
};

int64_t NowMicros();

}  // namespace ark::live
