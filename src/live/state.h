// Live state: indicators updated per event and the alerts they raise.
//
// Apply() takes one pseudonymised record (person keys assigned) and updates:
//   - bed occupancy by site and ward (A01 admit places the person, A02 moves, A03 releases,
//     A08 updates the place of a person in a bed);
//   - A&E 4-hour performance for the feed's current day: an A04 with patient class E (or none)
//     opens an attendance at its event time; A01 (admitted) or A03 closes it; closed within 4 h
//     counts as met. "Today" is the day of the latest event time seen (the feed's clock), so a
//     replayed feed gives the same figures;
//   - 30-day emergency readmissions, flagged when the emergency admission arrives
//     (clinical/readmission.h; last discharge per person from A03);
//   - AKI stage per creatinine result over the person's results of the last 365 days
//     (clinical/aki.h);
//   - NEWS2 per message carrying vital signs (clinical/news2.h; LOINC codes in docs/live.md).
// and returns the alerts that the rules (rules.h) raise for the signals of this record. Alert ids
// are derived from the record's log position, so a replay produces the same ids.
//
// A40 merges move the merged-away person's live state onto the surviving person.
//
// Not thread-safe: the ingestor serialises Apply and guards reads with its own mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "clinical/aki.h"
#include "live/pseudo.h"
#include "live/rules.h"

namespace ark::live {

struct Alert {
  uint64_t id = 0;
  std::string rule, signal, severity;
  double value = 0;
  PersonKey person = kNoPerson;
  std::string site, ward, message_type, control_id;
  std::string practice;  // live risk alerts: the person's registered practice (JSON only when set)
  Seconds event_time = kNoTime;
  int64_t received_us = 0, emitted_us = 0;
};
std::string AlertJson(const Alert& a);

struct Signal {
  std::string name;
  double value;
};

class LiveState {
 public:
  explicit LiveState(RuleSet rules) : rules_(std::move(rules)) {}

  // Updates the indicators; returns the alerts raised (emitted_us left 0 for the caller).
  std::vector<Alert> Apply(const PseudoRecord& r);
  // The signals the last Apply produced (for tests).
  const std::vector<Signal>& last_signals() const { return signals_; }
  // Current indicator values as a JSON object (text).
  std::string IndicatorsJson() const;
  const RuleSet& rules() const { return rules_; }
  size_t persons() const { return persons_.size(); }

  // Binary form of everything but the rules (live/state_codec.cc), for the live snapshot.
  // Decode replaces this state's contents; on error (Corruption naming the part) it is unchanged.
  void Encode(std::string* out) const;
  Status Decode(std::string_view data);

 private:
  struct Place {
    std::string site, ward, bed;
  };
  struct PersonState {
    bool in_bed = false;
    Place place;
    Seconds last_discharge = kNoTime;
    Seconds ae_arrival = kNoTime;
    std::vector<clinical::Creatinine> creatinine;  // last 365 days, time order
    int aki_stage = 0;
    int news2 = -1;
    bool news2_single3 = false;
  };
  struct DayAe {
    uint64_t arrivals = 0, within = 0, breached = 0;
  };

  void Leave(PersonState& p);
  void Enter(PersonState& p, const Place& place);
  void CloseAttendance(PersonState& p, Seconds t);
  void SetAki(PersonState& p, int stage);
  void SetNews(PersonState& p, int score, bool single3);
  void Merge(PersonKey from, PersonKey into);
  void Results(const PseudoRecord& r, PersonState& p);

  RuleSet rules_;
  std::vector<Signal> signals_;
  std::unordered_map<PersonKey, PersonState> persons_;
  std::map<std::string, std::map<std::string, int64_t>> beds_;  // site -> ward -> occupied
  std::map<int32_t, DayAe> ae_days_;                            // day -> A&E counts (last 8 days)
  int64_t ae_open_ = 0;
  Seconds clock_ = kNoTime;  // latest event time
  uint64_t records_ = 0, emergency_admissions_ = 0, readmissions_ = 0, creatinine_results_ = 0,
           news2_sets_ = 0;
  std::map<int32_t, std::pair<uint64_t, uint64_t>>
      readmit_days_;  // day -> (emergency admissions, readmissions)
  int64_t aki_persons_[4] = {0, 0, 0, 0};
  int64_t news2_5_ = 0, news2_7_ = 0, news2_single3_ = 0;
  std::map<std::string, uint64_t> alerts_by_rule_;
  uint64_t alerts_ = 0;
};

}  // namespace ark::live
