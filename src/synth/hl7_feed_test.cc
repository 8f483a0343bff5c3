// The synthetic HL7 feed: every message parses and maps to a record, time order, counts match
// the acute extract, deterministic, and AKI fires on its creatinine results.
#include "core/process.h"
#include "synth/hl7_feed.h"

#include <gtest/gtest.h>

#include <map>

#include "clinical/aki.h"
#include "clinical/news2.h"
#include "core/fs.h"
#include "live/record.h"
#include "store/store_test_util.h"
#include "synth/synth.h"

namespace ark::synth {
namespace {

size_t DataRows(const std::string& path) {
  auto t = ReadFile(path);
  EXPECT_TRUE(t.ok()) << path;
  size_t n = 0;
  for (char c : *t) n += c == '\n';
  return n - 1;
}

std::vector<std::string> Messages(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    EXPECT_NE(end, std::string::npos) << "every message ends with LF";
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

TEST(SynthHl7Feed, ConsistentWithTheAcuteExtract) {
  const std::string dir = store::testing::TempDir("hl7feed");
  SynthOptions o;
  o.people = 3000;
  o.years = 3;
  o.seed = 5;
  o.out_dir = dir;
  ASSERT_TRUE(GenerateRegion(o).ok());
  auto rep = WriteHl7Feed(dir, o.seed);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  auto text = ReadFile(dir + "/acute/feed.hl7");
  ASSERT_TRUE(text.ok());
  // Same content for the same seed; other delays for another seed.
  auto again = WriteHl7Feed(dir, o.seed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*ReadFile(dir + "/acute/feed.hl7"), *text);
  EXPECT_EQ(rep->admits, DataRows(dir + "/acute/inpatient_spells.csv"));
  EXPECT_EQ(rep->registrations, DataRows(dir + "/acute/ae_attendances.csv"));
  EXPECT_GT(rep->transfers, 0u);
  EXPECT_GT(rep->results, 0u);

  std::vector<std::string> msgs = Messages(*text);
  ASSERT_EQ(msgs.size(), rep->messages);
  Seconds last = INT64_MIN;
  std::map<std::string, std::vector<clinical::Creatinine>> creat;  // by MRN
  std::map<std::string, int> kinds;
  int aki = 0, with_nhs = 0, vital_sets = 0, news5 = 0, news0 = 0;
  for (const std::string& raw : msgs) {
    auto m = hl7::Message::Parse(raw);
    ASSERT_TRUE(m.ok()) << m.status().ToString() << "\n" << raw;
    auto r = live::FromHl7(*m);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << raw;
    EXPECT_GE(r->message_time, last) << "time order";
    last = r->message_time;
    kinds[r->message_type]++;
    with_nhs += !r->patient.nhs_number.empty();
    EXPECT_EQ(r->patient.mrn.size(), 9u);
    clinical::Vitals v;
    int params = 0;
    for (const live::Observation& ob : r->observations) {
      double* slot = ob.code == "9279-1" ? &v.resp_rate : ob.code == "59408-5" ? &v.spo2 : ob.code == "8480-6" ? &v.systolic
                   : ob.code == "8867-4" ? &v.pulse : ob.code == "8310-5" ? &v.temperature : nullptr;
      if (slot) *slot = ob.value, params++;
      if (ob.code == "3151-8") v.on_oxygen = ob.value > 0;
    }
    if (params == 5) {
      vital_sets++;
      int score = clinical::News2(v).score;
      news5 += score >= 5;
      news0 += score == 0;
    }
    for (const live::Observation& ob : r->observations) {
      double v = clinical::CreatinineUmolPerL(ob.system, ob.code, ob.value, ob.unit);
      if (std::isnan(v)) continue;
      auto& h = creat[r->patient.mrn];
      aki += clinical::AkiStage(h, {ob.time, v}) > 0;
      h.push_back({ob.time, v});
    }
  }
  EXPECT_EQ(kinds["ADT^A01"], static_cast<int>(rep->admits));
  EXPECT_EQ(kinds["ADT^A02"], static_cast<int>(rep->transfers));
  EXPECT_EQ(kinds["ADT^A04"], static_cast<int>(rep->registrations));
  EXPECT_EQ(kinds["ORU^R01"], static_cast<int>(rep->results + rep->vitals));
  EXPECT_GT(with_nhs, static_cast<int>(msgs.size() * 9 / 10));
  EXPECT_GT(aki, 0) << "creatinine results raise AKI alerts";
  EXPECT_EQ(vital_sets, static_cast<int>(rep->vitals));
  EXPECT_GT(news5, 0) << "some vital-sign sets score NEWS2 >= 5";
  EXPECT_GT(news0, news5) << "most do not";
  // The first spell's A01 carries the extract's values.
  auto spells = ReadFile(dir + "/acute/inpatient_spells.csv");
  std::string first = spells->substr(spells->find('\n') + 1);
  first = first.substr(0, first.find('\n'));  // 2000001,Mxxxxxxxx,YYYY-MM-DD HH:MM,method,...
  const std::string mrn = first.substr(8, 9);
  bool found = false;
  for (const std::string& raw : msgs) {
    if (raw.find("ADT^A01") == std::string::npos || raw.find("|2000001|") == std::string::npos) continue;
    auto r = live::FromHl7(*hl7::Message::Parse(raw));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->patient.mrn, mrn);
    EXPECT_EQ(r->admit_time, *ParseTime(first.substr(18, 16), "%Y-%m-%d %H:%M"));
    EXPECT_EQ(r->event_time, r->admit_time);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(SynthHl7Feed, CliFlag) {
  const std::string d = store::testing::TempDir("hl7feed_cli");
  const std::string cmd = std::string(ARK_BINARY) + " synth --people 300 --years 2 --seed 9 --quiet --hl7 --out " + d + " 2>&1";
  const CommandOutput r = RunCommand(cmd);
  const std::string& out = r.output;
  ASSERT_EQ(r.exit_code, 0) << out;
  EXPECT_NE(out.find("acute/feed.hl7"), std::string::npos) << out;
  auto text = ReadFile(d + "/acute/feed.hl7");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("MSH|^~\\&|", 0), 0u);
  EXPECT_FALSE(PathExists(d + "/acute/feed.hl7.tmp"));
}

TEST(SynthHl7Feed, MissingExtractIsAnError) {
  auto r = WriteHl7Feed(store::testing::TempDir("hl7feed_missing"), 1);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace ark::synth
