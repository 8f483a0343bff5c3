#include "import/omop_import.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "core/csv.h"
#include "core/fs.h"
#include "import/import_util.h"

namespace ark {
namespace {

using import_util::ParseDateTime;
using import_util::ParseDouble;
using import_util::ParseInt;

// Columns of one clinical table (OMOP CDM 5.4 names); nullptr = not used.
struct TableSpec {
  const char* name;
  const char* concept_col;
  const char* start_datetime;
  const char* start_date;
  const char* end_datetime;
  const char* end_date;
  const char* value;
  const char* unit;  // unit_source_value; unit_concept_id is the fallback
  const char* source_value;
  const char* source_concept;
  const char* visit;
};

// visit_source_value is not read: it is often the source system's encounter identifier.
const TableSpec kTables[] = {
    {"visit_occurrence", "visit_concept_id", "visit_start_datetime", "visit_start_date", "visit_end_datetime",
     "visit_end_date", nullptr, nullptr, nullptr, nullptr, "visit_occurrence_id"},
    {"condition_occurrence", "condition_concept_id", "condition_start_datetime", "condition_start_date",
     "condition_end_datetime", "condition_end_date", nullptr, nullptr, "condition_source_value",
     "condition_source_concept_id", "visit_occurrence_id"},
    {"drug_exposure", "drug_concept_id", "drug_exposure_start_datetime", "drug_exposure_start_date",
     "drug_exposure_end_datetime", "drug_exposure_end_date", nullptr, nullptr, "drug_source_value",
     "drug_source_concept_id", "visit_occurrence_id"},
    {"procedure_occurrence", "procedure_concept_id", "procedure_datetime", "procedure_date", "procedure_end_datetime",
     "procedure_end_date", nullptr, nullptr, "procedure_source_value", "procedure_source_concept_id",
     "visit_occurrence_id"},
    {"measurement", "measurement_concept_id", "measurement_datetime", "measurement_date", nullptr, nullptr,
     "value_as_number", "unit_source_value", "measurement_source_value", "measurement_source_concept_id",
     "visit_occurrence_id"},
    {"observation", "observation_concept_id", "observation_datetime", "observation_date", nullptr, nullptr,
     "value_as_number", "unit_source_value", "observation_source_value", "observation_source_concept_id",
     "visit_occurrence_id"},
};

struct Concept {
  std::string vocabulary, code;
};

class OmopReader {
 public:
  OmopReader(Catalog& cat, std::string dir) : cat_(cat), dir_(std::move(dir)), batch_("omop") {}

  Result<OmopImportReport> Run(const ImportOptOuts& optouts) {
    ARK_RETURN_IF_ERROR(batch_.DeclareOptOuts(optouts));
    ARK_RETURN_IF_ERROR(FindFiles());
    if (!files_.count("person")) return Status::InvalidArgument(dir_ + ": no person.csv (an OMOP CDM 5.4 CSV directory is expected)");
    ARK_ASSIGN_OR_RETURN(std::string hash, ContentHash());
    if (files_.count("concept")) ARK_RETURN_IF_ERROR(ReadConcepts());
    ARK_RETURN_IF_ERROR(ReadPersons());
    if (files_.count("observation_period")) ARK_RETURN_IF_ERROR(ReadObservationPeriods());
    if (files_.count("death")) ARK_RETURN_IF_ERROR(ReadDeaths());
    for (const TableSpec& t : kTables) {
      if (files_.count(t.name)) ARK_RETURN_IF_ERROR(ReadEvents(t));
    }
    nlohmann::json man = {{"format", "omop-cdm-5.4"}, {"tables", rep_.rows},
                          {"dropped_outside_observation", rep_.dropped_outside_observation}};
    ARK_ASSIGN_OR_RETURN(rep_.batch, batch_.Commit(cat_, hash, man));
    return rep_;
  }

 private:
  Status FindFiles() {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir_, ec);
    if (ec) return Status::NotFound(dir_ + ": " + ec.message());
    for (const auto& e : it) {
      if (!e.is_regular_file()) continue;
      std::string name = e.path().filename().string();
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower.size() < 4 || lower.substr(lower.size() - 4) != ".csv") continue;
      files_[lower.substr(0, lower.size() - 4)] = e.path().string();
    }
    return Status::OK();
  }

  // XXH3-64 of the names and contents of the tables read, in a fixed order.
  Result<std::string> ContentHash() {
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    std::vector<std::string> names = {"person", "observation_period", "death"};
    for (const TableSpec& t : kTables) names.push_back(t.name);
    for (const auto& n : names) {
      auto it = files_.find(n);
      if (it == files_.end()) continue;
      auto m = MappedFile::Open(it->second);
      if (!m.ok()) {
        XXH3_freeState(st);
        return m.status();
      }
      XXH3_64bits_update(st, n.data(), n.size() + 1);
      XXH3_64bits_update(st, m->data(), m->size());
    }
    const uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return "omop:" + std::to_string(h);
  }

  // Column index, or an error naming the file when `required`.
  Result<int> Col(const CsvFile& f, const char* name, bool required) {
    if (!name) return -1;
    const int i = f.ColumnIndex(name);
    if (i < 0 && required) return f.Error(1, std::string("missing column '") + name + "'");
    return i;
  }

  static std::string_view Field(const std::vector<std::string_view>& row, int col) {
    return col >= 0 ? row[col] : std::string_view();
  }

  Result<int64_t> Int(const CsvFile& f, int64_t line, const std::vector<std::string_view>& row, int col,
                      const char* name, bool required, int64_t dflt = 0) {
    std::string_view s = Field(row, col);
    if (s.empty()) {
      if (required) return f.Error(line, name, "empty");
      return dflt;
    }
    int64_t v = 0;
    if (!ParseInt(s, &v)) return f.Error(line, name, "'" + std::string(s) + "' is not an integer");
    return v;
  }

  Result<Seconds> Time(const CsvFile& f, int64_t line, const std::vector<std::string_view>& row, int dt_col,
                       const char* dt_name, int d_col, const char* d_name, bool required) {
    std::string_view s = Field(row, dt_col);
    const char* name = dt_name;
    if (s.empty()) {
      s = Field(row, d_col);
      name = d_name;
    }
    if (s.empty()) {
      if (required) return f.Error(line, d_name ? d_name : dt_name, "empty");
      return kNoTime;
    }
    auto t = ParseDateTime(s);
    if (!t.ok()) return f.Error(line, name, "'" + std::string(s) + "' is not a date: " + t.status().message());
    return *t;
  }

  std::string Code(int64_t concept_id) {
    auto it = concepts_.find(concept_id);
    if (it != concepts_.end()) {
      ++rep_.concepts_known;
      return it->second.vocabulary + "/" + it->second.code;
    }
    ++rep_.concepts_unknown;
    return "OMOP/" + std::to_string(concept_id);
  }

  Status ReadConcepts() {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(files_["concept"]));
    ARK_ASSIGN_OR_RETURN(int id, Col(f, "concept_id", true));
    ARK_ASSIGN_OR_RETURN(int vocab, Col(f, "vocabulary_id", true));
    ARK_ASSIGN_OR_RETURN(int code, Col(f, "concept_code", true));
    return f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
      ARK_ASSIGN_OR_RETURN(int64_t cid, Int(f, line, row, id, "concept_id", true));
      if (row[vocab].empty() || row[code].empty()) return Status::OK();
      concepts_[cid] = {std::string(row[vocab]), std::string(row[code])};
      return Status::OK();
    });
  }

  Status ReadPersons() {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(files_["person"]));
    ARK_ASSIGN_OR_RETURN(int pid, Col(f, "person_id", true));
    ARK_ASSIGN_OR_RETURN(int gender, Col(f, "gender_concept_id", true));
    ARK_ASSIGN_OR_RETURN(int yob, Col(f, "year_of_birth", true));
    ARK_ASSIGN_OR_RETURN(int mob, Col(f, "month_of_birth", false));
    ARK_RETURN_IF_ERROR(f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
      ARK_ASSIGN_OR_RETURN(int64_t id, Int(f, line, row, pid, "person_id", true));
      ARK_ASSIGN_OR_RETURN(int64_t g, Int(f, line, row, gender, "gender_concept_id", false));
      ARK_ASSIGN_OR_RETURN(int64_t y, Int(f, line, row, yob, "year_of_birth", false));
      ARK_ASSIGN_OR_RETURN(int64_t m, Int(f, line, row, mob, "month_of_birth", false));
      if (y != 0 && (y < 1800 || y > 2200)) return f.Error(line, "year_of_birth", std::to_string(y) + " is out of range");
      if (m < 0 || m > 12) return f.Error(line, "month_of_birth", std::to_string(m) + " is not a month");
      ImportedPerson ip;
      ip.birth_year = static_cast<int16_t>(y);
      ip.birth_month = y ? static_cast<uint8_t>(m) : 0;
      ip.sex = g == 8507 ? 'M' : g == 8532 ? 'F' : 'U';
      if (person_of_.count(id)) return f.Error(line, "person_id", std::to_string(id) + " appears twice");
      person_of_[id] = batch_.AddPerson(ip);
      batch_.SetSourceId(person_of_[id], std::to_string(id));
      ++rep_.rows["person"];
      return Status::OK();
    }));
    periods_.resize(batch_.persons());
    return Status::OK();
  }

  Result<uint32_t> Person(const CsvFile& f, int64_t line, const std::vector<std::string_view>& row, int col) {
    ARK_ASSIGN_OR_RETURN(int64_t id, Int(f, line, row, col, "person_id", true));
    auto it = person_of_.find(id);
    if (it == person_of_.end()) return f.Error(line, "person_id", std::to_string(id) + " is not in person.csv");
    return it->second;
  }

  Status ReadObservationPeriods() {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(files_["observation_period"]));
    ARK_ASSIGN_OR_RETURN(int pid, Col(f, "person_id", true));
    ARK_ASSIGN_OR_RETURN(int sd, Col(f, "observation_period_start_date", true));
    ARK_ASSIGN_OR_RETURN(int ed, Col(f, "observation_period_end_date", true));
    return f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
      ARK_ASSIGN_OR_RETURN(uint32_t r, Person(f, line, row, pid));
      ARK_ASSIGN_OR_RETURN(Seconds s, Time(f, line, row, -1, nullptr, sd, "observation_period_start_date", true));
      ARK_ASSIGN_OR_RETURN(Seconds e, Time(f, line, row, -1, nullptr, ed, "observation_period_end_date", true));
      if (e < s) return f.Error(line, "observation_period_end_date", "before observation_period_start_date");
      const int32_t sday = DayOf(s), eday = DayOf(e);
      periods_[r].emplace_back(sday, eday);
      batch_.AddEvent(r, Seconds{sday} * kSecondsPerDay, Seconds{eday + 1} * kSecondsPerDay, "REG/OMOP", kNoValue, "", 0);
      ++rep_.rows["observation_period"];
      return Status::OK();
    });
  }

  bool InObservation(uint32_t r, Seconds t) const {
    const auto& ps = periods_[r];
    if (ps.empty()) return true;  // no period given for this person: nothing to respect
    const int32_t d = DayOf(t);
    for (auto& [s, e] : ps) {
      if (d >= s && d <= e) return true;
    }
    return false;
  }

  Status ReadDeaths() {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(files_["death"]));
    ARK_ASSIGN_OR_RETURN(int pid, Col(f, "person_id", true));
    ARK_ASSIGN_OR_RETURN(int dd, Col(f, "death_date", true));
    ARK_ASSIGN_OR_RETURN(int ddt, Col(f, "death_datetime", false));
    ARK_ASSIGN_OR_RETURN(int cause, Col(f, "cause_concept_id", false));
    return f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
      ARK_ASSIGN_OR_RETURN(uint32_t r, Person(f, line, row, pid));
      ARK_ASSIGN_OR_RETURN(Seconds t, Time(f, line, row, ddt, "death_datetime", dd, "death_date", true));
      ARK_ASSIGN_OR_RETURN(int64_t c, Int(f, line, row, cause, "cause_concept_id", false));
      std::string code = "DEATH/UNKNOWN";
      if (c != 0) {
        auto it = concepts_.find(c);
        if (it == concepts_.end()) code = "DEATH/OMOP:" + std::to_string(c);
        else if (it->second.vocabulary.rfind("ICD10", 0) == 0) code = "DEATH/" + it->second.code;
        else code = "DEATH/" + it->second.vocabulary + ":" + it->second.code;
      }
      batch_.AddEvent(r, t, kNoTime, code, kNoValue, "", 0);
      ++rep_.rows["death"];
      return Status::OK();
    });
  }

  Status ReadEvents(const TableSpec& t) {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(files_[t.name]));
    ARK_ASSIGN_OR_RETURN(int pid, Col(f, "person_id", true));
    ARK_ASSIGN_OR_RETURN(int concept_col_i, Col(f, t.concept_col, true));
    ARK_ASSIGN_OR_RETURN(int sdt, Col(f, t.start_datetime, false));
    ARK_ASSIGN_OR_RETURN(int sd, Col(f, t.start_date, true));
    ARK_ASSIGN_OR_RETURN(int edt, Col(f, t.end_datetime, false));
    ARK_ASSIGN_OR_RETURN(int ed, Col(f, t.end_date, false));
    ARK_ASSIGN_OR_RETURN(int value, Col(f, t.value, false));
    ARK_ASSIGN_OR_RETURN(int unit, Col(f, t.unit, false));
    const int unit_concept = t.unit ? f.ColumnIndex("unit_concept_id") : -1;
    ARK_ASSIGN_OR_RETURN(int sv, Col(f, t.source_value, false));
    ARK_ASSIGN_OR_RETURN(int sc, Col(f, t.source_concept, false));
    ARK_ASSIGN_OR_RETURN(int visit, Col(f, t.visit, false));
    std::string unit_text;
    return f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
      ++rep_.rows[t.name];
      ARK_ASSIGN_OR_RETURN(uint32_t r, Person(f, line, row, pid));
      ARK_ASSIGN_OR_RETURN(int64_t cid, Int(f, line, row, concept_col_i, t.concept_col, true));
      ARK_ASSIGN_OR_RETURN(Seconds start, Time(f, line, row, sdt, t.start_datetime, sd, t.start_date, true));
      ARK_ASSIGN_OR_RETURN(Seconds end, Time(f, line, row, edt, t.end_datetime, ed, t.end_date, false));
      if (end != kNoTime && end < start) end = kNoTime;  // an end before the start carries no information
      double v = kNoValue;
      if (std::string_view s = Field(row, value); !s.empty() && !ParseDouble(s, &v)) {
        return f.Error(line, t.value, "'" + std::string(s) + "' is not a number");
      }
      unit_text.assign(Field(row, unit));
      if (unit_text.empty() && unit_concept >= 0) {
        int64_t uc = 0;
        if (ParseInt(row[unit_concept], &uc) && uc != 0) {
          auto it = concepts_.find(uc);
          if (it != concepts_.end()) unit_text = it->second.code;
        }
      }
      ARK_ASSIGN_OR_RETURN(int64_t enc, Int(f, line, row, visit, t.visit, false));
      ARK_ASSIGN_OR_RETURN(int64_t scid, Int(f, line, row, sc, t.source_concept, false));
      if (enc < 0) return f.Error(line, t.visit, "negative");
      if (!InObservation(r, start)) {
        ++rep_.dropped_outside_observation;
        return Status::OK();
      }
      const std::string_view source_value = Field(row, sv);
      std::string code;
      if (cid != 0) code = Code(cid);
      else if (scid != 0) code = Code(scid);
      else if (!source_value.empty()) code = "OMOP_SOURCE/" + std::string(source_value);
      else code = "OMOP/0";
      batch_.AddEvent(r, start, end, code, v, unit_text, static_cast<uint64_t>(enc));
      // Keep a source value that the code does not already say.
      if (!source_value.empty() && cid != 0) {
        auto cit = concepts_.find(cid);
        const bool same = cit != concepts_.end() && cit->second.code == source_value;
        if (!same) {
          std::string src;
          auto sit = scid != 0 ? concepts_.find(scid) : concepts_.end();
          if (sit != concepts_.end()) src = sit->second.vocabulary + "/" + sit->second.code;
          else src = "OMOP_SOURCE/" + std::string(source_value);
          if (src != code) {
            batch_.AddEvent(r, start, end, src, kNoValue, "", static_cast<uint64_t>(enc));
            ++rep_.source_events;
          }
        }
      }
      return Status::OK();
    });
  }

  Catalog& cat_;
  std::string dir_;
  ImportBatch batch_;
  OmopImportReport rep_;
  std::map<std::string, std::string> files_;  // lower-case table name -> path
  std::unordered_map<int64_t, Concept> concepts_;
  std::unordered_map<int64_t, uint32_t> person_of_;
  std::vector<std::vector<std::pair<int32_t, int32_t>>> periods_;
};

}  // namespace

Result<OmopImportReport> ImportOmop(Catalog& cat, const std::string& dir, const ImportOptOuts& optouts) {
  return OmopReader(cat, dir).Run(optouts);
}

}  // namespace ark
