#include "model_features.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/fs.h"
#include "core/time.h"
#include "study/run.h"

namespace ark::cli {
namespace {

// Splits one CSV line (quoted fields allowed).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// A dataset field (the shared formatter's text: bool T/F, numbers) as a number; false if empty.
bool Number(study::Type t, const std::string& text, double* v) {
  if (t == study::Type::kBool) {
    if (text == "T" || text == "F") return *v = text == "T", true;
    return false;
  }
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

}  // namespace

Result<stats::FeatureTable> FeatureTableAt(study::Definition def, int32_t day, const FeatureRequest& mf, const std::string& ark_dir,
                                           study::Purpose purpose, int threads, std::vector<PersonKey>* persons) {
  def.index.day = day;
  ARK_ASSIGN_OR_RETURN(study::EngineResult r, study::Evaluate(def, ark_dir, study::Engine::kNative, purpose, "", threads, mf.feeds));
  const std::vector<std::string> header = SplitCsv(study::DatasetHeader(def));
  auto column = [&](const std::string& name) -> Result<size_t> {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    return Status::InvalidArgument(mf.definition_path + ": no variable '" + name + "' (named in the model file)");
  };
  auto type_of = [&](const std::string& name) {
    for (const auto& v : def.variables)
      if (v.name == name) return v.type;
    return study::Type::kStr;
  };
  stats::FeatureTable t;
  t.index_date = FormatDate(day);
  t.features = mf.features;
  t.x.cols = mf.features.size();
  std::vector<size_t> fcol;
  for (const auto& f : mf.features) {
    ARK_ASSIGN_OR_RETURN(size_t c, column(f));
    const study::Type ty = type_of(f);
    if (ty != study::Type::kBool && ty != study::Type::kInt && ty != study::Type::kFloat)
      return Status::InvalidArgument(mf.definition_path + ": feature '" + f + "' is " + study::TypeName(ty) + ", not bool, int or float");
    fcol.push_back(c);
  }
  const bool outcome = !mf.outcome.empty();
  size_t ycol = 0;
  if (outcome) {
    ARK_ASSIGN_OR_RETURN(ycol, column(mf.outcome));
    if (type_of(mf.outcome) != study::Type::kBool)
      return Status::InvalidArgument(mf.definition_path + ": outcome '" + mf.outcome + "' must be bool");
  }
  std::vector<size_t> gcol;
  for (const auto& g : mf.groups) {
    ARK_ASSIGN_OR_RETURN(size_t c, column(g));
    gcol.push_back(c);
    t.groups[g];
  }
  auto add_line = [&](std::string_view line) {
    const std::vector<std::string> f = SplitCsv(line);
    if (f.size() != header.size()) return;
    std::vector<double> row;
    for (size_t k = 0; k < fcol.size(); ++k) {
      double v = 0;
      if (!Number(type_of(mf.features[k]), f[fcol[k]], &v)) return void(++t.dropped);
      row.push_back(v);
    }
    if (outcome && f[ycol] != "T" && f[ycol] != "F") return void(++t.dropped);
    t.x.values.insert(t.x.values.end(), row.begin(), row.end());
    ++t.x.rows;
    if (outcome) t.y.push_back(f[ycol] == "T");
    for (size_t k = 0; k < gcol.size(); ++k) t.groups[mf.groups[k]].push_back(f[gcol[k]].empty() ? "unknown" : f[gcol[k]]);
    persons->push_back(static_cast<PersonKey>(std::stoull(f[0])));
  };
  for (const auto& row : r.rows) add_line(row.line);
  for (const std::string& part : r.text_parts)
    for (size_t pos = 0; pos < part.size();) {
      size_t nl = part.find('\n', pos);
      if (nl == std::string::npos) nl = part.size();
      add_line(std::string_view(part).substr(pos, nl - pos));
      pos = nl + 1;
    }
  return t;
}


Result<ModelAccess> AdmitModelProject(const std::string& ark_dir, const Who& who, const std::string& project,
                                      const std::string& research_reason) {
  ModelAccess a;
  ARK_ASSIGN_OR_RETURN(a.cat, Catalog::Open(ark_dir));
  ARK_ASSIGN_OR_RETURN(a.actor, who.Resolve(*a.cat));
  ARK_ASSIGN_OR_RETURN(a.project, gov::GetProject(*a.cat, project));
  if (a.project.purpose == gov::Purpose::kResearch)
    return gov::LogRefusal(ark_dir, who.user, Status::PermissionDenied("project '" + project + "' is for research: " + research_reason));
  a.datasets = a.project.datasets;  // the engine reads only these (FeatureRequest::feeds)
  ARK_RETURN_IF_ERROR(gov::AuthoriseRun(*a.cat, a.actor, a.project, a.datasets, gov::Today()));
  return a;
}

std::string FeatureCsv(const stats::FeatureTable& t, const std::string& outcome) {
  std::string s;
  for (const std::string& f : t.features) s += f + ",";
  s += outcome + "\n";
  char b[32];
  for (size_t i = 0; i < t.x.rows; ++i) {
    for (size_t j = 0; j < t.x.cols; ++j) {
      std::snprintf(b, sizeof b, "%.10g,", t.x.values[i * t.x.cols + j]);
      s += b;
    }
    s += i < t.y.size() && t.y[i] ? "1\n" : "0\n";
  }
  return s;
}

Result<LoadedModel> LoadTrainedModel(const std::string& dir) {
  LoadedModel m;
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/model.json"));
  try {
    m.json = nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(dir + "/model.json: " + e.what());
  }
  std::string booster;
  if (m.json.value("type", std::string("logistic")) == "gbt") {
    ARK_ASSIGN_OR_RETURN(booster, ReadFile(dir + "/" + m.json.value("booster", std::string("booster.json"))));
  }
  auto s = stats::LoadScorer(m.json, booster);
  if (!s.ok()) return Status::InvalidArgument(dir + "/" + s.status().message());
  m.scorer = std::move(*s);
  const std::string path = m.json.value("definition_path", std::string());
  if (path.empty()) return Status::InvalidArgument(dir + "/model.json: no 'definition_path' (train the model again)");
  ARK_ASSIGN_OR_RETURN(m.def, study::ParseDefinitionFile(path));
  if (m.def.sha256 != m.json.value("definition_sha256", std::string()))
    return Status::FailedPrecondition(path + " (or a codelist it reads) has changed since the model in " + dir +
                                      " was trained: its SHA-256 differs; train the model again");
  if (m.def.index.kind != study::IndexSpec::Kind::kFixed) return Status::InvalidArgument(path + ": a model needs a fixed index_date");
  return m;
}

Status PersonPlaces(const Store& store, const std::vector<PersonKey>& keys, std::vector<std::string>* practice,
                    std::vector<std::string>* area, std::vector<std::string>* decile) {
  std::vector<Person> all(store.num_persons());
  ARK_RETURN_IF_ERROR(store.ForEachPerson([&](const Person& q, std::span<const Event>) {
    if (q.key < all.size()) all[q.key] = q;
    return Status::OK();
  }, 1, Store::Columns::kCore));
  const auto dicts = store.dicts();
  for (PersonKey k : keys) {
    const Person q = k < all.size() ? all[k] : Person{};
    practice->push_back(q.practice < dicts->practices.size() ? dicts->practices[q.practice] : "");
    area->push_back(q.lsoa < dicts->areas.size() ? dicts->areas[q.lsoa] : "");
    decile->push_back(q.imd_decile ? std::to_string(q.imd_decile) : "");
  }
  return Status::OK();
}

}  // namespace ark::cli
