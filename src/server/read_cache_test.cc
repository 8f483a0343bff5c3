#include "server/read_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/fs.h"
#include "governance/ledger.h"

namespace ark::server {
namespace {

std::string TempArk(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "read_cache_" + name + "_" + std::to_string(::getpid());
  (void)RemoveAll(dir);
  return dir;
}

TEST(ReadCache, ThreadCatalogSeesCommitsAndFollowsAReplacedFile) {
  const std::string ark = TempArk("catalog");
  EXPECT_FALSE(ThreadCatalog(ark).ok());  // not an Ark: Open's error
  ASSERT_TRUE(Catalog::Create(ark).ok());
  auto kept = ThreadCatalog(ark);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  {
    auto writer = Catalog::Open(ark);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->SetMeta("probe", "one").ok());
  }
  auto again = ThreadCatalog(ark);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *kept);  // the same kept connection...
  auto v = (*again)->GetMeta("probe");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "one");  // ...sees the other connection's commit

  // The Ark is made again in the same place: the kept connection is to the old file.
  ASSERT_TRUE(RemoveAll(ark).ok());
  ASSERT_TRUE(Catalog::Create(ark).ok());
  auto fresh = ThreadCatalog(ark);
  ASSERT_TRUE(fresh.ok());
  auto gone = (*fresh)->GetMeta("probe");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  ASSERT_TRUE(RemoveAll(ark).ok());
  EXPECT_FALSE(ThreadCatalog(ark).ok());
}

TEST(ReadCache, CatalogAnswerIsKeptUntilAnotherConnectionCommits) {
  const std::string ark = TempArk("answer");
  ASSERT_TRUE(Catalog::Create(ark).ok());
  int computed = 0;
  auto probe = [&](Catalog& cat) -> Result<std::string> {
    ++computed;
    ARK_ASSIGN_OR_RETURN(auto v, cat.GetMeta("probe"));
    return v.value_or("none");
  };
  auto first = CatalogAnswer(ark, "probe", probe);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, "none");
  auto again = CatalogAnswer(ark, "probe", probe);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "none");
  EXPECT_EQ(computed, 1);  // nothing committed since: the kept answer
  EXPECT_EQ(*CatalogAnswer(ark, "other key", probe), "none");
  EXPECT_EQ(computed, 2);  // each key its own answer

  // A decision committed by another connection (the CLI, a write handler) is in the next answer.
  {
    auto writer = Catalog::Open(ark);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->SetMeta("probe", "decided").ok());
  }
  auto after = CatalogAnswer(ark, "probe", probe);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, "decided");
  EXPECT_EQ(computed, 3);
  EXPECT_EQ(*CatalogAnswer(ark, "probe", probe), "decided");
  EXPECT_EQ(computed, 3);

  // An error is returned and not kept.
  auto failing = [&](Catalog&) -> Result<std::string> {
    ++computed;
    return Status::IOError("disk gone");
  };
  EXPECT_EQ(CatalogAnswer(ark, "fails", failing).status().code(), StatusCode::kIOError);
  EXPECT_EQ(CatalogAnswer(ark, "fails", failing).status().code(), StatusCode::kIOError);
  EXPECT_EQ(computed, 5);

  // The Ark made again in the same place: its answers, not the old file's.
  ASSERT_TRUE(RemoveAll(ark).ok());
  ASSERT_TRUE(Catalog::Create(ark).ok());
  EXPECT_EQ(*CatalogAnswer(ark, "probe", probe), "none");
  EXPECT_EQ(computed, 6);
  ASSERT_TRUE(RemoveAll(ark).ok());
  EXPECT_FALSE(CatalogAnswer(ark, "probe", probe).ok());
}

TEST(ReadCache, CheckpointIsVerifiedAgainWhenItChanges) {
  const std::string ark = TempArk("checkpoint");
  ASSERT_TRUE(Catalog::Create(ark).ok());
  CheckpointCache cache;
  auto none = cache.Get(ark);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  uint64_t size = 0;
  {
    auto ledger = gov::Ledger::Open(ark);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ASSERT_TRUE((*ledger)->Append(gov::Json{{"type", "test"}}).ok());
    auto first = cache.Get(ark);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    size = (*first)->cp.size;
    auto same = cache.Get(ark);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->get(), first->get());  // unchanged files: the kept, verified value
    ASSERT_TRUE((*ledger)->Append(gov::Json{{"type", "test"}}).ok());
  }
  auto next = cache.Get(ark);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)->cp.size, size + 1);

  // A checkpoint altered on disk is not served: its signature does not verify.
  const std::string file = gov::LedgerDirOf(ark) + "/checkpoint";
  auto note = ReadFile(file);
  ASSERT_TRUE(note.ok());
  std::string forged = *note;
  const std::string size_line = "\n" + std::to_string(size + 1) + "\n";
  ASSERT_NE(forged.find(size_line), std::string::npos) << forged;
  forged.replace(forged.find(size_line), size_line.size(), "\n" + std::to_string(size + 7) + "\n");
  ASSERT_TRUE(WriteFileAtomic(file, forged).ok());
  EXPECT_FALSE(cache.Get(ark).ok());
  (void)RemoveAll(ark);
}

}  // namespace
}  // namespace ark::server
