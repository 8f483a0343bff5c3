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
#include "store/parallel.h"

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

// Files are parsed in chunks split at line ends (CsvFile::Open with threads): each chunk is
// pseudonymised on its own into its own output text, and the texts are written in file order,
// so the output does not depend on the thread count. Record numbers (which also seed the PPRL
// noise) are known before the encodings are made: a first parallel pass counts each chunk's rows.
class Pseudonymiser {
 public:
  Pseudonymiser(const FeedSpec& spec, const ProgrammeKey& key, std::string in, std::string out, int threads)
      : spec_(spec), key_(key), in_(std::move(in)), out_(std::move(out)), threads_(std::max(1, threads)) {}

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
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(in_ + "/" + is.file, threads_));
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
    std::string header;
    std::vector<std::string_view> hdr(RecordColumns().begin(), RecordColumns().end());
    for (auto& c : extra_) hdr.push_back(c);
    hdr.push_back("clk");   // PPRL encodings (privacy/bloom.h, docs/linkage.md)
    hdr.push_back("pprl");
    AppendCsvRow(&header, hdr);

    // Pass 1: rows per chunk (a row that does not parse ends the count; pass 2 reports it).
    const auto& chunks = f.chunks();
    std::vector<uint64_t> rows(chunks.size(), 0);
    (void)store::ParallelFor(chunks.size(), threads_, [&](size_t c, int) -> Status {
      CsvParser p(chunks[c], f.chunk_first_lines()[c]);
      std::vector<std::string_view> row;
      for (;;) {
        auto more = p.Next(&row);
        if (!more.ok() || !*more) break;
        ++rows[c];
      }
      return Status::OK();
    });
    // Pass 2: each chunk into its own text, numbering records from the rows before it.
    struct Part {
      std::string out;
      std::vector<std::pair<std::string_view, int64_t>> ids;  // local id, line
      PseudonymiseReport counts;
      Status error;
    };
    std::vector<Part> parts(chunks.size());
    std::vector<uint64_t> first_rec(chunks.size(), 1);
    for (size_t c = 1; c < chunks.size(); ++c) first_rec[c] = first_rec[c - 1] + rows[c - 1];
    (void)store::ParallelFor(chunks.size(), threads_, [&](size_t c, int) -> Status {
      Part& part = parts[c];
      PseudonymiseReport& rep = part.counts;
      Encoder encoder(key_, ArkEncodedFields());
      std::vector<std::string> ev(ArkEncodedFields().size());
      CsvParser p(chunks[c], f.chunk_first_lines()[c]);
      std::vector<std::string_view> row;
      std::string nhs;
      uint64_t rec = first_rec[c] - 1;
      auto fail = [&](Status s) {
        part.error = std::move(s);  // kept per chunk: the first in file order is returned below
        return Status::OK();
      };
      for (;;) {
        auto more = f.NextRow(p, &row);
        if (!more.ok()) return fail(more.status());
        if (!*more) break;
        ++rec;
        ++rep.records;
        if (row[c_id].empty()) return fail(f.Error(p.line(), is.id, "empty local identifier"));
        part.ids.emplace_back(row[c_id], p.line());
        std::string pseudonym, status = "missing";
        if (c_nhs >= 0) {
          switch (CheckNhsNumber(row[c_nhs], &nhs)) {
            case NhsNumberStatus::kValid:
              pseudonym = ToHex(key_.Hmac(nhs));
              status = "valid";
              ++rep.nhs_valid;
              break;
            case NhsNumberStatus::kMissing: ++rep.nhs_missing; break;
            case NhsNumberStatus::kInvalid: status = "invalid"; ++rep.nhs_invalid; break;
          }
        } else {
          ++rep.nhs_missing;
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
            ++rep.dob_invalid;
          }
        } else {
          ++rep.dob_invalid;
        }
        std::string sex = "U";
        if (c_sex >= 0) {
          auto it = is.sex_values.find(Trim(row[c_sex]));
          if (it != is.sex_values.end()) sex = it->second;
        }
        if (sex == "U") ++rep.sex_unknown;
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
        RecordEncoding e = encoder.Encode(ev, rec);
        std::string clk = Base64Encode(e.clk.data(), e.clk.size() * 8), packed = PackFields(e);
        std::string pprl = Base64Encode(packed.data(), packed.size());
        o.push_back(clk);
        o.push_back(pprl);
        AppendCsvRow(&part.out, o);
      }
      return Status::OK();  // errors are kept per chunk
    });
    // In file order: local ids (a duplicate is an error at its line), then the chunk's own error.
    ids_.reserve(first_rec.back() + rows.back());
    for (Part& part : parts) {
      uint64_t rec = report_.records;
      for (auto& [local, line] : part.ids) {
        if (!ids_.emplace(std::string(local), static_cast<uint32_t>(++rec)).second) {
          return f.Error(line, is.id, "duplicate local identifier");
        }
      }
      if (!part.error.ok()) return part.error;
      const PseudonymiseReport& r = part.counts;
      report_.records += r.records;
      report_.nhs_valid += r.nhs_valid;
      report_.nhs_missing += r.nhs_missing;
      report_.nhs_invalid += r.nhs_invalid;
      report_.dob_invalid += r.dob_invalid;
      report_.sex_unknown += r.sex_unknown;
      std::vector<std::pair<std::string_view, int64_t>>().swap(part.ids);
    }
    report_.files[kRecordsFile] = report_.records;
    ARK_ASSIGN_OR_RETURN(AppendFile out, AppendFile::Open(out_ + "/" + kRecordsFile, true));
    ARK_RETURN_IF_ERROR(out.Append(header));
    for (Part& part : parts) {
      ARK_RETURN_IF_ERROR(out.Append(part.out));
      std::string().swap(part.out);
    }
    ARK_RETURN_IF_ERROR(out.Sync());
    return out.Close();
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
    report_.optouts_sha256 = Sha256Hex(out);
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
      ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(in_ + "/" + name, threads_));
      std::vector<int> idx;
      for (auto& c : cols) {
        ARK_ASSIGN_OR_RETURN(int i, RequireColumn(f, c, "used by an event mapping"));
        idx.push_back(i);
      }
      ARK_ASSIGN_OR_RETURN(AppendFile file, AppendFile::Open(out_ + "/" + name, true));
      {
        std::string header;
        std::vector<std::string_view> hdr(cols.begin(), cols.end());
        hdr[0] = "record";
        AppendCsvRow(&header, hdr);
        ARK_RETURN_IF_ERROR(file.Append(header));
      }
      // Chunks in rounds of `threads_`, so at most that many chunks' output is held at once.
      struct Part {
        std::string out;
        uint64_t rows = 0, orphans = 0;
        Status error;
      };
      const auto& chunks = f.chunks();
      uint64_t rows = 0;
      for (size_t round = 0; round < chunks.size(); round += threads_) {
        const size_t n = std::min<size_t>(threads_, chunks.size() - round);
        std::vector<Part> parts(n);
        (void)store::ParallelFor(n, threads_, [&](size_t k, int) -> Status {
          const size_t c = round + k;
          Part& part = parts[k];
          CsvParser p(chunks[c], f.chunk_first_lines()[c]);
          std::vector<std::string_view> row, o;
          std::string local;
          const std::string* last_local = nullptr;  // rows of one person often come together
          uint32_t last_rec = 0;
          for (;;) {
            auto more = f.NextRow(p, &row);
            if (!more.ok()) {
              part.error = more.status();  // kept per chunk, returned in file order below
              return Status::OK();
            }
            if (!*more) break;
            uint32_t rec;
            if (last_local && *last_local == row[idx[0]]) {
              rec = last_rec;
            } else {
              local.assign(row[idx[0]]);
              auto it = ids_.find(local);
              if (it == ids_.end()) {
                ++part.orphans;
                continue;
              }
              last_local = &it->first;
              rec = last_rec = it->second;
            }
            char buf[16];
            auto r = std::to_chars(buf, buf + sizeof buf, rec);
            o.assign({std::string_view(buf, r.ptr - buf)});
            for (size_t i = 1; i < idx.size(); ++i) o.push_back(row[idx[i]]);
            AppendCsvRow(&part.out, o);
            ++part.rows;
          }
          return Status::OK();  // errors are kept per chunk
        });
        for (Part& part : parts) {
          if (!part.error.ok()) return part.error;
          ARK_RETURN_IF_ERROR(file.Append(part.out));
          rows += part.rows;
          report_.orphan_rows += part.orphans;
        }
      }
      ARK_RETURN_IF_ERROR(file.Sync());
      ARK_RETURN_IF_ERROR(file.Close());
      report_.files[name] = rows;
    }
    return Status::OK();
  }

  const FeedSpec& spec_;
  const ProgrammeKey& key_;
  std::string in_, out_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> extra_;
  int threads_;
  PseudonymiseReport report_;
};

}  // namespace

Result<PseudonymiseReport> Pseudonymise(const FeedSpec& spec, const ProgrammeKey& key, const std::string& in_dir,
                                        const std::string& out_dir, bool replace, int threads) {
  if (!PathExists(in_dir)) return Status::NotFound(in_dir + ": no such directory");
  if (PathExists(out_dir) && !replace) {
    return Status::FailedPrecondition(out_dir + " already exists (use --replace to overwrite)");
  }
  std::string tmp = out_dir + ".tmp-" + std::to_string(::getpid());
  ARK_RETURN_IF_ERROR(RemoveAll(tmp));
  ARK_RETURN_IF_ERROR(MakeDirs(tmp));
  Pseudonymiser p(spec, key, in_dir, tmp, threads);
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
  if (!r.optouts_sha256.empty()) m["optouts_sha256"] = r.optouts_sha256;  // the list's fingerprint
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
