#include "study/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/fs.h"
#include "core/time.h"
#include "disclosure/opensafely.h"

namespace ark::study {

Result<PublishedCell> DiscloseMeasureCell(int64_t numerator, int64_t denominator) {
  ARK_ASSIGN_OR_RETURN(std::optional<int64_t> num, sdc::PublishCount(numerator));
  ARK_ASSIGN_OR_RETURN(std::optional<int64_t> den, sdc::PublishCount(denominator));
  PublishedCell c;
  c.numerator = sdc::Show(num);
  c.denominator = sdc::Show(den);
  std::optional<double> ratio = sdc::PublishRate(num, den, 1.0);
  c.ratio = ratio ? FormatValue(Type::kFloat, *ratio) : "[REDACTED]";
  return c;
}

Result<std::string> MeasureCsv(const Definition& def, size_t m, const MeasureCells& cells) {
  const Measure& ms = def.measures[m];
  std::string out = "measure,interval_start,interval_end,ratio,numerator,denominator";
  for (int g : ms.group_by) out += "," + def.variables[g].name;
  out += '\n';
  // Rows by interval, then group values in their type's order (numbers numerically, NULL first).
  std::vector<const MeasureCells::value_type*> order;
  for (auto& cell : cells) order.push_back(&cell);
  auto less = [&](const MeasureCells::value_type* a, const MeasureCells::value_type* b) {
    if (a->first.first != b->first.first) return a->first.first < b->first.first;
    for (size_t g = 0; g < ms.group_by.size(); ++g) {
      const std::string &x = a->first.second[g], &y = b->first.second[g];
      if (x == y) continue;
      if (x.empty() || y.empty()) return x.empty();
      if (IsNumeric(def.variables[ms.group_by[g]].type)) {
        double dx = std::strtod(x.c_str(), nullptr), dy = std::strtod(y.c_str(), nullptr);
        if (dx != dy) return dx < dy;
      }
      return x < y;
    }
    return false;
  };
  std::sort(order.begin(), order.end(), less);
  for (const auto* cell : order) {
    const auto& [key, counts] = *cell;
    const Interval& iv = ms.intervals.at(static_cast<size_t>(key.first));
    ARK_ASSIGN_OR_RETURN(PublishedCell c, DiscloseMeasureCell(counts.first, counts.second));
    out += ms.name + "," + FormatDate(iv.start) + "," + FormatDate(iv.end) + "," + c.ratio + "," + c.numerator + "," + c.denominator;
    for (auto& g : key.second) {
      out += ',';
      AppendCsvField(&out, g);
    }
    out += '\n';
  }
  return out;
}

std::string DatasetCsv(const Definition& def, const EngineResult& r) {
  std::string out = DatasetHeader(def) + "\n";
  size_t bytes = out.size();
  for (auto& row : r.rows) bytes += row.line.size() + 1;
  for (auto& part : r.text_parts) bytes += part.size();
  out.reserve(bytes);
  for (auto& row : r.rows) {
    out += row.line;
    out += '\n';
  }
  for (auto& part : r.text_parts) out += part;
  return out;
}

Status WriteOutputs(const Definition& def, const EngineResult& r, const std::string& out_dir, nlohmann::ordered_json manifest,
                    bool dataset) {
  if (PathExists(out_dir) && !PathExists(out_dir + "/manifest.json")) {
    return Status::InvalidArgument(out_dir + ": exists and is not the output of an earlier `ark run` (no manifest.json); choose another --out");
  }
  const std::string tmp = out_dir + ".tmp-" + std::to_string(getpid());
  ARK_RETURN_IF_ERROR(RemoveAll(tmp));
  ARK_RETURN_IF_ERROR(MakeDirs(tmp + "/measures"));
  nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
  if (dataset) {
    ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/dataset.csv", DatasetCsv(def, r)));
    outputs.push_back("dataset.csv");
  }
  for (size_t m = 0; m < def.measures.size(); ++m) {
    ARK_ASSIGN_OR_RETURN(std::string csv, MeasureCsv(def, m, r.measures[m]));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/measures/" + def.measures[m].name + ".csv", csv));
    outputs.push_back("measures/" + def.measures[m].name + ".csv");
  }
  ARK_ASSIGN_OR_RETURN(std::optional<int64_t> excluded, sdc::PublishCount(static_cast<int64_t>(r.optout_excluded)));
  manifest["definition"] = def.name;
  manifest["definition_sha256"] = def.sha256;
  manifest["population"] = r.num_rows();
  manifest["population_note"] = def.index.kind == IndexSpec::Kind::kFixed ? "persons in the population at the index date" : "index rows (person, index event) in the population";
  if (manifest.value("optouts_applied", true) == false) {
    // Direct care: opt-outs do not apply, so nobody was excluded; say so rather than "[REDACTED]".
    manifest["optout_excluded_rounded"] = 0;
    manifest["optouts_note"] = "opt-outs do not apply: the purpose is direct care (they apply to every other purpose)";
  } else if (excluded) {
    manifest["optout_excluded_rounded"] = *excluded;
  } else {
    manifest["optout_excluded_rounded"] = "[REDACTED]";
  }
  manifest["outputs"] = outputs;
  if (dataset) manifest["dataset_note"] = "dataset.csv is patient-level (Ark person keys): it stays in the Ark's workspace and is not released";
  nlohmann::ordered_json secs = nlohmann::ordered_json::object();
  for (auto& [k, v] : r.seconds) secs[k] = v;
  if (manifest.contains("seconds"))
    for (auto& [k, v] : manifest["seconds"].items()) secs[k] = v;
  manifest["seconds"] = secs;
  ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/manifest.json", manifest.dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(FsyncPath(tmp + "/measures"));
  ARK_RETURN_IF_ERROR(FsyncPath(tmp));
  std::string old;
  if (PathExists(out_dir)) {
    old = out_dir + ".old-" + std::to_string(getpid());
    ARK_RETURN_IF_ERROR(RemoveAll(old));
    if (rename(out_dir.c_str(), old.c_str()) != 0) return Status::IOError(out_dir + ": cannot move the earlier run aside");
  }
  ARK_RETURN_IF_ERROR(PublishDir(tmp, out_dir));
  if (!old.empty()) ARK_RETURN_IF_ERROR(RemoveAll(old));
  return Status::OK();
}

}  // namespace ark::study
