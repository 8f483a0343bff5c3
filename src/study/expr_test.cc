// Expression parser limits: nesting deep enough to exhaust the stack is an error naming the
// place, not a crash (found by fuzz/study_fuzz; reproducer fuzz/regressions/study_fuzz/).
#include <gtest/gtest.h>

#include <string>

#include "study/definition.h"

namespace ark::study {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(StudyExpr, DeepParenthesesAreAnErrorNotACrash) {
  const std::string text = Repeat("(", 100000) + "1" + Repeat(")", 100000);
  auto e = ParseExpr(text, {}, "def.yaml", 7, 3);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("def.yaml:7:"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("nested too deeply"), std::string::npos)
      << e.status().message();
}

TEST(StudyExpr, DeepNotAndNegationAreAnErrorNotACrash) {
  auto n = ParseExpr(Repeat("not ", 100000) + "1 < 2", {}, "def.yaml", 1, 1);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("nested too deeply"), std::string::npos)
      << n.status().message();
  auto m = ParseExpr(Repeat("- ", 100000) + "1", {}, "def.yaml", 1, 1);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("nested too deeply"), std::string::npos)
      << m.status().message();
}

TEST(StudyExpr, NestingUpToTheLimitParses) {
  auto e = ParseExpr(Repeat("(", 250) + "1 + 2" + Repeat(")", 250) + " > 2", {}, "d", 1, 1);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, Type::kBool);
  auto n = ParseExpr(Repeat("not ", 250) + "1 < 2", {}, "d", 1, 1);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
}

}  // namespace
}  // namespace ark::study
