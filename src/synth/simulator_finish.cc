// Finishing a person: rows are cut to the person's life and the window, local ids are resolved,
// and each custodian gets an identity record with the errors that custodian makes.
#include <algorithm>
#include <cctype>

#include "core/time.h"
#include "synth/nhs_number.h"
#include "synth/simulator.h"

namespace ark::synth {

namespace {
enum Custodian { kGp, kAcute, kCommunity, kSocial, kDeaths };
// Per custodian: nickname, typo, day/month swap (when possible), missing and invalid NHS number.
struct ErrorRates {
  double nickname, typo, swap, missing_nhs, invalid_nhs;
};
const ErrorRates kErrors[] = {
    {0.01, 0.03, 0.028, 0.0, 0.0},        // GP: NHS number always traced
    {0.04, 0.045, 0.028, 0.012, 0.008},   // acute: about 2% missing or invalid
    {0.05, 0.04, 0.028, 0.006, 0.004},    // community: about 1%
    {0.04, 0.05, 0.028, 0.10, 0.05},      // social care: about 15%
    {0.0, 0.02, 0.01, 0.003, 0.002},      // death registrations: about 0.5%
};
}  // namespace

IdentityRow PersonSim::MakeIdentity(int custodian, int32_t as_of) {
  const ErrorRates& e = kErrors[custodian];
  IdentityRow r;
  r.person = index_;
  r.sex = sex_;
  std::string given(GivenName(name_.given));
  if (rng_.Chance(e.nickname)) {
    std::string_view nick = Nickname(given, rng_);
    if (!nick.empty()) given = std::string(nick);
  }
  const bool with_middle = name_.middle != kNoName && (custodian == kDeaths || (custodian == kSocial && rng_.Chance(0.4)));
  std::string family(former_family_ != kNoName && as_of < name_change_day_ ? FamilyName(former_family_)
                                                                            : FamilyName(name_.family));
  if (rng_.Chance(e.typo)) {
    if (rng_.Chance(0.5)) given = Typo(given, rng_);
    else family = Typo(family, rng_);
  }
  if (with_middle) given += " " + std::string(GivenName(name_.middle));
  if (custodian == kAcute)
    for (char& c : family) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r.given = std::move(given);
  r.family = std::move(family);

  r.dob = dob_;
  const CivilDate b = CivilFromDays(dob_);
  if (b.day <= 12 && b.day != b.month && rng_.Chance(e.swap)) r.dob = DaysFromCivil(b.year, b.day, b.month);

  const uint64_t nhs = world_.nhs_number(index_);
  // Identifier quality follows deprivation, as it does in real extracts (people in deprived areas
  // move more, register late and are traced less often): from 1.6x the custodian's average rate in
  // decile 1 down to 0.5x in decile 10, about 1x overall.
  const double gradient = 1.6 - (Decile() - 1) * (1.1 / 9.0);
  const double u = rng_.Uniform();
  if (u < e.missing_nhs * gradient) r.nhs.clear();
  else if (u < (e.missing_nhs + e.invalid_nhs) * gradient) r.nhs = CorruptNhsNumber(nhs, custodian == kAcute, rng_);
  else r.nhs = FormatNhsNumber(nhs, custodian == kAcute);

  r.postcode = ResidenceAt(as_of).postcode;
  return r;
}

void PersonSim::ClampToLife() {
  const int32_t end_min = MinutesOfDay(world_.end_day() + 1) - 1;
  const int32_t limit_min = dead_ ? death_minute_ : end_min;
  const int32_t limit_day = DayOfMinutes(limit_min);
  const int32_t entry_min = MinutesOfDay(entry_);
  auto outside = [&](int32_t t) { return t < entry_min || t > limit_min; };
  std::erase_if(buf_.ae, [&](const AeRow& r) { return outside(r.arrival); });
  std::erase_if(buf_.spells, [&](const SpellRow& r) { return outside(r.admitted); });
  for (SpellRow& s : buf_.spells) {
    if (dead_ && s.discharged > death_minute_) {
      s.discharged = death_minute_;
      s.dest = DischargeDest::kDied;
    }
    if (s.discharged > end_min) s.discharged = kNoTime;  // still in hospital at the end of the window
  }
  std::erase_if(buf_.labs, [&](const LabRow& r) { return outside(r.collected); });
  std::erase_if(buf_.contacts, [&](const ContactRow& r) { return r.day < entry_ || r.day > limit_day; });
  std::erase_if(buf_.assessments, [&](const AssessmentRow& r) { return r.day < entry_ || r.day > limit_day; });
  std::erase_if(buf_.services, [&](const ServiceRow& r) { return r.start < entry_ || r.start > limit_day; });
  for (ServiceRow& s : buf_.services) {
    if (dead_ && (s.end == kNoTime || s.end > limit_day)) s.end = limit_day;
    else if (s.end != kNoTime && s.end > world_.end_day()) s.end = kNoTime;
  }
  std::erase_if(buf_.episodes, [&](const EpisodeRow& r) { return outside(r.time); });
  std::stable_sort(buf_.episodes.begin(), buf_.episodes.end(), [](const EpisodeRow& a, const EpisodeRow& b) {
    if (a.pathway != b.pathway) return a.pathway < b.pathway;
    if (a.episode != b.episode) return a.episode < b.episode;
    return a.time < b.time;
  });
  for (size_t i = 0; i < buf_.episodes.size(); ++i) {
    EpisodeRow& r = buf_.episodes[i];
    const bool first = i == 0 || buf_.episodes[i - 1].pathway != r.pathway || buf_.episodes[i - 1].episode != r.episode;
    r.step = first ? 1 : static_cast<uint16_t>(buf_.episodes[i - 1].step + 1);
  }
}

void PersonSim::Finish(ShardOutput* out) {
  ClampToLife();
  const int32_t start = world_.start_day(), end = world_.end_day();
  const int32_t limit_day = dead_ ? DayOfMinutes(death_minute_) : end;

  // GP events: only while registered, never on days spent in hospital (consultations).
  for (const GpEventRow& g : buf_.gp_events) {
    if (g.day < entry_ || g.day > limit_day) continue;
    int k = -1;
    for (size_t i = 0; i < registrations_.size(); ++i) {
      const Registration& r = registrations_[i];
      if (r.from <= g.day && (r.to == kNoTime || g.day < r.to)) k = static_cast<int>(i);
    }
    if (k < 0) continue;
    if (g.code == Gp::kConsultation || g.code == Gp::kTelephone) {
      bool inpatient = false;
      for (const SpellRow& s : buf_.spells) {
        int32_t out_day = s.discharged == kNoTime ? end + 1 : DayOfMinutes(s.discharged);
        if (g.day > DayOfMinutes(s.admitted) && g.day < out_day) inpatient = true;
      }
      if (inpatient) continue;
    }
    GpEventRow row = g;
    row.patient_id = static_cast<uint32_t>(10000000 + world_.gp_ids().Map(uint64_t{index_} * kMaxRegistrations + k));
    out->gp_events.push_back(row);
  }
  for (size_t k = 0; k < registrations_.size(); ++k) {
    const Registration& r = registrations_[k];
    if ((r.to != kNoTime && r.to < start) || r.from > limit_day) continue;
    int32_t last = r.to == kNoTime ? limit_day : std::min(r.to - 1, limit_day);
    IdentityRow id = MakeIdentity(kGp, rng_.Chance(0.9) ? last : std::max(r.from, entry_));
    id.local_id = 10000000 + world_.gp_ids().Map(uint64_t{index_} * kMaxRegistrations + k);
    id.from = r.from;
    id.to = r.to != kNoTime && r.to <= end ? r.to : kNoTime;
    id.practice = r.practice;
    out->gp_patients.push_back(std::move(id));
  }

  // Acute trust: one mrn, or two for a duplicate registration made at one encounter.
  const bool acute = !buf_.ae.empty() || !buf_.spells.empty();
  if (acute) {
    uint16_t dup_group = 0;
    int32_t first = INT32_MAX, last = INT32_MIN, dup_time = 0;
    std::vector<std::pair<uint16_t, int32_t>> groups;
    for (const AeRow& a : buf_.ae) groups.push_back({static_cast<uint16_t>(a.mrn), a.arrival});
    for (const SpellRow& s : buf_.spells) groups.push_back({static_cast<uint16_t>(s.mrn), s.admitted});
    for (auto& g : groups) first = std::min(first, g.second), last = std::max(last, g.second);
    if (dup_mrn_ && groups.size() > 1) {
      const auto& g = groups[rng_.Below(static_cast<uint32_t>(groups.size()))];
      dup_group = g.first;
      dup_time = g.second;
    }
    const uint64_t mrn1 = world_.mrn_ids().Map(uint64_t{index_} * 2), mrn2 = world_.mrn_ids().Map(uint64_t{index_} * 2 + 1);
    auto mrn_of = [&](uint32_t group) { return static_cast<uint32_t>(dup_group != 0 && group == dup_group ? mrn2 : mrn1); };
    for (AeRow a : buf_.ae) a.mrn = mrn_of(a.mrn), out->ae.push_back(a);
    for (SpellRow s : buf_.spells) s.mrn = mrn_of(s.mrn), out->spells.push_back(s);
    for (LabRow l : buf_.labs) l.mrn = mrn_of(l.mrn), out->labs.push_back(l);
    IdentityRow id = MakeIdentity(kAcute, DayOfMinutes(rng_.Chance(0.75) ? last : first));
    id.local_id = mrn1;
    out->acute_patients.push_back(std::move(id));
    if (dup_group != 0) {
      IdentityRow dup = MakeIdentity(kAcute, DayOfMinutes(dup_time));
      if (rng_.Chance(0.5)) dup.nhs.clear();  // often not traced at the time
      if (rng_.Chance(0.2)) dup.given = Typo(dup.given, rng_);
      dup.local_id = mrn2;
      out->acute_patients.push_back(std::move(dup));
    }
  }

  if (!buf_.contacts.empty()) {
    const uint32_t client = static_cast<uint32_t>(world_.client_ids().Map(index_));
    for (ContactRow c : buf_.contacts) c.client = client, out->contacts.push_back(c);
    auto [lo, hi] = std::minmax_element(buf_.contacts.begin(), buf_.contacts.end(),
                                        [](const ContactRow& a, const ContactRow& b) { return a.day < b.day; });
    IdentityRow id = MakeIdentity(kCommunity, rng_.Chance(0.85) ? hi->day : lo->day);
    id.local_id = client;
    out->clients.push_back(std::move(id));
  }

  if (!buf_.assessments.empty() || !buf_.services.empty()) {
    const uint32_t sid = static_cast<uint32_t>(world_.social_ids().Map(index_));
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (AssessmentRow a : buf_.assessments) a.social_id = sid, out->assessments.push_back(a), lo = std::min(lo, a.day), hi = std::max(hi, a.day);
    for (ServiceRow s : buf_.services) s.social_id = sid, out->services.push_back(s), lo = std::min(lo, s.start), hi = std::max(hi, s.start);
    IdentityRow id = MakeIdentity(kSocial, rng_.Chance(0.8) ? hi : lo);
    id.local_id = sid;
    out->social_people.push_back(std::move(id));
  }

  out->episodes.insert(out->episodes.end(), buf_.episodes.begin(), buf_.episodes.end());

  const int32_t death_day = dead_ ? DayOfMinutes(death_minute_) : kNoTime;
  if (dead_) {
    int32_t as_of = death_day;
    if (residences_.size() > 1 && rng_.Chance(0.02)) as_of = residences_.back().day - 1;  // old address
    IdentityRow id = MakeIdentity(kDeaths, as_of);
    id.death_day = death_day;
    id.cause = death_cause_;
    out->deaths.push_back(std::move(id));
  }

  PersonTruthRow t{};
  t.person = index_;
  t.nhs = world_.nhs_number(index_);
  t.sex = sex_;
  t.dob = dob_;
  t.lsoa = ResidenceAt(limit_day).lsoa;
  t.practice = -1;
  for (const Registration& r : registrations_)
    if (r.from <= limit_day) t.practice = r.practice;
  t.death_day = death_day;
  t.optout = optout_;
  if (risk12_ >= 0) {
    t.risk_day = risk_day_;
    t.risk = risk12_;
    for (const SpellRow& s : buf_.spells) {
      const int32_t day = DayOfMinutes(s.admitted);
      const bool emergency = s.method != AdmissionMethod::kWaitingList && s.method != AdmissionMethod::kBooked;
      if (emergency && day >= risk_day_ && day < risk_day_ + 365 && day <= end) t.admitted = true;
    }
  }
  out->persons.push_back(t);
}

}  // namespace ark::synth
