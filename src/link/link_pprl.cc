// `ark link --mode pprl`: see link.h and docs/linkage.md.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

#include "core/fs.h"
#include "ingest/staging.h"
#include "link/link.h"
#include "link/pseudonym_keys.h"
#include "link/review.h"
#include "privacy/bloom.h"

namespace ark {
namespace {

// 6 bytes a record (it is kept for every record of the region). A record's batch and number in
// it follow from its index (RecordPlace).
struct RecordInfo {
  int16_t birth_year;
  uint8_t decile;
  char sex;
  bool valid;
  NhsStatusCode nhs_status;  // as the custodian's pseudonymise recorded it (records.csv nhs_status)
};

// Where the records of each batch linked start: batch bi's are [first[bi], first[bi + 1]).
struct RecordPlace {
  std::vector<uint32_t> first{0};
  uint32_t batch_index(uint32_t i) const {
    return static_cast<uint32_t>(std::upper_bound(first.begin(), first.end(), i) - first.begin() - 1);
  }
  uint32_t record(uint32_t i) const { return i - first[batch_index(i)] + 1; }  // 1-based, in its batch
};

std::string AgeBand(int age) {
  if (age < 18) return "0-17";
  if (age < 40) return "18-39";
  if (age < 65) return "40-64";
  if (age < 80) return "65-79";
  return "80+";
}

// Sorts batches by custodian, then the content hash ingest recorded (then id): the records are
// linked in an order that does not depend on the order their batches arrived in.
Status CanonicalBatchOrder(Catalog& cat, std::vector<BatchInfo>* batches) {
  std::map<int64_t, std::string> hash;
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT id, COALESCE(json_extract(manifest, '$.content_hash'), '') FROM batches"));
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    hash[q->Int(0)] = q->Text(1);
  }
  std::stable_sort(batches->begin(), batches->end(), [&](const BatchInfo& a, const BatchInfo& b) {
    return std::tie(a.feed, hash[a.id], a.id) < std::tie(b.feed, hash[b.id], b.id);
  });
  return Status::OK();
}

// "<batch>:<record>" ids of the review file and decisions, resolved against the records linked.
RecordIdResolver ArkRecordIds(const RecordPlace& place, const std::vector<BatchInfo>& batches) {
  auto first = std::make_shared<std::map<int64_t, std::pair<uint32_t, uint32_t>>>();  // batch -> (index, records)
  for (size_t bi = 0; bi + 1 < place.first.size(); ++bi) {
    const uint32_t lo = place.first[bi], hi = place.first[bi + 1];
    if (hi > lo) first->try_emplace(batches[bi].id, lo, hi - lo);
  }
  return [first](const std::string& id, bool) -> Result<uint32_t> {
    const size_t colon = id.find(':');
    int64_t b = -1, r = -1;
    try {
      size_t u1 = 0, u2 = 0;
      if (colon != std::string::npos) {
        b = std::stoll(id.substr(0, colon), &u1);
        r = std::stoll(id.substr(colon + 1), &u2);
      }
      if (u1 != colon || u2 != id.size() - colon - 1) b = -1;
    } catch (...) {
      b = -1;
    }
    if (b < 0) return Status::InvalidArgument("'" + id + "' is not a record id <batch>:<record>");
    auto it = first->find(b);
    if (it == first->end()) return Status::InvalidArgument("no linked batch " + std::to_string(b) + " in '" + id + "'");
    if (r < 1 || r > it->second.second) {
      return Status::InvalidArgument("batch " + std::to_string(b) + " has no record " + std::to_string(r) + " ('" + id + "')");
    }
    return it->second.first + static_cast<uint32_t>(r - 1);
  };
}

// Decisions to apply: those recorded earlier (catalog link_decisions; the latest per pair) that
// the new file does not decide again, then the new file's. *fresh gets the new file's.
Result<std::vector<ReviewDecision>> GatherDecisions(Catalog& cat, const LinkReviewOptions& review,
                                                    const RecordIdResolver& ids, std::vector<ReviewDecision>* fresh,
                                                    std::vector<LinkInput::Decision>* resolved) {
  ARK_RETURN_IF_ERROR(cat.Exec(
      "CREATE TABLE IF NOT EXISTS link_decisions (seq INTEGER PRIMARY KEY, left_id TEXT NOT NULL, right_id TEXT NOT NULL, "
      "decision TEXT NOT NULL, reviewer TEXT NOT NULL, source TEXT NOT NULL, recorded_at TEXT NOT NULL)"));
  if (!review.decisions_path.empty()) {
    ARK_ASSIGN_OR_RETURN(*fresh, ReadDecisions(review.decisions_path));
  }
  ARK_ASSIGN_OR_RETURN(std::vector<LinkInput::Decision> fresh_resolved, ResolveDecisions(*fresh, ids));
  auto pair_key = [](const LinkInput::Decision& d) { return std::minmax(d.a, d.b); };
  std::set<std::pair<uint32_t, uint32_t>> decided_again;
  for (auto& d : fresh_resolved) decided_again.insert(pair_key(d));
  std::map<std::pair<uint32_t, uint32_t>, std::pair<ReviewDecision, LinkInput::Decision>> latest;
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT left_id, right_id, decision, reviewer, source FROM link_decisions ORDER BY seq"));
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    ReviewDecision d{q->Text(0), q->Text(1), q->Text(3), q->Text(2) == "match", q->Text(4)};
    auto r = ResolveDecisions({d}, ids);
    if (!r.ok()) return Status::FailedPrecondition("catalog link_decisions: " + std::string(r.status().message()));
    if (!decided_again.count(pair_key((*r)[0]))) latest.insert_or_assign(pair_key((*r)[0]), std::make_pair(d, (*r)[0]));
  }
  std::vector<ReviewDecision> all;
  for (auto& [k, v] : latest) {
    all.push_back(v.first);
    resolved->push_back(v.second);
  }
  all.insert(all.end(), fresh->begin(), fresh->end());
  resolved->insert(resolved->end(), fresh_resolved.begin(), fresh_resolved.end());
  return all;
}

}  // namespace

Result<LinkReport> LinkPprl(Catalog& cat, const std::string& truth_dir, int threads, const LinkReviewOptions& review) {
  auto t0 = std::chrono::steady_clock::now();
  const std::string ark = cat.ark_dir();
  ARK_ASSIGN_OR_RETURN(auto all_batches, cat.Batches());
  // Imported batches (OMOP, MEDS, FHIR: src/import) got their person keys at import and carry no
  // encodings: they keep their keys and take no part here.
  std::set<int64_t> imported;
  {
    ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.kind') = 'import'"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      imported.insert(q->Int(0));
    }
  }
  // Batches of pre-encoded CLKs (`ark import-clks`, import/clk_import.h): their records have no
  // per-field filters and are compared on the CLK (LinkInput::clk_only).
  std::set<int64_t> clk_batches;
  {
    ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.kind') = 'clks'"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      clk_batches.insert(q->Int(0));
    }
  }
  std::vector<BatchInfo> batches;
  for (auto& b : all_batches) if (!imported.count(b.id)) batches.push_back(b);
  ARK_RETURN_IF_ERROR(CanonicalBatchOrder(cat, &batches));
  if (batches.empty()) return Status::FailedPrecondition("nothing to link: run 'ark ingest' first (imported batches are linked at import)");
  std::map<std::string, std::vector<int64_t>> truth;
  if (!truth_dir.empty()) {
    ARK_ASSIGN_OR_RETURN(truth, LoadTruth(truth_dir));
  }
  const auto& fields = ArkEncodedFields();
  const size_t nf = fields.size(), blob = StagedEncodingBytes(nf);

  // 1. Every record's encodings, pseudonym and attributes, read a range of records at a time:
  // the encodings go straight to their record-major rows (LinkInput::rows, an unnamed file in
  // ARK/link), the blocking keys made at source to the name rules' columns (another unnamed
  // file, LinkInput::blocking_columns; the LSH bands are recomputed from the CLKs, so theirs are
  // not read).
  ARK_RETURN_IF_ERROR(MakeDirs(ark + "/link"));
  LinkInput in;
  in.fields = fields;
  in.encoded = true;
  in.blocking.resize(kNameRules + kLshBands);
  ARK_ASSIGN_OR_RETURN(in.rows, EncodedRows::Create(nf, /*with_clk=*/true, ark + "/link"));
  ARK_ASSIGN_OR_RETURN(in.blocking_columns, KeyColumns::Create(kNameRules, ark + "/link"));
  std::vector<RecordInfo> info;
  RecordPlace place;
  PseudonymKeys group_of;  // NHS-number pseudonym -> group id (its entry index)
  std::vector<int64_t> truth_of;
  std::vector<std::string> feed_of_batch;
  std::vector<uint8_t> clk_only;
  std::string fingerprint;
  {
    // Room for every record at once, from the counts ingest recorded (a hint: the vectors still
    // grow if a batch holds more).
    size_t expect = 0;
    for (const BatchInfo& b : batches) expect += static_cast<size_t>(std::max<int64_t>(b.records, 0));
    in.group.reserve(expect);
    in.source.reserve(expect);
    clk_only.reserve(expect);
    info.reserve(expect);
    if (!truth.empty()) truth_of.reserve(expect);
  }
  constexpr uint64_t kPiece = uint64_t{1} << 16;  // records read at a time
  std::vector<StagedRecord> records;
  std::vector<uint8_t> blobs;
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const BatchInfo& b = batches[bi];
    const std::string path = ark + "/" + b.dir + "/batch.bin";
    StagedBatch header;
    ARK_ASSIGN_OR_RETURN(auto staged, StagedEventFile::Open(path, &header, /*with_records=*/false));
    const uint64_t nrec = staged->num_records();
    if (header.encoding_version != kEncodingVersion || (nrec > 0 && staged->encoding_bytes_per_record() == 0)) {
      return Status::FailedPrecondition(path + ": batch " + std::to_string(b.id) + " (" + b.feed +
                                        ") carries no PPRL encodings (" + kEncodingVersion +
                                        "): pseudonymise the extract with this version of ark and ingest it again");
    }
    if (nrec > 0 && staged->encoding_bytes_per_record() != blob) {
      return Status::Corruption(path + ": encodings are " + std::to_string(staged->encoding_bytes_per_record()) +
                                " bytes a record, expected " + std::to_string(blob));
    }
    if (nrec > LinkInput::kNoGroup - info.size()) return Status::InvalidArgument("too many records to link");
    const bool clks = clk_batches.count(b.id) > 0;
    if (fingerprint.empty() && !clks) fingerprint = header.key_fingerprint;
    if (!clks && header.key_fingerprint != fingerprint) {
      return Status::FailedPrecondition(path + ": key fingerprint " + header.key_fingerprint + " differs from " +
                                        fingerprint + " of the first batch: encodings made under different keys never match");
    }
    feed_of_batch.push_back(b.feed);
    const std::vector<int64_t>* tv = nullptr;
    if (auto it = truth.find(b.feed); it != truth.end()) tv = &it->second;
    for (uint64_t first = 0; first < nrec; first += kPiece) {
      const uint64_t count = std::min(kPiece, nrec - first);
      ARK_RETURN_IF_ERROR(staged->ReadRecords(first, count, &records));
      ARK_RETURN_IF_ERROR(staged->ReadEncodings(first, count, &blobs));
      for (uint64_t j = 0; j < count; ++j) {
        const uint64_t i = first + j;
        const StagedRecord& r = records[j];
        const RecordEncoding e = UnpackStaged(blobs.data() + j * blob, nf);
        uint64_t present = 0;
        for (size_t f = 0; f < nf; ++f) present |= uint64_t{e.present[f] != 0} << f;
        ARK_RETURN_IF_ERROR(in.rows->Append(e.fields.data(), present, e.clk.data()));
        ARK_RETURN_IF_ERROR(in.blocking_columns->Append(e.blocking.data()));
        const bool valid = r.nhs_status == NhsStatusCode::kValid;
        uint32_t g = LinkInput::kNoGroup;
        if (valid) g = group_of.FindOrInsert(r.pseudonym, static_cast<uint32_t>(group_of.size())).first;
        in.group.push_back(g);
        in.source.push_back(static_cast<uint32_t>(bi));
        clk_only.push_back(clks ? 1 : 0);
        info.push_back({r.birth_year, r.imd_decile, r.sex, valid, r.nhs_status});
        if (!truth.empty()) truth_of.push_back(tv && i < tv->size() ? (*tv)[i] : -1);
      }
    }
    place.first.push_back(static_cast<uint32_t>(info.size()));
  }
  std::vector<StagedRecord>().swap(records);
  std::vector<uint8_t>().swap(blobs);
  ARK_RETURN_IF_ERROR(in.rows->Finish(LinkOptions().comparer_resident_bytes, threads));
  ARK_RETURN_IF_ERROR(in.blocking_columns->Finish());
  in.n = info.size();
  if (!clk_batches.empty() && std::find(clk_only.begin(), clk_only.end(), 1) != clk_only.end()) {
    AddClkField(&in, std::move(clk_only));
  }
  std::vector<uint8_t>().swap(clk_only);
  // Batches whose custodian says one record per person (feed spec `one_record_per_person`).
  {
    ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.one_record_per_person') = 1"));
    std::set<int64_t> unique;
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      unique.insert(q->Int(0));
    }
    in.unique_source.assign(batches.size(), 0);
    for (size_t bi = 0; bi < batches.size(); ++bi) in.unique_source[bi] = unique.count(batches[bi].id) ? 1 : 0;
  }

  // The person keys the catalog already holds for the NHS-number pseudonyms read (a pseudonym of
  // another length than a digest's cannot be any record's): per group, its key or kNoKey. Then
  // group_of's index is freed: from here on only its digests are read.
  constexpr uint32_t kNoKey = UINT32_MAX;
  std::vector<uint32_t> key_of_group(group_of.size(), kNoKey);
  ARK_RETURN_IF_ERROR(ForEachPersonKey(cat, [&](const Digest& d, uint32_t person) {
    const uint32_t* g = group_of.Find(d);
    if (g && key_of_group[*g] == kNoKey) key_of_group[*g] = person;
  }));
  group_of.DropIndex();
  // Clerical review decisions (recorded earlier, and new ones from review.decisions_path).
  const RecordIdResolver ids = ArkRecordIds(place, batches);
  std::vector<ReviewDecision> fresh_decisions;
  ARK_ASSIGN_OR_RETURN(std::vector<ReviewDecision> decisions,
                       GatherDecisions(cat, review, ids, &fresh_decisions, &in.decisions));

  // 2. Probabilistic linkage with the NHS groups and one-record-per-person sources as
  // cannot-link constraints.
  LinkOptions lo;
  lo.skip_grouped_pairs = false;  // train on every candidate pair; grouped pairs are decided by the groups
  lo.threads = threads;
  lo.review_band = review.band;
  if (review.chunk_pairs) lo.chunk_pairs = review.chunk_pairs;
  lo.spill_dir = ark + "/link";  // the candidate and weak pairs (unnamed files, removed after)
  lo.keep_weak_pairs = false;    // out.pairs: accepted, review-band and decided pairs, not of two grouped records
  ARK_ASSIGN_OR_RETURN(LinkOutcome out, LinkProbabilisticReleasing(&in, lo));
  // What the linkage read and the keys below do not: the rows (and their map) and the sources.
  in.rows.reset();
  std::vector<uint32_t>().swap(in.source);
  std::optional<LinkReviewReport> review_report;
  if (review.band || !decisions.empty()) {
    LinkReviewReport rr;
    rr.band = review.band;
    rr.pairs_in_band = out.review.size();
    rr.decisions = std::move(decisions);
    rr.outcomes = out.decisions;
    rr.recorded = fresh_decisions.size();
    if (review.band) {
      rr.review_file = review.review_out.empty() ? ark + "/link/review.csv" : review.review_out;
      auto id = [&](uint32_t x) { return std::to_string(batches[place.batch_index(x)].id) + ":" + std::to_string(place.record(x)); };
      ARK_RETURN_IF_ERROR(WriteFileAtomic(rr.review_file, ReviewCsv(out, id)));
    }
    review_report = std::move(rr);
  }
  PprlStats st;
  st.records = in.n;
  st.candidate_pairs = out.candidate_pairs;
  st.refused_merges = out.refused_merges;
  st.clusters = out.clusters;
  st.clustering = out.clustering;
  st.lambda = out.lambda;
  st.threshold_weight = out.threshold_weight;
  st.threshold_probability = out.threshold_probability;
  st.expected_false_matches = out.expected_false_matches;
  st.expected_missed_matches = out.expected_missed_matches;
  st.model = out.model;
  st.pairs_per_rule = out.pairs_per_rule;
  st.both_valid_pairs = out.groups.both_grouped;
  st.same_nhs_model_match = out.groups.same_group_match;
  st.same_nhs_model_nonmatch = out.groups.same_group_nonmatch;
  st.diff_nhs_model_match = out.groups.different_group_match;
  st.accepted_pairs = out.groups.ungrouped_accepted;
  out.pairs.clear();
  out.pairs.shrink_to_fit();
  std::vector<uint32_t>().swap(out.linked);

  // 3. Stable person keys.
  ARK_RETURN_IF_ERROR(cat.Exec(
      "CREATE TABLE IF NOT EXISTS pprl_record_keys (batch INTEGER NOT NULL, record INTEGER NOT NULL, "
      "person INTEGER NOT NULL, PRIMARY KEY (batch, record)) WITHOUT ROWID"));
  std::map<std::pair<int64_t, int64_t>, uint32_t> prev;  // earlier key of a record without a valid NHS number
  for (const char* sql : {"SELECT batch, record, person FROM record_keys", "SELECT batch, record, person FROM pprl_record_keys"}) {
    ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(sql));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      prev[{q->Int(0), q->Int(1)}] = static_cast<uint32_t>(q->Int(2));  // pprl keys override
    }
  }
  auto prev_key = [&](uint32_t i) {
    auto it = prev.find({batches[place.batch_index(i)].id, place.record(i)});
    return it == prev.end() ? std::optional<uint32_t>() : std::optional<uint32_t>(it->second);
  };
  ARK_ASSIGN_OR_RETURN(uint32_t next, cat.NextPerson());

  // Each cluster's members, clusters in root order, members in record order: member_at holds
  // the records of root r at [cluster_at[r], cluster_at[r + 1]).
  std::vector<uint32_t> cluster_at(in.n + 1, 0), member_at(in.n);
  for (uint32_t i = 0; i < in.n; ++i) ++cluster_at[out.cluster[i] + 1];
  for (uint32_t r = 0; r < in.n; ++r) cluster_at[r + 1] += cluster_at[r];
  {
    std::vector<uint32_t> fill(cluster_at.begin(), cluster_at.end() - 1);
    for (uint32_t i = 0; i < in.n; ++i) member_at[fill[out.cluster[i]]++] = i;
  }
  std::vector<uint32_t>().swap(out.cluster);
  auto members = [&](uint32_t root) {
    return std::span<const uint32_t>(member_at.data() + cluster_at[root], cluster_at[root + 1] - cluster_at[root]);
  };
  std::vector<uint32_t> key(in.n, 0);
  std::vector<bool> claimed(next, false);
  auto is_claimed = [&](uint32_t k) { return k < claimed.size() && claimed[k]; };
  auto claim = [&](uint32_t k) {
    if (k >= claimed.size()) claimed.resize(std::max<size_t>(k + 1, claimed.size() * 2), false);
    claimed[k] = true;
  };
  std::vector<std::pair<uint32_t, uint32_t>> new_pseudonyms;  // (group, key)
  // Clusters with a pseudonym take its key.
  std::vector<uint32_t> unkeyed;  // the others' roots, in root order
  for (uint32_t root = 0; root < in.n; ++root) {
    if (cluster_at[root + 1] == cluster_at[root]) continue;
    uint32_t g = LinkInput::kNoGroup;
    for (uint32_t m : members(root)) {
      if (in.group[m] != LinkInput::kNoGroup) {
        g = in.group[m];
        break;
      }
    }
    if (g == LinkInput::kNoGroup) {
      unkeyed.push_back(root);
      continue;
    }
    uint32_t& k = key_of_group[g];
    if (k == kNoKey) {
      k = next++;
      new_pseudonyms.emplace_back(g, k);
    }
    claim(k);
    for (uint32_t m : members(root)) key[m] = k;
  }
  // The others take previous keys, most records first: (records holding the key, key, cluster).
  std::vector<std::tuple<int, uint32_t, size_t>> votes;
  for (size_t c = 0; c < unkeyed.size(); ++c) {
    std::map<uint32_t, int> v;
    for (uint32_t m : members(unkeyed[c])) {
      const std::optional<uint32_t> k = prev_key(m);
      if (k && !is_claimed(*k)) ++v[*k];
    }
    for (auto& [k, n] : v) votes.emplace_back(-n, k, c);
  }
  std::sort(votes.begin(), votes.end());
  std::vector<uint8_t> has_key(unkeyed.size(), 0);
  for (auto& [n, k, c] : votes) {
    if (has_key[c] || is_claimed(k)) continue;
    has_key[c] = 1;
    claim(k);
    for (uint32_t m : members(unkeyed[c])) key[m] = k;
  }
  for (size_t c = 0; c < unkeyed.size(); ++c) {
    if (has_key[c]) continue;
    for (uint32_t m : members(unkeyed[c])) key[m] = next;
    ++next;
  }
  std::vector<uint32_t>().swap(cluster_at);
  std::vector<uint32_t>().swap(member_at);
  std::vector<bool>().swap(claimed);

  // 4. Write the keys and the catalog in one transaction.
  ARK_RETURN_IF_ERROR(cat.Begin());
  Status s;
  {
    auto ins_p = cat.Prepare("INSERT INTO person_keys(pseudonym, person) VALUES (?, ?)");
    auto ins_r = cat.Prepare("INSERT OR REPLACE INTO pprl_record_keys(batch, record, person) VALUES (?, ?, ?)");
    if (!ins_p.ok() || !ins_r.ok()) {
      cat.Rollback();
      return !ins_p.ok() ? ins_p.status() : ins_r.status();
    }
    for (auto& [g, k] : new_pseudonyms) {
      if (!s.ok()) break;
      const Digest& p = group_of.DigestAt(g);
      (*ins_p)->BindBlob(1, p.data(), static_cast<int>(p.size())).Bind(2, static_cast<int64_t>(k));
      s = (*ins_p)->Run();
    }
    for (uint32_t i = 0; i < in.n && s.ok(); ++i) {
      if (info[i].valid) continue;
      if (prev_key(i) == key[i]) continue;
      (*ins_r)->Bind(1, batches[place.batch_index(i)].id).Bind(2, static_cast<int64_t>(place.record(i)));
      (*ins_r)->Bind(3, static_cast<int64_t>(key[i]));
      s = (*ins_r)->Run();
    }
  }
  std::vector<std::vector<uint32_t>> old_keys, new_keys(batches.size());
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    new_keys[bi].assign(key.begin() + place.first[bi], key.begin() + place.first[bi + 1]);
    old_keys.push_back(ReadPreviousKeys(ark, batches[bi].id, new_keys[bi].size()));
  }
  if (s.ok() && !fresh_decisions.empty()) {
    auto ins_d = cat.Prepare("INSERT INTO link_decisions(left_id, right_id, decision, reviewer, source, recorded_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)");
    if (!ins_d.ok()) s = ins_d.status();
    const std::string now = UtcNow();
    for (size_t i = 0; i < fresh_decisions.size() && s.ok(); ++i) {
      const ReviewDecision& d = fresh_decisions[i];
      (*ins_d)->Bind(1, d.left_id).Bind(2, d.right_id).Bind(3, std::string(d.match ? "match" : "non-match"));
      (*ins_d)->Bind(4, d.reviewer).Bind(5, d.where).Bind(6, now);
      s = (*ins_d)->Run();
    }
  }
  if (s.ok()) s = RecordKeyMoves(cat, old_keys, new_keys);
  if (s.ok()) s = cat.SetMeta("next_person", std::to_string(next));
  if (s.ok()) s = cat.SetMeta("linked_at", UtcNow());
  if (s.ok()) s = cat.SetMeta("link_mode", "pprl");
  if (s.ok()) s = cat.Commit();
  if (!s.ok()) {
    cat.Rollback();
    return s;
  }
  // The keys files after the commit (see LinkDeterministic).
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    ARK_RETURN_IF_ERROR(WriteFileAtomic(KeysPath(ark, batches[bi].id),
                                        std::string_view(reinterpret_cast<const char*>(new_keys[bi].data()),
                                                         new_keys[bi].size() * 4)));
  }

  // 5. Report: per custodian, quality against the truth, bias tables.
  LinkReport rep;
  rep.mode = "pprl";
  // Per person key (every key is below `next`): records, and a decile one of them has.
  std::vector<uint32_t> cluster_size(next, 0);
  std::vector<uint8_t> cluster_decile(next, 0);
  for (uint32_t i = 0; i < in.n; ++i) {
    if (cluster_size[key[i]]++ == 0) ++rep.persons;
    if (info[i].decile) cluster_decile[key[i]] = info[i].decile;
  }
  auto truth_at = [&](uint32_t i) { return truth_of.empty() ? int64_t{-1} : truth_of[i]; };  // -1: unknown
  std::unordered_map<int64_t, uint64_t> truth_count;
  std::map<std::pair<uint32_t, int64_t>, uint64_t> both;
  std::vector<uint64_t> pred, tv;
  for (uint32_t i = 0; i < in.n; ++i) {
    if (truth_at(i) < 0) continue;
    ++truth_count[truth_at(i)];
    ++both[{key[i], truth_at(i)}];
    pred.push_back(key[i]);
    tv.push_back(static_cast<uint64_t>(truth_at(i)));
  }
  if (!truth_dir.empty()) rep.quality = ScorePairs(pred, tv);
  const int year = std::stoi(UtcNow().substr(0, 4));
  struct Acc { uint64_t records = 0, linked = 0, partners = 0, found = 0, false_links = 0; };
  std::map<std::string, Acc> by_c, by_d, by_a, by_s;
  for (uint32_t i = 0; i < in.n; ++i) {
    const bool linked = info[i].valid || cluster_size[key[i]] > 1;
    const std::string& feed = feed_of_batch[place.batch_index(i)];
    FeedLinkCounts& fc = rep.feeds[feed];
    ++fc.records;
    fc.linked += linked;
    if (!info[i].valid) {
      ++st.records_without_nhs;
      st.linked_without_nhs += linked;
      (info[i].nhs_status == NhsStatusCode::kMissing ? fc.missing_nhs : fc.invalid_nhs)++;
    }
    uint8_t dec = info[i].decile ? info[i].decile : cluster_decile[key[i]];
    std::string ds = dec ? std::to_string(dec) : "unknown";
    if (ds.size() == 1) ds = "0" + ds;
    std::string age = info[i].birth_year ? AgeBand(year - info[i].birth_year) : "unknown";
    std::string sex = info[i].sex == 'M' ? "M" : info[i].sex == 'F' ? "F" : "U";
    for (auto* a : {&by_c[feed], &by_d[ds], &by_a[age], &by_s[sex]}) {
      ++a->records;
      a->linked += linked;
      if (truth_at(i) >= 0) {
        a->partners += truth_count[truth_at(i)] - 1;
        uint64_t same = both[{key[i], truth_at(i)}];
        a->found += same - 1;
        a->false_links += cluster_size[key[i]] > same;
      }
    }
  }
  auto rows = [&](const std::map<std::string, Acc>& m) {
    std::vector<RateRow> v;
    for (auto& [g, a] : m) {
      RateRow r;
      r.group = g;
      r.records = a.records;
      r.linked = a.linked;
      r.linked_rate = a.records ? static_cast<double>(a.linked) / a.records : 0;
      if (!truth_dir.empty()) r.truth_recall = a.partners ? static_cast<double>(a.found) / a.partners : 1.0;
      r.false_links = a.false_links;
      v.push_back(r);
    }
    return v;
  };
  rep.bias.by_custodian = rows(by_c);
  rep.bias.by_decile = rows(by_d);
  rep.bias.by_age_band = rows(by_a);
  rep.bias.by_sex = rows(by_s);
  double r1 = -1, r10 = -1;
  for (auto& r : rep.bias.by_decile) {
    if (r.group == "01") r1 = r.linked_rate;
    if (r.group == "10") r10 = r.linked_rate;
  }
  if (r1 >= 0 && r10 >= 0) rep.bias.decile_gap = 100.0 * (r10 - r1);
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.pprl = std::move(st);
  rep.review = std::move(review_report);
  return rep;
}

}  // namespace ark
