// Compact in-memory rows of the synthetic region's files, produced per shard of people and
// sorted and printed by the writer (writer.h).
//
// Every row carries (person, seq): the global person index and a per-person sequence number.
// Sorting by (time, person, seq) is a total order, so the output does not depend on how people
// were split over threads. Times are minutes since 1970-01-01 (local time) in int32; days are
// days since 1970-01-01. kNoTime marks an empty time or day.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "synth/codes.h"

namespace ark::synth {

constexpr int32_t kNoTime = INT32_MIN;
constexpr int32_t kNoValue = INT32_MIN;  // value10 of a row without a value
constexpr uint32_t kNoSpell = 0xFFFFFFFF;

inline int32_t MinutesOfDay(int32_t day) { return day * 1440; }
inline int32_t DayOfMinutes(int32_t minutes) { return minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440); }

struct GpEventRow {
  int32_t day;
  uint32_t person, seq;
  uint32_t patient_id;  // resolved GP patient_id
  Gp code;
  int32_t value10;      // value x 10, or kNoValue
};

struct AeRow {
  int32_t arrival, departure;
  uint32_t person, seq;
  uint32_t mrn;  // index into the person's mrns (resolved to the global mrn number)
  ArrivalMode mode;
  Disposal disposal;
  Complaint complaint;
};

struct SpellRow {
  int32_t admitted, discharged;  // discharged = kNoTime while still in hospital
  uint32_t person, seq;
  uint32_t mrn;
  uint32_t spell_no;  // per-person spell number; (person, spell_no) keys the spell
  AdmissionMethod method;
  DischargeDest dest;
  uint8_t ward;
  Icd primary;
  Icd secondary[3];
  uint8_t num_secondary;
  Opcs opcs[2];
  uint8_t num_opcs;
};

struct LabRow {
  int32_t collected;
  uint32_t person, seq;
  uint32_t mrn;
  uint32_t spell_no;  // kNoSpell for ED / outpatient results
  Lab code;
  int32_t value10;
};

struct ContactRow {
  int32_t day;
  uint32_t person, seq;
  uint32_t client;
  Service service;
  ContactType type;
};

struct AssessmentRow {
  int32_t day;
  uint32_t person, seq;
  uint32_t social_id;
  AssessmentType type;
  Outcome outcome;
};

struct ServiceRow {
  int32_t start, end;  // end = kNoTime when ongoing at the end of the window
  uint32_t person, seq;
  uint32_t social_id;
  CareService type;
  int32_t hours10;  // weekly hours x 10, or kNoValue
};

// One row of truth/episodes.csv.
struct EpisodeRow {
  int32_t time;  // minutes
  uint32_t person;
  Pathway pathway;
  uint16_t episode, step;
  const char* activity;  // static string
};

// One identity record of a custodian (a row of gp/patients.csv, acute/patients.csv, ...).
struct IdentityRow {
  uint32_t person;
  uint64_t local_id;     // numeric local id (GP patient_id, mrn number, ...)
  std::string nhs;       // as the custodian holds it: plain, spaced, corrupted or empty
  std::string given;     // given name(s) as recorded
  std::string family;
  int32_t dob;           // date of birth as recorded (day/month may be swapped)
  char sex;
  uint32_t postcode;     // index into World postcodes
  int32_t from = kNoTime, to = kNoTime;  // GP registration period (days); to = kNoTime if open
  uint16_t practice = 0;
  int32_t death_day = kNoTime;  // deaths only
  Icd cause = Icd::kX59;        // deaths only
};

// Truth about one person (truth/persons.csv).
struct PersonTruthRow {
  uint32_t person;
  uint64_t nhs;
  char sex;
  int32_t dob;
  uint32_t lsoa;           // last small area in the window
  int32_t practice;        // latest practice, -1 if never registered
  int32_t death_day;       // kNoTime if alive at the end of the window
  bool optout;
  // truth/emergency_risk.csv: the day the risk is taken (kNoTime: not in the region then), the
  // probability of at least one emergency admission in the 12 months from it, and whether one
  // happened.
  int32_t risk_day = kNoTime;
  double risk = 0;
  bool admitted = false;
};

// Everything generated for one shard of people, in person order.
struct ShardOutput {
  std::vector<PersonTruthRow> persons;
  std::vector<GpEventRow> gp_events;
  std::vector<AeRow> ae;
  std::vector<SpellRow> spells;
  std::vector<LabRow> labs;
  std::vector<ContactRow> contacts;
  std::vector<AssessmentRow> assessments;
  std::vector<ServiceRow> services;
  std::vector<EpisodeRow> episodes;
  std::vector<IdentityRow> gp_patients, acute_patients, clients, social_people, deaths;
};

}  // namespace ark::synth
