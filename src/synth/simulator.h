// PersonSim: the life of one synthetic person over the observation window.
//
// Run(index) draws the person (age, sex, names, area, practice, long-term conditions), walks
// through the window a year at a time (moves, deaths, background care, pathway episodes) and
// appends the person's rows to a ShardOutput: custodian event rows, identity records with the
// errors each custodian makes, and the truth. The person's random stream depends only on
// (seed, index), so the output does not depend on threads or shards.
//
// The implementation is split by topic: simulator.cc (life course, emit helpers),
// simulator_finish.cc (resolving ids, identity records), acute.cc (A&E, spells and their labs,
// electives, readmissions, final admissions), pathways.cc (COPD, falls, sepsis, community AKI,
// social care around discharge), care.cc (GP background, diabetes, community and social care).
// Not thread-safe: use one PersonSim per thread; a World may be shared.
#pragma once

#include <cstdint>
#include <vector>

#include "synth/names.h"
#include "synth/records.h"
#include "synth/rng.h"
#include "synth/world.h"

namespace ark::synth {

class PersonSim {
 public:
  explicit PersonSim(const World& world) : world_(world), rng_(0) {}
  // Simulates person `index` (0-based) and appends its rows to *out.
  void Run(uint32_t index, ShardOutput* out);

 private:
  struct Residence {
    int32_t day;
    uint32_t lsoa, postcode;
  };
  struct Registration {
    int32_t from, to;  // to = kNoTime while registered
    uint16_t practice;
  };
  // A planned hospital spell; RunSpell turns it into rows.
  struct SpellPlan {
    AdmissionMethod method = AdmissionMethod::kEmergencyAe;
    Icd primary = Icd::kR074;
    Icd secondary[3] = {};
    int num_secondary = 0;
    Opcs opcs[2] = {};
    int num_opcs = 0;
    int32_t admitted = 0;        // minutes
    double los_days = 1;         // length of stay
    DischargeDest dest = DischargeDest::kUsualResidence;
    bool infection = false;      // raised CRP
    bool sepsis = false;         // lactate measured, raised
    double aki_risk = 1;         // multiplier on the AKI complication risk
    bool no_aki = false;
    bool dies = false;           // dies in hospital at the end of the stay
    Icd death_cause = Icd::kCount;  // underlying cause if dies (kCount: the primary diagnosis)
    int force_aki_stage = 0;     // community-acquired AKI already detected (stage 1-3)
    uint16_t aki_episode = 0;    // its AKI episode
    double hb_drop = 0;          // fall in haemoglobin (g/L), e.g. after a hip fracture
    uint16_t group = 0;          // encounter group (ties A&E, spell and labs together)
    Pathway pathway = Pathway::kCount;  // episode the spell belongs to, if any
    uint16_t episode = 0;
  };
  struct SpellResult {
    int32_t discharged;  // minutes
    bool died;
    bool aki;
  };

  // ---- life course (simulator.cc)
  void Init(uint32_t index);
  void SimulateYears();
  // A move on `day` (a care home in the same district when to_care_home); may change practice.
  void Move(int32_t day, bool to_care_home);
  // Death on `day` from the mortality model: in hospital (a final admission), A&E or elsewhere.
  void NaturalDeath(int32_t day);
  // Marks the person dead; an ongoing spell ends in death; the GP deducts the person later.
  void Die(int32_t minute, Icd cause);
  // Underlying cause for a death on `day`, by age, sex and conditions.
  Icd DrawCause(int32_t day);
  void UpdateConditions(int32_t from, int32_t to, double age);

  // ---- hazards (simulator.cc) and the truth risk built from them (risk.cc)
  // Annual rates of the occurrences of a year, from the person's state at its start; 0 when
  // the occurrence cannot happen (SimulateYears then draws nothing for it).
  struct YearRates {
    double move = 0, ae = 0, elective = 0, gp_emergency = 0, copd = 0, fall = 0, community_aki = 0, sepsis = 0,
           social_needs = 0, carer = 0, district_nursing = 0;
  };
  YearRates Rates(double age, int d) const;
  // Annual natural-death hazard.
  double DeathHazard(double age, int d) const;
  // Probabilities that an occurrence ends in an emergency admission (the draws use them too).
  double AeAdmitProbability(double age) const;           // background A&E attendance -> admitted
  double CopdSevereProbability(double age, int d) const; // exacerbation -> severe -> admitted
  double HipFractureProbability(double age) const;       // fall at A&E -> hip fracture (admitted)
  double FallAdmitProbability() const;                   // other falls at A&E -> admitted
  double TerminalAdmissionProbability() const;           // natural death -> admitted to die
  static constexpr double kFallToAe = 0.75;              // a fall is seen in A&E
  static constexpr double kAkiStage1 = 0.6;              // community AKI is stage 1
  static constexpr double kAkiStage1AtHome = 0.6;        // stage 1 managed in primary care
  static constexpr double kDiesInAe = 0.06;              // a terminal admission dies in A&E instead
  // Probability of at least one emergency admission in [t0, y1) (a whole calendar year), from
  // the year's rates and death hazard (docs/synthetic-region.md, "Emergency admission risk").
  double EmergencyAdmissionRisk(int32_t t0, int32_t y1, const YearRates& rates, double death_hazard) const;

  // ---- state
  double AgeAt(int32_t day) const { return (day - dob_) / 365.25; }
  const Residence& ResidenceAt(int32_t day) const;
  int Decile() const;
  int Conditions() const { return copd_ + t2dm_ + htn_ + ckd_ + asthma_; }
  // A random minute of `day` between hour_lo:00 and hour_hi:00.
  int32_t Minutes(int32_t day, int hour_lo, int hour_hi);
  // `day`, moved off a weekend to the Monday after.
  int32_t Weekday(int32_t day);
  bool IsWinter(int32_t day) const;

  // ---- emitters
  void GpEvent(int32_t day, Gp code, int32_t value10 = kNoValue);
  // A GP creatinine test: a GP event and an outpatient result in the trust's lab.
  void GpCreatinine(int32_t day, double value);
  uint16_t NewGroup() { return ++groups_; }
  // An A&E attendance; its length follows the disposal, season and year. Returns the departure.
  int32_t AeVisit(int32_t arrival, Complaint complaint, Disposal disposal, bool ambulance, uint16_t group);
  void LabResult(int32_t minute, Lab code, double value, uint32_t spell_no, uint16_t group);
  void Contact(int32_t day, Service service, bool phone);
  void Assessment(int32_t day, AssessmentType type, Outcome outcome);
  void CareServiceRow(CareService type, int32_t start, int32_t end, double weekly_hours);
  uint16_t NewEpisode(Pathway p) { return ++episodes_[static_cast<int>(p)]; }
  void Step(Pathway p, uint16_t episode, int32_t minute, const char* activity);

  // ---- acute care (acute.cc)
  // Emits the spell of `plan` (maybe with an AKI complication: N17.9, creatinine course, truth
  // episode) and its labs; marks the person in hospital until discharge; dies if plan.dies.
  SpellResult RunSpell(const SpellPlan& plan);
  // Admission bloods, up to three morning repeats, lactate in sepsis; creatinine follows the
  // AKI course (onset, peak at `ratio` x baseline, recovery) when `aki`.
  void SpellLabs(const SpellPlan& plan, uint32_t spell_no, int32_t discharged, bool aki, int32_t aki_onset,
                 int32_t aki_peak, double ratio);
  double Creatinine(double mult) { return creat_base_ * mult * rng_.Normal(1, 0.035); }
  void BackgroundAe(int32_t day);
  void Elective(int32_t day);
  void GpEmergency(int32_t day);
  // An emergency readmission within 30 days of `discharged`, with probability p.
  void MaybeReadmit(int32_t discharged, double p);
  double ReadmissionRisk(double age);
  void CopdExacerbation(int32_t day);
  void Fall(int32_t day);
  void Sepsis(int32_t day);
  void CommunityAki(int32_t day);
  void TerminalAdmission(int32_t day, Icd cause);
  int32_t AeArrival(int32_t day);
  // Social care around a discharge: assessment, reablement, home care or a care home. Returns
  // the discharge delay in days; *care_home is set on a care-home admission. Falls-pathway
  // steps are recorded when fall_episode != 0.
  int DischargeSupport(int32_t medically_fit_day, int32_t admitted_day, uint16_t fall_episode, bool hip,
                       bool* care_home);
  std::vector<Icd> Comorbidities(int max);

  // ---- primary, community and social care (care.cc)
  void GpYear(int32_t from, int32_t to, double age);
  void AnnualReview(int32_t day, double age);
  void DiabetesYear(int32_t from, int32_t to);
  void SocialNeeds(int32_t day);
  void CarerAssessment(int32_t day);
  void DistrictNursing(int32_t day, int visits);
  void StartHomeCare(int32_t day, double hours);
  void EnterCareHome(int32_t day, bool nursing);
  void SocialCareYear(int32_t from, int32_t to);

  // ---- finishing (simulator_finish.cc)
  void Finish(ShardOutput* out);
  void ClampToLife();
  void EmitIdentities(ShardOutput* out, bool acute, bool community, bool social);
  IdentityRow MakeIdentity(int custodian, int32_t as_of);

  const World& world_;
  Rng rng_;
  ShardOutput* out_ = nullptr;

  // Person.
  uint32_t index_ = 0;
  char sex_ = 'F';
  int32_t dob_ = 0, entry_ = 0;
  PersonName name_;
  NameId former_family_ = kNoName;
  int32_t name_change_day_ = kNoTime;
  bool optout_ = false, never_registers_ = false, dup_mrn_ = false;
  std::vector<Residence> residences_;
  std::vector<Registration> registrations_;
  int32_t death_minute_ = kNoTime, natural_death_day_ = kNoTime;
  Icd death_cause_ = Icd::kX59;
  bool dead_ = false;
  // Truth risk: the day it is taken (1 January of the last year of the window) and the
  // probability, or -1 when the person is not in the region on that day.
  int32_t risk_day_ = kNoTime;
  double risk12_ = -1;

  // Health.
  bool copd_ = false, asthma_ = false, t2dm_ = false, htn_ = false, ckd_ = false, care_home_ = false;
  int smoking_ = 0;   // 0 never, 1 ex, 2 current
  int frailty_ = 0;   // 0 fit, 1 mild, 2 moderate, 3 severe
  double frailty_effect_ = 0, creat_base_ = 80, sbp_base_ = 125, bmi_base_ = 26;
  double hba1c_ = 50, hba1c_drift_ = 0;
  int32_t next_hba1c_ = kNoTime, diabetes_diag_ = kNoTime;
  uint16_t diabetes_episode_ = 0;
  int32_t busy_until_ = kNoTime;  // in hospital until (minutes)
  int32_t last_acute_ = kNoTime;  // latest acute activity (minutes)
  int home_care_row_ = -1;        // index in buf_.services of the open home care package
  int care_home_row_ = -1;        // index in buf_.services of the care home placement
  int32_t last_lactate_ = kNoTime;  // time of the latest first lactate of a spell
  std::vector<int32_t> gp_creatinine_;  // minutes of GP creatinine tests

  // Rows of this person before ids are resolved (mrn fields hold the encounter group).
  ShardOutput buf_;
  uint32_t seq_ = 0, spells_ = 0;
  uint16_t groups_ = 0;
  uint16_t episodes_[static_cast<int>(Pathway::kCount)] = {};
  int open_spell_ = -1;  // index in buf_.spells of the latest spell
  Pathway open_spell_pathway_ = Pathway::kCount;
  uint16_t open_spell_episode_ = 0;
};

}  // namespace ark::synth
