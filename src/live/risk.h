// Live risk: a trained risk model (`ark model train`, docs/risk-models.md) kept up to date per
// event in `ark serve` (docs/live.md, "Live risk").
//
// State: one feature row per person of the baseline (the model's study definition evaluated once,
// by the batch engine, at a baseline date when the server starts) and the person's current risk.
// A live record changes a row only through the features that are plain `exists`/`count`
// aggregates of a codelist (FeatureUpdate): the record's codes (LiveCodes) are matched against
// each such codelist and the feature is set (exists) or incremented (count); the person is then
// re-scored from the row alone (logistic formula, or the boosted trees loaded once), never from
// the timeline. Other features (age, sex, deprivation, expressions) stay at the baseline.
//
// Alerts: a rule whose signal is "risk" (rules.h) fires when a re-score crosses it: the new risk
// matches `op value` and the previous one did not. Alert ids are 64 × the record's seq + the
// rule's index, as LiveState's. The alert names the person's key and registered practice (direct
// care): it goes only where other live alerts go (authenticated API, SSE, webhooks).
//
// Restart: the state is derived, not stored. The baseline reads every feed but the live one
// (source "live"), and the ingestor replays every record of the live log through Replay before
// the server accepts messages (Ingestor::SetRisk), so each acknowledged event counts exactly once
// (the log holds every acknowledged record once, whatever the store had received at a crash) and
// a person who had crossed a rule's threshold is above it again without a new alert.
//
// Not thread-safe: the ingestor calls Apply on its committer thread and Json under its state lock.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ark/status.h"
#include "live/metrics.h"
#include "live/pseudo.h"
#include "live/rules.h"
#include "live/state.h"
#include "stats/score.h"
#include "study/definition.h"

namespace ark::live {

// A feature a live event can change: column `feature`, an exists or count of `codelist`; events
// before day `from_day` (the window's start at the baseline date; INT32_MIN for none) do not count.
struct FeatureUpdate {
  size_t feature = 0;
  bool count = false;  // false: exists (set to 1)
  study::Codelist codelist;
  int32_t from_day = INT32_MIN;
};

// Who is scored at the start: rows of the model's features (columns as scorer.features).
struct RiskBaseline {
  std::string date;  // YYYY-MM-DD
  std::vector<PersonKey> persons;
  std::vector<std::string> practice;  // per person ("" when none)
  stats::Design x;
};

// The codes a live record stands for, as the batch feeds code the same events (SYSTEM/CODE, with
// the event's time): its timeline-store events (StoreEvents: results as LOINC/..., SNOMED/...,
// ADT as HL7/ADT_A01 ...), plus an A&E arrival (A04, patient class E or none) as `AE/attendance`
// and an emergency admission (A01 with PV1-4 an admission method 21-28, or EM/E/A/U or patient
// class E) as `ADMIMETH/<method>` (21 for patient class E, else 28 "other means").
std::vector<std::pair<std::string, Seconds>> LiveCodes(const PseudoRecord& r);

class LiveRisk {
 public:
  // Errors: InvalidArgument when the baseline's columns are not the scorer's, or a feature index
  // is out of range; the booster's load error for gbt.
  static Result<std::unique_ptr<LiveRisk>> Create(stats::Scorer scorer, std::vector<FeatureUpdate> updates,
                                                  RiskBaseline baseline, RuleSet rules, Metrics* metrics);

  // Updates the person's row from the record and re-scores when it changed; returns the alerts
  // of "risk" rules the re-score crossed (emitted_us left 0).
  std::vector<Alert> Apply(const PseudoRecord& r);
  // As Apply for a record acknowledged before this start (the live log, at restart): the row and
  // the risk change and no latency is observed; returns the alerts Apply raised for it then, for
  // the recent-alerts list only (they are not emitted again).
  std::vector<Alert> Replay(const PseudoRecord& r);
  // {"model","baseline_date","persons","features_live","events","rescored","alerts","replayed",
  //  "risk_total","at_or_above":{rule:count},
  //  "rescore_ms":{"p50","p99","max"},"from_receipt_ms":{"p50","p99","max"}} over the last 10,000
  // re-scores (exact quantiles). "replayed": live-log records re-applied at start; "risk_total":
  // the sum of everyone's current risk (the same bits before and after a restart);
  // "at_or_above": per "risk" rule, how many people match it now. Counts, no person.
  std::string Json() const;
  // The current risk of a person of the baseline (tests); NotFound otherwise.
  Result<double> RiskOf(PersonKey p) const;

 private:
  LiveRisk() = default;
  Result<double> Score(const double* row) const;
  // Updates the row of `r`'s person; its index when the row changed and was re-scored (the
  // previous risk in *before), SIZE_MAX otherwise.
  size_t Update(const PseudoRecord& r, double* before);
  // The alerts of the "risk" rules the re-score of row `at` from `before` crossed.
  std::vector<Alert> Crossed(const PseudoRecord& r, size_t at, double before) const;

  stats::Scorer scorer_;
  std::unique_ptr<stats::GbtPredictor> gbt_;
  std::vector<FeatureUpdate> updates_;
  RiskBaseline base_;
  std::unordered_map<PersonKey, size_t> row_of_;
  std::vector<double> risk_;
  // Kept per re-score (Json takes no pass over everyone): the sum of risk_ (the baseline's in row
  // order, then each change in record order: the same bits after a restart) and, per rule, how
  // many people match it (0 for rules on other signals).
  double total_ = 0;
  std::vector<uint64_t> above_;
  RuleSet rules_;
  Metrics* metrics_ = nullptr;
  uint64_t events_ = 0, rescored_ = 0, alerts_ = 0, replayed_ = 0;
  std::deque<double> rescore_us_, receipt_us_;  // the last 10,000
};

}  // namespace ark::live
