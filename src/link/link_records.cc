#include "link/link_records.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <regex>
#include <unordered_map>

#include "core/csv.h"
#include "core/fs.h"
#include "core/yaml_errors.h"

namespace ark {
namespace {

// Linking one file dedupes it; two files link across them one-to-one.
LinkOptions ModelOptions(const LinkRecordsOptions& opt, size_t files) {
  LinkOptions lo;
  lo.cross_source_only = files > 1;
  lo.one_to_one = files > 1 && !opt.clustered;
  lo.threshold_probability = opt.threshold_probability;
  lo.cluster_bound = opt.cluster_bound;
  lo.review_band = opt.review_band;
  lo.threads = opt.threads;
  if (opt.chunk_pairs) lo.chunk_pairs = opt.chunk_pairs;
  lo.spill_dir = opt.spill_dir;
  if (opt.comparer_resident_bytes) lo.comparer_resident_bytes = opt.comparer_resident_bytes;
  lo.keep_weak_pairs = opt.keep_weak_pairs;
  if (opt.cluster_score_limit) lo.cluster_score_limit = *opt.cluster_score_limit;
  return lo;
}

struct MappingSpec {
  std::vector<std::pair<std::string, std::string>> columns;  // role -> column
  std::string id;
};

Result<MappingSpec> LoadSpec(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  MappingSpec s;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a mapping with 'columns'");
    ARK_RETURN_IF_ERROR(YamlKeys(path, root, {"columns", "fields", "id"}, "the mapping spec"));
    YAML::Node cols = root["columns"] ? root["columns"] : root["fields"];
    if (!cols || !cols.IsMap() || cols.size() == 0) {
      return Status::InvalidArgument(path + ": 'columns' must map roles to CSV columns (role: column)");
    }
    for (auto it = cols.begin(); it != cols.end(); ++it) {
      s.columns.emplace_back(it->first.as<std::string>(), it->second.as<std::string>());
    }
    if (root["id"]) s.id = root["id"].as<std::string>();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return s;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct Loaded {
  std::vector<std::vector<std::string>> values;  // [field][record], raw (trimmed)
  std::vector<std::string> ids, truth;
  size_t n = 0;
};

Result<Loaded> LoadCsv(const std::string& path, const MappingSpec& spec, const std::string& spec_path,
                       const std::string& truth_col) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  std::unordered_map<std::string, int> idx;
  for (size_t i = 0; i < f.header().size(); ++i) idx.emplace(std::string(Trim(f.header()[i])), static_cast<int>(i));
  auto col = [&](const std::string& c, const std::string& why) -> Result<int> {
    auto it = idx.find(std::string(Trim(c)));
    if (it == idx.end()) {
      return Status::InvalidArgument(path + ":1: no column '" + c + "' (named by " + why + ")");
    }
    return it->second;
  };
  std::vector<int> ci;
  for (auto& [role, c] : spec.columns) {
    ARK_ASSIGN_OR_RETURN(int i, col(c, spec_path + " for '" + role + "'"));
    ci.push_back(i);
  }
  int c_id = -1, c_truth = -1;
  if (!spec.id.empty()) {
    ARK_ASSIGN_OR_RETURN(c_id, col(spec.id, spec_path + " as 'id'"));
  }
  if (!truth_col.empty()) {
    ARK_ASSIGN_OR_RETURN(c_truth, col(truth_col, "--truth-column"));
  }
  Loaded l;
  l.values.resize(ci.size());
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, f.NextRow(p, &row));
    if (!more) break;
    for (size_t k = 0; k < ci.size(); ++k) l.values[k].emplace_back(Trim(row[ci[k]]));
    ++l.n;
    l.ids.emplace_back(c_id >= 0 ? std::string(Trim(row[c_id])) : std::to_string(l.n));
    if (c_truth >= 0) l.truth.emplace_back(Trim(row[c_truth]));
  }
  return l;
}

// Defined below.
Result<std::vector<uint64_t>> TruthLabels(const std::vector<std::vector<std::string>>& raw,
                                          const std::vector<std::string>& names, const std::string& column,
                                          const std::string& pattern, int first_line);
Status WriteOutputs(const LinkRecordsOptions& opt, const LinkInput& in, size_t left_n,
                    const std::function<std::string(uint32_t)>& id, const std::vector<uint64_t>& truth,
                    LinkRecordsReport* rep);

// CLKs only: the compared fields are the Dice of the CLKs' parts (AddClkField, as for CLK-only
// records in an Ark). LSH bands from the CLKs block.
Result<LinkRecordsReport> LinkClks(const LinkRecordsOptions& opt) {
  if (opt.review_band || !opt.decisions_path.empty()) {
    return Status::InvalidArgument("--review-band and --decisions are for CSV inputs, not --clks-left");
  }
  std::vector<std::vector<uint64_t>> files;
  ARK_ASSIGN_OR_RETURN(auto left, ReadClksJson(opt.clks_left));
  files.push_back(std::move(left));
  if (!opt.clks_right.empty()) {
    ARK_ASSIGN_OR_RETURN(auto right, ReadClksJson(opt.clks_right));
    files.push_back(std::move(right));
  }
  LinkInput in;
  in.encoded = true;
  for (auto& f : files) in.n += f.size() / kClkWords;
  if (in.n < 2) return Status::InvalidArgument(opt.clks_left + ": fewer than two CLKs to link");
  in.blocking.assign(kNameRules + kLshBands, std::vector<uint64_t>(in.n, 0));
  for (size_t fi = 0; fi < files.size(); ++fi) {
    in.clk.insert(in.clk.end(), files[fi].begin(), files[fi].end());
    if (files.size() > 1) in.source.insert(in.source.end(), files[fi].size() / kClkWords, static_cast<uint32_t>(fi));
  }
  AddClkField(&in, {});
  LinkRecordsReport rep;
  rep.mode = "clks";
  rep.records = in.n;
  rep.left_records = files[0].size() / kClkWords;
  rep.right_records = files.size() > 1 ? files[1].size() / kClkWords : 0;
  // Truth (optional): a CSV with one row per CLK, those of --clks-left then of --clks-right.
  std::vector<uint64_t> truth;
  if (!opt.truth_path.empty()) {
    if (opt.truth_column.empty()) return Status::InvalidArgument("--truth needs --truth-column");
    ARK_ASSIGN_OR_RETURN(CsvFile tf, CsvFile::Open(opt.truth_path));
    const int c = tf.ColumnIndex(opt.truth_column);
    if (c < 0) return Status::InvalidArgument(opt.truth_path + ":1: no column '" + opt.truth_column + "' (--truth-column)");
    std::vector<std::vector<std::string>> raw(1);
    ARK_RETURN_IF_ERROR(tf.ForEachRow([&](int64_t, const std::vector<std::string_view>& row) {
      raw[0].emplace_back(Trim(row[c]));
      return Status::OK();
    }));
    if (raw[0].size() != in.n) {
      return Status::InvalidArgument(opt.truth_path + ": " + std::to_string(raw[0].size()) + " rows, expected one per CLK (" +
                                     std::to_string(in.n) + ": --clks-left, then --clks-right)");
    }
    ARK_ASSIGN_OR_RETURN(truth, TruthLabels(raw, {opt.truth_path}, opt.truth_column, opt.truth_pattern, 2));
  }
  ARK_ASSIGN_OR_RETURN(rep.outcome, LinkProbabilistic(in, ModelOptions(opt, files.size())));
  // Ids: the 1-based position of the CLK in its file.
  const size_t left_n = rep.left_records;
  auto id = [&](uint32_t x) { return std::to_string(x < left_n ? x + 1 : x - left_n + 1); };
  ARK_RETURN_IF_ERROR(WriteOutputs(opt, in, left_n, id, truth, &rep));
  return rep;
}

// Record ids of the decisions file: left ids name records of --left; right ids records of --right
// (of --left when deduplicating). An id must name exactly one record.
RecordIdResolver IdResolver(const std::vector<Loaded>& files, const LinkRecordsOptions& opt) {
  auto index = std::make_shared<std::vector<std::unordered_map<std::string, int64_t>>>(files.size());
  uint32_t base = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    for (size_t i = 0; i < files[fi].n; ++i) {
      auto [it, fresh] = (*index)[fi].emplace(files[fi].ids[i], base + i);
      if (!fresh) it->second = -1;  // ambiguous
    }
    base += static_cast<uint32_t>(files[fi].n);
  }
  return [index, left = opt.left, right = opt.right](const std::string& id, bool is_right) -> Result<uint32_t> {
    const size_t fi = is_right && index->size() > 1 ? 1 : 0;
    const std::string& file = fi ? right : left;
    auto it = (*index)[fi].find(id);
    if (it == (*index)[fi].end()) return Status::InvalidArgument("no record '" + id + "' in " + file);
    if (it->second < 0) return Status::InvalidArgument("'" + id + "' names more than one record of " + file);
    return static_cast<uint32_t>(it->second);
  };
}


// The pairs file (docs/linkage.md, "Output"): every kept pair with probability >= 0.001 or above
// the threshold, `linked` = 1 for the links the clustering kept.
std::string PairsCsv(const LinkInput& in, const LinkOutcome& o, const std::function<std::string(uint32_t)>& id) {
  const size_t nf = in.fields.size();
  std::string out = "left_id,right_id,match_weight,match_probability,linked";
  const bool dice = !in.clk.empty();
  if (dice) out += ",clk_dice";
  for (auto& f : in.fields) out += ",level_" + f.name;
  out += ",explanation\n";
  char buf[96];
  const std::vector<uint32_t>& kept = o.linked;  // ascending
  size_t next_kept = 0;
  for (uint32_t pi = 0; pi < o.pairs.size(); ++pi) {
    const ScoredPair& p = o.pairs[pi];
    while (next_kept < kept.size() && kept[next_kept] < pi) ++next_kept;
    const bool linked = next_kept < kept.size() && kept[next_kept] == pi;
    if (p.probability < 0.001 && p.weight < o.threshold_weight) continue;
    std::snprintf(buf, sizeof buf, ",%.3f,%.6f,%d", p.weight, p.probability, linked ? 1 : 0);
    AppendCsvField(&out, id(p.a));
    out += ',';
    AppendCsvField(&out, id(p.b));
    out += buf;
    if (dice) {
      std::snprintf(buf, sizeof buf, ",%.4f", p.clk_dice);
      out += buf;
    }
    for (size_t f = 0; f < nf; ++f) {
      out += ',';
      if (p.levels[f] != 255) out += o.model[f].levels[p.levels[f]];
      else out += "missing";
    }
    out += ',';
    AppendCsvField(&out, ExplainPair(o, p));
    out += '\n';
  }
  return out;
}

// The clusters file: `file,id,cluster,cluster_size`, one row per record in input order; clusters
// numbered 1.. in the order of their first record.
std::string ClustersCsv(const LinkOutcome& o, size_t left_n, const std::function<std::string(uint32_t)>& id) {
  std::unordered_map<uint32_t, uint32_t> number, size;
  for (uint32_t c : o.cluster) ++size[c];
  std::string out = "file,id,cluster,cluster_size\n";
  for (uint32_t i = 0; i < o.cluster.size(); ++i) {
    const uint32_t c = o.cluster[i];
    const uint32_t k = number.emplace(c, static_cast<uint32_t>(number.size() + 1)).first->second;
    out += i < left_n ? "left," : "right,";
    AppendCsvField(&out, id(i));
    out += ',' + std::to_string(k) + ',' + std::to_string(size[c]) + '\n';
  }
  return out;
}

// Truth labels: `raw[f]` the truth column's values of file f (named `names[f]`), mapped through
// `pattern` (group 1, or the whole match) to dense entity ids, in file order.
Result<std::vector<uint64_t>> TruthLabels(const std::vector<std::vector<std::string>>& raw,
                                          const std::vector<std::string>& names, const std::string& column,
                                          const std::string& pattern, int first_line) {
  std::optional<std::regex> re;
  if (!pattern.empty()) {
    try {
      re.emplace(pattern);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument("--truth-pattern '" + pattern + "': " + e.what());
    }
  }
  std::unordered_map<std::string, uint64_t> label;
  std::vector<uint64_t> truth;
  for (size_t fi = 0; fi < raw.size(); ++fi) {
    for (size_t i = 0; i < raw[fi].size(); ++i) {
      std::string t = raw[fi][i];
      if (re) {
        std::smatch m;
        if (!std::regex_search(t, m, *re)) {
          return Status::InvalidArgument(names[fi] + ":" + std::to_string(i + first_line) + ": column '" + column +
                                         "': '" + t + "' does not match --truth-pattern");
        }
        t = m.size() > 1 ? m[1].str() : m[0].str();
      }
      truth.push_back(label.emplace(t, label.size()).first->second);
    }
  }
  return truth;
}

// --out and --clusters-out, and the truth score, for any input.
Status WriteOutputs(const LinkRecordsOptions& opt, const LinkInput& in, size_t left_n,
                    const std::function<std::string(uint32_t)>& id, const std::vector<uint64_t>& truth,
                    LinkRecordsReport* rep) {
  rep->linked_pairs = rep->outcome.linked.size();  // the links kept, as the pairs file marks them
  if (!truth.empty()) {
    std::vector<uint64_t> pred(rep->outcome.cluster.begin(), rep->outcome.cluster.end());
    rep->quality = ScorePairs(pred, truth);
  }
  if (!opt.out_pairs.empty()) ARK_RETURN_IF_ERROR(WriteFileAtomic(opt.out_pairs, PairsCsv(in, rep->outcome, id)));
  if (!opt.clusters_out.empty()) {
    ARK_RETURN_IF_ERROR(WriteFileAtomic(opt.clusters_out, ClustersCsv(rep->outcome, left_n, id)));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<uint64_t>> ReadClksJson(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": not JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("clks") || !j["clks"].is_array()) {
    return Status::InvalidArgument(path + ": expected anonlink's clks.json: {\"clks\": [base64, ...]}");
  }
  std::vector<uint64_t> out;
  std::string raw;
  for (size_t i = 0; i < j["clks"].size(); ++i) {
    const auto& e = j["clks"][i];
    if (!e.is_string() || !Base64Decode(e.get<std::string>(), &raw)) {
      return Status::InvalidArgument(path + ": clks[" + std::to_string(i) + "]: not a base64 string");
    }
    if (raw.size() != kClkWords * 8) {
      return Status::InvalidArgument(path + ": clks[" + std::to_string(i) + "]: " + std::to_string(raw.size()) +
                                     " bytes, expected " + std::to_string(kClkWords * 8) + " (a 1024-bit CLK)");
    }
    // Bytes in order, 8 to a word: Dice does not depend on how bits are numbered.
    uint64_t w[kClkWords];
    std::memcpy(w, raw.data(), sizeof w);
    out.insert(out.end(), w, w + kClkWords);
  }
  return out;
}

Status WriteClksJson(const std::string& path, const std::vector<uint64_t>& clks) {
  std::string out = "{\"clks\": [";
  for (size_t i = 0; i < clks.size() / kClkWords; ++i) {
    if (i) out += ", ";
    out += '"' + Base64Encode(&clks[i * kClkWords], kClkWords * 8) + '"';
  }
  out += "]}\n";
  return WriteFileAtomic(path, out);
}

Result<size_t> ClksJsonFromRecords(const std::string& records_csv, const std::string& clks_json) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(records_csv));
  const int c = f.ColumnIndex("clk");
  if (c < 0) return Status::InvalidArgument(records_csv + ":1: no column 'clk' (not written by this 'ark pseudonymise'?)");
  std::vector<uint64_t> clks;
  std::string raw;
  ARK_RETURN_IF_ERROR(f.ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    if (!Base64Decode(row[c], &raw) || raw.size() != kClkWords * 8) {
      return Status::InvalidArgument(records_csv + ":" + std::to_string(line) + ": column 'clk': not a base64 " +
                                     std::to_string(kClkBits) + "-bit CLK");
    }
    uint64_t w[kClkWords];
    std::memcpy(w, raw.data(), sizeof w);
    clks.insert(clks.end(), w, w + kClkWords);
    return Status::OK();
  }));
  ARK_RETURN_IF_ERROR(WriteClksJson(clks_json, clks));
  return clks.size() / kClkWords;
}

Result<LinkRecordsReport> LinkRecords(const LinkRecordsOptions& opt) {
  if (!opt.clks_left.empty()) return LinkClks(opt);
  if (!opt.truth_path.empty()) return Status::InvalidArgument("--truth is for --clks-left; CSV inputs name a --truth-column");
  if (opt.review_band && opt.review_out.empty()) return Status::InvalidArgument("--review-band needs --review-out FILE");
  if (opt.mode != "plaintext" && opt.mode != "pprl") {
    return Status::InvalidArgument("--mode must be plaintext or pprl, not '" + opt.mode + "'");
  }
  ARK_ASSIGN_OR_RETURN(MappingSpec spec, LoadSpec(opt.spec_path));
  std::vector<Loaded> files;
  ARK_ASSIGN_OR_RETURN(Loaded left, LoadCsv(opt.left, spec, opt.spec_path, opt.truth_column));
  files.push_back(std::move(left));
  if (!opt.right.empty()) {
    ARK_ASSIGN_OR_RETURN(Loaded right, LoadCsv(opt.right, spec, opt.spec_path, opt.truth_column));
    files.push_back(std::move(right));
  }
  // Truth labels (checked before the linkage runs).
  std::vector<uint64_t> truth;
  if (!opt.truth_column.empty()) {
    std::vector<std::vector<std::string>> raw;
    std::vector<std::string> names = {opt.left, opt.right};
    for (auto& f : files) raw.push_back(f.truth);
    ARK_ASSIGN_OR_RETURN(truth, TruthLabels(raw, names, opt.truth_column, opt.truth_pattern, 2));
  }

  LinkRecordsReport rep;
  rep.mode = opt.mode;
  LinkInput in;
  for (auto& [role, c] : spec.columns) in.fields.push_back({role, KindForRole(role)});
  const size_t nf = in.fields.size();
  for (auto& f : files) in.n += f.n;
  rep.records = in.n;
  rep.left_records = files[0].n;
  rep.right_records = files.size() > 1 ? files[1].n : 0;
  in.encoded = opt.mode == "pprl";
  in.blocking.assign(kNameRules + kLshBands, std::vector<uint64_t>(in.n, 0));
  std::optional<ProgrammeKey> key;
  std::unique_ptr<Encoder> enc;
  if (!in.encoded) {
    // Plaintext mode blocks exactly as pprl mode does (LSH bands over a CLK under a throwaway key).
    Digest fixed{};
    fixed.fill(0x5a);
    enc = std::make_unique<Encoder>(ProgrammeKey::FromBytes(fixed), in.fields, EncodingOptions{0.0});
  }
  if (in.encoded) {
    if (!opt.key_path.empty()) {
      ARK_ASSIGN_OR_RETURN(key, ProgrammeKey::Load(opt.key_path));
    } else {
      ARK_ASSIGN_OR_RETURN(key, ProgrammeKey::Generate());
    }
    rep.key_fingerprint = key->Fingerprint();
    enc = std::make_unique<Encoder>(*key, in.fields, EncodingOptions{opt.blip});
    in.filters.assign(nf, std::vector<uint64_t>(in.n * kFieldWords, 0));
    in.present.assign(nf, std::vector<uint8_t>(in.n, 0));
    in.clk.assign(in.n * kClkWords, 0);
  } else {
    in.values.assign(nf, std::vector<std::string>(in.n));
  }
  if (in.encoded && opt.tf_band_k > 0) {
    // Custodian side, per file: each name and postcode value's coarsened frequency band in its
    // own file (FrequencyBands); the Ark sees only the band.
    in.tf_band_k = opt.tf_band_k;
    in.tf_band.assign(nf, {});
    for (size_t f = 0; f < nf; ++f) {
      const FieldKind k = in.fields[f].kind;
      if (k != FieldKind::kName && k != FieldKind::kPostcode) continue;
      for (auto& file : files) {
        std::vector<std::string> norm(file.n);
        for (size_t i = 0; i < file.n; ++i) norm[i] = NormaliseValue(k, file.values[f][i]);
        std::vector<uint8_t> b = FrequencyBands(norm, opt.tf_band_k);
        in.tf_band[f].insert(in.tf_band[f].end(), b.begin(), b.end());
      }
    }
  }
  std::vector<std::string> v(nf);
  size_t r = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    for (size_t i = 0; i < files[fi].n; ++i, ++r) {
      for (size_t f = 0; f < nf; ++f) v[f] = NormaliseValue(in.fields[f].kind, files[fi].values[f][i]);
      if (files.size() > 1) in.source.push_back(static_cast<uint32_t>(fi));
      if (in.encoded) {
        // Custodian side: the same encoder `ark pseudonymise` runs (salt = 1-based record number).
        RecordEncoding e = enc->Encode(v, i + 1);
        for (size_t f = 0; f < nf; ++f) {
          std::copy(e.fields.begin() + f * kFieldWords, e.fields.begin() + (f + 1) * kFieldWords,
                    in.filters[f].begin() + r * kFieldWords);
          in.present[f][r] = e.present[f];
        }
        std::copy(e.clk.begin(), e.clk.end(), in.clk.begin() + r * kClkWords);
        for (size_t b = 0; b < e.blocking.size(); ++b) in.blocking[b][r] = e.blocking[b];
      } else {
        for (size_t f = 0; f < nf; ++f) in.values[f][r] = v[f];
        auto keys = enc->Encode(v, i + 1).blocking;
        for (size_t b = 0; b < keys.size(); ++b) in.blocking[b][r] = keys[b];
      }
    }
  }
  if (!opt.write_clks.empty()) {
    if (!in.encoded) return Status::InvalidArgument("--write-clks needs --mode pprl");
    if (files.size() > 1) return Status::InvalidArgument("--write-clks writes one file's CLKs: give --left only");
    ARK_RETURN_IF_ERROR(WriteClksJson(opt.write_clks, in.clk));
  }
  if (!opt.decisions_path.empty()) {
    ARK_ASSIGN_OR_RETURN(rep.decisions, ReadDecisions(opt.decisions_path));
    ARK_ASSIGN_OR_RETURN(in.decisions, ResolveDecisions(rep.decisions, IdResolver(files, opt)));
  }
  // From here on, only `in` (encodings, in pprl mode) is used for linking.
  ARK_ASSIGN_OR_RETURN(rep.outcome, LinkProbabilistic(in, ModelOptions(opt, files.size())));
  auto id = [&](uint32_t x) -> std::string {
    return x < files[0].n ? files[0].ids[x] : files[1].ids[x - files[0].n];
  };
  if (opt.review_band) ARK_RETURN_IF_ERROR(WriteFileAtomic(opt.review_out, ReviewCsv(rep.outcome, id)));
  ARK_RETURN_IF_ERROR(WriteOutputs(opt, in, files[0].n, id, truth, &rep));
  return rep;
}

}  // namespace ark
