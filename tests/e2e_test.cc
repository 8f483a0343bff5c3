// End-to-end tests through the `ark` binary, as a user runs it. Named EndToEnd* / *Crash* so
// the sanitizer run (make test-asan) can leave these slower tests out.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/process.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Ark() { return ARK_BINARY; }

// Runs a shell command; returns exit code, stdout in *out.
int Sh(const std::string& cmd, std::string* out = nullptr) {
  ark::CommandOutput r = ark::RunCommand(cmd + " 2>" + (out ? "&1" : "/dev/null"));
  if (out) *out = r.output;
  return r.exit_code;
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class EndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("ark_e2e_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static fs::path root_;
};
fs::path EndToEnd::root_;

// The foundation pipeline, command by command, on a small region.
TEST_F(EndToEnd, PipelineAndNoIdentifiersInTheArk) {
  const fs::path r = root_ / "pipe";
  std::string out;
  ASSERT_EQ(Sh(Ark() + " synth --people 3000 --seed 11 --out " + (r / "s").string(), &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " keygen --out " + (r / "key").string(), &out), 0) << out;
  Json m = Json::parse(Slurp(r / "s/manifest.json"));
  ASSERT_EQ(m["people"], 3000);
  std::string dirs;
  for (auto& [c, v] : m["custodians"].items()) {
    ASSERT_EQ(Sh(Ark() + " pseudonymise --key " + (r / "key").string() + " --custodian " + c + " --in " +
                  (r / "s" / c).string() + " --out " + (r / "p" / c).string(), &out), 0) << out;
    dirs += " " + (r / "p" / c).string();
  }
  ASSERT_EQ(Sh(Ark() + " init " + (r / "ark").string(), &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " ingest " + (r / "ark").string() + dirs, &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " link " + (r / "ark").string() + " --truth " + (r / "s/truth").string() + " --json 2>/dev/null", &out), 0) << out;
  Json link = Json::parse(out);
  EXPECT_GE(link["precision"].get<double>(), 0.99);
  EXPECT_GT(link["recall"].get<double>(), 0.8);
  ASSERT_EQ(Sh(Ark() + " build " + (r / "ark").string(), &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " stats " + (r / "ark").string() + " --json 2>/dev/null", &out), 0) << out;
  Json st = Json::parse(out);
  EXPECT_GT(st["events"].get<int64_t>(), 30000);
  EXPECT_GE(st["persons"].get<int64_t>(), 2400);
  EXPECT_LE(st["persons"].get<int64_t>(), 4500);
  EXPECT_LE(st["bytes_on_disk"].get<double>() / st["events"].get<double>(), 8.0);
  ASSERT_EQ(Sh(Ark() + " verify " + (r / "ark").string(), &out), 0) << out;

  // No NHS number or name from the raw extracts anywhere in the Ark directory (by bytes).
  std::set<std::string> nums, names;
  const std::regex digits10("[0-9]{10}");
  for (auto& e : fs::recursive_directory_iterator(r / "s")) {
    if (!e.is_regular_file() || e.path().extension() != ".csv" || e.path().string().find("/truth") != std::string::npos) continue;
    std::ifstream f(e.path());
    std::string header, line;
    std::getline(f, header);
    std::vector<std::string> cols;
    std::stringstream hs(header);
    for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
    for (int i = 0; i < 3000 && std::getline(f, line); ++i) {
      std::stringstream ls(line);
      size_t k = 0;
      for (std::string v; std::getline(ls, v, ','); ++k) {
        if (k >= cols.size()) break;
        std::string v2 = v;
        v2.erase(std::remove(v2.begin(), v2.end(), ' '), v2.end());
        if (cols[k].find("nhs") != std::string::npos && std::regex_match(v2, digits10)) nums.insert(v2);
        if (cols[k].find("name") != std::string::npos && v.size() >= 5) names.insert(v);
      }
    }
  }
  ASSERT_GT(nums.size(), 100u);
  ASSERT_GT(names.size(), 100u);
  std::vector<std::string> hits;
  for (auto& e : fs::recursive_directory_iterator(r / "ark")) {
    if (!e.is_regular_file()) continue;
    const std::string blob = Slurp(e.path());
    for (auto& n : nums) if (blob.find(n) != std::string::npos) hits.push_back(n + " in " + e.path().string());
    // Names count as found only as whole words (as a person would read them).
    for (auto& n : names) {
      for (size_t pos = blob.find(n); pos != std::string::npos; pos = blob.find(n, pos + 1)) {
        auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '\'' || c == '-'; };
        if ((pos == 0 || !word(blob[pos - 1])) && (pos + n.size() >= blob.size() || !word(blob[pos + n.size()]))) {
          hits.push_back(n + " in " + e.path().string());
          break;
        }
      }
    }
    if (hits.size() > 5) break;
  }
  EXPECT_TRUE(hits.empty()) << hits.front();
}

// `ark demo` leaves a report with charts and a summary naming the Ark.
TEST_F(EndToEnd, DemoWritesReport) {
  const fs::path d = root_ / "demo";
  std::string out;
  ASSERT_EQ(Sh(Ark() + " demo --people 1500 --out " + d.string(), &out), 0) << out;
  const std::string html = Slurp(d / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Emergency admissions per 1,000"), std::string::npos);
  // The practices and small areas section: in the contents, with its funnel plot and shrunk rates.
  EXPECT_NE(html.find("<a href=\"#where-need-is-highest-practices-and-small-areas\">"), std::string::npos);
  EXPECT_NE(html.find("<h2 id=\"where-need-is-highest-practices-and-small-areas\">"), std::string::npos);
  EXPECT_NE(html.find("<title>99.8% limit (upper)</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>shrunk ratio</title>"), std::string::npos);
  // Small areas as a grid of tiles (said not to be a map) and ranked by excess admissions.
  EXPECT_NE(html.find("<figcaption>Not a map: the synthetic region has no coordinates"), std::string::npos);
  EXPECT_NE(html.find("Where extra capacity would prevent the most admissions"), std::string::npos);
  // The targeting section: a model trained in its own approved planning project, its card's
  // headline figures beside the oracle's, calibration and fairness charts, and the remedy.
  EXPECT_NE(html.find("<h2 id=\"targeting-who-is-most-likely-to-be-admitted-as-an-emergency\">"), std::string::npos);
  EXPECT_NE(html.find("<code>demo-targeting</code>"), std::string::npos);
  EXPECT_NE(html.find("The best possible on this region: its true risks (the oracle)"), std::string::npos);
  EXPECT_NE(html.find("Predicted against observed, by risk decile"), std::string::npos);
  EXPECT_NE(html.find("Errors at the top-5% threshold, by deprivation quintile"), std::string::npos);
  EXPECT_NE(html.find("A remedy for the gap"), std::string::npos);
  EXPECT_TRUE(fs::exists(d / "targeting" / "model_remedy" / "model.json"));
  // The released file is shown as a table, not as raw CSV; the governance tables of words are left-aligned.
  const size_t released = html.find("<h3>Released: ");
  ASSERT_NE(released, std::string::npos);
  EXPECT_EQ(html.compare(html.find("</h3>", released) + 6, 11, "<table><tr>"), 0);
  EXPECT_NE(html.find("<h3>Refused, as they must be</h3>\n<table class=\"text\">"), std::string::npos);
  EXPECT_NE(html.find("table.text td"), std::string::npos);
  Json s = Json::parse(Slurp(d / "summary.json"));
  EXPECT_TRUE(fs::is_directory(s["ark"].get<std::string>()));
  EXPECT_GT(s["targeting"]["auroc"]["estimate"].get<double>(), 0.5);
  EXPECT_EQ(s["targeting"]["project"], "demo-targeting");
  // Running it again replaces the earlier output (idempotent).
  ASSERT_EQ(Sh(Ark() + " demo --people 1500 --out " + d.string(), &out), 0) << out;
}

// kill -9 at random moments during `ark build`: the store always opens and verifies, with either
// the previous version or the new one.
TEST_F(EndToEnd, BuildCrash) {
  const fs::path d = root_ / "crash";
  std::string out;
  ASSERT_EQ(Sh(Ark() + " demo --people 30000 --out " + d.string(), &out), 0) << out;
  const std::string ark = (d / "ark").string();
  ASSERT_EQ(Sh(Ark() + " stats " + ark + " --json 2>/dev/null", &out), 0);
  const int64_t events = Json::parse(out)["events"];
  // How long one build takes here, so that the kills land inside it.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Sh(Ark() + " build " + ark), 0);
  const int build_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t0).count());
  std::mt19937 rng(7);
  for (int i = 0; i < 8; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(ARK_BINARY, ARK_BINARY, "build", ark.c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, std::max(2, build_ms))(rng)));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ASSERT_EQ(Sh(Ark() + " verify " + ark, &out), 0) << "after kill " << i << ": " << out;
    ASSERT_EQ(Sh(Ark() + " stats " + ark + " --json 2>/dev/null", &out), 0) << out;
    EXPECT_EQ(Json::parse(out)["events"].get<int64_t>(), events);
  }
}

// Bad input through the CLI: non-zero exit, the file named on stderr, nothing loaded.
TEST_F(EndToEnd, MalformedExtractFailsCleanly) {
  const fs::path r = root_ / "bad";
  std::string out;
  ASSERT_EQ(Sh(Ark() + " synth --people 300 --seed 3 --out " + (r / "s").string(), &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " keygen --out " + (r / "key").string()), 0);
  ASSERT_EQ(Sh(Ark() + " pseudonymise --key " + (r / "key").string() + " --custodian gp --in " + (r / "s/gp").string() +
                " --out " + (r / "p/gp").string(), &out), 0) << out;
  {
    std::ofstream f(r / "p/gp/events.csv", std::ios::app);
    f << "1,2020-01-01\n";
  }
  ASSERT_EQ(Sh(Ark() + " init " + (r / "ark").string()), 0);
  EXPECT_EQ(Sh(Ark() + " ingest " + (r / "ark").string() + " " + (r / "p/gp").string(), &out), 1);
  EXPECT_NE(out.find("events.csv:"), std::string::npos) << out;
  EXPECT_NE(out.find("expected 5 fields, found 2"), std::string::npos) << out;
  EXPECT_NE(Sh(Ark() + " link " + (r / "ark").string(), &out), 0);  // nothing to link
  EXPECT_NE(Sh(Ark() + " frobnicate"), 0);
  EXPECT_NE(Sh(Ark() + " ingest"), 0);
}

}  // namespace
