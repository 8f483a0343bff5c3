#include "import/clk_import.h"

#include <unistd.h>
#include <xxhash.h>

#include <cstdio>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/fs.h"
#include "ingest/staging.h"
#include "ingest/staging_guard.h"
#include "link/link_records.h"
#include "privacy/bloom.h"
#include "privacy/key.h"

namespace ark {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status CheckSource(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 64;
  for (char c : s) ok &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  if (!ok) return Status::InvalidArgument("--source '" + s + "': expected 1-64 characters a-z, 0-9 or _");
  return Status::OK();
}

// The ids file: one row per CLK; checks `id` (non-empty, unique) and reads `nhs_pseudonym`.
Status ReadIds(const std::string& path, size_t clks, const std::string& clks_path, std::vector<StagedRecord>* recs) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  const int c_id = f.ColumnIndex("id"), c_nhs = f.ColumnIndex("nhs_pseudonym");
  if (c_id < 0) return f.Error(1, "no column 'id' (one row per CLK, in the order of " + clks_path + ")");
  std::unordered_map<std::string, int64_t> seen;
  size_t row_n = 0;
  ARK_RETURN_IF_ERROR(f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    if (row_n >= clks) {
      return f.Error(line, "more rows than the " + std::to_string(clks) + " CLKs of " + clks_path);
    }
    StagedRecord& r = (*recs)[row_n++];
    const std::string id(Trim(row[c_id]));
    if (id.empty()) return f.Error(line, "id", "empty");
    auto [it, fresh] = seen.emplace(id, line);
    if (!fresh) return f.Error(line, "id", "'" + id + "' repeats line " + std::to_string(it->second));
    if (c_nhs >= 0 && !Trim(row[c_nhs]).empty()) {
      if (!FromHex(Trim(row[c_nhs]), &r.pseudonym)) return f.Error(line, "nhs_pseudonym", "expected 64 hex digits");
      r.nhs_status = NhsStatusCode::kValid;
    }
    return Status::OK();
  }));
  if (row_n != clks) {
    return Status::InvalidArgument(path + ": " + std::to_string(row_n) + " rows, expected one per CLK of " + clks_path +
                                   " (" + std::to_string(clks) + ")");
  }
  return Status::OK();
}

// Writes the batch beside the staging area, publishes it and records it in the catalog.
Result<int64_t> Publish(Catalog& cat, const StagedBatch& b, nlohmann::json manifest) {
  const std::string ark = cat.ark_dir(), staging = ark + "/staging";
  std::vector<std::string> removed;
  ARK_ASSIGN_OR_RETURN(StagingGuard guard, StagingGuard::Acquire(cat, &removed));
  ReportRemoved(removed);
  ARK_ASSIGN_OR_RETURN(auto dup, cat.Prepare("SELECT id FROM batches WHERE json_extract(manifest, '$.content_hash') = ?"));
  dup->Bind(1, manifest["content_hash"].get<std::string>());
  ARK_ASSIGN_OR_RETURN(bool again, dup->Step());
  if (again) {
    return Status::FailedPrecondition(manifest["clks_file"].get<std::string>() + ": these CLKs are already in the Ark (batch " +
                                      std::to_string(dup->Int(0)) + ")");
  }
  ARK_ASSIGN_OR_RETURN(auto next, cat.Prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM batches"));
  ARK_ASSIGN_OR_RETURN(bool has, next->Step());
  const int64_t id = has ? next->Int(0) : 1;
  char name[96];
  std::snprintf(name, sizeof name, "%06lld-%s", static_cast<long long>(id), b.feed.c_str());
  const std::string tmp = staging + "/.tmp-" + std::to_string(::getpid()) + "-" + name, fin = staging + "/" + name;
  ARK_RETURN_IF_ERROR(MakeDirs(tmp));
  Status s = WriteStagedBatch(b, tmp + "/batch.bin");
  if (s.ok()) s = PublishDir(tmp, fin);
  if (!s.ok()) {
    (void)RemoveAll(tmp);
    return s;
  }
  s = cat.Begin();
  if (s.ok()) {
    auto ins = cat.Prepare("INSERT INTO batches(id, feed, dir, records, events, optouts, ingested_at, manifest) VALUES (?,?,?,?,?,?,?,?)");
    s = ins.status();
    if (s.ok()) {
      (*ins)->Bind(1, id).Bind(2, b.feed).Bind(3, std::string("staging/") + name)
          .Bind(4, static_cast<int64_t>(b.records.size())).Bind(5, int64_t{0}).Bind(6, int64_t{0}).Bind(7, UtcNow())
          .Bind(8, manifest.dump());
      s = (*ins)->Run();
    }
    if (s.ok()) s = cat.Commit();
    else cat.Rollback();
  }
  if (!s.ok()) {
    (void)RemoveAll(fin);
    return s;
  }
  return id;
}

}  // namespace

Result<ClkImportReport> ImportClks(Catalog& cat, const ClkImportOptions& opt) {
  ARK_RETURN_IF_ERROR(CheckSource(opt.source));
  ARK_ASSIGN_OR_RETURN(std::vector<uint64_t> clks, ReadClksJson(opt.clks_path));
  const size_t n = clks.size() / kClkWords;
  if (n == 0) return Status::InvalidArgument(opt.clks_path + ": no CLKs");
  for (size_t i = 0; i < n; ++i) {
    bool any = false;
    for (int w = 0; w < kClkWords; ++w) any |= clks[i * kClkWords + w] != 0;
    if (!any) return Status::InvalidArgument(opt.clks_path + ": clks[" + std::to_string(i) + "]: no bit set (an empty CLK links nothing)");
  }
  StagedBatch b;
  b.feed = opt.source;
  b.records.resize(n);
  if (!opt.ids_path.empty()) ARK_RETURN_IF_ERROR(ReadIds(opt.ids_path, n, opt.clks_path, &b.records));
  // The Ark's encoding layout with no field present: the CLK, then empty filters and blocking keys.
  const auto& fields = ArkEncodedFields();
  RecordEncoding none;
  none.fields.assign(fields.size() * kFieldWords, 0);
  none.present.assign(fields.size(), 0);
  none.blocking.assign(kNameRules + kLshBands, 0);
  const std::string packed = PackFields(none);
  b.encoding_version = kEncodingVersion;
  b.encodings.reserve(n * StagedEncodingBytes(fields.size()));
  for (size_t i = 0; i < n; ++i) {
    const auto* c = reinterpret_cast<const uint8_t*>(&clks[i * kClkWords]);
    b.encodings.insert(b.encodings.end(), c, c + kClkWords * 8);
    b.encodings.insert(b.encodings.end(), packed.begin(), packed.end());
  }
  ClkImportReport rep;
  rep.records = n;
  for (const auto& r : b.records) rep.with_pseudonym += r.nhs_status == NhsStatusCode::kValid;
  std::string hashed = std::to_string(XXH3_64bits(clks.data(), clks.size() * 8));
  if (!opt.ids_path.empty()) {
    ARK_ASSIGN_OR_RETURN(std::string ids, ReadFile(opt.ids_path));
    hashed += "-" + std::to_string(XXH3_64bits(ids.data(), ids.size()));
  }
  nlohmann::json manifest = {{"kind", "clks"},
                             {"feed", opt.source},
                             {"format", "anonlink clks.json (1024-bit CLKs)"},
                             {"clks_file", opt.clks_path},
                             {"content_hash", "clks:" + hashed},
                             {"records", n},
                             {"with_nhs_pseudonym", rep.with_pseudonym},
                             {"one_record_per_person", opt.one_record_per_person}};
  ARK_ASSIGN_OR_RETURN(rep.batch, Publish(cat, b, std::move(manifest)));
  return rep;
}

}  // namespace ark
