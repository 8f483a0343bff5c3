#include "network/glm.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "disclosure/sdc.h"
#include "governance/governance.h"
#include "network/measure.h"
#include "network/model_guard.h"
#include "store/store.h"
#include "study/definition.h"
#include "study/run.h"

namespace ark::net {

Result<Json> GlmRequestBody(const std::string& definition_path, const GlmSpec& spec) {
  if (spec.outcome.empty() || (spec.covariates.empty() && spec.factors.empty())) {
    return Status::InvalidArgument("a GLM needs --outcome and --covariates (or --factor)");
  }
  ARK_ASSIGN_OR_RETURN(Json body, MeasureRequestBody(definition_path));
  body["outcome"] = spec.outcome;
  body["covariates"] = spec.covariates;
  body["offset"] = spec.offset;
  Json factors = Json::array();
  for (const auto& f : spec.factors) factors.push_back({{"name", f.name}, {"levels", f.levels}});
  body["factors"] = factors;
  body["family"] = std::string(stats::GlmFamilyName(spec.family));
  return body;
}

namespace {

bool Number(study::Type t, std::string_view s, double* v) {
  if (t == study::Type::kBool) {
    if (s == "T" || s == "F") {
      *v = s == "T";
      return true;
    }
    return false;
  }
  if (s.empty()) return false;
  std::string text(s);
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*v);
}

}  // namespace

std::vector<std::string> GlmTermNames(const GlmSpec& spec) {
  std::vector<std::string> names{"(Intercept)"};
  for (const auto& c : spec.covariates) names.push_back(c);
  for (const auto& f : spec.factors)
    for (size_t l = 1; l < f.levels.size(); ++l) names.push_back(f.name + "=" + f.levels[l]);
  return names;
}

Result<GlmFactor> ParseGlmFactor(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("--factor '" + text + "': expected NAME=LEVEL1|LEVEL2|...");
  GlmFactor f;
  f.name = text.substr(0, eq);
  for (size_t a = eq + 1; a <= text.size();) {
    size_t b = text.find('|', a);
    if (b == std::string::npos) b = text.size();
    f.levels.push_back(text.substr(a, b - a));
    a = b + 1;
  }
  std::vector<std::string> sorted = f.levels;
  std::sort(sorted.begin(), sorted.end());
  if (f.levels.size() < 2 || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return Status::InvalidArgument("--factor '" + text + "': needs at least two distinct levels");
  return f;
}

Result<stats::GlmData> GlmDesign(const std::string& ark_dir, const std::string& definition_path, const GlmSpec& spec,
                                 study::Purpose purpose, std::vector<PersonKey>* persons,
                                 std::vector<sdc::FactorLevels>* factor_counts, const study::Feeds& feeds) {
  ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile(definition_path));
  ARK_ASSIGN_OR_RETURN(study::EngineResult r, study::Evaluate(def, ark_dir, study::Engine::kNative, purpose, "", 2, feeds));
  std::vector<std::string> header;
  {
    const std::string header_line = study::DatasetHeader(def);
    CsvParser hp(header_line);
    std::vector<std::string_view> h;
    ARK_RETURN_IF_ERROR(hp.Next(&h).status());
    header.assign(h.begin(), h.end());
  }
  auto column = [&](const std::string& name, const char* role) -> Result<std::pair<size_t, study::Type>> {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] != name) continue;
      for (const auto& v : def.variables) {
        if (v.name != name) continue;
        if (v.type != study::Type::kBool && v.type != study::Type::kInt && v.type != study::Type::kFloat) {
          return Status::InvalidArgument(definition_path + ": " + role + " '" + name + "' is " + study::TypeName(v.type) +
                                         ", not bool, int or float (define a number or a bool, e.g. female: \"sex = 'F'\")");
        }
        return std::make_pair(i, v.type);
      }
    }
    return Status::InvalidArgument(definition_path + ": no variable '" + name + "' (the " + role + ")");
  };
  std::vector<std::pair<size_t, study::Type>> cols;
  ARK_ASSIGN_OR_RETURN(auto ycol, column(spec.outcome, "outcome"));
  for (const auto& c : spec.covariates) {
    ARK_ASSIGN_OR_RETURN(auto x, column(c, "covariate"));
    cols.push_back(x);
  }
  std::vector<size_t> fcols;  // factors: any type, matched on the dataset's text
  for (const auto& fac : spec.factors) {
    auto h = std::find(header.begin(), header.end(), fac.name);
    if (h == header.end() || h == header.begin()) return Status::InvalidArgument(definition_path + ": no variable '" + fac.name + "' (a factor)");
    fcols.push_back(static_cast<size_t>(h - header.begin()));
  }
  std::vector<sdc::FactorLevels> counts;
  size_t factor_columns = 0;
  for (const auto& fac : spec.factors) {
    counts.push_back({fac.name, std::vector<int64_t>(fac.levels.size(), 0)});
    factor_columns += fac.levels.size() - 1;
  }
  std::optional<std::pair<size_t, study::Type>> ocol;
  if (!spec.offset.empty()) {
    ARK_ASSIGN_OR_RETURN(auto o, column(spec.offset, "offset"));
    ocol = o;
  }
  stats::GlmData d;
  d.cols = cols.size() + 1 + factor_columns;
  std::vector<size_t> level(fcols.size());
  std::vector<std::string_view> f;
  auto add = [&](std::string_view text) -> Status {
    CsvParser p(text);
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool more, p.Next(&f));
      if (!more) return Status::OK();
      if (f.size() != header.size()) continue;
      double y = 0, off = 0;
      std::vector<double> row{1.0};
      bool ok = Number(ycol.second, f[ycol.first], &y) && (!ocol || Number(ocol->second, f[ocol->first], &off));
      for (size_t k = 0; ok && k < cols.size(); ++k) {
        double v = 0;
        ok = Number(cols[k].second, f[cols[k].first], &v);
        row.push_back(v);
      }
      for (size_t k = 0; ok && k < fcols.size(); ++k) {
        const auto& lv = spec.factors[k].levels;
        auto it = std::find(lv.begin(), lv.end(), f[fcols[k]]);
        ok = it != lv.end();
        level[k] = static_cast<size_t>(it - lv.begin());
      }
      if (!ok) continue;  // a row with a missing value is left out
      for (size_t k = 0; k < fcols.size(); ++k) {
        for (size_t l = 1; l < spec.factors[k].levels.size(); ++l) row.push_back(level[k] == l ? 1.0 : 0.0);
        counts[k].counts[level[k]]++;
      }
      d.x.insert(d.x.end(), row.begin(), row.end());
      d.y.push_back(y);
      if (ocol) d.offset.push_back(off);
      ++d.rows;
      if (persons) persons->push_back(static_cast<PersonKey>(std::stoull(std::string(f[0]))));
    }
  };
  for (const auto& row : r.rows) ARK_RETURN_IF_ERROR(add(row.line + "\n"));
  for (const auto& part : r.text_parts) ARK_RETURN_IF_ERROR(add(part));
  if (persons) {
    std::sort(persons->begin(), persons->end());
    persons->erase(std::unique(persons->begin(), persons->end()), persons->end());
  }
  if (factor_counts) *factor_counts = std::move(counts);
  return d;
}

sdc::ModelDesign GlmModelDesign(const stats::GlmData& d, const GlmSpec& spec, const std::vector<sdc::FactorLevels>& factors) {
  sdc::ModelDesign m;
  m.rows = d.rows;
  m.cols = d.cols;
  m.x = &d.x;
  m.y = &d.y;
  m.binary_outcome = spec.family == stats::GlmFamily::kBinomial;
  m.column_names = GlmTermNames(spec);
  m.factors = factors;
  return m;
}

namespace {

// Designs kept for the fits in progress (a few; the oldest goes first).
struct DesignCache {
  std::mutex mu;
  std::list<std::pair<std::string, std::shared_ptr<const stats::GlmData>>> entries;
  std::shared_ptr<const stats::GlmData> Get(const std::string& key) {
    std::lock_guard<std::mutex> l(mu);
    for (auto& [k, v] : entries) {
      if (k == key) return v;
    }
    return nullptr;
  }
  void Put(const std::string& key, std::shared_ptr<const stats::GlmData> d) {
    std::lock_guard<std::mutex> l(mu);
    entries.emplace_front(key, std::move(d));
    while (entries.size() > 8) entries.pop_back();
  }
};
DesignCache& Cache() {
  static DesignCache c;
  return c;
}

Json ToJson(const stats::GlmContribution& c) {
  return Json{{"p", c.p}, {"n", c.n}, {"xtwx", c.xtwx}, {"xtwz", c.xtwz}, {"deviance", c.deviance}, {"sum_w", c.sum_w},
              {"sum_wy", c.sum_wy}, {"sum_wh", c.sum_wh}, {"has_offset", c.has_offset}};
}

Result<stats::GlmContribution> FromJson(const Json& j, const std::string& site) {
  try {
    stats::GlmContribution c;
    c.p = j.at("p").get<size_t>();
    c.n = j.at("n").get<int64_t>();
    c.xtwx = j.at("xtwx").get<std::vector<double>>();
    c.xtwz = j.at("xtwz").get<std::vector<double>>();
    c.deviance = j.at("deviance").get<double>();
    c.sum_w = j.at("sum_w").get<double>();
    c.sum_wy = j.at("sum_wy").get<double>();
    c.sum_wh = j.at("sum_wh").get<double>();
    c.has_offset = j.at("has_offset").get<bool>();
    if (c.xtwx.size() != c.p * c.p || c.xtwz.size() != c.p) return Status::InvalidArgument(site + ": contribution of the wrong size");
    return c;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(site + ": unreadable GLM contribution: " + e.what());
  }
}

}  // namespace

Result<Json> GlmAtSite(const Site& site, const Request& r) {
  GlmSpec spec;
  std::vector<double> beta;
  try {
    spec.outcome = r.body.at("outcome").get<std::string>();
    spec.covariates = r.body.at("covariates").get<std::vector<std::string>>();
    spec.offset = r.body.value("offset", std::string());
    if (r.body.contains("factors")) {
      for (const auto& f : r.body["factors"]) {
        GlmFactor g{f.at("name").get<std::string>(), f.at("levels").get<std::vector<std::string>>()};
        if (g.levels.size() < 2) return Status::InvalidArgument("glm: factor '" + g.name + "' needs at least two levels");
        spec.factors.push_back(std::move(g));
      }
    }
    ARK_ASSIGN_OR_RETURN(spec.family, stats::ParseGlmFamily(r.body.at("family").get<std::string>()));
    if (r.body.contains("beta")) beta = r.body["beta"].get<std::vector<double>>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("glm: malformed request body: ") + e.what());
  }
  gov::Actor who{r.user + "@" + r.from, {"analyst"}};
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(site.ark_dir));
  ARK_RETURN_IF_ERROR(gov::EnsureGovernanceSchema(*cat));
  ARK_ASSIGN_OR_RETURN(gov::Project project, FederatedProject(site, *cat, who, r.project));
  const std::vector<std::string>& feeds = project.datasets;  // the only feeds the design reads

  Json model = r.body;
  model.erase("beta");
  const std::string key = r.from + "|" + r.user + "|" + r.project + "|" + Sha256Hex(model.dump());
  std::shared_ptr<const stats::GlmData> data = Cache().Get(key);
  if (!data) {
    const std::string work = NetworkDir(site.ark_dir) + "/work/" + r.nonce;
    struct Cleanup {
      std::string dir;
      ~Cleanup() { (void)RemoveAll(dir); }
    } cleanup{work};
    ARK_ASSIGN_OR_RETURN(std::string def_path, UnpackDefinition(r, work));
    ARK_ASSIGN_OR_RETURN(study::Purpose purpose, ProjectPurpose(project));
    std::vector<PersonKey> persons;
    std::vector<sdc::FactorLevels> levels;
    ARK_ASSIGN_OR_RETURN(stats::GlmData d, GlmDesign(site.ark_dir, def_path, spec, purpose, &persons, &levels, feeds));
    // The model disclosure rules, before anything is computed for the requester.
    ARK_RETURN_IF_ERROR(GuardModelRequest(site, who.user, r.project, GlmModelDesign(d, spec, levels)));
    ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile(def_path));
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(site.ark_dir + "/store"));
    ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(site.ark_dir));
    ARK_RETURN_IF_ERROR(gov::RecordRun(*cat, *ledger, *store, who, project, feeds, def.sha256, persons, gov::Today()).status());
    sdc::SdcOptions o;
    const int64_t dof = static_cast<int64_t>(d.rows) - static_cast<int64_t>(d.cols);
    if (dof < o.min_residual_dof) {
      return gov::LogRefusal(site.ark_dir, who.user, Status::PermissionDenied(
          "site '" + site.config.name + "': disclosure rule 'regression residual degrees of freedom': fewer than " +
          std::to_string(o.min_residual_dof) + " at this site"));
    }
    data = std::make_shared<const stats::GlmData>(std::move(d));
    Cache().Put(key, data);
  }
  ARK_ASSIGN_OR_RETURN(stats::GlmContribution c, stats::GlmContribute(*data, spec.family, beta));
  return ToJson(c);
}

Result<GlmRun> RunFederatedGlm(const Site& site, const std::string& definition_path, const GlmSpec& spec,
                               const std::string& project, const std::string& user, const GlmRunOptions& o) {
  ARK_ASSIGN_OR_RETURN(Json body, GlmRequestBody(definition_path, spec));
  GlmRun run;
  int trip = 0;
  stats::GlmRound round = [&](const std::vector<double>& beta) -> Result<stats::GlmContribution> {
    if (o.before_round) o.before_round(trip);
    ++trip;
    const auto t0 = std::chrono::steady_clock::now();
    struct Timer {
      std::chrono::steady_clock::time_point t0;
      std::vector<double>* out;
      ~Timer() { out->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()); }
    } timer{t0, &run.round_seconds};
    body["beta"] = beta;
    std::vector<Exchange> xs = Broadcast(site, "glm", project, user, body, o.deadline);
    std::vector<stats::GlmContribution> parts;
    for (size_t i = 0; i < xs.size(); ++i) {
      Exchange* x = &xs[i];
      run.exchanges++;
      run.bytes += x->bytes;
      for (int k = 0; k < o.retries && x->outcome == Exchange::Outcome::kNoAnswer; ++k) {
        std::this_thread::sleep_for(o.retry_pause);
        *x = SendRequest(site, site.network.members[i], "glm", project, user, body, o.deadline);
        run.exchanges++;
        run.retried++;
        run.bytes += x->bytes;
      }
    }
    // Every site that refused or failed is named, each with its own reason (e.g. the rule).
    if (std::string f = DescribeFailures(xs); !f.empty()) return Status::FailedPrecondition("federated GLM: " + f);
    for (const Exchange& x : xs) {
      ARK_ASSIGN_OR_RETURN(stats::GlmContribution c, FromJson(x.body, x.site));
      parts.push_back(std::move(c));
    }
    return stats::Sum(parts);
  };
  ARK_ASSIGN_OR_RETURN(run.fit, stats::FitGlmFederated(round, spec.family));
  run.names = GlmTermNames(spec);
  return run;
}

}  // namespace ark::net
