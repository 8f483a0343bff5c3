#include "ingest/feed_spec.h"

#include <gtest/gtest.h>

namespace ark {

TEST(FeedSpec, BuiltinsParse) {
  for (auto& name : BuiltinFeedNames()) {
    auto s = BuiltinFeedSpec(name);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    EXPECT_EQ(s->name, name);
    EXPECT_FALSE(s->events.empty());
  }
  EXPECT_EQ(BuiltinFeedSpec("nope").status().code(), StatusCode::kNotFound);
}

TEST(FeedSpec, ErrorsNameLineAndColumn) {
  auto s = ParseFeedSpec("feed: x\nidentity:\n  file: a.csv\n  id: id\n  nickname: n\n", "spec.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("spec.yaml:5:3: unknown key 'nickname'"), std::string::npos)
      << s.status().message();
  auto t = ParseFeedSpec("feed: x\nidentity: {file: a.csv, id: id}\nevents:\n  - file: e.csv\n    person: id\n"
                         "    time: {column: t, format: \"%H:%M\"}\n    code: {column: c, system: S}\n",
                         "s.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("must contain %Y"), std::string::npos) << t.status().message();
  auto u = ParseFeedSpec("feed: x\nidentity: {file: a.csv, id: id}\nevents:\n  - file: e.csv\n    person: id\n"
                         "    time: t\n    code: {system: S}\n", "s.yaml");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("exactly one of 'column' or 'value'"), std::string::npos);
  auto v = ParseFeedSpec("feed: [unclosed\n", "s.yaml");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("s.yaml:"), std::string::npos);
}

TEST(FeedSpec, PseudonymisedViewRenamesPersonAndIdentityFile) {
  auto s = BuiltinFeedSpec("gp");
  ASSERT_TRUE(s.ok());
  FeedSpec v = PseudonymisedView(*s);
  for (auto& e : v.events) EXPECT_EQ(e.person, "record");
  EXPECT_EQ(v.events[0].file, kRecordsFile);
  EXPECT_EQ(v.events[1].file, "events.csv");
  EXPECT_EQ(v.optouts->nhs_number, "nhs_pseudonym");
}

}  // namespace ark
