#include "synth/writer.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/csv.h"
#include "synth/block_writer.h"
#include "synth/format.h"
#include "synth/nhs_number.h"

namespace ark::synth {
namespace {

template <typename T>
std::vector<T> Gather(std::vector<ShardOutput>* shards, std::vector<T> ShardOutput::*member) {
  size_t n = 0;
  for (auto& s : *shards) n += (s.*member).size();
  std::vector<T> all;
  all.reserve(n);
  for (auto& s : *shards) {
    auto& v = s.*member;
    std::move(v.begin(), v.end(), std::back_inserter(all));
    std::vector<T>().swap(v);
  }
  return all;
}

// (person, seq) order within one day or minute.
template <typename T>
bool PersonOrder(const T& a, const T& b) {
  return a.person != b.person ? a.person < b.person : a.seq < b.seq;
}

void Comma(std::string* o) { o->push_back(','); }

class RegionWriter {
 public:
  RegionWriter(const World& w, std::vector<ShardOutput>* shards, const std::string& dir, int threads,
               const std::function<void(const std::string&)>& progress, WriteResult* result)
      : w_(w), shards_(shards), dir_(dir), threads_(threads), progress_(progress), result_(result) {}

  Status Run() {
    ARK_RETURN_IF_ERROR(Persons());
    ARK_RETURN_IF_ERROR(Gp());
    ARK_RETURN_IF_ERROR(Acute());
    ARK_RETURN_IF_ERROR(Community());
    ARK_RETURN_IF_ERROR(Social());
    ARK_RETURN_IF_ERROR(Deaths());
    ARK_RETURN_IF_ERROR(Episodes());
    return Records();
  }

 private:
  Status Write(const std::string& custodian, const std::string& file, std::string_view header, size_t rows,
               const FormatRows& format) {
    if (progress_) progress_("writing " + custodian + "/" + file + " (" + std::to_string(rows) + " rows)");
    ARK_RETURN_IF_ERROR(WriteCsvFile(dir_ + "/" + custodian + "/" + file, header, rows, threads_, format, &result_->bytes));
    result_->files.push_back({custodian, file, rows});
    return Status::OK();
  }

  void Postcode(std::string* o, uint32_t pc) const {
    o->append(w_.postcode(pc));
    Comma(o);
    o->append(w_.lsoas()[w_.postcode_lsoa(pc)].code);
  }
  static void Id(std::string* o, const char* prefix, uint64_t v) {
    o->append(prefix);
    AppendPadded(o, v, 8);
  }
  // Sorts identity rows by local id and remembers row -> person for truth/records.csv.
  void Identities(std::vector<IdentityRow>* rows, const char* custodian) {
    std::sort(rows->begin(), rows->end(), [](const IdentityRow& a, const IdentityRow& b) { return a.local_id < b.local_id; });
    Remember(*rows, custodian);
  }
  void Remember(const std::vector<IdentityRow>& rows, const char* custodian) {
    records_.push_back({custodian, {}});
    for (const IdentityRow& r : rows) records_.back().second.push_back(r.person);
  }

  Status Persons() {
    std::vector<PersonTruthRow> persons = Gather(shards_, &ShardOutput::persons);
    std::vector<uint64_t> optout_nhs;
    std::vector<uint32_t> optout_person;
    for (const PersonTruthRow& p : persons)
      if (p.optout) optout_nhs.push_back(p.nhs), optout_person.push_back(p.person);
    std::sort(optout_nhs.begin(), optout_nhs.end());
    ARK_RETURN_IF_ERROR(Write("truth", "persons.csv",
        "person_id,nhs_number,sex,date_of_birth,lsoa,imd_decile,practice_code,death_date", persons.size(),
        [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const PersonTruthRow& p = persons[i];
            const Lsoa& l = w_.lsoas()[p.lsoa];
            AppendUint(o, p.person + 1), Comma(o), o->append(FormatNhsNumber(p.nhs, false)), Comma(o);
            o->push_back(p.sex), Comma(o), AppendDate(o, p.dob, DateStyle::kIso), Comma(o);
            o->append(l.code), Comma(o), AppendUint(o, l.imd_decile), Comma(o);
            if (p.practice >= 0) o->append(w_.practices()[static_cast<size_t>(p.practice)].code);
            Comma(o);
            if (p.death_day != kNoTime) AppendDate(o, p.death_day, DateStyle::kIso);
            o->push_back('\n');
          }
        }));
    ARK_RETURN_IF_ERROR(Write("gp", "optouts.csv", "nhs_number", optout_nhs.size(), [&](size_t b, size_t e, std::string* o) {
      for (size_t i = b; i < e; ++i) o->append(FormatNhsNumber(optout_nhs[i], false)), o->push_back('\n');
    }));
    ARK_RETURN_IF_ERROR(Write("truth", "optouts.csv", "person_id", optout_person.size(), [&](size_t b, size_t e, std::string* o) {
      for (size_t i = b; i < e; ++i) AppendUint(o, optout_person[i] + 1), o->push_back('\n');
    }));
    return EmergencyRisk(persons);
  }

  // truth/emergency_risk.csv: people in the region on the risk day, their true probability of
  // an emergency admission in the 12 months from it (6 decimals) and whether they had one.
  Status EmergencyRisk(const std::vector<PersonTruthRow>& persons) {
    std::vector<const PersonTruthRow*> at_risk;
    for (const PersonTruthRow& p : persons)
      if (p.risk_day != kNoTime) at_risk.push_back(&p);
    return Write("truth", "emergency_risk.csv", "person_id,reference_date,p_emergency_admission_12m,emergency_admission_12m",
                 at_risk.size(), [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const PersonTruthRow& p = *at_risk[i];
                     AppendUint(o, p.person + 1), Comma(o), AppendDate(o, p.risk_day, DateStyle::kIso), Comma(o);
                     const auto micro = static_cast<uint64_t>(std::llround(p.risk * 1e6));
                     AppendUint(o, micro / 1000000), o->push_back('.'), AppendPadded(o, micro % 1000000, 6), Comma(o);
                     o->push_back(p.admitted ? '1' : '0'), o->push_back('\n');
                   }
                 });
  }

  Status Gp() {
    std::vector<IdentityRow> patients = Gather(shards_, &ShardOutput::gp_patients);
    Identities(&patients, "gp");
    ARK_RETURN_IF_ERROR(Write("gp", "patients.csv",
        "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
        "registered_from,registered_to", patients.size(), [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const IdentityRow& r = patients[i];
            AppendUint(o, r.local_id), Comma(o), o->append(r.nhs), Comma(o);
            AppendCsvField(o, r.given), Comma(o), AppendCsvField(o, r.family), Comma(o);
            AppendDate(o, r.dob, DateStyle::kIso), Comma(o), o->push_back(r.sex), Comma(o);
            Postcode(o, r.postcode), Comma(o);
            AppendUint(o, w_.lsoas()[w_.postcode_lsoa(r.postcode)].imd_decile), Comma(o);
            o->append(w_.practices()[r.practice].code), Comma(o);
            AppendDate(o, r.from, DateStyle::kIso), Comma(o);
            if (r.to != kNoTime) AppendDate(o, r.to, DateStyle::kIso);
            o->push_back('\n');
          }
        }));
    patients = {};
    std::vector<GpEventRow> events = Gather(shards_, &ShardOutput::gp_events);
    SortByDay(&events, w_.start_day(), w_.end_day(), [](const GpEventRow& r) { return r.day; }, PersonOrder<GpEventRow>);
    return Write("gp", "events.csv", "patient_id,event_date,snomed_code,value,unit", events.size(),
                 [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const GpEventRow& r = events[i];
                     const GpCodeInfo& c = Info(r.code);
                     AppendUint(o, r.patient_id), Comma(o), AppendDate(o, r.day, DateStyle::kIso), Comma(o);
                     o->append(c.snomed), Comma(o);
                     if (r.value10 != kNoValue) AppendTenths(o, r.value10, c.decimals), Comma(o), o->append(c.unit);
                     else Comma(o);
                     o->push_back('\n');
                   }
                 });
  }

  Status Acute() {
    std::vector<IdentityRow> patients = Gather(shards_, &ShardOutput::acute_patients);
    Identities(&patients, "acute");
    ARK_RETURN_IF_ERROR(Write("acute", "patients.csv", "mrn,nhs_no,forename,surname,dob,gender,postcode,lsoa",
        patients.size(), [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const IdentityRow& r = patients[i];
            Id(o, "M", r.local_id), Comma(o), o->append(r.nhs), Comma(o);
            AppendCsvField(o, r.given), Comma(o), AppendCsvField(o, r.family), Comma(o);
            AppendDate(o, r.dob, DateStyle::kDmySlash), Comma(o), o->push_back(r.sex == 'M' ? '1' : '2'), Comma(o);
            Postcode(o, r.postcode), o->push_back('\n');
          }
        }));
    patients = {};
    const int32_t lo = w_.start_day(), hi = w_.end_day();
    std::vector<AeRow> ae = Gather(shards_, &ShardOutput::ae);
    SortByDay(&ae, lo, hi, [](const AeRow& r) { return DayOfMinutes(r.arrival); }, [](const AeRow& a, const AeRow& b) {
      return a.arrival != b.arrival ? a.arrival < b.arrival : PersonOrder(a, b);
    });
    ARK_RETURN_IF_ERROR(Write("acute", "ae_attendances.csv",
        "attendance_id,mrn,arrival,departure,arrival_mode,complaint_snomed,disposal", ae.size(),
        [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const AeRow& r = ae[i];
            AppendUint(o, 1000001 + i), Comma(o), Id(o, "M", r.mrn), Comma(o);
            AppendMinutes(o, r.arrival), Comma(o), AppendMinutes(o, r.departure), Comma(o);
            o->append(Code(r.mode)), Comma(o), o->append(Info(r.complaint).snomed), Comma(o);
            o->append(Code(r.disposal)), o->push_back('\n');
          }
        }));
    ae = {};
    std::vector<SpellRow> spells = Gather(shards_, &ShardOutput::spells);
    SortByDay(&spells, lo, hi, [](const SpellRow& r) { return DayOfMinutes(r.admitted); },
              [](const SpellRow& a, const SpellRow& b) { return a.admitted != b.admitted ? a.admitted < b.admitted : PersonOrder(a, b); });
    std::vector<std::pair<uint64_t, uint32_t>> spell_ids(spells.size());
    for (size_t i = 0; i < spells.size(); ++i)
      spell_ids[i] = {(uint64_t{spells[i].person} << 32) | spells[i].spell_no, static_cast<uint32_t>(2000001 + i)};
    std::sort(spell_ids.begin(), spell_ids.end());
    ARK_RETURN_IF_ERROR(Write("acute", "inpatient_spells.csv",
        "spell_id,mrn,admitted,admission_method,primary_icd10,secondary_icd10,opcs4,discharged,discharge_destination,ward",
        spells.size(), [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const SpellRow& r = spells[i];
            AppendUint(o, 2000001 + i), Comma(o), Id(o, "M", r.mrn), Comma(o), AppendMinutes(o, r.admitted), Comma(o);
            o->append(Code(r.method)), Comma(o), o->append(Info(r.primary).code), Comma(o);
            for (int k = 0; k < r.num_secondary; ++k) {
              if (k) o->push_back(';');
              o->append(Info(r.secondary[k]).code);
            }
            Comma(o);
            for (int k = 0; k < r.num_opcs; ++k) {
              if (k) o->push_back(';');
              o->append(Info(r.opcs[k]).code);
            }
            Comma(o);
            if (r.discharged != kNoTime) AppendMinutes(o, r.discharged), Comma(o), o->append(Code(r.dest));
            else Comma(o);
            Comma(o), o->push_back('W'), AppendUint(o, r.ward), o->push_back('\n');
          }
        }));
    spells = {};
    std::vector<LabRow> labs = Gather(shards_, &ShardOutput::labs);
    SortByDay(&labs, lo, hi, [](const LabRow& r) { return DayOfMinutes(r.collected); }, [](const LabRow& a, const LabRow& b) {
      return a.collected != b.collected ? a.collected < b.collected : PersonOrder(a, b);
    });
    return Write("acute", "lab_results.csv", "mrn,collected,loinc_code,result,units,spell_id", labs.size(),
                 [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const LabRow& r = labs[i];
                     const LabInfo& c = Info(r.code);
                     Id(o, "M", r.mrn), Comma(o), AppendMinutes(o, r.collected), Comma(o), o->append(c.loinc), Comma(o);
                     AppendTenths(o, r.value10, c.decimals), Comma(o), o->append(c.unit), Comma(o);
                     if (r.spell_no != kNoSpell) {
                       const uint64_t key = (uint64_t{r.person} << 32) | r.spell_no;
                       auto it = std::lower_bound(spell_ids.begin(), spell_ids.end(), std::make_pair(key, uint32_t{0}));
                       if (it != spell_ids.end() && it->first == key) AppendUint(o, it->second);
                     }
                     o->push_back('\n');
                   }
                 });
  }

  Status Community() {
    std::vector<IdentityRow> clients = Gather(shards_, &ShardOutput::clients);
    Identities(&clients, "community");
    ARK_RETURN_IF_ERROR(Write("community", "clients.csv",
        "client_ref,nhs_number,first_name,last_name,birth_date,sex,postcode,lsoa", clients.size(),
        [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const IdentityRow& r = clients[i];
            Id(o, "CR", r.local_id), Comma(o), o->append(r.nhs), Comma(o);
            AppendCsvField(o, r.given), Comma(o), AppendCsvField(o, r.family), Comma(o);
            AppendDate(o, r.dob, DateStyle::kCompact), Comma(o), o->append(r.sex == 'M' ? "Male" : "Female"), Comma(o);
            Postcode(o, r.postcode), o->push_back('\n');
          }
        }));
    std::vector<ContactRow> contacts = Gather(shards_, &ShardOutput::contacts);
    SortByDay(&contacts, w_.start_day(), w_.end_day(), [](const ContactRow& r) { return r.day; }, PersonOrder<ContactRow>);
    return Write("community", "contacts.csv", "client_ref,contact_date,service,contact_type", contacts.size(),
                 [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const ContactRow& r = contacts[i];
                     Id(o, "CR", r.client), Comma(o), AppendDate(o, r.day, DateStyle::kIso), Comma(o);
                     o->append(Code(r.service)), Comma(o), o->append(Code(r.type)), o->push_back('\n');
                   }
                 });
  }

  Status Social() {
    std::vector<IdentityRow> people = Gather(shards_, &ShardOutput::social_people);
    Identities(&people, "social_care");
    ARK_RETURN_IF_ERROR(Write("social_care", "people.csv",
        "person_id,nhs_number,first_names,surname,date_of_birth,gender,postcode,lsoa", people.size(),
        [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const IdentityRow& r = people[i];
            Id(o, "SC", r.local_id), Comma(o), o->append(r.nhs), Comma(o);
            AppendCsvField(o, r.given), Comma(o), AppendCsvField(o, r.family), Comma(o);
            AppendDate(o, r.dob, DateStyle::kDmyDash), Comma(o), o->push_back(r.sex), Comma(o);
            Postcode(o, r.postcode), o->push_back('\n');
          }
        }));
    std::vector<AssessmentRow> assessments = Gather(shards_, &ShardOutput::assessments);
    SortByDay(&assessments, w_.start_day(), w_.end_day(), [](const AssessmentRow& r) { return r.day; },
              PersonOrder<AssessmentRow>);
    ARK_RETURN_IF_ERROR(Write("social_care", "assessments.csv", "person_id,assessment_date,assessment_type,outcome",
        assessments.size(), [&](size_t b, size_t e, std::string* o) {
          for (size_t i = b; i < e; ++i) {
            const AssessmentRow& r = assessments[i];
            Id(o, "SC", r.social_id), Comma(o), AppendDate(o, r.day, DateStyle::kIso), Comma(o);
            o->append(Code(r.type)), Comma(o), o->append(Code(r.outcome)), o->push_back('\n');
          }
        }));
    std::vector<ServiceRow> services = Gather(shards_, &ShardOutput::services);
    SortByDay(&services, w_.start_day(), w_.end_day(), [](const ServiceRow& r) { return r.start; }, PersonOrder<ServiceRow>);
    return Write("social_care", "services.csv", "person_id,service_type,start_date,end_date,weekly_hours",
                 services.size(), [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const ServiceRow& r = services[i];
                     Id(o, "SC", r.social_id), Comma(o), o->append(Code(r.type)), Comma(o);
                     AppendDate(o, r.start, DateStyle::kIso), Comma(o);
                     if (r.end != kNoTime) AppendDate(o, r.end, DateStyle::kIso);
                     Comma(o);
                     if (r.hours10 != kNoValue) AppendTenths(o, r.hours10, r.hours10 % 10 ? 1 : 0);
                     o->push_back('\n');
                   }
                 });
  }

  Status Deaths() {
    std::vector<IdentityRow> deaths = Gather(shards_, &ShardOutput::deaths);
    std::sort(deaths.begin(), deaths.end(), [](const IdentityRow& a, const IdentityRow& b) {
      return a.death_day != b.death_day ? a.death_day < b.death_day : a.person < b.person;
    });
    Remember(deaths, "deaths");
    return Write("deaths", "registrations.csv",
                 "registration_id,nhs_number,forenames,surname,date_of_birth,sex,postcode,lsoa,date_of_death,"
                 "underlying_cause_icd10", deaths.size(), [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const IdentityRow& r = deaths[i];
                     Id(o, "DR", i + 1), Comma(o), o->append(r.nhs), Comma(o);
                     AppendCsvField(o, r.given), Comma(o), AppendCsvField(o, r.family), Comma(o);
                     AppendDate(o, r.dob, DateStyle::kIso), Comma(o), o->push_back(r.sex), Comma(o);
                     Postcode(o, r.postcode), Comma(o), AppendDate(o, r.death_day, DateStyle::kIso), Comma(o);
                     o->append(Info(r.cause).code), o->push_back('\n');
                   }
                 });
  }

  Status Episodes() {
    std::vector<EpisodeRow> episodes = Gather(shards_, &ShardOutput::episodes);
    return Write("truth", "episodes.csv", "person_id,pathway,episode,step,time,activity", episodes.size(),
                 [&](size_t b, size_t e, std::string* o) {
                   for (size_t i = b; i < e; ++i) {
                     const EpisodeRow& r = episodes[i];
                     AppendUint(o, r.person + 1), Comma(o), o->append(Code(r.pathway)), Comma(o);
                     AppendUint(o, r.episode), Comma(o), AppendUint(o, r.step), Comma(o);
                     AppendMinutes(o, r.time), Comma(o), o->append(r.activity), o->push_back('\n');
                   }
                 });
  }

  Status Records() {
    std::vector<std::pair<const char*, std::pair<uint64_t, uint32_t>>> rows;
    for (auto& [custodian, persons] : records_)
      for (size_t i = 0; i < persons.size(); ++i) rows.push_back({custodian, {i + 1, persons[i]}});
    return Write("truth", "records.csv", "custodian,record,person_id", rows.size(), [&](size_t b, size_t e, std::string* o) {
      for (size_t i = b; i < e; ++i) {
        o->append(rows[i].first), Comma(o), AppendUint(o, rows[i].second.first), Comma(o);
        AppendUint(o, rows[i].second.second + 1), o->push_back('\n');
      }
    });
  }

  const World& w_;
  std::vector<ShardOutput>* shards_;
  std::string dir_;
  int threads_;
  const std::function<void(const std::string&)>& progress_;
  WriteResult* result_;
  std::vector<std::pair<const char*, std::vector<uint32_t>>> records_;
};

}  // namespace

Status WriteRegion(const World& world, std::vector<ShardOutput>* shards, const std::string& dir, int threads,
                   const std::function<void(const std::string&)>& progress, WriteResult* result) {
  RegionWriter writer(world, shards, dir, threads, progress, result);
  return writer.Run();
}

}  // namespace ark::synth
