#include "synth/corrupt.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/csv.h"
#include "core/fs.h"
#include "synth/rng.h"

namespace ark::synth {
namespace {

enum DateFormat { kIso, kDmySlash, kCompact, kDmyDash };  // YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD, DD-MM-YYYY

// Where one custodian keeps its identity fields.
struct Layout {
  const char* custodian;
  const char* file;
  const char *nhs, *given, *family, *dob, *postcode, *lsoa;
  DateFormat date;
};

const Layout kLayouts[] = {
    {"gp", "gp/patients.csv", "nhs_number", "given_name", "family_name", "date_of_birth", "postcode", "lsoa", kIso},
    {"acute", "acute/patients.csv", "nhs_no", "forename", "surname", "dob", "postcode", "lsoa", kDmySlash},
    {"community", "community/clients.csv", "nhs_number", "first_name", "last_name", "birth_date", "postcode", "lsoa",
     kCompact},
    {"social_care", "social_care/people.csv", "nhs_number", "first_names", "surname", "date_of_birth", "postcode",
     "lsoa", kDmyDash},
    {"deaths", "deaths/registrations.csv", "nhs_number", "forenames", "surname", "date_of_birth", "postcode", "lsoa",
     kIso},
};
constexpr int kCustodians = sizeof(kLayouts) / sizeof(kLayouts[0]);

struct Date {
  int y = 0, m = 0, d = 0;
};

bool ValidDate(const Date& t) {
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.y < 1880 || t.y > 2030 || t.m < 1 || t.m > 12 || t.d < 1) return false;
  const bool leap = (t.y % 4 == 0 && t.y % 100 != 0) || t.y % 400 == 0;
  return t.d <= (t.m == 2 && !leap ? 28 : kDays[t.m - 1]);
}

bool ParseDate(std::string_view s, DateFormat f, Date* out) {
  int a = 0, b = 0, c = 0;
  const std::string t(s);
  switch (f) {
    case kIso: if (std::sscanf(t.c_str(), "%4d-%2d-%2d", &a, &b, &c) != 3) return false; *out = {a, b, c}; break;
    case kDmySlash: if (std::sscanf(t.c_str(), "%2d/%2d/%4d", &c, &b, &a) != 3) return false; *out = {a, b, c}; break;
    case kCompact: if (t.size() != 8 || std::sscanf(t.c_str(), "%4d%2d%2d", &a, &b, &c) != 3) return false; *out = {a, b, c}; break;
    case kDmyDash: if (std::sscanf(t.c_str(), "%2d-%2d-%4d", &c, &b, &a) != 3) return false; *out = {a, b, c}; break;
  }
  return ValidDate(*out);
}

std::string FormatDate(const Date& t, DateFormat f) {
  char buf[16];
  switch (f) {
    case kIso: std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.y, t.m, t.d); break;
    case kDmySlash: std::snprintf(buf, sizeof buf, "%02d/%02d/%04d", t.d, t.m, t.y); break;
    case kCompact: std::snprintf(buf, sizeof buf, "%04d%02d%02d", t.y, t.m, t.d); break;
    case kDmyDash: std::snprintf(buf, sizeof buf, "%02d-%02d-%04d", t.d, t.m, t.y); break;
  }
  return buf;
}

// `like`'s case on `s`: all upper, or first letter upper and the rest lower.
std::string CaseLike(std::string s, std::string_view like) {
  const bool upper = std::none_of(like.begin(), like.end(), [](char c) { return std::islower((unsigned char)c); });
  for (size_t i = 0; i < s.size(); ++i) {
    const bool up = upper || i == 0 || s[i - 1] == ' ' || s[i - 1] == '-' || s[i - 1] == '\'';
    s[i] = static_cast<char>(up ? std::toupper((unsigned char)s[i]) : std::tolower((unsigned char)s[i]));
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower((unsigned char)c));
  return o;
}

// One OCR confusion at a random place where one applies; `s` unchanged if none does.
bool OcrName(std::string* s, Rng& rng) {
  static const std::pair<const char*, const char*> kConf[] = {
      {"rn", "m"}, {"m", "rn"}, {"cl", "d"}, {"d", "cl"}, {"li", "h"}, {"h", "li"}, {"vv", "w"}, {"w", "vv"},
      {"e", "c"},  {"c", "e"},  {"i", "l"},  {"l", "i"},  {"u", "v"},  {"a", "o"}};
  const std::string low = Lower(*s);
  std::vector<std::pair<size_t, int>> at;  // position (not the first letter), confusion
  for (size_t p = 1; p < low.size(); ++p) {
    for (int k = 0; k < static_cast<int>(std::size(kConf)); ++k) {
      if (low.compare(p, std::strlen(kConf[k].first), kConf[k].first) == 0) at.emplace_back(p, k);
    }
  }
  if (at.empty()) return false;
  auto [p, k] = at[rng.Below(static_cast<uint32_t>(at.size()))];
  std::string out = low.substr(0, p) + kConf[k].second + low.substr(p + std::strlen(kConf[k].first));
  *s = CaseLike(out, *s);
  return true;
}

char OcrDigit(char c) {
  switch (c) {
    case '1': return '7'; case '7': return '1'; case '3': return '8'; case '8': return '3';
    case '5': return '6'; case '6': return '5'; case '0': return '8';
    default: return 0;
  }
}

// One OCR digit confusion among the digits of `s` (positions chosen at random; `ok` must accept
// the result).
template <typename Ok>
bool OcrDigits(std::string* s, Rng& rng, Ok ok) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s->size(); ++i) if (OcrDigit((*s)[i])) at.push_back(i);
  for (int tries = 0; tries < 8 && !at.empty(); ++tries) {
    std::string t = *s;
    const size_t i = at[rng.Below(static_cast<uint32_t>(at.size()))];
    t[i] = OcrDigit(t[i]);
    if (ok(t)) return *s = t, true;
  }
  return false;
}

// Short forms of the model's own, different from the generator's nickname table.
std::string_view ShortForm(std::string_view given) {
  static const std::pair<const char*, const char*> kShort[] = {
      {"john", "Jack"}, {"margaret", "Meg"}, {"robert", "Bob"}, {"william", "Bill"}, {"richard", "Dick"},
      {"edward", "Ted"}, {"elizabeth", "Betty"}, {"patricia", "Pat"}, {"susan", "Sue"}, {"christine", "Chris"},
      {"anthony", "Ant"}, {"michael", "Mick"}, {"kenneth", "Ken"}, {"thomas", "Tom"}, {"james", "Jas"},
      {"daniel", "Dan"}, {"christopher", "Kit"}, {"andrew", "Drew"}, {"dorothy", "Dot"}, {"kathleen", "Kath"},
      {"barbara", "Babs"}, {"deborah", "Deb"}, {"alexander", "Sandy"}, {"jennifer", "Jenna"}, {"joseph", "Jos"},
      {"samuel", "Sam"}, {"charlotte", "Lotte"}, {"stephen", "Steph"}, {"helen", "Nell"}, {"sarah", "Sally"},
      {"henry", "Hal"}, {"harry", "Hal"}, {"mohammed", "Mohamad"}, {"fatima", "Fatma"}};
  const std::string low = Lower(given);
  for (auto& [f, s] : kShort) if (low == f) return s;
  return {};
}

struct Identity {  // what a twin takes from their sibling
  std::string family, postcode, lsoa;
  Date dob;
  bool set = false;
};

struct File {
  const Layout* layout;
  std::string path, header_line;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int nhs = -1, given = -1, family = -1, dob = -1, postcode = -1, lsoa = -1;
};

Result<File> LoadFile(const std::string& dir, const Layout& l) {
  File f;
  f.layout = &l;
  f.path = dir + "/" + l.file;
  ARK_ASSIGN_OR_RETURN(CsvFile csv, CsvFile::Open(f.path));
  f.header = csv.header();
  auto col = [&](const char* name, int* out) -> Status {
    *out = csv.ColumnIndex(name);
    if (*out < 0) return Status::InvalidArgument(f.path + ":1: no column '" + name + "'");
    return Status::OK();
  };
  ARK_RETURN_IF_ERROR(col(l.nhs, &f.nhs));
  ARK_RETURN_IF_ERROR(col(l.given, &f.given));
  ARK_RETURN_IF_ERROR(col(l.family, &f.family));
  ARK_RETURN_IF_ERROR(col(l.dob, &f.dob));
  ARK_RETURN_IF_ERROR(col(l.postcode, &f.postcode));
  ARK_RETURN_IF_ERROR(col(l.lsoa, &f.lsoa));
  CsvParser p(csv.body(), csv.body_first_line());
  std::vector<std::string_view> row;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, csv.NextRow(p, &row));
    if (!more) break;
    f.rows.emplace_back(row.begin(), row.end());
  }
  return f;
}

Status SaveFile(const File& f) {
  std::string out;
  for (size_t i = 0; i < f.header.size(); ++i) {
    if (i) out += ',';
    AppendCsvField(&out, f.header[i]);
  }
  out += '\n';
  for (auto& r : f.rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i) out += ',';
      AppendCsvField(&out, r[i]);
    }
    out += '\n';
  }
  return WriteFileAtomic(f.path, out);
}

// truth/records.csv: custodian -> person per 1-based record (index 0 unused).
Result<std::vector<std::vector<uint32_t>>> LoadPersons(const std::string& dir, uint32_t* max_person) {
  const std::string path = dir + "/truth/records.csv";
  ARK_ASSIGN_OR_RETURN(CsvFile csv, CsvFile::Open(path));
  const int c = csv.ColumnIndex("custodian"), r = csv.ColumnIndex("record"), p = csv.ColumnIndex("person_id");
  if (c < 0 || r < 0 || p < 0) return Status::InvalidArgument(path + ":1: expected custodian,record,person_id");
  std::vector<std::vector<uint32_t>> out(kCustodians);
  *max_person = 0;
  ARK_RETURN_IF_ERROR(csv.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    int k = 0;
    while (k < kCustodians && row[c] != kLayouts[k].custodian) ++k;
    const long rec = std::strtol(std::string(row[r]).c_str(), nullptr, 10);
    const long per = std::strtol(std::string(row[p]).c_str(), nullptr, 10);
    if (k == kCustodians || rec < 1 || per < 1) {
      return Status::InvalidArgument(path + ":" + std::to_string(line) + ": bad custodian, record or person_id");
    }
    if (out[k].size() <= static_cast<size_t>(rec)) out[k].resize(rec + 1, 0);
    out[k][rec] = static_cast<uint32_t>(per);
    *max_person = std::max(*max_person, static_cast<uint32_t>(per));
    return Status::OK();
  }));
  return out;
}

constexpr uint64_t kCorruptStream = 0x6d6f64656c32ull;  // "model2"

}  // namespace

Result<CorruptReport> CorruptRegion(const CorruptOptions& opt) {
  std::vector<File> files;
  for (const Layout& l : kLayouts) {
    ARK_ASSIGN_OR_RETURN(File f, LoadFile(opt.region_dir, l));
    files.push_back(std::move(f));
  }
  uint32_t persons = 0;
  ARK_ASSIGN_OR_RETURN(auto person_of, LoadPersons(opt.region_dir, &persons));
  for (int k = 0; k < kCustodians; ++k) {
    if (person_of[k].empty()) person_of[k].resize(1, 0);
    const bool gaps = std::count(person_of[k].begin() + 1, person_of[k].end(), 0u) > 0;
    if (gaps || person_of[k].size() != files[k].rows.size() + 1) {
      return Status::InvalidArgument(opt.region_dir + "/truth/records.csv: " + std::to_string(person_of[k].size() - 1) +
                                     " records of " + kLayouts[k].custodian + ", its file has " +
                                     std::to_string(files[k].rows.size()));
    }
  }
  const double s = opt.rate_scale;
  CorruptReport rep;
  std::string log = "custodian,record,kind\n";
  std::vector<std::vector<std::vector<const char*>>> kinds(kCustodians);
  for (int k = 0; k < kCustodians; ++k) kinds[k].resize(files[k].rows.size());

  // Twins first: each person's identity from their first record.
  std::vector<Identity> ident(persons + 1);
  for (int k = 0; k < kCustodians; ++k) {
    const File& f = files[k];
    for (size_t i = 0; i < f.rows.size(); ++i) {
      Identity& id = ident[person_of[k][i + 1]];
      if (id.set || !ParseDate(f.rows[i][f.dob], f.layout->date, &id.dob)) continue;
      id = {Lower(f.rows[i][f.family]), f.rows[i][f.postcode], f.rows[i][f.lsoa], id.dob, true};
    }
  }
  std::vector<uint32_t> twin_of(persons + 1, 0);
  for (uint32_t p = 1; p <= persons; ++p) {
    Rng rng = Rng::ForStream(opt.seed, kCorruptStream, p);
    if (!rng.Chance(0.003 * s)) continue;
    const uint32_t other = 1 + rng.Below(persons);
    if (other != p && ident[other].set && !twin_of[other]) twin_of[p] = other;
  }
  for (int k = 0; k < kCustodians; ++k) {
    File& f = files[k];
    for (size_t i = 0; i < f.rows.size(); ++i) {
      const uint32_t t = twin_of[person_of[k][i + 1]];
      if (!t) continue;
      auto& r = f.rows[i];
      r[f.family] = CaseLike(ident[t].family, r[f.family]);
      r[f.dob] = FormatDate(ident[t].dob, f.layout->date);
      r[f.postcode] = ident[t].postcode;
      r[f.lsoa] = ident[t].lsoa;
      kinds[k][i].push_back("twin");
    }
  }

  for (int k = 0; k < kCustodians; ++k) {
    File& f = files[k];
    const DateFormat df = f.layout->date;
    for (size_t i = 0; i < f.rows.size(); ++i) {
      Rng rng = Rng::ForStream(opt.seed, kCorruptStream + 1 + k, i + 1);
      auto& r = f.rows[i];
      auto& why = kinds[k][i];
      if (rng.Chance(0.03 * s)) {
        const int field = rng.Chance(0.5) ? f.given : f.family;
        if (OcrName(&r[field], rng)) why.push_back("ocr_name");
      }
      if (rng.Chance(0.01 * s)) {
        Date d;
        if (OcrDigits(&r[f.dob], rng, [&](const std::string& t) { return ParseDate(t, df, &d); })) {
          why.push_back("ocr_dob");
        }
      }
      if (rng.Chance(0.01 * s) && !r[f.nhs].empty()) {
        if (OcrDigits(&r[f.nhs], rng, [](const std::string&) { return true; })) why.push_back("ocr_nhs");
      }
      if (rng.Chance(0.015 * s) && !r[f.given].empty() && !r[f.family].empty()) {
        std::swap(r[f.given], r[f.family]);
        why.push_back("swapped_names");
      }
      if (rng.Chance(0.02 * s)) {
        Date d;
        if (ParseDate(r[f.dob], df, &d) && d.d <= 12 && d.d != d.m) {
          std::swap(d.d, d.m);
          r[f.dob] = FormatDate(d, df);
          why.push_back("day_month");
        }
      }
      if (rng.Chance(0.03 * s)) {
        // The first given name only ("John Paul" -> "Jack Paul").
        const size_t sp = r[f.given].find(' ');
        const std::string first = r[f.given].substr(0, sp);
        const std::string_view sf = ShortForm(first);
        if (!sf.empty()) {
          r[f.given] = CaseLike(std::string(sf), first) + (sp == std::string::npos ? "" : r[f.given].substr(sp));
          why.push_back("nickname");
        }
      }
      if (rng.Chance(0.02 * s) && f.rows.size() > 1) {
        const size_t j = rng.Below(static_cast<uint32_t>(f.rows.size()));
        if (j != i && f.rows[j][f.postcode] != r[f.postcode] && !f.rows[j][f.postcode].empty()) {
          r[f.postcode] = f.rows[j][f.postcode];
          r[f.lsoa] = f.rows[j][f.lsoa];
          why.push_back("moved");
        }
      }
      if (rng.Chance(0.03 * s) && !r[f.postcode].empty()) {
        r[f.postcode].clear();
        why.push_back("missing_postcode");
      }
    }
  }

  for (int k = 0; k < kCustodians; ++k) {
    rep.records += files[k].rows.size();
    for (size_t i = 0; i < kinds[k].size(); ++i) {
      if (kinds[k][i].empty()) continue;
      ++rep.records_changed;
      for (const char* w : kinds[k][i]) {
        ++rep.by_kind[w];
        log += std::string(kLayouts[k].custodian) + "," + std::to_string(i + 1) + "," + w + "\n";
      }
    }
    ARK_RETURN_IF_ERROR(SaveFile(files[k]));
  }
  ARK_RETURN_IF_ERROR(WriteFileAtomic(opt.region_dir + "/truth/model2_errors.csv", log));
  return rep;
}

}  // namespace ark::synth
