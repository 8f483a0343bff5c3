#include "ingest/ingest.h"

#include <unistd.h>
#include <xxhash.h>

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/csv.h"
#include "core/event.h"
#include "core/fs.h"
#include "ingest/feed_spec.h"
#include "ingest/staging.h"
#include "privacy/key.h"
#include "privacy/custodian_key.h"
#include "ingest/staging_guard.h"
#include "privacy/bloom.h"
#include "store/parallel.h"

namespace ark {
namespace {

using Json = nlohmann::json;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Interns strings into a dictionary whose index 0 is "".
class Interner {
 public:
  explicit Interner(std::vector<std::string>* dict) : dict_(dict) {
    for (size_t i = 0; i < dict_->size(); ++i) ids_.emplace((*dict_)[i], static_cast<uint32_t>(i));
  }
  uint32_t Id(std::string_view s) {
    if (s.empty()) return 0;
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(dict_->size());
    dict_->emplace_back(s);
    ids_.emplace(std::string(s), id);
    return id;
  }

 private:
  std::vector<std::string>* dict_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
};

// A mapping's column indexes in its file.
struct BoundMapping {
  const EventSpec* spec;
  int person, time, end = -1, code = -1, value = -1, unit = -1, encounter = -1;
  size_t id;  // index among all mappings of the feed: chooses the code dictionary
};

struct Reject {
  int64_t line;
  std::string reason;
};

// What one thread produced from one chunk of one file. Strings are views into the mapped file.
struct ChunkOut {
  StagedEvents ev;
  std::vector<std::unordered_map<std::string_view, uint32_t>> codes;  // per mapping: raw -> local id
  std::vector<std::vector<std::string_view>> code_list;                // per mapping: local id -> raw
  std::unordered_map<std::string_view, uint32_t> units, encounters;
  std::vector<std::string_view> unit_list{""}, encounter_list{""};
  std::vector<Reject> rejects;
  Status error;
  uint64_t rows = 0;
};

// Offset of the first control character (C0, e.g. NUL or a line break, or DEL) in `s`, or npos.
size_t FindControl(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

// "control character 0x00 at byte 4 of 'SNOMED…'" (the value printed with the control escaped).
std::string ControlError(std::string_view s, size_t at) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(s[at])));
  std::string shown;
  for (char ch : s.substr(0, 64)) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char e[8];
      std::snprintf(e, sizeof e, "\\x%02x", static_cast<unsigned>(c));
      shown += e;
    } else {
      shown += ch;
    }
  }
  return "control character " + std::string(hex) + " at byte " + std::to_string(at + 1) + " of '" + shown + "'";
}

// Returned by LocalId for a value holding a control character (it is not interned).
constexpr uint32_t kBadText = 0xffffffffu;

uint32_t LocalId(std::unordered_map<std::string_view, uint32_t>& m, std::vector<std::string_view>& list, std::string_view s) {
  if (s.empty()) return 0;
  // Runs of the same value are common (a file sorted by code, a constant column): try the
  // last id handed out before hashing.
  if (list.size() > 1 && list.back() == s) return static_cast<uint32_t>(list.size() - 1);
  auto [it, fresh] = m.try_emplace(s, static_cast<uint32_t>(list.size()));
  if (fresh) {
    // Each distinct value is checked once, when first seen.
    if (FindControl(s) != std::string_view::npos) {
      m.erase(it);
      return kBadText;
    }
    list.push_back(s);
  }
  return it->second;
}

// Numeric encounter ids are kept as numbers (see staging.h); others get a chunk-local id with
// the kInternedEncounter bit, rewritten to the batch dictionary at merge.
uint32_t EncounterId(ChunkOut* out, std::string_view s) {
  if (s.empty()) return 0;
  if (s.size() <= 9 && (s.size() == 1 || s[0] != '0')) {
    uint32_t n = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return n + 1;
  }
  const uint32_t id = LocalId(out->encounters, out->encounter_list, s);
  return id == kBadText ? kBadText : kInternedEncounter | id;
}

// A CSV file's text in pieces of about kPieceBytes, split at line ends inside each of its
// chunks, parsed a wave (one piece a thread) at a time: what a wave holds does not grow with the
// file. A file with quotes stays one piece (a quoted field may hold a line break).
constexpr size_t kPieceBytes = size_t{16} << 20;

struct Piece {
  std::string_view text;
  int64_t first_line = 0, lines = 0;
};

std::vector<std::string_view> SplitPieces(const CsvFile& f) {
  if (f.has_quotes()) return f.chunks();
  std::vector<std::string_view> out;
  for (std::string_view c : f.chunks()) {
    const int n = static_cast<int>(std::max<size_t>(1, (c.size() + kPieceBytes - 1) / kPieceBytes));
    for (std::string_view p : SplitAtLines(c, n)) out.push_back(p);
  }
  return out;
}

// Pieces [c0, c1) with their first lines, counted on from *line (the file's body line before
// the first piece); the pieces' pages are faulted in here, just before they are parsed.
std::vector<Piece> Wave(const CsvFile& f, const std::vector<std::string_view>& pieces, size_t c0, size_t c1,
                        int64_t* line) {
  std::vector<Piece> w;
  for (size_t c = c0; c < c1; ++c) {
    Piece p{pieces[c], *line, f.has_quotes() ? f.chunk_line_counts()[0] : CountLines(pieces[c])};
    *line += p.lines;
    w.push_back(p);
  }
  return w;
}

// Parses the file's `pieces` a wave at a time (one piece a thread, `threads` at once), so that
// memory holds a wave, not the file: parse(piece, &out) runs on the threads into one Out per piece
// (Out has a Status `error`); then, in file order, the first error is returned or merge(out) is
// called; then each piece of the wave is added to `hash` (when not null) and its pages dropped.
// The body's lines are counted from f.body_first_line().
template <typename Out, typename Parse, typename Merge>
Status ParseInWaves(const CsvFile& f, const std::vector<std::string_view>& pieces, int threads, XXH3_state_t* hash,
                    const Parse& parse, const Merge& merge) {
  int64_t line = f.body_first_line();
  const size_t wave = static_cast<size_t>(std::max(1, threads));
  for (size_t c0 = 0; c0 < pieces.size(); c0 += wave) {
    const size_t c1 = std::min(pieces.size(), c0 + wave);
    const std::vector<Piece> ps = Wave(f, pieces, c0, c1, &line);
    std::vector<Out> outs(c1 - c0);
    (void)store::ParallelFor(ps.size(), threads, [&](size_t c, int) {
      parse(ps[c], &outs[c]);
      return Status::OK();  // each piece's error is kept, and the first in file order returned
    });
    for (auto& o : outs) if (!o.error.ok()) return o.error;
    for (auto& o : outs) ARK_RETURN_IF_ERROR(merge(o));
    outs.clear();  // nothing points into these pieces' text any more
    for (size_t c = c0; c < c1; ++c) {
      if (hash) XXH3_64bits_update(hash, pieces[c].data(), pieces[c].size());
      MappedFile::DropPages(pieces[c]);
    }
  }
  return Status::OK();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

void ParseChunk(const CsvFile& f, std::string_view text, int64_t first_line, int64_t lines,
                const std::vector<BoundMapping>& maps, size_t nmaps, uint32_t nrecords, bool quarantine,
                ChunkOut* out) {
  out->codes.resize(nmaps);
  out->code_list.assign(nmaps, std::vector<std::string_view>{""});
  {
    const size_t guess = static_cast<size_t>(lines) * maps.size() + 16;
    auto& e = out->ev;
    e.record.reserve(guess); e.time.reserve(guess); e.end.reserve(guess); e.code.reserve(guess);
    e.value.reserve(guess); e.unit.reserve(guess); e.encounter.reserve(guess);
  }
  CsvParser p(text, first_line);
  std::vector<std::string_view> row;
  const size_t ncols = f.header().size();
  auto fail = [&](int64_t line, std::string_view col, const std::string& what) -> bool {
    if (quarantine) {
      out->rejects.push_back({line, col.empty() ? what : "column '" + std::string(col) + "': " + what});
      return true;
    }
    out->error = col.empty() ? f.Error(line, what) : f.Error(line, col, what);
    return false;
  };
  for (;;) {
    auto more = p.Next(&row);
    if (!more.ok()) {
      if (!fail(p.line(), "", more.status().message().substr(more.status().message().find(':') + 2))) return;
      return;  // the rest of the chunk cannot be split into rows reliably
    }
    if (!*more) break;
    ++out->rows;
    if (row.size() != ncols) {
      if (!fail(p.line(), "", "expected " + std::to_string(ncols) + " fields, found " + std::to_string(row.size()))) return;
      continue;
    }
    const size_t mark = out->ev.size();
    bool bad = false;
    for (const BoundMapping& m : maps) {
      const EventSpec& s = *m.spec;
      uint32_t rec = 0;
      std::string_view rf = row[m.person];
      auto rr = std::from_chars(rf.data(), rf.data() + rf.size(), rec);
      if (rr.ec != std::errc() || rr.ptr != rf.data() + rf.size() || rec == 0 || rec > nrecords) {
        bad = true;
        if (!fail(p.line(), "record", "'" + std::string(rf) + "' is not a record number in records.csv")) return;
        break;
      }
      std::string_view tf = Trim(row[m.time]);
      if (tf.empty()) {
        if (s.time.optional) continue;
        bad = true;
        if (!fail(p.line(), s.time.column, "empty time")) return;
        break;
      }
      auto t = ParseTime(tf, s.time.format);
      if (!t.ok()) {
        bad = true;
        if (!fail(p.line(), s.time.column, "'" + std::string(tf) + "' is not a time of format " + s.time.format + " (" + t.status().message() + ")")) return;
        break;
      }
      Seconds end = kNoTime;
      if (m.end >= 0) {
        std::string_view ef = Trim(row[m.end]);
        if (!ef.empty()) {
          auto e = ParseTime(ef, s.end->format);
          if (!e.ok()) {
            bad = true;
            if (!fail(p.line(), s.end->column, "'" + std::string(ef) + "' is not a time of format " + s.end->format + " (" + e.status().message() + ")")) return;
            break;
          }
          end = *e;
        }
      }
      double value = kNoValue;
      if (m.value >= 0) {
        std::string_view vf = Trim(row[m.value]);
        if (!vf.empty()) {
          auto vr = std::from_chars(vf.data(), vf.data() + vf.size(), value);
          if (vr.ec != std::errc() || vr.ptr != vf.data() + vf.size()) {
            bad = true;
            if (!fail(p.line(), s.value, "'" + std::string(vf) + "' is not a number")) return;
            break;
          }
        }
      }
      uint32_t unit = m.unit >= 0 ? LocalId(out->units, out->unit_list, Trim(row[m.unit])) : 0;
      if (unit == kBadText) {
        bad = true;
        const std::string_view uf = Trim(row[m.unit]);
        if (!fail(p.line(), s.unit, ControlError(uf, FindControl(uf)))) return;
        break;
      }
      uint32_t enc = m.encounter >= 0 ? EncounterId(out, Trim(row[m.encounter])) : 0;
      if (enc == kBadText) {
        bad = true;
        const std::string_view ef = Trim(row[m.encounter]);
        if (!fail(p.line(), s.encounter, ControlError(ef, FindControl(ef)))) return;
        break;
      }
      // False (and the row failed) when `code` holds a control character.
      auto emit = [&](std::string_view code) -> bool {
        const uint32_t local = LocalId(out->codes[m.id], out->code_list[m.id], code);
        if (local == kBadText) return false;
        out->ev.record.push_back(rec - 1);
        out->ev.time.push_back(*t);
        out->ev.end.push_back(end);
        // The mapping's index rides in the top 8 bits, so the merge knows which dictionary.
        out->ev.code.push_back((static_cast<uint32_t>(m.id) << 24) | local);
        out->ev.value.push_back(value);
        out->ev.unit.push_back(unit);
        out->ev.encounter.push_back(enc);
        return true;
      };
      if (m.code < 0) {
        if (!emit(s.code.value)) {
          bad = true;
          const std::string what = "the feed spec's constant code holds a " +
                                   ControlError(s.code.value, FindControl(s.code.value));
          if (!fail(p.line(), "", what)) return;
          break;
        }
        continue;
      }
      std::string_view cf = Trim(row[m.code]);
      if (!s.code.split.empty()) {
        bool ok = true;
        while (!cf.empty() && ok) {
          size_t k = cf.find(s.code.split);
          std::string_view item = Trim(cf.substr(0, k));
          if (!item.empty()) ok = emit(item);
          if (k == std::string_view::npos) break;
          cf.remove_prefix(k + s.code.split.size());
        }
        if (!ok) {
          bad = true;
          const std::string_view whole = Trim(row[m.code]);
          if (!fail(p.line(), s.code.column, ControlError(whole, FindControl(whole)))) return;
          break;
        }
        continue;
      }
      if (cf.empty()) {
        bad = true;
        if (!fail(p.line(), s.code.column, "empty code")) return;
        break;
      }
      if (!emit(cf)) {
        bad = true;
        if (!fail(p.line(), s.code.column, ControlError(cf, FindControl(cf)))) return;
        break;
      }
    }
    if (bad) {  // drop the partial events of a quarantined row
      auto& e = out->ev;
      e.record.resize(mark); e.time.resize(mark); e.end.resize(mark); e.code.resize(mark);
      e.value.resize(mark); e.unit.resize(mark); e.encounter.resize(mark);
    }
  }
}

class FeedLoader {
 public:
  FeedLoader(std::string dir, const IngestOptions& o) : dir_(std::move(dir)), opt_(o) {}

  // Records, encodings and events go to `spill` as chunks are parsed (it outlives the loader's
  // use of it).
  Status Load(EventSpill* spill) {
    spill_ = spill;
    ARK_ASSIGN_OR_RETURN(std::string mtext, ReadFile(dir_ + "/manifest.json"));
    Json m = Json::parse(mtext, nullptr, false);
    if (m.is_discarded() || !m.is_object() || !m.contains("format") || !m["format"].is_string() ||
        m["format"].get<std::string>() != "ark-pseudonymised-extract v1") {
      return Status::InvalidArgument(dir_ + "/manifest.json: not a pseudonymised extract manifest (run 'ark pseudonymise' first)");
    }
    manifest_ = mtext;
    for (const char* field : {"custodian", "key_fingerprint"}) {
      if (m.contains(field) && !m[field].is_string()) {
        return Status::InvalidArgument(dir_ + "/manifest.json: field '" + field + "' must be a string, found " +
                                       m[field].dump());
      }
    }
    if (m.contains("records") && !m["records"].is_number_unsigned()) {
      return Status::InvalidArgument(dir_ + "/manifest.json: field 'records' must be a row count, found " +
                                     m["records"].dump());
    }
    b_.feed = m.value("custodian", "");
    b_.key_fingerprint = m.value("key_fingerprint", "");
    ARK_ASSIGN_OR_RETURN(std::string stext, ReadFile(dir_ + "/feed.yaml"));
    ARK_ASSIGN_OR_RETURN(FeedSpec raw, ParseFeedSpec(stext, dir_ + "/feed.yaml"));
    spec_ = PseudonymisedView(raw);
    report_.feed = b_.feed;
    XXH3_state_t* h = XXH3_createState();
    XXH3_64bits_reset(h);
    hash_ = h;
    Status s = LoadAll(m);
    XXH3_freeState(h);
    return s;
  }

  StagedBatch& batch() { return b_; }
  // Frees the batch (once written) and the mapped records file, keeping the feed name and key
  // fingerprint: a loader stays alive until the catalog commit, its events need not.
  void ReleaseBatch() {
    StagedBatch keep;
    keep.feed = b_.feed;
    keep.key_fingerprint = b_.key_fingerprint;
    b_ = std::move(keep);
  }
  void ReleaseRecordsFile() { records_file_.reset(); }
  IngestReport& report() { return report_; }
  const std::string& manifest() const { return manifest_; }
  uint64_t content_hash() const { return content_hash_; }

 private:
  Status LoadAll(const Json& m) {
    ARK_RETURN_IF_ERROR(Records());
    if (m.contains("records") && m["records"].get<uint64_t>() != records_) {
      return Status::InvalidArgument(dir_ + "/records.csv: " + std::to_string(records_) +
                                     " records but the manifest says " + m["records"].dump() + " (truncated file?)");
    }
    ARK_RETURN_IF_ERROR(DeclaredOptOuts(m));
    if (spec_.optouts) ARK_RETURN_IF_ERROR(OptOuts(m));
    std::map<std::string, std::vector<size_t>> by_file;
    for (size_t i = 0; i < spec_.events.size(); ++i) by_file[spec_.events[i].file].push_back(i);
    if (!by_file.count(kRecordsFile)) records_file_.reset();  // no events come from it: unmap now
    for (auto& [file, idx] : by_file) ARK_RETURN_IF_ERROR(Events(file, idx));
    ARK_RETURN_IF_ERROR(CheckRowCounts(m));
    records_file_.reset();  // unmap: the batch holds what is needed
    content_hash_ = XXH3_64bits_digest(hash_);
    report_.records = records_;
    report_.events = events_;
    report_.optouts = b_.optouts.size();
    return Status::OK();
  }

  // The manifest's "files" (file -> data rows, as `ark pseudonymise` wrote them) against the rows
  // read: a file cut short at a line end parses cleanly, so only its count can show it. Rows set
  // aside by --quarantine were read, so they count. Manifests without "files" are not checked.
  Status CheckRowCounts(const Json& m) const {
    if (!m.contains("files")) return Status::OK();
    const Json& files = m["files"];
    if (!files.is_object()) {
      return Status::InvalidArgument(dir_ + "/manifest.json: \"files\" must map file names to row counts");
    }
    for (auto& [file, want] : files.items()) {
      if (!want.is_number_unsigned() && !(want.is_number_integer() && want.get<int64_t>() >= 0)) {
        return Status::InvalidArgument(dir_ + "/manifest.json: files." + file + ": expected a row count, found " +
                                       want.dump());
      }
      auto it = report_.rows.find(file);
      if (it == report_.rows.end()) {
        return Status::InvalidArgument(dir_ + "/" + file + ": the manifest lists " + want.dump() +
                                       " rows but the feed spec reads no such file");
      }
      if (it->second != want.get<uint64_t>()) {
        return Status::InvalidArgument(dir_ + "/" + file + ": expected " + want.dump() + " rows (manifest.json), found " +
                                       std::to_string(it->second) + " (truncated or altered file?)");
      }
    }
    for (auto& [file, n] : report_.rows) {
      if (!files.contains(file)) {
        return Status::InvalidArgument(dir_ + "/" + file + ": not listed in manifest.json \"files\" (found " +
                                       std::to_string(n) + " rows)");
      }
    }
    return Status::OK();
  }

  // records.csv is parsed in chunks on opt_.threads threads (one chunk when quoted fields could
  // hold line breaks); the first error in file order is reported. Areas and practices are
  // interned afterwards, in file order, so ids do not depend on the thread count.
  struct RecordChunk {
    std::vector<StagedRecord> records;
    std::vector<uint32_t> numbers, lines;           // the record column and the line of each record
    std::vector<std::string_view> lsoa, practice;   // views into the mapped file
    std::vector<uint8_t> encodings;
    Status error;
  };

  Status Records() {
    ARK_ASSIGN_OR_RETURN(records_file_, CsvFile::Open(dir_ + "/" + kRecordsFile, opt_.threads));
    const CsvFile& f = *records_file_;
    for (size_t i = 0; i < RecordColumns().size(); ++i) {
      if (i >= f.header().size() || f.header()[i] != RecordColumns()[i]) {
        return f.Error(1, "expected column " + std::to_string(i + 1) + " to be '" + RecordColumns()[i] + "'");
      }
    }
    // PPRL encodings (optional columns `clk` and `pprl`, privacy/bloom.h).
    const int c_clk = f.ColumnIndex("clk"), c_pprl = f.ColumnIndex("pprl");
    if ((c_clk < 0) != (c_pprl < 0)) return f.Error(1, "columns 'clk' and 'pprl' come together");
    if (c_clk >= 0) b_.encoding_version = kEncodingVersion;
    // A wave of pieces at a time, merged in file order; the records and the PPRL encodings go to
    // the spill (read back into batch.bin when it is written).
    Interner areas(&b_.areas), practices(&b_.practices);
    std::vector<StagedRecord> merged;  // one piece's records, as they go to the spill
    ARK_RETURN_IF_ERROR(ParseInWaves<RecordChunk>(
        f, SplitPieces(f), opt_.threads, hash_,
        [&](const Piece& p, RecordChunk* o) { o->error = RecordsChunk(f, p.text, p.first_line, c_clk, c_pprl, o); },
        [&](RecordChunk& o) -> Status {
          merged.clear();
          for (size_t i = 0; i < o.records.size(); ++i) {
            if (o.numbers[i] != records_ + 1) return f.Error(o.lines[i], "record", "records must be numbered 1, 2, 3, ...");
            StagedRecord r = o.records[i];
            r.lsoa = areas.Id(o.lsoa[i]);
            r.practice = practices.Id(o.practice[i]);
            merged.push_back(r);
            ++records_;
          }
          ARK_RETURN_IF_ERROR(spill_->AppendRecords(merged));
          return spill_->AppendEncodings(o.encodings);
        }));
    report_.rows[kRecordsFile] = records_;
    return Status::OK();
  }

  Status RecordsChunk(const CsvFile& f, std::string_view chunk, int64_t first_line, int c_clk, int c_pprl,
                      RecordChunk* out) const {
    const size_t nf = ArkEncodedFields().size();
    const size_t enc_bytes = StagedEncodingBytes(nf);
    std::string dec;
    CsvParser p(chunk, first_line);
    std::vector<std::string_view> row;
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool more, f.NextRow(p, &row));
      if (!more) break;
      StagedRecord r;
      uint32_t number = 0;
      auto nr = std::from_chars(row[0].data(), row[0].data() + row[0].size(), number);
      if (nr.ec != std::errc() || nr.ptr != row[0].data() + row[0].size()) {
        return f.Error(p.line(), "record", "records must be numbered 1, 2, 3, ...");
      }
      if (row[2] == "valid") {
        if (!FromHex(row[1], &r.pseudonym)) return f.Error(p.line(), "nhs_pseudonym", "expected 64 hex digits");
        r.nhs_status = NhsStatusCode::kValid;
      } else if (row[2] == "missing" || row[2] == "invalid") {
        if (!row[1].empty()) return f.Error(p.line(), "nhs_pseudonym", "must be empty when nhs_status is " + std::string(row[2]));
        r.nhs_status = row[2] == "missing" ? NhsStatusCode::kMissing : NhsStatusCode::kInvalid;
      } else {
        return f.Error(p.line(), "nhs_status", "expected valid, missing or invalid, not '" + std::string(row[2]) + "'");
      }
      if (!row[3].empty()) {
        int y = 0, mo = 0;
        if (row[3].size() != 7 || row[3][4] != '-' || std::from_chars(row[3].data(), row[3].data() + 4, y).ec != std::errc() ||
            std::from_chars(row[3].data() + 5, row[3].data() + 7, mo).ec != std::errc() || mo < 1 || mo > 12) {
          return f.Error(p.line(), "birth_year_month", "expected YYYY-MM, not '" + std::string(row[3]) + "'");
        }
        r.birth_year = static_cast<int16_t>(y);
        r.birth_month = static_cast<uint8_t>(mo);
      }
      if (row[4] != "M" && row[4] != "F" && row[4] != "U") return f.Error(p.line(), "sex", "expected M, F or U");
      r.sex = row[4][0];
      if (!row[6].empty()) {
        int d = 0;
        auto rr = std::from_chars(row[6].data(), row[6].data() + row[6].size(), d);
        if (rr.ec != std::errc() || rr.ptr != row[6].data() + row[6].size() || d < 1 || d > 10) {
          return f.Error(p.line(), "imd_decile", "expected 1 to 10, not '" + std::string(row[6]) + "'");
        }
        r.imd_decile = static_cast<uint8_t>(d);
      }
      if (c_clk >= 0) {
        const size_t at = out->encodings.size();
        out->encodings.resize(at + enc_bytes);
        if (!Base64Decode(row[c_clk], &dec)) return f.Error(p.line(), "clk", "not valid base64");
        if (dec.size() != static_cast<size_t>(kClkBits / 8)) {
          return f.Error(p.line(), "clk", "expected a CLK of " + std::to_string(kClkBits) + " bits, found " +
                                              std::to_string(dec.size() * 8));
        }
        std::memcpy(out->encodings.data() + at, dec.data(), dec.size());
        if (!Base64Decode(row[c_pprl], &dec)) return f.Error(p.line(), "pprl", "not valid base64");
        if (dec.size() != PackedFieldsBytes(nf)) {
          return f.Error(p.line(), "pprl", "expected " + std::to_string(PackedFieldsBytes(nf)) + " bytes, found " +
                                               std::to_string(dec.size()));
        }
        std::memcpy(out->encodings.data() + at + kClkBits / 8, dec.data(), dec.size());
      }
      for (int c : {5, 7}) {  // lsoa, practice: stored as text
        if (size_t at = FindControl(row[c]); at != std::string_view::npos) {
          return f.Error(p.line(), f.header()[c], ControlError(row[c], at));
        }
      }
      out->records.push_back(r);
      out->numbers.push_back(number);
      out->lines.push_back(static_cast<uint32_t>(p.line()));
      out->lsoa.push_back(row[5]);
      out->practice.push_back(row[7]);
    }
    return Status::OK();
  }

  // A custodian that declares opt-outs (manifest "optouts") cannot be ingested without them:
  // opt-outs fail closed, also when feed.yaml has lost its opt-out list.
  Status DeclaredOptOuts(const Json& m) const {
    if (!m.contains("optouts")) return Status::OK();
    const Json& n = m["optouts"];
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<int64_t>() >= 0)) {
      return Status::InvalidArgument(dir_ + "/manifest.json: field 'optouts' must be a count, found " + n.dump());
    }
    if (n.get<uint64_t>() > 0 && !spec_.optouts) {
      return Status::InvalidArgument(dir_ + "/feed.yaml: the manifest declares " + n.dump() +
                                     " opt-outs but the feed spec names no opt-out list: refusing to ingest "
                                     "without them (opt-outs fail closed)");
    }
    return Status::OK();
  }

  // The opt-out list, checked against the custodian's manifest: its count ("optouts") and, when
  // given, its fingerprint ("optouts_sha256", written by `ark pseudonymise`).
  Status OptOuts(const Json& m) {
    ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(dir_ + "/" + kOptOutsFile));
    XXH3_64bits_update(hash_, f.body().data(), f.body().size());
    if (f.ColumnIndex("nhs_pseudonym") != 0) return f.Error(1, "expected the column 'nhs_pseudonym'");
    CsvParser p(f.body(), f.body_first_line());
    std::vector<std::string_view> row;
    for (;;) {
      auto more = p.Next(&row);
      if (!more.ok()) return f.Error(p.line(), more.status().message());
      if (!*more) break;
      Digest d;
      if (row.size() != 1 || !FromHex(row[0], &d)) return f.Error(p.line(), "nhs_pseudonym", "expected 64 hex digits");
      b_.optouts.push_back(d);
    }
    b_.optout_kind = spec_.optouts->kind;
    report_.rows[kOptOutsFile] = b_.optouts.size();
    if (m.contains("optouts") && m["optouts"].get<uint64_t>() != b_.optouts.size()) {
      return Status::InvalidArgument(dir_ + "/" + kOptOutsFile + ": " + std::to_string(b_.optouts.size()) +
                                     " opt-outs but the manifest declares " + m["optouts"].dump() +
                                     " (opt-outs fail closed)");
    }
    if (m.contains("optouts_sha256")) {
      ARK_ASSIGN_OR_RETURN(std::string bytes, ReadFile(dir_ + "/" + kOptOutsFile));
      if (!m["optouts_sha256"].is_string() || Sha256Hex(bytes) != m["optouts_sha256"].get<std::string>()) {
        return Status::InvalidArgument(dir_ + "/" + kOptOutsFile +
                                       ": does not match the fingerprint in manifest.json (optouts_sha256): the "
                                       "custodian's opt-out list was altered or replaced");
      }
    }
    return Status::OK();
  }

  Status Events(const std::string& file, const std::vector<size_t>& idx) {
    std::optional<CsvFile> opened;
    if (file != kRecordsFile || !records_file_) {
      ARK_ASSIGN_OR_RETURN(opened, CsvFile::Open(dir_ + "/" + file, opt_.threads));
    }
    const CsvFile& f = opened ? *opened : *records_file_;
    // The content hash takes the file's body piece by piece as each wave is merged (the pieces
    // cover the body in order), not in a pass of its own that would fault in the whole file.
    const bool hashed = file != kRecordsFile;
    std::vector<BoundMapping> maps;
    for (size_t i : idx) {
      const EventSpec& s = spec_.events[i];
      auto col = [&](const std::string& c) -> Result<int> {
        if (c.empty()) return -1;
        int k = f.ColumnIndex(c);
        if (k < 0) return f.Error(1, "no column '" + c + "' (named by the feed spec)");
        return k;
      };
      BoundMapping b{};
      b.spec = &s;
      b.id = i;
      ARK_ASSIGN_OR_RETURN(b.person, col(s.person));
      ARK_ASSIGN_OR_RETURN(b.time, col(s.time.column));
      ARK_ASSIGN_OR_RETURN(b.end, col(s.end ? s.end->column : ""));
      ARK_ASSIGN_OR_RETURN(b.code, col(s.code.column));
      ARK_ASSIGN_OR_RETURN(b.value, col(s.value));
      ARK_ASSIGN_OR_RETURN(b.unit, col(s.unit));
      ARK_ASSIGN_OR_RETURN(b.encounter, col(s.encounter));
      maps.push_back(b);
    }
    const uint32_t nrec = static_cast<uint32_t>(records_);
    const bool quarantine = !opt_.quarantine_dir.empty();
    Interner codes(&b_.codes), units(&b_.units), encs(&b_.encounters);
    std::vector<uint32_t> const_units;  // per mapping: the spec's constant unit, if any
    for (auto& e : spec_.events) const_units.push_back(units.Id(e.unit_value));
    std::vector<Reject> rejects;
    uint64_t rows = 0;
    // Pieces (split at line ends; one when quoted fields could hold line breaks) are parsed a wave
    // at a time, merged in file order into the batch's dictionaries and spilled.
    ARK_RETURN_IF_ERROR(ParseInWaves<ChunkOut>(
        f, SplitPieces(f), opt_.threads, hashed ? hash_ : nullptr,
        [&](const Piece& p, ChunkOut* o) {
          ParseChunk(f, p.text, p.first_line, p.lines, maps, spec_.events.size(), nrec, quarantine, o);
        },
        [&](ChunkOut& o) -> Status {
          rows += o.rows;
          std::vector<std::vector<uint32_t>> code_map(o.code_list.size());
          for (size_t k = 0; k < o.code_list.size(); ++k) {
            const std::string& sys = spec_.events[k].code.system;
            code_map[k].push_back(0);
            for (size_t j = 1; j < o.code_list[k].size(); ++j) {
              code_map[k].push_back(codes.Id(sys + "/" + std::string(o.code_list[k][j])));
            }
          }
          std::vector<uint32_t> unit_map{0}, enc_map{0};
          for (size_t j = 1; j < o.unit_list.size(); ++j) unit_map.push_back(units.Id(o.unit_list[j]));
          for (size_t j = 1; j < o.encounter_list.size(); ++j) enc_map.push_back(encs.Id(o.encounter_list[j]));
          ARK_RETURN_IF_ERROR(AppendChunk(o, code_map, unit_map, enc_map, const_units));
          rejects.insert(rejects.end(), o.rejects.begin(), o.rejects.end());
          return Status::OK();
        }));
    report_.rows[file] = rows;
    if (!rejects.empty()) ARK_RETURN_IF_ERROR(Quarantine(file, rejects));
    report_.quarantined += rejects.size();
    return Status::OK();
  }

  // Rewrites a chunk's local ids as batch ids, in place, and appends the chunk to the spill.
  Status AppendChunk(ChunkOut& o, const std::vector<std::vector<uint32_t>>& code_map,
                   const std::vector<uint32_t>& unit_map, const std::vector<uint32_t>& enc_map,
                   const std::vector<uint32_t>& const_units) {
    StagedEvents& e = o.ev;
    const size_t n = e.size();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t tagged = e.code[i];
      const uint32_t mapping = tagged >> 24, local = tagged & 0xFFFFFF;
      e.code[i] = code_map[mapping][local];
      const uint32_t unit = unit_map[e.unit[i]];
      e.unit[i] = unit != 0 ? unit : const_units[mapping];
      if (e.encounter[i] & kInternedEncounter) {
        e.encounter[i] = kInternedEncounter | enc_map[e.encounter[i] & ~kInternedEncounter];
      }
    }
    events_ += n;
    return n ? spill_->Append(e) : Status::OK();
  }

  Status Quarantine(const std::string& file, const std::vector<Reject>& rejects) {
    const std::string dir = opt_.quarantine_dir + "/" + b_.feed;
    ARK_RETURN_IF_ERROR(MakeDirs(dir));
    std::string out = "line,reason\n";
    for (auto& r : rejects) {
      std::string l = std::to_string(r.line);
      AppendCsvRow(&out, {l, r.reason});
    }
    return WriteFileAtomic(dir + "/" + file + ".rejected.csv", out);
  }

  std::string dir_;
  IngestOptions opt_;
  FeedSpec spec_;
  StagedBatch b_;
  IngestReport report_;
  std::string manifest_;
  std::optional<CsvFile> records_file_;  // kept: a feed's events may come from records.csv too
  XXH3_state_t* hash_ = nullptr;
  EventSpill* spill_ = nullptr;
  uint64_t content_hash_ = 0;
  uint64_t events_ = 0;
  uint64_t records_ = 0;  // records read (they go to the spill, not to b_.records)
};

// Signed custodian manifests (privacy/custodian_key.h). A custodian whose key the Ark registered
// must have signed the manifest (manifest.sig) with that key; one with no registered key is
// accepted on an Ark that does not enforce governance (recorded as such in the batch) and refused
// on one that does. `*state` gets what the batch records.
Status CheckManifestSignature(Catalog& cat, const std::string& dir, const std::string& manifest, const std::string& custodian,
                              bool enforced, std::string* state) {
  ARK_ASSIGN_OR_RETURN(auto registered, RegisteredCustodianKey(cat, custodian));
  const std::string sig_path = dir + "/" + kManifestSigFile;
  const bool signed_ = PathExists(sig_path);
  if (!registered) {
    if (enforced) {
      return Status::FailedPrecondition(dir + "/manifest.json: custodian '" + custodian +
                                        "' has no registered signing key, and this Ark enforces governance: register "
                                        "the custodian's public key first (ark custodian trust ARK " + custodian +
                                        " PUBKEY --as ADMIN)");
    }
    *state = signed_ ? "signed; custodian key not registered (not verified)" : "unsigned; custodian key not registered";
    return Status::OK();
  }
  if (!signed_) {
    return Status::PermissionDenied(dir + "/manifest.json: unsigned (no " + kManifestSigFile + "), but custodian '" +
                                    custodian + "' has a registered signing key: refusing an unsigned manifest "
                                    "(the custodian signs it: ark pseudonymise --custodian-key FILE)");
  }
  ARK_ASSIGN_OR_RETURN(std::string sig, ReadFile(sig_path));
  ARK_RETURN_IF_ERROR(VerifyManifestSignature(manifest, sig, *registered, custodian, sig_path));
  *state = "verified";
  return Status::OK();
}

}  // namespace

Result<std::vector<IngestReport>> Ingest(Catalog& cat, const std::vector<std::string>& dirs, const IngestOptions& opt) {
  if (dirs.empty()) return Status::InvalidArgument("no extract directories given");
  ARK_ASSIGN_OR_RETURN(auto known_fp, cat.GetMeta("key_fingerprint"));
  ARK_ASSIGN_OR_RETURN(auto enforced_meta, cat.GetMeta("governance_enforced"));
  const bool enforced = enforced_meta.value_or("") == "1";
  std::vector<std::string> signatures;  // per loader: what CheckManifestSignature found
  const std::string staging = cat.ark_dir() + "/staging";
  std::vector<std::string> removed;
  ARK_ASSIGN_OR_RETURN(StagingGuard guard, StagingGuard::Acquire(cat, &removed));
  ReportRemoved(removed);
  ARK_ASSIGN_OR_RETURN(auto next, cat.Prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM batches"));
  ARK_ASSIGN_OR_RETURN(bool has, next->Step());
  int64_t id = has ? next->Int(0) : 1;
  ARK_ASSIGN_OR_RETURN(auto dup, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.content_hash') = ?"));

  // Each extract is parsed, checked, and written beside the staging area while the next one is
  // parsed; only when all succeeded are they published and recorded at once.
  std::vector<std::unique_ptr<FeedLoader>> loaders;
  std::string first_fp;  // the first feed's key fingerprint (its batch is freed once written)
  std::vector<std::pair<std::string, std::string>> moves;  // tmp -> final
  std::vector<IngestReport> reports;
  std::vector<std::thread> writers;
  std::vector<Status> written(dirs.size());
  // Each feed's events are spilled beside the staging area while it loads (EventSpill), so memory
  // holds a wave of chunks, not the feed; the spill goes once its batch is written.
  std::vector<std::string> spill_dirs;
  std::vector<std::unique_ptr<EventSpill>> spills;
  spills.reserve(dirs.size());  // never reallocated: each writer frees its own
  auto cleanup = [&] {
    for (auto& w : writers) w.join();
    writers.clear();
    for (auto& [tmp, fin] : moves) (void)RemoveAll(tmp);
    for (auto& dir : spill_dirs) (void)RemoveAll(dir);
  };
  Status s;
  for (size_t i = 0; i < dirs.size() && s.ok(); ++i) {
    const std::string& d = dirs[i];
    spill_dirs.push_back(staging + "/.tmp-" + std::to_string(::getpid()) + "-spill-" + std::to_string(i));
    s = MakeDirs(spill_dirs.back());
    if (!s.ok()) break;
    auto spill = EventSpill::Create(spill_dirs.back());
    if (!spill.ok()) { s = spill.status(); break; }
    spills.push_back(std::move(*spill));
    auto l = std::make_unique<FeedLoader>(d, opt);
    s = l->Load(spills.back().get());
    if (!s.ok()) break;
    l->ReleaseRecordsFile();  // its pages would otherwise stay resident until the commit
    std::string signature;
    s = CheckManifestSignature(cat, d, l->manifest(), l->batch().feed, enforced, &signature);
    if (!s.ok()) break;
    const std::string& fp = l->batch().key_fingerprint;
    if (first_fp.empty()) first_fp = fp;
    const std::string want = known_fp ? *known_fp : first_fp;
    if (fp != want) {
      s = Status::InvalidArgument(d + "/manifest.json: key mismatch: pseudonymised with key " + fp +
                                  " but this Ark's extracts use key " + want +
                                  " (every custodian must use the same programme key)");
      break;
    }
    dup->Bind(1, std::to_string(l->content_hash()));
    auto row = dup->Step();
    const int64_t earlier = row.ok() && *row ? dup->Int(0) : 0;
    dup->Reset();
    if (!row.ok()) { s = row.status(); break; }
    if (*row) {
      s = Status::FailedPrecondition(d + ": this extract is already ingested (batch " + std::to_string(earlier) + ")");
      break;
    }
    char name[64];
    std::snprintf(name, sizeof name, "%06lld-%s", static_cast<long long>(id), l->batch().feed.c_str());
    const std::string tmp = staging + "/.tmp-" + std::to_string(::getpid()) + "-" + name;
    s = MakeDirs(tmp);
    if (!s.ok()) break;
    moves.emplace_back(tmp, staging + "/" + name);
    l->report().batch = id++;
    reports.push_back(l->report());
    // Written while the next feed loads; then its events are freed, so memory holds at most the
    // batch being written and the one being loaded, not every feed's.
    FeedLoader* loader = l.get();
    writers.emplace_back([loader, tmp, spill = &spills.back(), spill_dir = spill_dirs.back(), out = &written[i]] {
      *out = WriteStagedBatch(loader->batch(), spill->get(), tmp + "/batch.bin");
      loader->ReleaseBatch();
      spill->reset();
      Status gone = RemoveAll(spill_dir);
      if (out->ok() && !gone.ok()) *out = gone;
    });
    loaders.push_back(std::move(l));
    signatures.push_back(signature);
  }
  for (auto& w : writers) w.join();
  writers.clear();
  for (auto& w : written) if (s.ok() && !w.ok()) s = w;
  if (!s.ok()) {
    cleanup();
    return s;
  }
  if (s.ok()) {
    for (auto& [tmp, fin] : moves) {
      s = PublishDir(tmp, fin);
      if (!s.ok()) break;
    }
  }
  if (s.ok()) {
    s = cat.Begin();
    if (s.ok()) {
      auto ins = cat.Prepare("INSERT INTO batches(id, feed, dir, records, events, optouts, ingested_at, manifest) VALUES (?,?,?,?,?,?,?,?)");
      s = ins.status();
      for (size_t i = 0; s.ok() && i < loaders.size(); ++i) {
        Json man = Json::parse(loaders[i]->manifest());
        man["content_hash"] = std::to_string(loaders[i]->content_hash());
        man["custodian_signature"] = signatures[i];
        const IngestReport& r = reports[i];
        (*ins)->Bind(1, r.batch).Bind(2, r.feed).Bind(3, "staging/" + std::filesystem::path(moves[i].second).filename().string())
            .Bind(4, static_cast<int64_t>(r.records)).Bind(5, static_cast<int64_t>(r.events))
            .Bind(6, static_cast<int64_t>(r.optouts)).Bind(7, UtcNow()).Bind(8, man.dump());
        s = (*ins)->Run();
      }
      if (s.ok() && !known_fp) s = cat.SetMeta("key_fingerprint", first_fp);
      if (s.ok()) s = cat.Commit();
      else cat.Rollback();
    }
  }
  if (!s.ok()) {
    for (auto& [tmp, fin] : moves) {
      (void)RemoveAll(tmp);
      (void)RemoveAll(fin);
    }
    return s;
  }
  return reports;
}

}  // namespace ark
