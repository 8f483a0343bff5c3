// The network of Arks end to end: three sites on loopback ports (each a dummy-data Ark with its
// own key, served by `ark network serve` in its own process) and a fourth outside the network.
// Federated measures equal what each site releases on its own and pool to their sums; refusals
// (wrong certificate, unknown site, site outside the network, replayed or expired request,
// project not approved by a site's committee) are answered and ledgered; a killed or silent site
// is named. No timing asserts: deadlines are generous or only bound how long a failure may take.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "network/borrow.h"
#include "network/channel.h"
#include "network/client.h"
#include "network/dataset.h"
#include "network/coordinator.h"
#include "network/glm.h"
#include "network/identity.h"
#include "network/measure.h"
#include "network/network_file.h"
#include "network/site.h"
#include "stats/glm.h"
#include "disclosure/opensafely.h"
#include "study/definition.h"
#include "study/dummy.h"
#include "study/run.h"

namespace ark::net {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Ledger entries of an Ark, parsed.
std::vector<Json> Entries(const std::string& ark) {
  std::vector<Json> out;
  std::istringstream in(Slurp(fs::path(ark) / "ledger" / "entries.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

std::optional<Json> FindEntry(const std::vector<Json>& es, const std::string& type, const std::string& request_sha) {
  for (const auto& e : es) {
    if (e.value("type", "") == type && e.value("request_sha256", "") == request_sha) return e;
  }
  return std::nullopt;
}

struct TestSite {
  std::string name, ark, listen;
  pid_t server = -1;
};

class NetworkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("ark_network_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    def_ = std::string(ARK_SOURCE_DIR) + "/definitions/diabetes_register.yaml";
    auto def = study::ParseDefinitionFile(def_);
    ASSERT_TRUE(def.ok()) << def.status().ToString();
    const char* names[] = {"site-a", "site-b", "site-c", "site-d"};
    const int people[] = {400, 300, 500, 60};
    for (int i = 0; i < 4; ++i) {
      TestSite s{names[i], (root_ / names[i]).string(), "127.0.0.1:" + std::to_string(FreePort())};
      ASSERT_TRUE(study::MakeDummyArk(*def, s.ark, {.people = people[i], .seed = static_cast<uint64_t>(11 + i), .threads = 1}).ok());
      auto init = InitSite(s.ark, {.name = s.name, .listen = s.listen, .key_type = i == 1 ? "p256" : "ed25519"});
      ASSERT_TRUE(init.ok()) << init.status().ToString();
      sites_.push_back(s);
    }
    // The network: a, b, c. Site d has a network of its own with a (it is outside "pilot").
    auto y = NetworkFileFromCerts("pilot", {sites_[0].ark, sites_[1].ark, sites_[2].ark});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    net_ = (root_ / "net.yaml").string();
    ASSERT_TRUE(WriteFileAtomic(net_, *y).ok());
    auto y2 = NetworkFileFromCerts("pilot-d", {sites_[0].ark, sites_[3].ark});
    ASSERT_TRUE(y2.ok());
    net_d_ = (root_ / "net-d.yaml").string();
    ASSERT_TRUE(WriteFileAtomic(net_d_, *y2).ok());
    for (int i = 0; i < 4; ++i) SetUpGovernance(i);
    for (int i = 0; i < 3; ++i) StartServer(i);
  }

  // Users and projects: "fed-dm" approved by every site's committee for ana@site-a; "fed-half"
  // approved at a and b, still pending at c.
  static void SetUpGovernance(int i) {
    TestSite& s = sites_[i];
    auto cat = Catalog::Open(s.ark);
    ASSERT_TRUE(cat.ok());
    auto admin_token = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    ASSERT_TRUE(admin_token.ok()) << admin_token.status().ToString();
    gov::Actor admin{"admin", {"admin"}};
    if (i == 0) {
      auto t = gov::AddUser(**cat, &admin, "ana", {"analyst"});
      ASSERT_TRUE(t.ok());
      ana_token_ = *t;
    }
    auto accepted = AcceptNetwork(s.ark, admin, i == 3 ? net_d_ : net_);
    ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
    auto ledger = gov::Ledger::Open(s.ark);
    ASSERT_TRUE(ledger.ok());
    for (const char* id : {"fed-dm", "fed-half", "fed-attack", "fed-counts", "fed-factor"}) {
      gov::Project p;
      p.id = id;
      p.title = "Diabetes control across the pilot";
      p.purpose = gov::Purpose::kResearch;
      p.legal_basis = "UK GDPR 6(1)(e), 9(2)(j)";
      p.datasets = {"dummy"};
      p.people = {"ana@site-a"};
      p.start = "2020-01-01";
      p.end = "2099-12-31";
      ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
      if (std::string(id) != "fed-half" || i != 2) {  // fed-half: still pending at site-c
        ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, id).ok());
      }
    }
  }

  static void StartServer(int i) {
    TestSite& s = sites_[i];
    const std::string log = (root_ / (s.name + ".log")).string();
    fs::remove(log);
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(ARK_BINARY, ARK_BINARY, "network", "serve", s.ark.c_str(), "--network", net_.c_str(), nullptr);
      ::_exit(127);
    }
    s.server = pid;
    for (int k = 0; k < 400; ++k) {  // up to 20 s to come up
      if (Slurp(log).find("listening on") != std::string::npos) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << s.name << " did not start: " << Slurp(log);
  }

  static void StopServer(int i) {
    if (sites_[i].server <= 0) return;
    ::kill(sites_[i].server, SIGKILL);
    ::waitpid(sites_[i].server, nullptr, 0);
    sites_[i].server = -1;
  }

  static void TearDownTestSuite() {
    for (size_t i = 0; i < sites_.size(); ++i) StopServer(static_cast<int>(i));
    fs::remove_all(root_);
  }

  static Site LoadAs(int i, const std::string& network) {
    auto s = LoadSite(sites_[i].ark, network);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : Site{};
  }

  // A request signed by `key`, as the wire carries it.
  static std::string SignedRequest(const SiteKey& key, Request r) {
    auto f = SignFrame(key, "request", RequestText(r));
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : "";
  }
  static Request Ping(const std::string& from, const std::string& to) {
    Request r;
    r.network = "pilot";
    r.from = from;
    r.to = to;
    r.op = "ping";
    r.project = "fed-dm";
    r.user = "ana";
    r.nonce = NewNonce();
    r.issued_at = UnixNow();
    r.expires_at = r.issued_at + 60;
    return r;
  }

  static inline fs::path root_;
  static inline std::string def_, net_, net_d_, ana_token_;
  static inline std::vector<TestSite> sites_;
};

TEST_F(NetworkTest, FederatedMeasureEqualsWhatEachSiteReleasesAndPoolsToTheirSums) {
  Site a = LoadAs(0, net_);
  ASSERT_TRUE(AuthoriseCoordinator(a, "ana", ana_token_, "fed-dm").ok());
  EXPECT_FALSE(AuthoriseCoordinator(a, "ana", "wrong-token", "fed-dm").ok());
  auto m = RunFederatedMeasure(a, def_, "fed-dm", "ana", 60s);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->sites.size(), 3u);
  ASSERT_EQ(m->pooled.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    // What the site released equals its own run of the definition (opensafely rules).
    const std::string out = (root_ / ("local-" + sites_[i].name)).string();
    study::RunOptions o;
    o.ark_dir = sites_[i].ark;
    o.definition = def_;
    o.out_dir = out;
    ASSERT_TRUE(study::RunStudy(o).ok());
    for (const char* name : {"hba1c_control", "hba1c_control_by_age", "hba1c_control_by_deprivation"}) {
      EXPECT_EQ(m->per_site[sites_[i].name][name], Slurp(fs::path(out) / "measures" / (std::string(name) + ".csv")))
          << sites_[i].name << " " << name;
    }
  }
  // Pooled = the sum of the three released tables, row by row (a redacted count stays redacted).
  for (const auto& [name, pooled] : m->pooled) {
    std::map<std::string, std::pair<int64_t, bool>> sums;  // key -> (numerator sum, any redacted)
    for (int i = 0; i < 3; ++i) {
      CsvParser p(m->per_site[sites_[i].name][name]);
      std::vector<std::string_view> row;
      ASSERT_TRUE(p.Next(&row).ok());
      while (*p.Next(&row)) {
        std::string key = std::string(row[0]) + "|" + std::string(row[1]);
        for (size_t c = 6; c < row.size(); ++c) key += "|" + std::string(row[c]);
        auto& s = sums[key];
        if (row[4] == "[REDACTED]") s.second = true; else s.first += std::stoll(std::string(row[4]));
      }
    }
    CsvParser p(pooled);
    std::vector<std::string_view> row;
    ASSERT_TRUE(p.Next(&row).ok());
    size_t rows = 0;
    int64_t total = 0;
    while (*p.Next(&row)) {
      ++rows;
      std::string key = std::string(row[0]) + "|" + std::string(row[1]);
      for (size_t c = 6; c < row.size(); ++c) key += "|" + std::string(row[c]);
      ASSERT_TRUE(sums.count(key)) << key;
      if (sums[key].second) {
        EXPECT_EQ(row[4], "[REDACTED]") << key;
        EXPECT_EQ(row[3], "[REDACTED]") << key;
      } else {
        EXPECT_EQ(std::stoll(std::string(row[4])), sums[key].first) << key;
        total += sums[key].first;
      }
    }
    EXPECT_EQ(rows, sums.size()) << name;
    if (name == "hba1c_control") {
      EXPECT_GT(total, 0) << "nothing pooled";
    }
  }
  // Every exchange is on both ledgers with the same hashes; the sites recorded the run.
  const auto ea = Entries(sites_[0].ark);
  for (int i = 0; i < 3; ++i) {
    const Exchange& x = m->sites[i];
    std::optional<Json> req = FindEntry(ea, "network.requested", x.request_sha256);
    ASSERT_TRUE(req.has_value()) << x.site;
    EXPECT_EQ((*req)["answer_sha256"], x.answer_sha256);
    EXPECT_EQ((*req)["outcome"], "ok");
    const auto es = Entries(sites_[i].ark);
    std::optional<Json> ans = FindEntry(es, "network.answered", x.request_sha256);
    ASSERT_TRUE(ans.has_value()) << x.site;
    EXPECT_EQ((*ans)["answer_sha256"], x.answer_sha256);
    EXPECT_EQ((*ans)["from"], "site-a");
    bool ran = false;
    for (const auto& e : es) ran = ran || (e.value("type", "") == "run.executed" && e.value("project", "") == "fed-dm");
    EXPECT_TRUE(ran) << x.site;
    EXPECT_TRUE(gov::VerifyLedger(gov::LedgerDirOf(sites_[i].ark)).ok()) << x.site;
  }
  // The coordinator writes per-site and pooled tables, nothing else from the sites.
  const std::string out = (root_ / "fed-out").string();
  ASSERT_TRUE(WriteFederatedMeasures(*m, out).ok());
  EXPECT_TRUE(fs::exists(fs::path(out) / "pooled" / "hba1c_control.csv"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "sites" / "site-c" / "hba1c_control_by_age.csv"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "network.json"));
  for (int i = 0; i < 3; ++i) {  // the sites' run directories (patient-level dataset.csv) are gone
    const fs::path work = fs::path(sites_[i].ark) / "network" / "work";
    EXPECT_TRUE(!fs::exists(work) || fs::is_empty(work)) << sites_[i].name;
  }
}

TEST_F(NetworkTest, SiteWhoseCommitteeHasNotApprovedAnswersARefusalNamingIt) {
  Site a = LoadAs(0, net_);
  auto xs = Broadcast(a, "measure", "fed-half", "ana", *MeasureRequestBody(def_), 60s);
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_TRUE(xs[0].ok()) << xs[0].reason;
  EXPECT_TRUE(xs[1].ok()) << xs[1].reason;
  EXPECT_EQ(xs[2].outcome, Exchange::Outcome::kRefused);
  EXPECT_NE(xs[2].reason.find("site 'site-c'"), std::string::npos) << xs[2].reason;
  EXPECT_NE(xs[2].reason.find("not been approved by this site's committee"), std::string::npos) << xs[2].reason;
  EXPECT_EQ(xs[2].body, Json::object());  // nothing but the refusal
  std::optional<Json> there = FindEntry(Entries(sites_[2].ark), "network.refused", xs[2].request_sha256);
  ASSERT_TRUE(there.has_value());
  EXPECT_EQ((*there)["answer_sha256"], xs[2].answer_sha256);
  std::optional<Json> here = FindEntry(Entries(sites_[0].ark), "network.requested", xs[2].request_sha256);
  ASSERT_TRUE(here.has_value());
  EXPECT_EQ((*here)["outcome"], "refused");
  // The coordinator does not pool over part of the network.
  auto m = RunFederatedMeasure(a, def_, "fed-half", "ana", 60s);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("site-c refused"), std::string::npos) << m.status().ToString();
  // A person the committees did not approve is refused everywhere.
  auto other = Broadcast(a, "ping", "fed-dm", "olu", Json::object(), 30s);
  for (const auto& x : other) EXPECT_TRUE(x.ok()) << x.reason;  // ping checks the site, not the project
  auto olu = SendRequest(a, *a.network.Find("site-b"), "measure", "fed-dm", "olu", *MeasureRequestBody(def_), 60s);
  EXPECT_EQ(olu.outcome, Exchange::Outcome::kRefused);
  EXPECT_NE(olu.reason.find("'olu@site-a' is not an approved person"), std::string::npos) << olu.reason;
}

TEST_F(NetworkTest, ImpostorsUnknownSitesAndOutsidersAreRefusedAndLedgered) {
  const std::string b_addr = sites_[1].listen;
  // Wrong certificate: a key of its own, claiming to be site-a.
  auto impostor = SiteKey::Generate("site-a", "127.0.0.1:1", "ed25519");
  ASSERT_TRUE(impostor.ok());
  Request r = Ping("site-a", "site-b");
  auto got = SendRawFrame(**impostor, b_addr, SignedRequest(**impostor, r), 20s);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto ans = ParseAnswer(*got);
  ASSERT_TRUE(ans.ok());
  EXPECT_EQ(ans->status, "refused");
  EXPECT_NE(ans->reason.find("wrong certificate"), std::string::npos) << ans->reason;
  std::optional<Json> e = FindEntry(Entries(sites_[1].ark), "network.refused", Sha256Hex(RequestText(r)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)["peer_fingerprint"], (*impostor)->fingerprint());

  // Unknown site.
  auto stranger = SiteKey::Generate("site-x", "127.0.0.1:1", "p256");
  ASSERT_TRUE(stranger.ok());
  r = Ping("site-x", "site-b");
  got = SendRawFrame(**stranger, b_addr, SignedRequest(**stranger, r), 20s);
  ASSERT_TRUE(got.ok());
  EXPECT_NE(ParseAnswer(*got)->reason.find("unknown site 'site-x'"), std::string::npos) << *got;
  EXPECT_TRUE(FindEntry(Entries(sites_[1].ark), "network.refused", Sha256Hex(RequestText(r))).has_value());

  // A real site outside the network (its own network file names site-a and itself).
  Site d = LoadAs(3, net_d_);
  auto x = SendRequest(d, *d.network.Find("site-a"), "ping", "fed-dm", "dora", Json::object(), 20s);
  EXPECT_EQ(x.outcome, Exchange::Outcome::kRefused);
  EXPECT_NE(x.reason.find("serves network 'pilot', not 'pilot-d'"), std::string::npos) << x.reason;
  EXPECT_TRUE(FindEntry(Entries(sites_[0].ark), "network.refused", x.request_sha256).has_value());
  std::optional<Json> mine = FindEntry(Entries(sites_[3].ark), "network.requested", x.request_sha256);
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ((*mine)["outcome"], "refused");

  // The requester checks the answering site's certificate too: site-d's file says site-a is at
  // site-b's address, so the certificate there is not site-a's and nothing is sent.
  Member wrong = *d.network.Find("site-a");
  wrong.address = b_addr;
  auto y = SendRequest(d, wrong, "ping", "fed-dm", "dora", Json::object(), 20s);
  EXPECT_EQ(y.outcome, Exchange::Outcome::kRefused);
  EXPECT_NE(y.reason.find("wrong certificate"), std::string::npos) << y.reason;
}

TEST_F(NetworkTest, ReplayedAndExpiredRequestsAreRefused) {
  auto b_key = LoadSiteKey(sites_[1].ark);
  ASSERT_TRUE(b_key.ok());
  const std::string a_addr = sites_[0].listen;
  Request r = Ping("site-b", "site-a");
  const std::string frame = SignedRequest(**b_key, r);
  auto first = SendRawFrame(**b_key, a_addr, frame, 20s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(ParseAnswer(*first)->status, "ok") << *first;
  auto again = SendRawFrame(**b_key, a_addr, frame, 20s);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ParseAnswer(*again)->status, "refused");
  EXPECT_NE(ParseAnswer(*again)->reason.find("replayed"), std::string::npos) << *again;

  Request old = Ping("site-b", "site-a");
  old.issued_at = UnixNow() - 120;
  old.expires_at = UnixNow() - 60;
  auto late = SendRawFrame(**b_key, a_addr, SignedRequest(**b_key, old), 20s);
  ASSERT_TRUE(late.ok());
  EXPECT_NE(ParseAnswer(*late)->reason.find("expired request"), std::string::npos) << *late;

  // A tampered request (signed, then changed) fails its signature.
  Request t = Ping("site-b", "site-a");
  auto signed_frame = SignedRequest(**b_key, t);
  Json f = Json::parse(signed_frame);
  std::string text = f["request"];
  text.replace(text.find("\"ping\""), 6, "\"pong\"");
  f["request"] = text;
  auto bad = SendRawFrame(**b_key, a_addr, f.dump(), 20s);
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(ParseAnswer(*bad)->reason.find("bad signature"), std::string::npos) << *bad;

  const auto es = Entries(sites_[0].ark);
  const std::string h = Sha256Hex(RequestText(r));
  int answered = 0, refused = 0;
  for (const auto& e : es) {
    if (e.value("request_sha256", "") != h) continue;
    answered += e["type"] == "network.answered";
    refused += e["type"] == "network.refused";
  }
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(refused, 1);
  EXPECT_TRUE(FindEntry(es, "network.refused", Sha256Hex(RequestText(old))).has_value());
}

TEST_F(NetworkTest, KilledOrSilentSiteIsNamedAndNothingHangs) {
  Site a = LoadAs(0, net_);
  StopServer(2);
  auto m = RunFederatedMeasure(a, def_, "fed-dm", "ana", 5s);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("site-c did not answer"), std::string::npos) << m.status().ToString();
  EXPECT_EQ(m.status().message().find("site-b"), std::string::npos) << m.status().ToString();

  // A site that accepts the connection and then says nothing: named once its deadline passes.
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitAddress(sites_[2].listen, &host, &port, "x").ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto xs = Broadcast(a, "ping", "fed-dm", "ana", Json::object(), 2s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  EXPECT_TRUE(xs[0].ok() && xs[1].ok()) << DescribeFailures(xs);
  EXPECT_EQ(xs[2].outcome, Exchange::Outcome::kNoAnswer);
  EXPECT_NE(DescribeFailures(xs).find("site-c did not answer within its deadline of 2 s"), std::string::npos) << DescribeFailures(xs);
  EXPECT_LT(took, 30.0);  // bounded, not timed: the deadline fired
  std::optional<Json> e = FindEntry(Entries(sites_[0].ark), "network.requested", xs[2].request_sha256);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)["outcome"], "no_answer");
  StartServer(2);
  auto back = Broadcast(a, "ping", "fed-dm", "ana", Json::object(), 20s);
  for (const auto& x : back) EXPECT_TRUE(x.ok()) << x.site << ": " << x.reason;
}

// The design of the GLM tests: a definition over the dummy Arks' codelists.
std::string GlmDefinition(const fs::path& root) {
  const fs::path dir = root / "glmdef";
  fs::create_directories(dir / "codelists");
  for (const char* f : {"diabetes-snomed.csv", "hba1c-snomed.csv"}) {
    fs::copy_file(fs::path(ARK_SOURCE_DIR) / "definitions" / "codelists" / f, dir / "codelists" / f, fs::copy_options::overwrite_existing);
  }
  std::ofstream(dir / "fed_glm.yaml") << "name: fed_glm\n"
      "codelists:\n"
      "  diabetes: {file: codelists/diabetes-snomed.csv, system: SNOMED}\n"
      "  hba1c:    {file: codelists/hba1c-snomed.csv, system: SNOMED}\n"
      "index_date: 2025-03-31\n"
      "population: {registered: true, alive: true, age: [17, 120]}\n"
      "variables:\n"
      "  has_diabetes: {exists: diabetes, to: 0d}\n"
      "  hba1c_tests:  {count: hba1c, from: -455d, to: 0d}\n"
      "  age_years:    age\n"
      "  female:       \"sex = 'F'\"\n"
      "  deprivation:  imd_decile\n";
  return (dir / "fed_glm.yaml").string();
}

void ExpectSameFit(const stats::GlmFit& fed, const stats::GlmFit& pooled) {
  ASSERT_EQ(fed.beta.size(), pooled.beta.size());
  for (size_t j = 0; j < fed.beta.size(); ++j) {
    EXPECT_NEAR(fed.beta[j], pooled.beta[j], 1e-8 * std::max(1.0, std::abs(pooled.beta[j]))) << j;
    EXPECT_NEAR(fed.se[j], pooled.se[j], 1e-6 * std::max(1.0, std::abs(pooled.se[j]))) << j;
  }
  EXPECT_NEAR(fed.deviance, pooled.deviance, 1e-8 * std::max(1.0, std::abs(pooled.deviance)));
  EXPECT_EQ(fed.n, pooled.n);
  EXPECT_EQ(fed.iterations, pooled.iterations);
}

// The pooled fit on the union of the three sites' rows, in one process.
stats::GlmFit PooledFit(const std::vector<TestSite>& sites, const std::string& def, const GlmSpec& spec) {
  stats::GlmData all;
  for (int i = 0; i < 3; ++i) {
    auto d = GlmDesign(sites[i].ark, def, spec, study::Purpose::kResearch, nullptr);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    all.cols = d->cols;
    all.rows += d->rows;
    all.x.insert(all.x.end(), d->x.begin(), d->x.end());
    all.y.insert(all.y.end(), d->y.begin(), d->y.end());
    all.offset.insert(all.offset.end(), d->offset.begin(), d->offset.end());
  }
  auto f = stats::FitGlm(all, spec.family);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : stats::GlmFit{};
}

TEST_F(NetworkTest, FederatedGlmEqualsThePooledFitWithOneRoundTripPerIteration) {
  Site a = LoadAs(0, net_);
  const std::string def = GlmDefinition(root_);
  for (auto family : {stats::GlmFamily::kBinomial, stats::GlmFamily::kPoisson, stats::GlmFamily::kGaussian}) {
    GlmSpec spec;
    spec.family = family;
    spec.outcome = family == stats::GlmFamily::kBinomial ? "has_diabetes" : "hba1c_tests";
    spec.covariates = {"age_years", "female", "deprivation"};
    auto run = RunFederatedGlm(a, def, spec, "fed-dm", "ana", {});
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    ExpectSameFit(run->fit, PooledFit(sites_, def, spec));
    EXPECT_EQ(run->exchanges, 3 * run->fit.round_trips);  // one exchange per site per round trip
    EXPECT_EQ(run->fit.round_trips, run->fit.iterations + 1);
    EXPECT_EQ(run->retried, 0);
  }
  // Each site recorded the fit's run once, and every round trip on both ledgers.
  const auto ea = Entries(sites_[0].ark);
  for (int i = 0; i < 3; ++i) {
    int answered = 0;
    for (const auto& e : Entries(sites_[i].ark)) answered += e.value("type", "") == "network.answered" && e.value("op", "") == "glm";
    int requested = 0;
    for (const auto& e : ea) requested += e.value("type", "") == "network.requested" && e.value("op", "") == "glm" && e.value("to", "") == sites_[i].name;
    EXPECT_EQ(answered, requested) << sites_[i].name;
    EXPECT_GT(answered, 3) << sites_[i].name;
  }
  // A site that is down for the fit's start and comes back: its step is retried and the fit goes on.
  StopServer(2);
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"age_years", "female"};
  std::thread restart([] {
    std::this_thread::sleep_for(1500ms);
    StartServer(2);
  });
  auto resumed = RunFederatedGlm(a, def, spec, "fed-dm", "ana", {.deadline = 20s, .retries = 60, .retry_pause = 250ms});
  restart.join();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_GT(resumed->retried, 0);
  ExpectSameFit(resumed->fit, PooledFit(sites_, def, spec));
  // Down for longer than the retries: the fit fails naming the site.
  StopServer(2);
  auto failed = RunFederatedGlm(a, def, spec, "fed-dm", "ana", {.deadline = 5s, .retries = 2, .retry_pause = 100ms});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("site-c did not answer"), std::string::npos) << failed.status().ToString();
  StartServer(2);
}

// A GLM definition like GlmDefinition's with another population and extra variables (tests of
// the model disclosure rules).
std::string AttackDefinition(const fs::path& root, const std::string& name, const std::string& where,
                             const std::string& extra) {
  const fs::path dir = root / "glmdef";
  GlmDefinition(root);  // the codelists
  std::ofstream(dir / (name + ".yaml")) << "name: " << name << "\n"
      "codelists:\n"
      "  diabetes: {file: codelists/diabetes-snomed.csv, system: SNOMED}\n"
      "  hba1c:    {file: codelists/hba1c-snomed.csv, system: SNOMED}\n"
      "index_date: 2025-03-31\n"
      "population: {registered: true, alive: true, age: [17, 120]" << (where.empty() ? "" : ", where: \"" + where + "\"") << "}\n"
      "variables:\n"
      "  has_diabetes: {exists: diabetes, to: 0d}\n"
      "  hba1c_tests:  {count: hba1c, from: -455d, to: 0d}\n"
      "  age_years:    age\n"
      "  female:       \"sex = 'F'\"\n"
      "  deprivation:  imd_decile\n" << extra;
  return (dir / (name + ".yaml")).string();
}

TEST_F(NetworkTest, ModelDisclosureRulesRefuseAtEachSiteNamingSiteAndRuleIncludingDsBase250) {
  Site a = LoadAs(0, net_);
  const std::string full = AttackDefinition(root_, "attack_full", "", "");
  // An age held by one or two people at some site: the attacker's target.
  int target_site = -1, k_age = -1;
  for (int i = 0; i < 3 && target_site < 0; ++i) {
    auto cols = EvaluateColumns(sites_[i].ark, full, study::Purpose::kResearch, {"age_years"});
    ASSERT_TRUE(cols.ok()) << cols.status().ToString();
    std::map<int, int> by_age;
    for (const auto& r : cols->rows) if (!r[0].empty()) by_age[std::stoi(r[0])]++;
    for (auto [age, n] : by_age) {
      if (n <= 2) {
        target_site = i;
        k_age = age;
        break;
      }
    }
  }
  ASSERT_GE(target_site, 0) << "no age held by 1 or 2 people at any site";
  const std::string target = sites_[target_site].name, k = std::to_string(k_age);
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"age_years", "female", "deprivation"};
  auto refused_by = [&](const Result<GlmRun>& run, const std::string& site, const std::string& rule) {
    ASSERT_FALSE(run.ok()) << "the attack was answered";
    const std::string m = run.status().message();
    EXPECT_NE(m.find(site + " refused"), std::string::npos) << m;
    EXPECT_NE(m.find("site '" + site + "': " + rule + ":"), std::string::npos) << m;
  };
  // 1. The honest fit: answered (and its population remembered by each site).
  auto honest = RunFederatedGlm(a, full, spec, "fed-attack", "ana", {});
  ASSERT_TRUE(honest.ok()) << honest.status().ToString();

  // 2. dsBase#250 over the network: a one-hot covariate (true for the target's one or two rows),
  //    whose coefficient in a gaussian fit of a column would be the target's value.
  const std::string onehot = AttackDefinition(root_, "attack_onehot", "", "  one_hot: \"age = " + k + "\"\n");
  GlmSpec probe;
  probe.family = stats::GlmFamily::kGaussian;
  probe.outcome = "hba1c_tests";
  probe.covariates = {"one_hot"};
  refused_by(RunFederatedGlm(a, onehot, probe, "fed-attack", "ana", {}), target, "nfilter.tab");
  //    ... and the mean over the one-row subset: the population cut to the target.
  const std::string subset = AttackDefinition(root_, "attack_subset", "age = " + k, "");
  refused_by(RunFederatedGlm(a, subset, spec, "fed-attack", "ana", {}), target, "nfilter.subset");
  //    ... and the complement (everyone but the target), differenced against the honest fit.
  const std::string complement = AttackDefinition(root_, "attack_complement", "not (age = " + k + ")", "");
  refused_by(RunFederatedGlm(a, complement, spec, "fed-attack", "ana", {}), target, "differencing");

  // 3. A factor with too many levels (every age 17 .. 61 its own level).
  GlmSpec many = spec;
  GlmFactor ages{"age_years", {}};
  for (int y = 17; y <= 61; ++y) ages.levels.push_back(std::to_string(y));
  many.covariates = {"female"};
  many.factors = {ages};
  auto lv = RunFederatedGlm(a, full, many, "fed-attack", "ana", {});
  ASSERT_FALSE(lv.ok());
  EXPECT_NE(lv.status().message().find("nfilter.levels.max: factor 'age_years' has 45 levels"), std::string::npos) << lv.status().ToString();

  // The refusals are on the refusing site's ledger, rule and all.
  int on_ledger = 0;
  for (const auto& e : Entries(sites_[target_site].ark)) {
    if (e.value("type", "") != "network.refused" || e.value("op", "") != "glm") continue;
    const std::string why = e.value("reason", "");
    on_ledger += why.find("nfilter.tab") != std::string::npos || why.find("nfilter.subset") != std::string::npos ||
                 why.find("differencing") != std::string::npos;
  }
  EXPECT_GE(on_ledger, 3);
  EXPECT_TRUE(gov::VerifyLedger(gov::LedgerDirOf(sites_[target_site].ark)).ok());
}

TEST_F(NetworkTest, FederatedGlmWithAFactorEqualsThePooledFit) {
  Site a = LoadAs(0, net_);
  const std::string def = AttackDefinition(root_, "factor_fit", "", "  age_band: {band: age, breaks: [40, 65, 80]}\n");
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"female"};
  spec.factors = {{"age_band", {"<40", "40-64", "65-79", "80+"}}};
  auto run = RunFederatedGlm(a, def, spec, "fed-factor", "ana", {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->names, (std::vector<std::string>{"(Intercept)", "female", "age_band=40-64", "age_band=65-79", "age_band=80+"}));
  ExpectSameFit(run->fit, PooledFit(sites_, def, spec));
}

TEST_F(NetworkTest, SiteKilledMidFitAfterIterationOneIsRetriedAndTheFitResumes) {
  Site a = LoadAs(0, net_);
  const std::string def = GlmDefinition(root_);
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"age_years", "female", "deprivation"};
  std::thread restart;
  GlmRunOptions o{.deadline = 20s, .retries = 80, .retry_pause = 250ms};
  o.before_round = [&](int trip) {
    if (trip != 2) return;  // round trips 0 (start) and 1 (iteration 1) are done
    const pid_t was = sites_[2].server;
    StopServer(2);  // kill -9 of site-c's `ark network serve`
    EXPECT_NE(was, -1);
    restart = std::thread([] {
      std::this_thread::sleep_for(1s);
      StartServer(2);
    });
  };
  auto run = RunFederatedGlm(a, def, spec, "fed-dm", "ana", o);
  if (restart.joinable()) restart.join();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_GT(run->retried, 0);
  EXPECT_GE(run->fit.iterations, 2);
  ExpectSameFit(run->fit, PooledFit(sites_, def, spec));
  // The restarted site rebuilt its design (a second run.executed) and answered the rest.
  EXPECT_NE(sites_[2].server, -1);
}

TEST_F(NetworkTest, FitOverKeptAliveConnectionsMakesOneHandshakePerSiteAndLedgersEveryExchange) {
  Site a = LoadAs(0, net_);
  const std::string def = GlmDefinition(root_);
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"age_years", "female", "deprivation"};
  DropKeptAliveConnections();
  const size_t before = Entries(sites_[0].ark).size();
  const uint64_t h0 = Channel::client_handshakes();
  auto run = RunFederatedGlm(a, def, spec, "fed-dm", "ana", {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_GE(run->fit.round_trips, 3);
  ExpectSameFit(run->fit, PooledFit(sites_, def, spec));
  EXPECT_EQ(Channel::client_handshakes() - h0, 3u);  // one per site for the whole fit, not one per request
  EXPECT_EQ(run->exchanges, 3 * run->fit.round_trips);
  // Every request of the fit is on the requester's ledger, and answered on the site's own ledger
  // with the same request hash and the same answer hash.
  const auto ea = Entries(sites_[0].ark);
  int requested = 0;
  for (size_t k = before; k < ea.size(); ++k) {
    const Json& e = ea[k];
    if (e.value("type", "") != "network.requested" || e.value("op", "") != "glm") continue;
    ++requested;
    EXPECT_EQ(e.value("outcome", ""), "ok");
    int i = 0;
    while (i < 3 && sites_[i].name != e.value("to", "")) ++i;
    ASSERT_LT(i, 3);
    auto answered = FindEntry(Entries(sites_[i].ark), "network.answered", e["request_sha256"]);
    ASSERT_TRUE(answered.has_value()) << sites_[i].name;
    EXPECT_EQ((*answered)["answer_sha256"], e["answer_sha256"]);
  }
  EXPECT_EQ(requested, run->exchanges);
}

TEST_F(NetworkTest, ReplayIsRefusedOverTheSameConnectionAndAfterTheSiteRestarts) {
  auto b_key = LoadSiteKey(sites_[1].ark);
  ASSERT_TRUE(b_key.ok());
  Request r = Ping("site-b", "site-c");
  const std::string frame = SignedRequest(**b_key, r);
  auto ch = Channel::Connect(**b_key, sites_[2].listen, Clock::now() + 20s);
  ASSERT_TRUE(ch.ok()) << ch.status().ToString();
  auto answer = [&]() -> Answer {
    EXPECT_TRUE((*ch)->WriteFrame(frame).ok());
    auto got = (*ch)->ReadFrame(kMaxFrameBytes);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    auto st = OpenFrame(got.ok() ? *got : "", "answer");
    auto a = st.ok() ? ParseAnswer(st->text) : Result<Answer>(st.status());
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : Answer{};
  };
  EXPECT_EQ(answer().status, "ok");
  const Answer again = answer();  // the same frame on the same (kept) connection
  EXPECT_EQ(again.status, "refused");
  EXPECT_NE(again.reason.find("replayed"), std::string::npos) << again.reason;
  // A kept-alive connection of the coordinator to the killed site fails; the next request goes on
  // a new connection (a new request, never the same one again), and the replay is still refused.
  Site a = LoadAs(0, net_);
  ASSERT_TRUE(SendRequest(a, *a.network.Find("site-c"), "ping", "fed-dm", "ana", Json::object(), 20s).ok());
  StopServer(2);
  StartServer(2);
  auto after = SendRawFrame(**b_key, sites_[2].listen, frame, 20s);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ParseAnswer(*after)->status, "refused");
  EXPECT_NE(ParseAnswer(*after)->reason.find("replayed"), std::string::npos) << *after;
  const uint64_t h0 = Channel::client_handshakes();
  Exchange x = SendRequest(a, *a.network.Find("site-c"), "ping", "fed-dm", "ana", Json::object(), 20s);
  EXPECT_TRUE(x.ok()) << x.reason;
  EXPECT_EQ(Channel::client_handshakes() - h0, 1u);  // the dead kept connection is replaced once
}

TEST_F(NetworkTest, FederatedMetaAnalysisEqualsTheMetaAnalysisOfEachSitesOwnFit) {
  Site a = LoadAs(0, net_);
  const std::string def = GlmDefinition(root_);
  GlmSpec spec;
  spec.outcome = "has_diabetes";
  spec.covariates = {"age_years", "female", "deprivation"};
  auto m = RunFederatedMeta(a, def, spec, "age_years", "fed-dm", "ana", 60s);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->sites.size(), 3u);
  std::vector<double> y, v;
  for (int i = 0; i < 3; ++i) {  // each site's own fit, in one process
    auto d = GlmDesign(sites_[i].ark, def, spec, study::Purpose::kResearch, nullptr);
    ASSERT_TRUE(d.ok());
    auto f = stats::FitGlm(*d, spec.family);
    ASSERT_TRUE(f.ok());
    y.push_back(f->beta[1]);
    v.push_back(f->se[1] * f->se[1]);
    EXPECT_DOUBLE_EQ(m->estimate[i], y.back()) << sites_[i].name;
    EXPECT_DOUBLE_EQ(m->variance[i], v.back()) << sites_[i].name;
  }
  auto dl = stats::RandomEffectsMeta(y, v, stats::Tau2Method::kDerSimonianLaird);
  auto reml = stats::RandomEffectsMeta(y, v, stats::Tau2Method::kReml);
  ASSERT_TRUE(dl.ok() && reml.ok());
  EXPECT_DOUBLE_EQ(m->dl.estimate, dl->estimate);
  EXPECT_DOUBLE_EQ(m->dl.hksj.low, dl->hksj.low);
  EXPECT_DOUBLE_EQ(m->reml.estimate, reml->estimate);
  EXPECT_DOUBLE_EQ(m->reml.tau2, reml->tau2);
  EXPECT_DOUBLE_EQ(m->reml.hksj.high, reml->hksj.high);
  EXPECT_FALSE(RunFederatedMeta(a, def, spec, "no_such_term", "fed-dm", "ana", 60s).ok());
  for (int i = 0; i < 3; ++i) {  // on both ledgers
    const Exchange& x = m->exchanges[i];
    ASSERT_TRUE(FindEntry(Entries(sites_[0].ark), "network.requested", x.request_sha256).has_value());
    std::optional<Json> ans = FindEntry(Entries(sites_[i].ark), "network.answered", x.request_sha256);
    ASSERT_TRUE(ans.has_value());
    EXPECT_EQ((*ans)["op"], "estimate");
  }
}

TEST_F(NetworkTest, FederatedCountsShrinkAndFunnelAsThePooledComputationOfTheRoundedCounts) {
  Site a = LoadAs(0, net_);
  const std::string def = AttackDefinition(root_, "counts", "", "  age_band: {band: age, breaks: [40, 65, 80]}\n  sex_s: sex\n  gp: practice\n");
  CountsSpec spec{"has_diabetes", "gp", {"age_band", "sex_s"}};
  auto u = RunFederatedCounts(a, def, spec, "fed-counts", "ana", 60s);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  ASSERT_EQ(u->sites.size(), 3u);
  EXPECT_EQ(u->exchanges.size(), 6u);  // two round trips to three sites

  // The pooled computation: every site's rows in one process, counted, published by the same
  // rules, then the same statistics.
  auto pub = [](int64_t n) -> std::optional<int64_t> { auto p = sdc::PublishCount(n); return p.ok() ? *p : std::nullopt; };
  std::vector<std::map<std::string, std::pair<int64_t, int64_t>>> strata(3);
  std::vector<std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>>> units(3);
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) {
    auto d = EvaluateColumns(sites_[i].ark, def, study::Purpose::kResearch, {"gp", "has_diabetes", "age_band", "sex_s"});
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    for (const auto& r : d->rows) {
      if (r[0].empty()) continue;
      const std::string s = r[2] + "|" + r[3];
      names.insert(s);
      strata[i][s].first += r[1] == "T";
      strata[i][s].second += 1;
      units[i][r[0]][s].first += r[1] == "T";
      units[i][r[0]][s].second += 1;
    }
  }
  EXPECT_EQ(u->strata, std::vector<std::string>(names.begin(), names.end()));
  std::map<std::string, double> rate;
  for (const auto& s : names) {
    double e = 0, p = 0;
    for (int i = 0; i < 3; ++i) {
      auto pe = pub(strata[i][s].first), pp = pub(strata[i][s].second);
      if (strata[i].count(s) && pe && pp) { e += *pe; p += *pp; }
    }
    rate[s] = p > 0 ? e / p : 0;
  }
  std::vector<UnitCounts> want;
  int withheld = 0;
  for (int i = 0; i < 3; ++i) {
    for (const auto& [unit, cells] : units[i]) {
      int64_t e = 0, p = 0;
      double ex = 0;
      for (const auto& [s, c] : cells) { e += c.first; p += c.second; ex += rate[s] * c.second; }
      auto pe = pub(e), pp = pub(p);
      if (!pe || !pp) { ++withheld; continue; }
      want.push_back({sites_[i].name, unit, *pe, *pp, std::round(ex * 100) / 100});
    }
  }
  ASSERT_EQ(u->units.size(), want.size());
  EXPECT_EQ(u->withheld, withheld);
  ASSERT_GE(want.size(), 3u) << "too few published units for a test";
  for (size_t j = 0; j < want.size(); ++j) {
    EXPECT_EQ(u->units[j].unit, want[j].unit);
    EXPECT_EQ(u->units[j].events, want[j].events) << want[j].unit;
    EXPECT_EQ(u->units[j].events % 5, 0) << "not rounded";
    EXPECT_EQ(u->units[j].people, want[j].people) << want[j].unit;
    EXPECT_NEAR(u->units[j].expected, want[j].expected, 1e-9) << want[j].unit;
  }
  auto eb = NetworkEbRates(u->units);
  auto eb_want = NetworkEbRates(want);
  ASSERT_TRUE(eb.ok() && eb_want.ok());
  for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(eb->estimate[j], eb_want->estimate[j], 1e-12);
  auto f = NetworkFunnel(u->units);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->points.size(), want.size());
  auto regions = NetworkFunnel(u->site_totals);
  ASSERT_TRUE(regions.ok()) << regions.status().ToString();
  EXPECT_EQ(regions->points.size(), 3u);
  // Asked again with the same population: the differencing guard lets it through (same N).
  EXPECT_TRUE(RunFederatedCounts(a, def, spec, "fed-counts", "ana", 60s).ok());
}

TEST_F(NetworkTest, PeerWithoutACertificateFailsTheHandshakeAndIsLedgered) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);  // no certificate of its own
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitAddress(sites_[1].listen, &host, &port, "x").ok());
  s.lowest_layer().connect({asio::ip::make_address(host), port});
  boost::system::error_code ec;
  s.handshake(asio::ssl::stream_base::client, ec);
  if (!ec) {  // TLS 1.3: the server's verdict on the client arrives after the client's Finished
    char c;
    asio::read(s, asio::buffer(&c, 1), ec);
  }
  EXPECT_TRUE(ec) << "a peer without a certificate was served";
  s.lowest_layer().close();
  bool logged = false;
  for (int k = 0; k < 200 && !logged; ++k) {  // the server writes its entry as the handshake fails
    for (const auto& e : Entries(sites_[1].ark)) logged = logged || (e.value("type", "") == "network.refused" && e.value("stage", "") == "tls");
    if (!logged) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(logged);
}

TEST(NetworkFile, BadFilesAreRefusedNamingTheMemberAndField) {
  const std::string fp(64, 'a');
  auto ok = ParseNetworkText("network: n\nmembers:\n  - {name: a, address: '127.0.0.1:1', fingerprint: " + fp + "}\n", "net.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto bad = ParseNetworkText("network: n\nmembers:\n  - {name: a, address: '127.0.0.1:1', fingerprint: abc}\n", "net.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("net.yaml:3: member 1: field 'fingerprint'"), std::string::npos) << bad.status().ToString();
  auto dup = ParseNetworkText("network: n\nmembers:\n  - {name: a, address: '127.0.0.1:1', fingerprint: " + fp +
                                  "}\n  - {name: b, address: '127.0.0.1:2', fingerprint: " + fp + "}\n",
                              "net.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("member 2"), std::string::npos);
  EXPECT_FALSE(ParseNetworkText("network: n\nmembers:\n  - {name: a, address: nowhere, fingerprint: " + fp + "}\n", "x").ok());
}

TEST(NetworkPool, RedactedAtOneSiteIsRedactedInThePool) {
  const std::string h = "measure,interval_start,interval_end,ratio,numerator,denominator,age_band\n";
  auto p = PoolMeasures({h + "m,2024-01-01,2024-03-31,0.5,10,20,40-64\nm,2024-01-01,2024-03-31,0.5,10,20,65-79\n",
                         h + "m,2024-01-01,2024-03-31,[REDACTED],[REDACTED],15,40-64\nm,2024-01-01,2024-03-31,0.25,5,20,80+\n"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, h + "m,2024-01-01,2024-03-31,[REDACTED],[REDACTED],35,40-64\n"
                    "m,2024-01-01,2024-03-31,0.5,10,20,65-79\n"
                    "m,2024-01-01,2024-03-31,0.25,5,20,80+\n");
  EXPECT_FALSE(PoolMeasures({h + "m,2024-01-01,2024-03-31,0.5,ten,20,40-64\n"}).ok());
}

}  // namespace
}  // namespace ark::net
