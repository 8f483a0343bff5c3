#include "import/meds_import.h"

#include <xxhash.h>
#include <zlib.h>

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

Result<std::string> ReadMaybeGzip(const std::string& path) {
  if (path.size() < 3 || path.substr(path.size() - 3) != ".gz") return ReadFile(path);
  if (!PathExists(path)) return Status::NotFound(path + ": no such file");
  gzFile g = gzopen(path.c_str(), "rb");
  if (!g) return Status::IOError(path + ": cannot open");
  gzbuffer(g, 1 << 20);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(g, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string m = gzerror(g, &err);
      gzclose(g);
      return Status::InvalidArgument(path + ": not a valid gzip file: " + m);
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  gzclose(g);
  return out;
}

Status Error(const std::string& path, int64_t line, std::string_view column, std::string_view what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line) + ": column '" + std::string(column) + "': " + std::string(what));
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// A likely intended MEDS name for a column Ark does not read.
std::string IgnoredHint(std::string_view col) {
  const std::string c = Lower(col);
  if (c == "value" || c == "numeric" || c == "numerical_value" || c == "numericvalue" || c == "value_as_number") return "did you mean 'numeric_value'?";
  if (c == "subject" || c == "patient_id" || c == "person_id") return "did you mean 'subject_id'?";
  if (c == "end" || c == "endtime" || c == "end_datetime" || c == "end_date") return "did you mean 'end_time'?";
  if (c == "timestamp" || c == "datetime" || c == "date") return "did you mean 'time'?";
  if (c == "text_value") return "text values are not kept";
  return "";
}

}  // namespace

Result<MedsImportReport> ImportMeds(Catalog& cat, const std::string& path, const ImportOptOuts& optouts) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(path));
  {
    Status u = ValidateUtf8(text);
    if (!u.ok()) return u.WithContext(path);
  }
  const std::string hash = "meds:" + std::to_string(XXH3_64bits(text.data(), text.size()));
  CsvParser p(text, 1);
  std::vector<std::string_view> row;
  ARK_ASSIGN_OR_RETURN(bool has_header, p.Next(&row));
  if (!has_header) return Status::InvalidArgument(path + ": empty file (expected a header: subject_id,time,code,...)");
  int subject = -1, time = -1, code = -1, value = -1, unit = -1, end = -1;
  MedsImportReport rep;
  std::vector<int> ignored;  // column index of each rep.ignored_columns entry
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == "subject_id") subject = static_cast<int>(i);
    else if (row[i] == "time") time = static_cast<int>(i);
    else if (row[i] == "code") code = static_cast<int>(i);
    else if (row[i] == "numeric_value") value = static_cast<int>(i);
    else if (row[i] == "unit") unit = static_cast<int>(i);
    else if (row[i] == "end_time") end = static_cast<int>(i);
    else {
      ignored.push_back(static_cast<int>(i));
      rep.ignored_columns.push_back({std::string(row[i]), 0, IgnoredHint(row[i])});
    }
  }
  const size_t ncol = row.size();
  for (auto [idx, name] : {std::pair{subject, "subject_id"}, {time, "time"}, {code, "code"}}) {
    if (idx < 0) return Status::InvalidArgument(path + ":1: missing column '" + name + "'");
  }
  ImportBatch batch("meds");
  ARK_RETURN_IF_ERROR(batch.DeclareOptOuts(optouts));
  std::unordered_map<int64_t, uint32_t> record_of;
  std::vector<ImportedPerson> persons;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    const int64_t line = p.line();
    if (row.size() != ncol) {
      return Status::InvalidArgument(path + ":" + std::to_string(line) + ": expected " + std::to_string(ncol) +
                                     " fields, found " + std::to_string(row.size()));
    }
    ++rep.rows;
    for (size_t k = 0; k < ignored.size(); ++k)
      if (!row[ignored[k]].empty()) ++rep.ignored_columns[k].values;
    int64_t sid = 0;
    if (!ParseInt(row[subject], &sid)) return Error(path, line, "subject_id", "'" + std::string(row[subject]) + "' is not an integer");
    auto [it, fresh] = record_of.try_emplace(sid, 0);
    if (fresh) {
      it->second = batch.AddPerson({});
      batch.SetSourceId(it->second, std::to_string(sid));
      persons.emplace_back();
    }
    const uint32_t r = it->second;
    const std::string_view c = row[code];
    if (c.empty()) return Error(path, line, "code", "empty");
    Seconds t = kNoTime;
    if (!row[time].empty()) {
      auto pt = ParseDateTime(row[time]);
      if (!pt.ok()) return Error(path, line, "time", "'" + std::string(row[time]) + "' is not a time: " + pt.status().message());
      t = *pt;
    }
    Seconds te = kNoTime;
    if (end >= 0 && !row[end].empty()) {
      auto pe = ParseDateTime(row[end]);
      if (!pe.ok()) return Error(path, line, "end_time", "'" + std::string(row[end]) + "' is not a time: " + pe.status().message());
      if (t == kNoTime) return Error(path, line, "end_time", "an end needs a time");
      if (*pe < t) return Error(path, line, "end_time", "'" + std::string(row[end]) + "' is before the time '" + std::string(row[time]) + "'");
      te = *pe;
    }
    double v = kNoValue;
    if (value >= 0 && !row[value].empty() && !ParseDouble(row[value], &v)) {
      return Error(path, line, "numeric_value", "'" + std::string(row[value]) + "' is not a number");
    }
    // Demographics.
    const std::string lc = Lower(c);
    if (lc.rfind("sex//", 0) == 0 || lc.rfind("gender//", 0) == 0) {
      const std::string s = lc.substr(lc.find("//") + 2);
      persons[r].sex = (s == "male" || s == "m") ? 'M' : (s == "female" || s == "f") ? 'F' : 'U';
      if (t == kNoTime) continue;
    }
    if (lc == "meds_birth" && t != kNoTime) {
      const CivilDate d = CivilFromDays(DayOf(t));
      persons[r].birth_year = static_cast<int16_t>(d.year);
      persons[r].birth_month = static_cast<uint8_t>(d.month);
    }
    if (t == kNoTime) {
      ++rep.static_skipped;
      continue;
    }
    const std::string_view u = unit >= 0 ? row[unit] : std::string_view();
    batch.AddEvent(r, t, te, lc == "meds_death" ? std::string_view("DEATH/MEDS") : c, v, u, 0);
  }
  for (uint32_t r = 0; r < persons.size(); ++r) batch.SetPerson(r, persons[r]);
  nlohmann::json man = {{"format", "meds"}, {"file", path}, {"rows", rep.rows}, {"static_skipped", rep.static_skipped}};
  for (const auto& c : rep.ignored_columns) man["ignored_columns"][c.name] = c.values;
  ARK_ASSIGN_OR_RETURN(rep.batch, batch.Commit(cat, hash, man));
  return rep;
}

}  // namespace ark
