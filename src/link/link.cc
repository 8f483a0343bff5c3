#include "link/link.h"
#include "link/pseudonym_keys.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/csv.h"
#include "core/fs.h"
#include "ingest/staging.h"

namespace ark {
// truth/records.csv -> (custodian, record) -> person id.
Status ForEachPersonKey(Catalog& cat, const std::function<void(const Digest&, uint32_t)>& fn) {
  ARK_ASSIGN_OR_RETURN(auto st, cat.Prepare("SELECT pseudonym, person FROM person_keys"));
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) return Status::OK();
    const std::string blob = st->Blob(0);
    Digest d;
    if (blob.size() != d.size()) continue;
    std::memcpy(d.data(), blob.data(), d.size());
    fn(d, static_cast<uint32_t>(st->Int(1)));
  }
}

Result<std::map<std::string, std::vector<int64_t>>> LoadTruth(const std::string& dir) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(dir + "/records.csv"));
  const int cc = f.ColumnIndex("custodian"), cr = f.ColumnIndex("record"), cp = f.ColumnIndex("person_id");
  if (cc < 0 || cr < 0 || cp < 0) return f.Error(1, "expected columns custodian, record, person_id");
  std::map<std::string, std::vector<int64_t>> out;
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  for (;;) {
    auto more = p.Next(&row);
    if (!more.ok()) return f.Error(p.line(), more.status().message());
    if (!*more) break;
    int64_t rec = 0, person = 0;
    if (row.size() != f.header().size() ||
        std::from_chars(row[cr].data(), row[cr].data() + row[cr].size(), rec).ec != std::errc() ||
        std::from_chars(row[cp].data(), row[cp].data() + row[cp].size(), person).ec != std::errc() || rec < 1) {
      return f.Error(p.line(), "malformed truth row");
    }
    auto& v = out[std::string(row[cc])];
    if (v.size() < static_cast<size_t>(rec)) v.resize(rec, -1);
    v[rec - 1] = person;
  }
  return out;
}

PairwiseQuality ScorePairs(const std::vector<uint64_t>& pred, const std::vector<uint64_t>& truth) {
  PairwiseQuality q;
  q.records = pred.size();
  std::unordered_map<uint64_t, uint64_t> a, b;
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, uint64_t>> ab;
  for (size_t i = 0; i < pred.size(); ++i) {
    ++a[pred[i]];
    ++b[truth[i]];
    ++ab[pred[i]][truth[i]];
  }
  auto pairs = [](uint64_t n) { return n * (n - 1) / 2; };
  for (auto& [k, n] : a) q.found_pairs += pairs(n);
  for (auto& [k, n] : b) q.true_pairs += pairs(n);
  for (auto& [k, m] : ab) for (auto& [t, n] : m) q.correct_pairs += pairs(n);
  q.found_persons = a.size();
  q.true_persons = b.size();
  q.precision = q.found_pairs ? static_cast<double>(q.correct_pairs) / q.found_pairs : 1.0;
  q.recall = q.true_pairs ? static_cast<double>(q.correct_pairs) / q.true_pairs : 1.0;
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0;
  return q;
}


namespace {

// Records are read from each staged batch this many at a time.
constexpr uint64_t kRecordPiece = uint64_t{1} << 16;

}  // namespace

Result<LinkReport> LinkDeterministic(Catalog& cat, const std::string& truth_dir) {
  const std::string ark = cat.ark_dir();
  ARK_ASSIGN_OR_RETURN(auto batches, cat.Batches());
  if (batches.empty()) return Status::FailedPrecondition("nothing to link: run 'ark ingest' first");
  std::map<std::string, std::vector<int64_t>> truth;
  if (!truth_dir.empty()) {
    ARK_ASSIGN_OR_RETURN(truth, LoadTruth(truth_dir));
  }

  // Existing keys.
  PseudonymKeys by_pseudonym;
  ARK_RETURN_IF_ERROR(ForEachPersonKey(cat, [&](const Digest& d, uint32_t person) { by_pseudonym.FindOrInsert(d, person); }));
  std::map<std::pair<int64_t, int64_t>, uint32_t> by_record;
  {
    ARK_ASSIGN_OR_RETURN(auto st, cat.Prepare("SELECT batch, record, person FROM record_keys"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      by_record.emplace(std::make_pair(st->Int(0), st->Int(1)), static_cast<uint32_t>(st->Int(2)));
    }
  }
  ARK_ASSIGN_OR_RETURN(uint32_t next, cat.NextPerson());

  ARK_RETURN_IF_ERROR(MakeDirs(ark + "/link"));
  ARK_RETURN_IF_ERROR(cat.Begin());
  auto ins_p = cat.Prepare("INSERT INTO person_keys(pseudonym, person) VALUES (?, ?)");
  auto ins_r = cat.Prepare("INSERT INTO record_keys(batch, record, person) VALUES (?, ?, ?)");
  if (!ins_p.ok() || !ins_r.ok()) {
    cat.Rollback();
    return !ins_p.ok() ? ins_p.status() : ins_r.status();
  }
  LinkReport rep;
  std::vector<uint64_t> pred, true_ids;
  std::vector<std::vector<uint32_t>> old_keys, new_keys;
  Status s;
  // Each batch's records are read a piece at a time (StagedEventFile), never the whole file.
  std::vector<StagedRecord> piece;
  for (auto& b : batches) {
    StagedBatch header;
    auto staged = StagedEventFile::Open(ark + "/" + b.dir + "/batch.bin", &header, /*with_records=*/false);
    if (!staged.ok()) { s = staged.status(); break; }
    const uint64_t nrecords = (*staged)->num_records();
    FeedLinkCounts& fc = rep.feeds[b.feed];
    std::vector<uint32_t> keys(nrecords);
    const std::vector<int64_t>* tv = nullptr;
    if (auto it = truth.find(b.feed); it != truth.end()) tv = &it->second;
    for (size_t i = 0; i < nrecords && s.ok(); ++i) {
      if (i % kRecordPiece == 0) {
        s = (*staged)->ReadRecords(i, std::min<uint64_t>(kRecordPiece, nrecords - i), &piece);
        if (!s.ok()) break;
      }
      const StagedRecord& r = piece[i % kRecordPiece];
      ++fc.records;
      if (r.nhs_status == NhsStatusCode::kValid) {
        ++fc.linked;
        auto [key, fresh] = by_pseudonym.FindOrInsert(r.pseudonym, next);
        if (fresh) {
          ++next;
          (*ins_p)->BindBlob(1, r.pseudonym.data(), static_cast<int>(r.pseudonym.size())).Bind(2, static_cast<int64_t>(key));
          s = (*ins_p)->Run();
        }
        keys[i] = key;
      } else {
        (r.nhs_status == NhsStatusCode::kMissing ? fc.missing_nhs : fc.invalid_nhs)++;
        auto [it, fresh] = by_record.try_emplace({b.id, static_cast<int64_t>(i + 1)}, next);
        if (fresh) {
          ++next;
          (*ins_r)->Bind(1, b.id).Bind(2, static_cast<int64_t>(i + 1)).Bind(3, static_cast<int64_t>(it->second));
          s = (*ins_r)->Run();
        }
        keys[i] = it->second;
      }
      if (tv && i < tv->size() && (*tv)[i] >= 0) {
        pred.push_back(keys[i]);
        true_ids.push_back(static_cast<uint64_t>((*tv)[i]));
      }
    }
    if (!s.ok()) break;
    old_keys.push_back(ReadPreviousKeys(ark, b.id, keys.size()));
    new_keys.push_back(std::move(keys));
  }
  if (s.ok()) s = RecordKeyMoves(cat, old_keys, new_keys);
  if (s.ok()) s = cat.SetMeta("next_person", std::to_string(next));
  if (s.ok()) s = cat.SetMeta("linked_at", UtcNow());
  if (s.ok()) s = cat.Commit();
  if (!s.ok()) {
    cat.Rollback();
    return s;
  }
  // The keys files after the commit: a crash in between leaves the old files, which the committed
  // catalog still describes (keys only ever get added), and the next link rewrites them.
  for (size_t i = 0; i < batches.size(); ++i) {
    const auto& keys = new_keys[i];
    ARK_RETURN_IF_ERROR(WriteFileAtomic(KeysPath(ark, batches[i].id),
                                        std::string_view(reinterpret_cast<const char*>(keys.data()), keys.size() * 4)));
  }
  rep.persons = next;
  if (!truth_dir.empty()) rep.quality = ScorePairs(pred, true_ids);
  return rep;
}

}  // namespace ark
