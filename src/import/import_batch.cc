#include "import/import_batch.h"

#include <unistd.h>

#include <cstdio>

#include "core/csv.h"
#include "core/fs.h"
#include "import/import_util.h"
#include "ingest/staging_guard.h"
#include "link/link.h"

namespace ark {

ImportBatch::ImportBatch(std::string feed) { b_.feed = std::move(feed); }

uint32_t ImportBatch::Intern(std::vector<std::string>& dict, std::unordered_map<std::string, uint32_t>& ids,
                             std::string_view s) {
  if (s.empty()) return 0;
  auto [it, fresh] = ids.try_emplace(std::string(s), static_cast<uint32_t>(dict.size()));
  if (fresh) dict.emplace_back(s);
  return it->second;
}

namespace {

// A person id as matched: trimmed; an integer in its plain decimal form.
std::string CanonicalId(std::string_view id) {
  while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
  while (!id.empty() && (id.back() == ' ' || id.back() == '\t' || id.back() == '\r')) id.remove_suffix(1);
  int64_t n = 0;
  if (import_util::ParseInt(id, &n)) return std::to_string(n);
  return std::string(id);
}

std::string DigestKey(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

}  // namespace

Digest ImportBatch::HashId(std::string_view id) const { return id_key_->Hmac(CanonicalId(id)); }

Status ImportBatch::DeclareOptOuts(const ImportOptOuts& o) {
  optouts_declared_ = o.mode != ImportOptOuts::Mode::kUndeclared;
  optouts_listed_ = false;
  listed_.clear();
  if (!optouts_declared_) return Status::OK();
  if (!id_key_) {
    ARK_ASSIGN_OR_RETURN(ProgrammeKey k, ProgrammeKey::Generate());
    id_key_ = k;
  }
  optouts_listed_ = o.mode == ImportOptOuts::Mode::kList;
  if (!optouts_listed_) return Status::OK();
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(o.file));
  const int col = f.ColumnIndex("person_id");
  if (col < 0) return Status::InvalidArgument(o.file + ":1: missing column 'person_id' (an opt-out list names the source's opted-out persons)");
  return f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    if (CanonicalId(row[col]).empty()) return f.Error(line, "person_id", "empty");
    listed_.try_emplace(DigestKey(HashId(row[col])), false);
    return Status::OK();
  });
}

void ImportBatch::SetSourceId(uint32_t record, std::string_view id) {
  if (!optouts_declared_) return;
  if (source_digest_.size() <= record) source_digest_.resize(b_.records.size());
  source_digest_[record] = HashId(id);
}

uint32_t ImportBatch::AddPerson(const ImportedPerson& p) {
  b_.records.emplace_back();
  SetPerson(static_cast<uint32_t>(b_.records.size() - 1), p);
  return static_cast<uint32_t>(b_.records.size() - 1);
}

void ImportBatch::SetPerson(uint32_t record, const ImportedPerson& p) {
  StagedRecord r;
  if (p.pseudonym) {
    r.pseudonym = *p.pseudonym;
    r.nhs_status = NhsStatusCode::kValid;
  }
  r.birth_year = p.birth_year;
  r.birth_month = p.birth_month;
  r.sex = p.sex;
  r.imd_decile = p.imd_decile;
  r.lsoa = Intern(b_.areas, area_ids_, p.lsoa);
  r.practice = Intern(b_.practices, practice_ids_, p.practice);
  b_.records[record] = r;
}

void ImportBatch::AddEvent(uint32_t record, Seconds time, Seconds end, std::string_view code, double value,
                           std::string_view unit, uint64_t encounter) {
  StagedEvents& e = b_.events;
  e.record.push_back(record);
  e.time.push_back(time);
  e.end.push_back(end);
  e.code.push_back(Intern(b_.codes, code_ids_, code));
  e.unit.push_back(Intern(b_.units, unit_ids_, unit));
  e.value.push_back(value);
  uint32_t enc = 0;
  if (encounter != 0) {
    if (encounter < 0x7fffffffu) {
      enc = static_cast<uint32_t>(encounter) + 1;
    } else {
      enc = kInternedEncounter | Intern(b_.encounters, encounter_ids_, std::to_string(encounter));
    }
  }
  e.encounter.push_back(enc);
}

Result<ImportReport> ImportBatch::Commit(Catalog& cat, const std::string& content_hash, nlohmann::json manifest) {
  if (b_.records.empty()) return Status::InvalidArgument("nothing to import: no persons");
  const std::string ark = cat.ark_dir();
  {
    ARK_ASSIGN_OR_RETURN(auto dup, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.content_hash') = ?"));
    dup->Bind(1, content_hash);
    ARK_ASSIGN_OR_RETURN(bool row, dup->Step());
    if (row) {
      return Status::FailedPrecondition("this " + b_.feed + " data is already in the Ark (batch " +
                                        std::to_string(dup->Int(0)) + "): importing it twice is refused");
    }
  }
  ImportReport rep;
  if (optouts_declared_) {
    // Build reads optout_kind "import": every record's status is known, opted out when its
    // digest (the hashed source id; the NHS-number pseudonym for linked records) is listed.
    b_.optout_kind = "import";
    b_.optouts.clear();
    rep.optouts_declared = true;
    source_digest_.resize(b_.records.size());
    for (size_t i = 0; i < b_.records.size(); ++i) {
      StagedRecord& r = b_.records[i];
      const bool has_id = source_digest_[i] != Digest{};
      if (r.nhs_status != NhsStatusCode::kValid) r.pseudonym = source_digest_[i];
      auto it = has_id ? listed_.find(DigestKey(source_digest_[i])) : listed_.end();
      if (it == listed_.end()) continue;
      it->second = true;
      b_.optouts.push_back(r.pseudonym);
      ++rep.opted_out;
    }
    for (const auto& [d, matched] : listed_) rep.optout_ids_unmatched += matched ? 0 : 1;
  }
  std::vector<std::string> removed;
  ARK_ASSIGN_OR_RETURN(StagingGuard guard, StagingGuard::Acquire(cat, &removed));
  ReportRemoved(removed);
  ARK_RETURN_IF_ERROR(cat.Begin());
  std::string fin, keys_path;
  auto fail = [&](Status s) {
    cat.Rollback();
    if (!fin.empty()) (void)RemoveAll(fin);
    if (!keys_path.empty()) (void)RemoveAll(keys_path);
    return s;
  };
  auto next_id = cat.Prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM batches");
  if (!next_id.ok()) return fail(next_id.status());
  auto has = (*next_id)->Step();
  if (!has.ok()) return fail(has.status());
  const int64_t id = *has ? (*next_id)->Int(0) : 1;
  next_id->reset();
  rep.batch = id;

  // Staged batch: written beside the staging area, then published by rename.
  char name[96];
  std::snprintf(name, sizeof name, "%06lld-%s", static_cast<long long>(id), b_.feed.c_str());
  const std::string staging = ark + "/staging";
  Status s = MakeDirs(staging);
  if (!s.ok()) return fail(s);
  const std::string tmp = staging + "/.tmp-" + std::to_string(::getpid()) + "-" + name;
  (void)RemoveAll(tmp);
  s = MakeDirs(tmp);
  if (s.ok()) s = WriteStagedBatch(b_, tmp + "/batch.bin");
  if (s.ok()) s = PublishDir(tmp, staging + "/" + name);
  if (!s.ok()) {
    (void)RemoveAll(tmp);
    return fail(s);
  }
  fin = staging + "/" + name;

  // Person keys.
  auto next_s = cat.NextPerson();
  if (!next_s.ok()) return fail(next_s.status());
  uint32_t next = *next_s;
  auto find_p = cat.Prepare("SELECT person FROM person_keys WHERE pseudonym = ?");
  auto ins_p = cat.Prepare("INSERT INTO person_keys(pseudonym, person) VALUES (?, ?)");
  auto ins_r = cat.Prepare("INSERT INTO record_keys(batch, record, person) VALUES (?, ?, ?)");
  if (!find_p.ok()) return fail(find_p.status());
  if (!ins_p.ok()) return fail(ins_p.status());
  if (!ins_r.ok()) return fail(ins_r.status());
  std::vector<uint32_t> keys(b_.records.size());
  for (size_t i = 0; i < b_.records.size(); ++i) {
    const StagedRecord& r = b_.records[i];
    if (r.nhs_status == NhsStatusCode::kValid) {
      (*find_p)->BindBlob(1, r.pseudonym.data(), static_cast<int>(r.pseudonym.size()));
      auto row = (*find_p)->Step();
      if (!row.ok()) return fail(row.status());
      if (*row) {
        keys[i] = static_cast<uint32_t>((*find_p)->Int(0));
        (*find_p)->Reset();
        continue;
      }
      (*find_p)->Reset();
      keys[i] = next++;
      (*ins_p)->BindBlob(1, r.pseudonym.data(), static_cast<int>(r.pseudonym.size())).Bind(2, static_cast<int64_t>(keys[i]));
      s = (*ins_p)->Run();
    } else {
      keys[i] = next++;
      (*ins_r)->Bind(1, id).Bind(2, static_cast<int64_t>(i + 1)).Bind(3, static_cast<int64_t>(keys[i]));
      s = (*ins_r)->Run();
    }
    if (!s.ok()) return fail(s);
    ++rep.new_persons;
  }
  s = MakeDirs(ark + "/link");
  if (s.ok()) {
    keys_path = KeysPath(ark, id);
    s = WriteFileAtomic(keys_path, std::string_view(reinterpret_cast<const char*>(keys.data()), keys.size() * 4));
  }
  if (!s.ok()) return fail(s);

  rep.persons = b_.records.size();
  rep.events = b_.events.size();
  manifest["kind"] = "import";
  manifest["feed"] = b_.feed;
  manifest["content_hash"] = content_hash;
  manifest["records"] = rep.persons;
  manifest["events"] = rep.events;
  manifest["optouts"] = !rep.optouts_declared ? "not declared (persons without an NHS-number pseudonym: status unknown)"
                        : !optouts_listed_    ? "declared: none"
                                              : "declared: list";
  manifest["opted_out"] = rep.opted_out;
  auto ins = cat.Prepare("INSERT INTO batches(id, feed, dir, records, events, optouts, ingested_at, manifest) VALUES (?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return fail(ins.status());
  (*ins)->Bind(1, id).Bind(2, b_.feed).Bind(3, std::string("staging/") + name).Bind(4, static_cast<int64_t>(rep.persons))
      .Bind(5, static_cast<int64_t>(rep.events)).Bind(6, static_cast<int64_t>(rep.opted_out)).Bind(7, UtcNow()).Bind(8, manifest.dump());
  s = (*ins)->Run();
  if (s.ok()) s = cat.SetMeta("next_person", std::to_string(next));
  if (s.ok()) s = cat.Commit();
  if (!s.ok()) return fail(s);
  return rep;
}

}  // namespace ark
