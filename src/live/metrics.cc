#include "live/metrics.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace ark::live {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {
  for (auto& c : counts_) c.store(0);
}

void Histogram::Observe(double s) {
  if (!(s >= 0)) s = 0;
  size_t i = 0;
  while (i < bounds_.size() && s > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(std::min(s, 1e12) * 1e6), std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::Counts() const {
  std::vector<uint64_t> out;
  for (const auto& c : counts_) out.push_back(c.load());
  return out;
}

double Histogram::Quantile(double q) const {
  const uint64_t n = count_.load();
  if (n == 0) return 0;
  const uint64_t want = static_cast<uint64_t>(std::ceil(q * n));
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    acc += counts_[i].load();
    if (acc >= want) return i < bounds_.size() ? bounds_[i] : INFINITY;
  }
  return INFINITY;
}

void Histogram::Write(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    acc += counts_[i].load();
    const std::string le = i < bounds_.size() ? fmt::format("{}", bounds_[i]) : "+Inf";
    *out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, le, acc);
  }
  const std::string l = labels.empty() ? "" : "{" + labels + "}";
  *out += fmt::format("{}_sum{} {}\n", name, l, sum_us_.load() / 1e6);
  *out += fmt::format("{}_count{} {}\n", name, l, count_.load());
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
          0.05,   0.1,     0.25,   0.5,   1,     2.5,   5,    10};
}
std::vector<double> EventLatencyBuckets() {
  return {0.001, 0.01, 0.1, 1, 10, 60, 300, 3600, 86400, 7 * 86400.0, 30 * 86400.0};
}

Metrics::Metrics()
    : ack_latency(LatencyBuckets()),
      action_receipt(LatencyBuckets()),
      action_event(EventLatencyBuckets()),
      commit_latency(LatencyBuckets()),
      snapshot_stall(LatencyBuckets()),
      snapshot_encode(LatencyBuckets()),
      risk_rescore(LatencyBuckets()),
      risk_from_receipt(LatencyBuckets()) {
  started_us = NowMicros();
}

void Metrics::CountType(const std::string& type) {
  std::lock_guard<std::mutex> l(mu_);
  ++by_type_[type];
}

std::string Metrics::Prometheus() const {
  std::string o;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  o += "# HELP ark_live_messages_total Messages received, by outcome.\n# TYPE "
       "ark_live_messages_total counter\n";
  o += fmt::format("ark_live_messages_total{{outcome=\"accepted\"}} {}\n", accepted.load());
  o += fmt::format("ark_live_messages_total{{outcome=\"duplicate\"}} {}\n", duplicates.load());
  o += fmt::format("ark_live_messages_total{{outcome=\"error\"}} {}\n", errors.load());
  o += fmt::format("ark_live_messages_total{{outcome=\"rejected\"}} {}\n", rejected.load());
  {
    std::lock_guard<std::mutex> l(mu_);
    o += "# HELP ark_live_messages_by_type_total Accepted messages by type.\n# TYPE "
         "ark_live_messages_by_type_total counter\n";
    for (const auto& [t, n] : by_type_)
      o += fmt::format("ark_live_messages_by_type_total{{type=\"{}\"}} {}\n", t, n);
  }
  counter("ark_live_fhir_records_total", "Records received through POST /fhir.",
          fhir_records.load());
  counter("ark_live_bytes_received_total", "Bytes received on MLLP connections.",
          bytes_received.load());
  counter("ark_live_frames_total", "MLLP frames received.", frames.load());
  counter("ark_live_connections_total", "MLLP connections accepted.", connections_total.load());
  gauge("ark_live_connections_open", "MLLP connections open.",
        static_cast<double>(connections_open.load()));
  counter("ark_live_commit_groups_total", "Group commits (one fdatasync each) of live records to the store's WAL.",
          groups.load());
  counter("ark_live_log_bytes_total", "Bytes of live records written to the store's WAL.", log_bytes.load());
  counter("ark_live_store_events_total", "Events appended to the timeline store's live delta.",
          store_events.load());
  counter("ark_live_store_errors_total", "Failed store appends or compactions.",
          store_errors.load());
  counter("ark_live_compactions_total", "Background compactions of the store.", compactions.load());
  counter("ark_live_snapshots_total", "Live snapshots written.", snapshots.load());
  gauge("ark_live_snapshot_bytes", "Size of the last live snapshot.",
        static_cast<double>(snapshot_bytes.load()));
  counter("ark_live_alerts_total", "Alerts emitted.", alerts.load());
  counter("ark_live_webhook_deliveries_total", "Alerts delivered to webhooks.",
          webhook_sent.load());
  counter("ark_live_webhook_failures_total", "Webhook attempts that failed (retried).",
          webhook_failed.load());
  gauge("ark_live_sse_clients", "Open alert streams.", static_cast<double>(sse_clients.load()));
  // Ingest rate: accepted messages per second over the last ~10 s of scrapes (or since start).
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t now = NowMicros();
    const uint64_t acc = accepted.load();
    samples_.emplace_back(now, acc);
    while (samples_.size() > 2 && now - samples_[1].first > 10'000'000)
      samples_.erase(samples_.begin());
    double rate = 0;
    if (samples_.size() >= 2 && now > samples_.front().first) {
      rate = (acc - samples_.front().second) / ((now - samples_.front().first) / 1e6);
    } else if (now > started_us.load()) {
      rate = acc / ((now - started_us.load()) / 1e6);
    }
    gauge("ark_live_ingest_rate", "Accepted messages per second (recent).", rate);
  }
  gauge("ark_live_uptime_seconds", "Seconds since start.", (NowMicros() - started_us.load()) / 1e6);
  o += "# HELP ark_live_ack_latency_seconds Receipt of a message to its ACK (after the "
       "fdatasync).\n# TYPE ark_live_ack_latency_seconds histogram\n";
  ack_latency.Write("ark_live_ack_latency_seconds", "", &o);
  o += "# HELP ark_live_commit_seconds One group commit of live records and their events to the store's WAL (write + fdatasync).\n# "
       "TYPE ark_live_commit_seconds histogram\n";
  commit_latency.Write("ark_live_commit_seconds", "", &o);
  o += "# HELP ark_live_snapshot_stall_seconds Taking one live snapshot's cut (copies of the "
       "live state) on the committer thread: acknowledgements wait meanwhile.\n# TYPE "
       "ark_live_snapshot_stall_seconds histogram\n";
  snapshot_stall.Write("ark_live_snapshot_stall_seconds", "", &o);
  o += "# HELP ark_live_snapshot_encode_seconds Encoding one live snapshot on the snapshot thread "
       "(acknowledgements go on; the write and fsync follow on the same thread).\n# TYPE "
       "ark_live_snapshot_encode_seconds histogram\n";
  snapshot_encode.Write("ark_live_snapshot_encode_seconds", "", &o);
  o += "# HELP ark_live_data_action_latency_seconds Time to an emitted alert, from our receipt of "
       "the message (from=\"receipt\") or from the event time EVN-6 (from=\"event\").\n# TYPE "
       "ark_live_data_action_latency_seconds histogram\n";
  action_receipt.Write("ark_live_data_action_latency_seconds", "from=\"receipt\"", &o);
  action_event.Write("ark_live_data_action_latency_seconds", "from=\"event\"", &o);
  if (risk_rescore.count() > 0) {
    o += "# HELP ark_live_risk_rescore_seconds Live risk: re-scoring one person after an event (the "
         "feature update and the model).\n# TYPE ark_live_risk_rescore_seconds histogram\n";
    risk_rescore.Write("ark_live_risk_rescore_seconds", "", &o);
    o += "# HELP ark_live_risk_latency_seconds Live risk: our receipt of the message to the person's "
         "new score (includes the store WAL's fdatasync).\n# TYPE ark_live_risk_latency_seconds histogram\n";
    risk_from_receipt.Write("ark_live_risk_latency_seconds", "from=\"receipt\"", &o);
  }
  return o;
}

}  // namespace ark::live
