#include "ingest/pseudonymise.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/csv.h"
#include "core/fs.h"
#include "core/time.h"
#include "privacy/bloom.h"
#include "privacy/nhs_number.h"

namespace ark {
namespace {

Result<int> RequireColumn(const CsvFile& f, const std::string& col, const std::string& why) {
  int i = f.ColumnIndex(col);
  if (i < 0) return Status::InvalidArgument(f.path() + ":1: no column '" + col + "' (" + why + ")");
  return i;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Writes a CSV file in `dir` in one go; returns rows written.
Status WriteOut(const std::string& dir, const std::string& name, const std::string& text) {
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(dir + "/" + name, true));
  ARK_RETURN_IF_ERROR(f.Append(text));
  return f.Sync();
}

class Pseudonymiser {
 public:
  Pseudonymiser(const FeedSpec& spec, const ProgrammeKey& key, std::string in, std::string out)
      : spec_(spec), key_(key), in_(std::move(in)), out_(std::move(out)), encoder_(key, ArkEncodedFields()) {}

  Status Run() {
    ARK_RETURN_IF_ERROR(Identity());
    if (spec_.optouts) ARK_RETURN_IF_ERROR(OptOuts());
    ARK_RETURN_IF_ERROR(EventFiles());
    return Status::OK();
  }
  PseudonymiseReport& report() { return report_; }

 private:
  std::set<std::string> IdentifierColumns() const {
    const IdentitySpec& is = spec_.identity;
    std::set<std::string> cols = {is.id, is.nhs_number, is.postcode};
    for (auto& n : is.names) cols.insert(n);
    if (is.date_of_birth) cols.insert(is.date_of_birth->column);
    cols.erase("");
    return cols;
  }

  Status Identity() {
    const IdentitySpec& is = spec_.identity;
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(in_ + "/" + is.file));
    ARK_ASSIGN_OR_RETURN(int c_id, RequireColumn(f, is.id, "the identity id"));
    auto opt = [&](const std::string& c, const char* what) -> Result<int> {
      if (c.empty()) return -1;
      return RequireColumn(f, c, what);
    };
    ARK_ASSIGN_OR_RETURN(int c_nhs, opt(is.nhs_number, "nhs_number"));
    ARK_ASSIGN_OR_RETURN(int c_dob, opt(is.date_of_birth ? is.date_of_birth->column : "", "date_of_birth"));
    ARK_ASSIGN_OR_RETURN(int c_sex, opt(is.sex, "sex"));
    ARK_ASSIGN_OR_RETURN(int c_lsoa, opt(is.lsoa, "lsoa"));
    ARK_ASSIGN_OR_RETURN(int c_imd, opt(is.imd_decile, "imd_decile"));
    ARK_ASSIGN_OR_RETURN(int c_prac, opt(is.practice, "practice"));
    std::vector<int> c_names;
    for (auto& n : is.names) {
      ARK_ASSIGN_OR_RETURN(int i, RequireColumn(f, n, "names"));
      c_names.push_back(i);
    }
    ARK_ASSIGN_OR_RETURN(int c_post, opt(is.postcode, "postcode"));
    // Extra columns that events from the identity file need.
    const std::set<std::string> ids = IdentifierColumns();
    for (auto& e : spec_.events) {
      if (e.file != is.file) continue;
      for (auto& c : EventColumns(e)) {
        if (c == is.id) continue;
        if (ids.count(c)) return Status::InvalidArgument("feed spec: events may not use identifier column '" + c + "'");
        if (std::find(extra_.begin(), extra_.end(), c) == extra_.end()) extra_.push_back(c);
      }
    }
    std::vector<int> c_extra;
    for (auto& c : extra_) {
      ARK_ASSIGN_OR_RETURN(int i, RequireColumn(f, c, "used by an event mapping"));
      c_extra.push_back(i);
    }
    std::string out;
    std::vector<std::string_view> hdr(RecordColumns().begin(), RecordColumns().end());
    for (auto& c : extra_) hdr.push_back(c);
    hdr.push_back("clk");   // PPRL encodings (privacy/bloom.h, docs/linkage.md)
    hdr.push_back("pprl");
    std::vector<std::string> ev(ArkEncodedFields().size());
    AppendCsvRow(&out, hdr);
    CsvParser p(f.body(), f.body_first_line());
    std::vector<std::string_view> row;
    std::string nhs;
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool more, f.NextRow(p, &row));
      if (!more) break;
      const uint64_t rec = ++report_.records;
      std::string local(row[c_id]);
      if (local.empty()) return f.Error(p.line(), is.id, "empty local identifier");
      if (!ids_.emplace(local, static_cast<uint32_t>(rec)).second) {
        return f.Error(p.line(), is.id, "duplicate local identifier");
      }
      std::string pseudonym, status = "missing";
      if (c_nhs >= 0) {
        switch (CheckNhsNumber(row[c_nhs], &nhs)) {
          case NhsNumberStatus::kValid:
            pseudonym = ToHex(key_.Hmac(nhs));
            status = "valid";
            ++report_.nhs_valid;
            break;
          case NhsNumberStatus::kMissing: ++report_.nhs_missing; break;
          case NhsNumberStatus::kInvalid: status = "invalid"; ++report_.nhs_invalid; break;
        }
      } else {
        ++report_.nhs_missing;
      }
      std::string birth, dob_full;
      if (c_dob >= 0 && !Trim(row[c_dob]).empty()) {
        auto t = ParseTime(Trim(row[c_dob]), is.date_of_birth->format);
        if (t.ok()) {
          CivilDate d = CivilFromDays(DayOf(*t));
          char buf[16];
          std::snprintf(buf, sizeof buf, "%04d-%02u", d.year, d.month);
          birth = buf;
          std::snprintf(buf, sizeof buf, "%04d%02u%02u", d.year, d.month, d.day);
          dob_full = buf;
        } else {
          ++report_.dob_invalid;
        }
      } else {
        ++report_.dob_invalid;
      }
      std::string sex = "U";
      if (c_sex >= 0) {
        auto it = is.sex_values.find(Trim(row[c_sex]));
        if (it != is.sex_values.end()) sex = it->second;
      }
      if (sex == "U") ++report_.sex_unknown;
      std::string recs = std::to_string(rec);
      std::vector<std::string_view> o = {recs, pseudonym, status, birth, sex,
                                         c_lsoa >= 0 ? row[c_lsoa] : std::string_view(),
                                         c_imd >= 0 ? row[c_imd] : std::string_view(),
                                         c_prac >= 0 ? row[c_prac] : std::string_view()};
      for (int i : c_extra) o.push_back(row[i]);
      // Encodings: first given name, family name (the last name column), full date of birth,
      // postcode, sex; the identifiers themselves are not written.
      std::string first = c_names.empty() ? "" : NormaliseValue(FieldKind::kName, row[c_names.front()]);
      std::string family = c_names.size() > 1 ? NormaliseValue(FieldKind::kName, row[c_names.back()]) : "";
      if (c_names.size() == 1 && first.find(' ') != std::string::npos) family = first.substr(first.rfind(' ') + 1);
      ev[0] = first.substr(0, first.find(' '));
      ev[1] = family;
      ev[2] = dob_full;
      ev[3] = c_post >= 0 ? NormaliseValue(FieldKind::kPostcode, row[c_post]) : "";
      ev[4] = sex == "U" ? "" : NormaliseValue(FieldKind::kExact, sex);
      RecordEncoding e = encoder_.Encode(ev, rec);
      std::string clk = Base64Encode(e.clk.data(), e.clk.size() * 8), packed = PackFields(e);
      std::string pprl = Base64Encode(packed.data(), packed.size());
      o.push_back(clk);
      o.push_back(pprl);
      AppendCsvRow(&out, o);
    }
    report_.files[kRecordsFile] = report_.records;
    return WriteOut(out_, kRecordsFile, out);
  }

  Status OptOuts() {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(in_ + "/" + spec_.optouts->file));
    ARK_ASSIGN_OR_RETURN(int c, RequireColumn(f, spec_.optouts->nhs_number, "opt-out NHS number"));
    std::string out = "nhs_pseudonym\n", nhs;
    CsvParser p(f.body(), f.body_first_line());
    std::vector<std::string_view> row;
    for (;;) {
      auto more = p.Next(&row);
      if (!more.ok()) return f.Error(p.line(), more.status().message());
      if (!*more) break;
      if (row.size() != f.header().size()) return f.Error(p.line(), "wrong number of fields");
      if (CheckNhsNumber(row[c], &nhs) != NhsNumberStatus::kValid) {
        ++report_.optouts_invalid;
        continue;
      }
      out += ToHex(key_.Hmac(nhs));
      out += '\n';
      ++report_.optouts;
    }
    report_.files[kOptOutsFile] = report_.optouts;
    return WriteOut(out_, kOptOutsFile, out);
  }

  Status EventFiles() {
    // Each event file is written once, with the union of the columns its mappings use.
    std::map<std::string, std::vector<std::string>> files;
    for (auto& e : spec_.events) {
      if (e.file == spec_.identity.file) continue;
      auto& cols = files[e.file];
      if (cols.empty()) cols.push_back(e.person);
      if (cols.front() != e.person) {
        return Status::InvalidArgument("feed spec: mappings of " + e.file + " name different person columns");
      }
      for (auto& c : EventColumns(e)) {
        if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
      }
    }
    const std::set<std::string> ids = IdentifierColumns();
    for (auto& [name, cols] : files) {
      for (size_t i = 1; i < cols.size(); ++i) {
        if (ids.count(cols[i])) return Status::InvalidArgument("feed spec: " + name + " maps identifier column '" + cols[i] + "'");
      }
      ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(in_ + "/" + name));
      std::vector<int> idx;
      for (auto& c : cols) {
        ARK_ASSIGN_OR_RETURN(int i, RequireColumn(f, c, "used by an event mapping"));
        idx.push_back(i);
      }
      std::string out;
      std::vector<std::string_view> hdr(cols.begin(), cols.end());
      hdr[0] = "record";
      AppendCsvRow(&out, hdr);
      CsvParser p(f.body(), f.body_first_line());
      std::vector<std::string_view> row, o;
      uint64_t rows = 0;
      std::string local;
      for (;;) {
        ARK_ASSIGN_OR_RETURN(bool more, f.NextRow(p, &row));
        if (!more) break;
        local.assign(row[idx[0]]);
        auto it = ids_.find(local);
        if (it == ids_.end()) {
          ++report_.orphan_rows;
          continue;
        }
        char buf[16];
        auto r = std::to_chars(buf, buf + sizeof buf, it->second);
        o.assign({std::string_view(buf, r.ptr - buf)});
        for (size_t i = 1; i < idx.size(); ++i) o.push_back(row[idx[i]]);
        AppendCsvRow(&out, o);
        ++rows;
        if (out.size() > (64u << 20)) {
          ARK_RETURN_IF_ERROR(Flush(name, &out));
        }
      }
      ARK_RETURN_IF_ERROR(Flush(name, &out));
      ARK_RETURN_IF_ERROR(open_.at(name).Sync());
      open_.erase(name);
      report_.files[name] = rows;
    }
    return Status::OK();
  }

  Status Flush(const std::string& name, std::string* out) {
    auto it = open_.find(name);
    if (it == open_.end()) {
      ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(out_ + "/" + name, true));
      it = open_.emplace(name, std::move(f)).first;
    }
    ARK_RETURN_IF_ERROR(it->second.Append(*out));
    out->clear();
    return Status::OK();
  }

  const FeedSpec& spec_;
  const ProgrammeKey& key_;
  std::string in_, out_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> extra_;
  std::map<std::string, AppendFile> open_;
  PseudonymiseReport report_;
  Encoder encoder_;
};

}  // namespace

Result<PseudonymiseReport> Pseudonymise(const FeedSpec& spec, const ProgrammeKey& key, const std::string& in_dir,
                                        const std::string& out_dir, bool replace) {
  if (!PathExists(in_dir)) return Status::NotFound(in_dir + ": no such directory");
  if (PathExists(out_dir) && !replace) {
    return Status::FailedPrecondition(out_dir + " already exists (use --replace to overwrite)");
  }
  std::string tmp = out_dir + ".tmp-" + std::to_string(::getpid());
  ARK_RETURN_IF_ERROR(RemoveAll(tmp));
  ARK_RETURN_IF_ERROR(MakeDirs(tmp));
  Pseudonymiser p(spec, key, in_dir, tmp);
  Status s = p.Run();
  if (!s.ok()) {
    (void)RemoveAll(tmp);
    return s;
  }
  PseudonymiseReport& r = p.report();
  r.key_fingerprint = key.Fingerprint();
  nlohmann::ordered_json m;
  m["format"] = "ark-pseudonymised-extract v1";
  m["custodian"] = spec.name;
  m["key_fingerprint"] = r.key_fingerprint;
  m["records"] = r.records;
  m["one_record_per_person"] = spec.identity.one_record_per_person;
  m["nhs_number"] = {{"valid", r.nhs_valid}, {"missing", r.nhs_missing}, {"invalid", r.nhs_invalid}};
  m["date_of_birth_invalid"] = r.dob_invalid;
  m["sex_unknown"] = r.sex_unknown;
  m["optouts"] = r.optouts;
  m["optouts_invalid"] = r.optouts_invalid;
  m["orphan_rows"] = r.orphan_rows;
  m["files"] = r.files;
  {
    nlohmann::ordered_json fields = nlohmann::ordered_json::array();
    for (auto& f : ArkEncodedFields()) fields.push_back(f.name);
    m["encoding"] = {{"version", kEncodingVersion}, {"clk_bits", kClkBits}, {"field_bits", kFieldBits},
                     {"fields", fields}, {"blip", EncodingOptions().blip},
                     {"blocking_rules", BlockingRuleNames()}};
  }
  ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/feed.yaml", spec.text));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/manifest.json", m.dump(2) + "\n"));
  if (replace) ARK_RETURN_IF_ERROR(RemoveAll(out_dir));
  ARK_RETURN_IF_ERROR(PublishDir(tmp, out_dir));
  return r;
}

}  // namespace ark
