// The operations view's data (docs/api.md, "Operations"): who sees it, the disclosure rules on the
// live indicators' counts of people, the clinical indicators as Prometheus gauges for /metrics,
// and the data-action latency histogram.
//
// Who: the operations routes (GET /api/v1/live/feeds, /api/v1/live/latency) are for the roles that
// run the service, `engineer` and `admin`, and for the interim API token (the listener's own
// token, held by the service's clinical dashboards). Every count of people that a governance user
// sees (indicators, alert counts, the clinical gauges of /metrics) goes through the OpenSAFELY
// count rule (disclosure/opensafely.h: <= 7 redacted, then rounded to 5; rates from the rounded
// counts): no governance role is a clinical one. Only the interim token sees exact counts.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>

#include "live/metrics.h"
#include "server/auth.h"

namespace ark::server {

// engineer, admin, or the interim token.
bool SeesOperations(const Principal& p);
// Only the interim token (the clinical reader) sees exact counts of people.
bool SeesExactCounts(const Principal& p);

// The indicators (LiveState::IndicatorsJson, with "risk" when live risk runs) with every count of
// people published under the disclosure rule (null when redacted), rates recomputed from the
// published counts, and "disclosure" saying which rule applied. Counts of messages, results and
// observation sets are not counts of people and stay exact. `exact` leaves the counts as they are.
std::string DiscloseIndicators(const std::string& indicators_json, bool exact);

// Clinical indicators as Prometheus gauges (ark_live_beds_occupied, ark_live_ae_4h_*,
// ark_live_readmissions_30d_*, ark_live_aki_persons{stage}, ark_live_news2_persons{score}),
// from DiscloseIndicators' output; a redacted count has no sample.
std::string ClinicalPrometheus(const std::string& disclosed_json);

// The data-action latency histograms (receipt → alert, event time → alert) as JSON:
// {"from_receipt": H, "from_event": H}, H = {"count", "sum_seconds", "p50_seconds",
// "p95_seconds", "buckets": [{"le": upper bound in seconds or null for +Inf, "count"}]}
// with per-bucket (not cumulative) counts.
std::string LatencyJson(const live::Metrics& m);

}  // namespace ark::server
