#include "network/measure.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>

#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "disclosure/sdc.h"
#include "governance/governance.h"
#include "governance/release.h"
#include "store/store.h"
#include "study/definition.h"
#include "study/run.h"

namespace ark::net {
namespace fs = std::filesystem;

Result<Json> MeasureRequestBody(const std::string& definition_path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(definition_path));
  ARK_RETURN_IF_ERROR(study::ParseDefinitionFile(definition_path).status());  // a bad definition fails here, not at every site
  Json files = Json::object();
  YAML::Node root = YAML::Load(text);
  const fs::path base = fs::path(definition_path).parent_path();
  if (root["codelists"] && root["codelists"].IsMap()) {
    for (auto it : root["codelists"]) {
      if (!it.second.IsMap() || !it.second["file"]) continue;
      const std::string rel = it.second["file"].as<std::string>();
      ARK_ASSIGN_OR_RETURN(std::string body, ReadFile((base / rel).string()));
      files[rel] = body;
    }
  }
  return Json{{"definition", text}, {"name", fs::path(definition_path).filename().string()}, {"files", files}};
}

namespace {

// A relative path inside the work directory (no absolute paths, no "..").
bool SafeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.size() > 512) return false;
  for (const auto& part : fs::path(p)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

Status Refused(const Site& site, const std::string& who, const std::string& why) {
  return gov::LogRefusal(site.ark_dir, who, Status::PermissionDenied("site '" + site.config.name + "': " + why));
}

}  // namespace

// The project as this site's committee approved it, for the remote person `who`.
Result<gov::Project> FederatedProject(const Site& site, Catalog& cat, const gov::Actor& who, const std::string& id) {
  auto p = gov::GetProject(cat, id);
  if (!p.ok()) {
    return Refused(site, who.user, "no project '" + id + "' here: this site's committee has not approved the federated project");
  }
  if (p->status != "approved") return Refused(site, who.user, "project '" + id + "' has not been approved by this site's committee");
  Status s = gov::AuthoriseRun(cat, who, *p, p->datasets, gov::Today());  // logs its own refusal
  if (!s.ok()) return Status::PermissionDenied("site '" + site.config.name + "': " + s.message());
  return p;
}

Result<study::Purpose> ProjectPurpose(const gov::Project& project) {
  const std::string pname = gov::PurposeName(project.purpose);
  return study::ParsePurpose(!gov::OptOutsApply(project) || pname == "direct_care" ? "direct-care" : pname);
}

Result<std::string> UnpackDefinition(const Request& r, const std::string& work) {
  if (!r.body.contains("definition") || !r.body["definition"].is_string()) {
    return Status::InvalidArgument(r.op + ": the request carries no definition");
  }
  (void)RemoveAll(work);
  ARK_RETURN_IF_ERROR(MakeDirs(work + "/def"));
  std::string name = r.body.value("name", std::string("definition.yaml"));
  if (!SafeRelative(name) || name.find('/') != std::string::npos) name = "definition.yaml";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work + "/def/" + name, r.body["definition"].get<std::string>()));
  if (r.body.contains("files") && r.body["files"].is_object()) {
    for (auto& [rel, text] : r.body["files"].items()) {
      if (!SafeRelative(rel) || !text.is_string()) return Status::InvalidArgument(r.op + ": bad codelist file name '" + rel + "'");
      ARK_RETURN_IF_ERROR(MakeDirs((fs::path(work + "/def") / rel).parent_path().string()));
      ARK_RETURN_IF_ERROR(WriteFileAtomic(work + "/def/" + rel, text.get<std::string>()));
    }
  }
  return work + "/def/" + name;
}

namespace {

Result<Json> PublishMeasures(const Site& site, const std::string& dir) {
  sdc::SdcOptions o;
  ARK_ASSIGN_OR_RETURN(o.rules, sdc::ParseRuleSet(site.config.rules));
  Json out = Json::array();
  std::vector<std::string> names;
  if (PathExists(dir)) {
    for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    const std::string path = dir + "/" + n;
    ARK_ASSIGN_OR_RETURN(sdc::CountTable t, sdc::ReadCountCsv(path));
    ARK_ASSIGN_OR_RETURN(sdc::TableCheck tc, sdc::CheckTable(t, o));
    Json m = {{"name", fs::path(n).stem().string()}, {"status", tc.status}, {"summary", tc.summary}};
    if (tc.status != "fail") {
      ARK_ASSIGN_OR_RETURN(std::string csv, gov::PublishedMeasureCsv(path, tc));
      m["csv"] = csv;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<Json> MeasureAtSite(const Site& site, const Request& r) {
  gov::Actor who{r.user + "@" + r.from, {"analyst"}};
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(site.ark_dir));
  ARK_RETURN_IF_ERROR(gov::EnsureGovernanceSchema(*cat));
  ARK_ASSIGN_OR_RETURN(gov::Project project, FederatedProject(site, *cat, who, r.project));
  const std::vector<std::string>& feeds = project.datasets;  // the only feeds the run reads

  // The definition and its codelists, in a work directory inside the Ark (removed afterwards).
  const std::string work = NetworkDir(site.ark_dir) + "/work/" + r.nonce;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)RemoveAll(dir); }
  } cleanup{work};
  ARK_ASSIGN_OR_RETURN(std::string def_path, UnpackDefinition(r, work));

  study::RunOptions o;
  o.ark_dir = site.ark_dir;
  o.definition = def_path;
  o.out_dir = work + "/out";
  o.engine = study::Engine::kNative;
  o.feeds = feeds;
  o.dataset = false;  // only the released measure tables are used: the patient-level rows are not written
  ARK_ASSIGN_OR_RETURN(o.purpose, ProjectPurpose(project));
  int64_t population = 0;
  o.authorise = [&](const std::vector<PersonKey>& persons, const std::string& sha) -> Status {
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(site.ark_dir + "/store"));
    ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(site.ark_dir));
    ARK_ASSIGN_OR_RETURN(gov::RunRecord rec, gov::RecordRun(*cat, *ledger, *store, who, project, feeds, sha, persons, gov::Today()));
    population = rec.population;
    return Status::OK();
  };
  ARK_RETURN_IF_ERROR(study::RunStudy(o).status());
  ARK_ASSIGN_OR_RETURN(Json measures, PublishMeasures(site, o.out_dir + "/measures"));
  return Json{{"site", site.config.name}, {"rules", site.config.rules}, {"population_band", gov::SizeBand(population)},
              {"measures", measures}};
}

namespace {

struct PoolCell {
  std::vector<std::string> fields;  // the row's text, numerator/denominator replaced when pooled
  int64_t num = 0, den = 0;
  bool num_hidden = false, den_hidden = false;
};

Status AddCount(std::string_view v, int64_t* sum, bool* hidden, const std::string& where) {
  if (v == "[REDACTED]") {
    *hidden = true;
    return Status::OK();
  }
  int64_t x = 0;
  if (v.empty()) return Status::InvalidArgument(where + ": empty count");
  for (char c : v) {
    if (c < '0' || c > '9') return Status::InvalidArgument(where + ": '" + std::string(v) + "' is not a count");
    x = x * 10 + (c - '0');
  }
  *sum += x;
  return Status::OK();
}

}  // namespace

Result<std::string> PoolMeasures(const std::vector<std::string>& site_csvs) {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> order;
  std::map<std::vector<std::string>, PoolCell> cells;
  for (size_t s = 0; s < site_csvs.size(); ++s) {
    CsvParser p(site_csvs[s]);
    std::vector<std::string_view> row;
    std::vector<std::string> h;
    for (bool first = true;; first = false) {
      ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
      if (!more) break;
      if (first) {
        h.assign(row.begin(), row.end());
        if (h.size() < 6 || h[3] != "ratio" || h[4] != "numerator" || h[5] != "denominator") {
          return Status::InvalidArgument("site " + std::to_string(s + 1) + ": not a measure table");
        }
        if (header.empty()) header = h;
        if (h != header) return Status::InvalidArgument("site " + std::to_string(s + 1) + ": the measure table has other columns");
        continue;
      }
      const std::string where = "site " + std::to_string(s + 1) + " line " + std::to_string(p.line());
      if (row.size() != header.size()) return Status::InvalidArgument(where + ": ragged row");
      std::vector<std::string> key;
      for (size_t c = 0; c < row.size(); ++c) {
        if (c < 3 || c > 5) key.emplace_back(row[c]);
      }
      auto [it, fresh] = cells.try_emplace(key);
      if (fresh) {
        it->second.fields.assign(row.begin(), row.end());
        order.push_back(key);
      }
      ARK_RETURN_IF_ERROR(AddCount(row[4], &it->second.num, &it->second.num_hidden, where));
      ARK_RETURN_IF_ERROR(AddCount(row[5], &it->second.den, &it->second.den_hidden, where));
    }
  }
  if (header.empty()) return Status::InvalidArgument("no measure tables to pool");
  std::string out;
  for (size_t c = 0; c < header.size(); ++c) {
    if (c) out += ",";
    study::AppendCsvField(&out, header[c]);
  }
  out += "\n";
  for (const auto& key : order) {
    PoolCell& cell = cells[key];
    const std::string num = cell.num_hidden ? "[REDACTED]" : std::to_string(cell.num);
    const std::string den = cell.den_hidden ? "[REDACTED]" : std::to_string(cell.den);
    const std::string ratio = cell.num_hidden || cell.den_hidden || cell.den == 0
                                  ? "[REDACTED]"
                                  : fmt::format("{:.6g}", static_cast<double>(cell.num) / static_cast<double>(cell.den));
    for (size_t c = 0; c < cell.fields.size(); ++c) {
      if (c) out += ",";
      study::AppendCsvField(&out, c == 3 ? ratio : c == 4 ? num : c == 5 ? den : cell.fields[c]);
    }
    out += "\n";
  }
  return out;
}

}  // namespace ark::net
