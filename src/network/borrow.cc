#include "network/borrow.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "disclosure/sdc.h"
#include "governance/governance.h"
#include "network/dataset.h"
#include "network/measure.h"
#include "network/model_guard.h"
#include "store/store.h"
#include "study/definition.h"

namespace ark::net {
namespace {

// What both site operations share: the project as this site approved it, the definition unpacked
// in a work directory (removed when the returned guard goes), and the purpose.
struct SiteRequest {
  gov::Actor who;
  gov::Project project;
  std::vector<std::string> feeds;
  std::string def_path;
  study::Purpose purpose{};
  std::string work;
  ~SiteRequest() {
    if (!work.empty()) (void)RemoveAll(work);
  }
};

Status OpenSiteRequest(const Site& site, const Request& r, SiteRequest* s) {
  s->who = gov::Actor{r.user + "@" + r.from, {"analyst"}};
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(site.ark_dir));
  ARK_RETURN_IF_ERROR(gov::EnsureGovernanceSchema(*cat));
  ARK_ASSIGN_OR_RETURN(s->project, FederatedProject(site, *cat, s->who, r.project));
  s->feeds = s->project.datasets;  // the only feeds the site's engine reads
  s->work = NetworkDir(site.ark_dir) + "/work/" + r.nonce;
  ARK_ASSIGN_OR_RETURN(s->def_path, UnpackDefinition(r, s->work));
  ARK_ASSIGN_OR_RETURN(s->purpose, ProjectPurpose(s->project));
  return Status::OK();
}

Status Record(const Site& site, const SiteRequest& s, const std::vector<PersonKey>& persons) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(site.ark_dir));
  ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile(s.def_path));
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(site.ark_dir + "/store"));
  ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(site.ark_dir));
  return gov::RecordRun(*cat, *ledger, *store, s.who, s.project, s.feeds, def.sha256, persons, gov::Today()).status();
}

Result<GlmSpec> SpecFromBody(const Json& b) {
  try {
    GlmSpec spec;
    spec.outcome = b.at("outcome").get<std::string>();
    spec.covariates = b.at("covariates").get<std::vector<std::string>>();
    spec.offset = b.value("offset", std::string());
    if (b.contains("factors"))
      for (const auto& f : b["factors"]) spec.factors.push_back({f.at("name").get<std::string>(), f.at("levels").get<std::vector<std::string>>()});
    ARK_ASSIGN_OR_RETURN(spec.family, stats::ParseGlmFamily(b.at("family").get<std::string>()));
    return spec;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed model in the request body: ") + e.what());
  }
}

Json Published(int64_t n) {
  auto p = sdc::PublishCount(n);
  if (!p.ok() || !p->has_value()) return nullptr;
  return **p;
}

}  // namespace

Result<Json> EstimateAtSite(const Site& site, const Request& r) {
  SiteRequest s;
  ARK_RETURN_IF_ERROR(OpenSiteRequest(site, r, &s));
  ARK_ASSIGN_OR_RETURN(GlmSpec spec, SpecFromBody(r.body));
  std::vector<PersonKey> persons;
  std::vector<sdc::FactorLevels> levels;
  ARK_ASSIGN_OR_RETURN(stats::GlmData d, GlmDesign(site.ark_dir, s.def_path, spec, s.purpose, &persons, &levels, s.feeds));
  ARK_RETURN_IF_ERROR(GuardModelRequest(site, s.who.user, r.project, GlmModelDesign(d, spec, levels)));
  sdc::SdcOptions o;
  if (static_cast<int64_t>(d.rows) - static_cast<int64_t>(d.cols) < o.min_residual_dof) {
    return gov::LogRefusal(site.ark_dir, s.who.user, Status::PermissionDenied(
        "site '" + site.config.name + "': disclosure rule 'regression residual degrees of freedom': fewer than " +
        std::to_string(o.min_residual_dof) + " at this site"));
  }
  ARK_RETURN_IF_ERROR(Record(site, s, persons));
  auto fit = stats::FitGlm(d, spec.family);
  if (!fit.ok()) return Status::FailedPrecondition("site '" + site.config.name + "': the local fit failed: " + fit.status().message());
  return Json{{"site", site.config.name}, {"terms", GlmTermNames(spec)}, {"beta", fit->beta}, {"se", fit->se},
              {"n_band", gov::SizeBand(fit->n)}};
}

Result<NetworkMeta> RunFederatedMeta(const Site& site, const std::string& definition_path, const GlmSpec& spec,
                                     const std::string& term, const std::string& project, const std::string& user,
                                     std::chrono::milliseconds deadline) {
  const std::vector<std::string> terms = GlmTermNames(spec);
  auto at = std::find(terms.begin(), terms.end(), term);
  if (at == terms.end()) return Status::InvalidArgument("--term '" + term + "' is not a term of the model (" + terms[0] + ", ...)");
  const size_t j = static_cast<size_t>(at - terms.begin());
  ARK_ASSIGN_OR_RETURN(Json body, GlmRequestBody(definition_path, spec));
  NetworkMeta m;
  m.term = term;
  m.exchanges = Broadcast(site, "estimate", project, user, body, deadline);
  const std::string failures = DescribeFailures(m.exchanges);
  if (!failures.empty()) return Status::FailedPrecondition("federated meta-analysis not complete: " + failures);
  for (const auto& x : m.exchanges) {
    try {
      const auto beta = x.body.at("beta").get<std::vector<double>>();
      const auto se = x.body.at("se").get<std::vector<double>>();
      if (beta.size() != terms.size() || se.size() != terms.size()) return Status::FailedPrecondition(x.site + ": estimates of the wrong size");
      m.sites.push_back(x.site);
      m.estimate.push_back(beta[j]);
      m.variance.push_back(se[j] * se[j]);
    } catch (const std::exception& e) {
      return Status::FailedPrecondition(x.site + ": unreadable estimates: " + e.what());
    }
  }
  ARK_ASSIGN_OR_RETURN(m.dl, stats::RandomEffectsMeta(m.estimate, m.variance, stats::Tau2Method::kDerSimonianLaird));
  ARK_ASSIGN_OR_RETURN(m.reml, stats::RandomEffectsMeta(m.estimate, m.variance, stats::Tau2Method::kReml));
  return m;
}

Result<Json> CountsAtSite(const Site& site, const Request& r) {
  CountsSpec spec;
  std::map<std::string, double> rates;
  try {
    spec.event = r.body.at("event").get<std::string>();
    spec.unit = r.body.at("unit").get<std::string>();
    spec.strata = r.body.value("strata", std::vector<std::string>());
    if (r.body.contains("rates") && r.body["rates"].is_object())
      for (auto& [k, v] : r.body["rates"].items()) rates[k] = v.get<double>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("counts: malformed request body: ") + e.what());
  }
  SiteRequest s;
  ARK_RETURN_IF_ERROR(OpenSiteRequest(site, r, &s));
  std::vector<std::string> names{spec.unit, spec.event};
  names.insert(names.end(), spec.strata.begin(), spec.strata.end());
  ARK_ASSIGN_OR_RETURN(DatasetColumns d, EvaluateColumns(site.ark_dir, s.def_path, s.purpose, names, s.feeds));
  if (d.types[1] != study::Type::kBool && d.types[1] != study::Type::kInt)
    return Status::InvalidArgument("counts: the event '" + spec.event + "' must be a bool or an int variable");
  struct Cell {
    int64_t events = 0, people = 0;
  };
  std::map<std::string, Cell> strata;
  std::map<std::string, std::map<std::string, Cell>> units;  // unit -> stratum -> cell
  int64_t n = 0;
  for (const auto& row : d.rows) {
    if (row[0].empty()) continue;  // no unit (e.g. never registered)
    int64_t e = 0;
    if (d.types[1] == study::Type::kBool) {
      e = row[1] == "T";
    } else if (!row[1].empty()) {
      e = std::stoll(row[1]);
      if (e < 0) return Status::InvalidArgument("counts: the event '" + spec.event + "' is negative for a row");
    }
    std::string stratum;
    for (size_t k = 2; k < row.size(); ++k) stratum += (k > 2 ? "|" : "") + row[k];
    ++n;
    strata[stratum].events += e;
    strata[stratum].people += 1;
    units[row[0]][stratum].events += e;
    units[row[0]][stratum].people += 1;
  }
  ARK_RETURN_IF_ERROR(GuardPopulation(site, s.who.user, r.project, n));
  ARK_RETURN_IF_ERROR(Record(site, s, d.persons));
  Json js = Json::array();
  for (const auto& [k, c] : strata) js.push_back({{"stratum", k}, {"events", Published(c.events)}, {"people", Published(c.people)}});
  Json ju = Json::array();
  int withheld = 0;
  for (const auto& [u, cells] : units) {
    Cell t;
    double expected = 0;
    for (const auto& [k, c] : cells) {
      t.events += c.events;
      t.people += c.people;
      auto rate = rates.find(k);
      if (rate != rates.end()) expected += rate->second * static_cast<double>(c.people);
    }
    Json e = Published(t.events), p = Published(t.people);
    if (e.is_null() || p.is_null()) {
      ++withheld;
      continue;
    }
    Json unit = {{"unit", u}, {"events", e}, {"people", p}};
    if (!rates.empty()) unit["expected"] = std::round(expected * 100) / 100;
    ju.push_back(std::move(unit));
  }
  return Json{{"site", site.config.name}, {"strata", js}, {"units", ju}, {"withheld", withheld}};
}

std::vector<double> ReferenceRatesFromStrata(const std::vector<std::string>& strata, const std::vector<Json>& site_strata) {
  std::vector<double> events(strata.size(), 0), people(strata.size(), 0);
  for (const Json& js : site_strata) {
    for (const auto& c : js) {
      auto it = std::lower_bound(strata.begin(), strata.end(), c.value("stratum", std::string()));
      if (it == strata.end() || *it != c.value("stratum", std::string())) continue;
      if (c["events"].is_null() || c["people"].is_null()) continue;  // redacted here: this site sits this stratum out
      const size_t k = static_cast<size_t>(it - strata.begin());
      events[k] += c["events"].get<double>();
      people[k] += c["people"].get<double>();
    }
  }
  std::vector<double> rates(strata.size(), 0);
  for (size_t k = 0; k < strata.size(); ++k) rates[k] = people[k] > 0 ? events[k] / people[k] : 0;
  return rates;
}

Result<NetworkUnits> RunFederatedCounts(const Site& site, const std::string& definition_path, const CountsSpec& spec,
                                        const std::string& project, const std::string& user, std::chrono::milliseconds deadline) {
  if (spec.event.empty() || spec.unit.empty()) return Status::InvalidArgument("counts need an event and a unit variable");
  ARK_ASSIGN_OR_RETURN(Json body, MeasureRequestBody(definition_path));
  body["event"] = spec.event;
  body["unit"] = spec.unit;
  body["strata"] = spec.strata;
  NetworkUnits u;
  std::vector<Exchange> first = Broadcast(site, "counts", project, user, body, deadline);
  u.exchanges = first;
  if (std::string f = DescribeFailures(first); !f.empty()) return Status::FailedPrecondition("federated counts not complete: " + f);
  std::set<std::string> names;
  std::vector<Json> site_strata;
  for (const auto& x : first) {
    if (!x.body.contains("strata") || !x.body["strata"].is_array()) return Status::FailedPrecondition(x.site + " answered without strata");
    for (const auto& c : x.body["strata"]) names.insert(c.value("stratum", std::string()));
    site_strata.push_back(x.body["strata"]);
  }
  u.strata.assign(names.begin(), names.end());
  u.reference_rates = ReferenceRatesFromStrata(u.strata, site_strata);
  Json rates = Json::object();
  for (size_t k = 0; k < u.strata.size(); ++k) rates[u.strata[k]] = u.reference_rates[k];
  body["rates"] = rates;
  std::vector<Exchange> second = Broadcast(site, "counts", project, user, body, deadline);
  u.exchanges.insert(u.exchanges.end(), second.begin(), second.end());
  if (std::string f = DescribeFailures(second); !f.empty()) return Status::FailedPrecondition("federated counts not complete: " + f);
  for (size_t i = 0; i < second.size(); ++i) {
    const Exchange& x = second[i];
    u.sites.push_back(x.site);
    u.withheld += x.body.value("withheld", 0);
    try {
      for (const auto& c : x.body.at("units"))
        u.units.push_back({x.site, c.at("unit").get<std::string>(), c.at("events").get<int64_t>(), c.at("people").get<int64_t>(),
                           c.at("expected").get<double>()});
      // The site as a whole: its published stratum counts against the reference rates.
      UnitCounts t{x.site, x.site, 0, 0, 0};
      for (const auto& c : x.body.at("strata")) {
        if (c["events"].is_null() || c["people"].is_null()) continue;
        const std::string k = c.at("stratum").get<std::string>();
        const size_t s = static_cast<size_t>(std::lower_bound(u.strata.begin(), u.strata.end(), k) - u.strata.begin());
        t.events += c["events"].get<int64_t>();
        t.people += c["people"].get<int64_t>();
        if (s < u.strata.size()) t.expected += u.reference_rates[s] * c["people"].get<double>();
      }
      u.site_totals.push_back(t);
    } catch (const std::exception& e) {
      return Status::FailedPrecondition(x.site + ": unreadable counts: " + e.what());
    }
  }
  return u;
}

Result<stats::EbRates> NetworkEbRates(const std::vector<UnitCounts>& units) {
  std::vector<double> events, people;
  for (const auto& u : units) {
    events.push_back(static_cast<double>(u.events));
    people.push_back(static_cast<double>(u.people));
  }
  return stats::EmpiricalBayesRates(events, people);
}

Result<stats::FunnelPlot> NetworkFunnel(const std::vector<UnitCounts>& units, const stats::FunnelOptions& options) {
  std::vector<stats::FunnelUnit> f;
  for (const auto& u : units) {
    if (u.expected <= 0) continue;  // no expected count (no people in a stratum with a rate): not plotted
    f.push_back({u.site == u.unit ? u.site : u.site + "/" + u.unit, static_cast<double>(u.events), u.expected});
  }
  return stats::Funnel(f, options);
}

}  // namespace ark::net
