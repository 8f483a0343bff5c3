// Pseudonymise -> ingest -> link on a small hand-written GP extract, and the bad-input cases:
// each must fail with the file and place named and leave nothing loaded.
#include "ingest/ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "ingest/pseudonymise.h"
#include "ingest/staging.h"
#include "ingest/staging_guard.h"
#include "link/link.h"
#include "privacy/custodian_key.h"
#include "privacy/key.h"
#include <nlohmann/json.hpp>

namespace ark {
namespace {

namespace fs = std::filesystem;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ark_ingest_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "raw");
    Write("raw/patients.csv",
          "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
          "registered_from,registered_to\n"
          "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
          "P2,,Bob,Green,1970-12-31,M,LS2 2BB,E01000002,7,B86001,2016-05-01,2020-01-01\n"
          "P3,943 476 5870,Carol,White,1988-02-30,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n"
          "P4,1234567890,Dan,Black,1999-01-01,M,LS4 4DD,E01000003,,B86002,2018-01-01,\n");
    Write("raw/events.csv",
          "patient_id,event_date,snomed_code,value,unit\n"
          "P1,2020-01-02,271649006,140,mmHg\n"
          "P1,2020-01-02,44054006,,\n"
          "P2,2019-06-01,60621009,27.5,kg/m2\n"
          "P9,2019-06-01,60621009,27.5,kg/m2\n");  // orphan row: dropped and counted
    Write("raw/optouts.csv", "nhs_number\n9434765919\n");
    auto k = ProgrammeKey::Generate();
    ASSERT_TRUE(k.ok());
    key_ = *k;
    auto spec = BuiltinFeedSpec("gp");
    ASSERT_TRUE(spec.ok());
    spec_ = *spec;
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  std::string P(const std::string& rel) { return (root_ / rel).string(); }

  fs::path root_;
  ProgrammeKey key_;
  FeedSpec spec_;
};

TEST_F(IngestTest, PseudonymiseIngestLink) {
  auto r = Pseudonymise(spec_, key_, P("raw"), P("out/gp"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 4u);
  EXPECT_EQ(r->nhs_valid, 2u);
  EXPECT_EQ(r->nhs_missing, 1u);
  EXPECT_EQ(r->nhs_invalid, 1u);
  EXPECT_EQ(r->dob_invalid, 1u);  // 30 February
  EXPECT_EQ(r->orphan_rows, 1u);
  EXPECT_EQ(r->optouts, 1u);
  // No identifier survives pseudonymisation.
  for (auto& f : fs::directory_iterator(P("out/gp"))) {
    auto text = ReadFile(f.path().string());
    ASSERT_TRUE(text.ok());
    for (const char* id : {"9434765919", "Alice", "Brown", "LS1 1AA", "P1,", "1950-03-04"}) {
      EXPECT_EQ(text->find(id), std::string::npos) << id << " in " << f.path();
    }
  }
  auto cat = Catalog::Create(P("ark"));
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  auto in = Ingest(**cat, {P("out/gp")}, {});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].records, 4u);
  EXPECT_EQ((*in)[0].events, 4u + 3u);  // 4 registrations + 3 coded events
  // The same extract twice is refused.
  EXPECT_EQ(Ingest(**cat, {P("out/gp")}, {}).status().code(), StatusCode::kFailedPrecondition);
  auto l = LinkDeterministic(**cat, "");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->persons, 4u);
  EXPECT_EQ(l->feeds["gp"].linked, 2u);
  // Keys are stable across runs.
  auto b = (*cat)->Batches();
  auto k1 = ReadPersonKeys(P("ark"), (*b)[0].id, 4);
  ASSERT_TRUE(LinkDeterministic(**cat, "").ok());
  auto k2 = ReadPersonKeys(P("ark"), (*b)[0].id, 4);
  EXPECT_EQ(*k1, *k2);
  auto staged = ReadStagedBatch(P("ark/") + (*b)[0].dir + "/batch.bin");
  ASSERT_TRUE(staged.ok());
  EXPECT_EQ(staged->records[0].birth_year, 1950);
  EXPECT_EQ(staged->records[0].birth_month, 3);
  EXPECT_EQ(staged->records[3].imd_decile, 0);
}

// An ingest killed between publishing its batch directory and the catalog's commit left
// staging/000001-gp behind, unlisted: the next ingest got the same number and failed with
// "already exists" for ever. A killed writer's .tmp-* directory was never removed either.
TEST_F(IngestTest, LeftoversOfAKilledIngestAreRemovedAndTheNextIngestWorks) {
  ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/gp")).ok());
  auto cat = Catalog::Create(P("ark"));
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  fs::create_directories(P("ark/staging/000001-gp"));
  Write("ark/staging/000001-gp/batch.bin", "half");
  fs::create_directories(P("ark/staging/.tmp-99999-000001-gp"));
  fs::create_directories(P("ark/staging/notes"));  // not ours: left alone
  {
    // While another writer holds the staging lock, ingest is refused, naming the Ark.
    auto held = StagingGuard::Acquire(**cat);
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto busy = Ingest(**cat, {P("out/gp")}, {});
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(busy.status().message().find("another ingest or import"), std::string::npos);
  }
  auto in = Ingest(**cat, {P("out/gp")}, {});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0].batch, 1);
  EXPECT_FALSE(fs::exists(P("ark/staging/.tmp-99999-000001-gp")));
  EXPECT_TRUE(fs::exists(P("ark/staging/notes")));
  auto b = (*cat)->Batches();
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  auto staged = ReadStagedBatch(P("ark/") + (*b)[0].dir + "/batch.bin");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();  // the new batch, not the leftover
  EXPECT_EQ(staged->records.size(), 4u);
}

// Chunks are pseudonymised in parallel: the output is the same byte for byte for any thread
// count, and errors still name the first bad line in file order.
TEST_F(IngestTest, PseudonymiseGivesTheSameOutputOnAnyNumberOfThreads) {
  std::string patients =
      "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,practice_code,"
      "registered_from,registered_to\n";
  std::string events = "patient_id,event_date,snomed_code,value,unit\n";
  for (int i = 0; i < 600; ++i) {
    const std::string id = "P" + std::to_string(i);
    patients += id + "," + (i % 7 == 0 ? "" : "9434765919") + ",Ann" + std::to_string(i % 13) + ",Lee" +
                std::to_string(i % 17) + ",1950-03-0" + std::to_string(1 + i % 9) + (i % 2 ? ",F," : ",M,") +
                "LS1 1AA,E0100000" + std::to_string(i % 5) + ",3,B86001,2015-01-01,\n";
    for (int k = 0; k < 1 + i % 4; ++k) events += id + ",2020-01-0" + std::to_string(1 + k) + ",271649006," + std::to_string(120 + k) + ",mmHg\n";
    if (i % 50 == 0) events += "X" + std::to_string(i) + ",2020-01-02,44054006,,\n";  // orphan
  }
  Write("raw/patients.csv", patients);
  Write("raw/events.csv", events);
  auto one = Pseudonymise(spec_, key_, P("raw"), P("out/t1"), false, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  auto three = Pseudonymise(spec_, key_, P("raw"), P("out/t3"), false, 3);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(one->records, 600u);
  EXPECT_EQ(three->records, 600u);
  EXPECT_EQ(three->orphan_rows, 12u);
  EXPECT_EQ(three->nhs_missing, one->nhs_missing);
  EXPECT_EQ(three->files, one->files);
  for (const char* f : {"records.csv", "events.csv", "optouts.csv", "manifest.json"}) {
    auto a = ReadFile(P("out/t1/") + f), b = ReadFile(P("out/t3/") + f);
    ASSERT_TRUE(a.ok() && b.ok()) << f;
    EXPECT_TRUE(*a == *b) << f << " differs between 1 and 3 threads";
  }
  // A duplicate local id late in the file and a bad row after it: the duplicate is reported.
  std::string dup = patients;
  dup += "P3,,Zed,Zed,1950-01-01,M,LS1 1AA,E01000001,3,B86001,2015-01-01,\n";
  dup += "P9999,,Zed\n";
  Write("raw/patients.csv", dup);
  auto d = Pseudonymise(spec_, key_, P("raw"), P("out/dup"), false, 3);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("patients.csv:602: column 'patient_id': duplicate local identifier"),
            std::string::npos)
      << d.status().message();
  EXPECT_FALSE(fs::exists(P("out/dup")));
}

class BadInputTest : public IngestTest {
 protected:
  // Pseudonymises the good extract, lets `corrupt` edit it, and expects ingest to fail with
  // `want` in the message and nothing loaded.
  void Expect(const std::function<void()>& corrupt, const std::string& want) {
    ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/gp")).ok());
    corrupt();
    auto cat = Catalog::Create(P("ark"));
    ASSERT_TRUE(cat.ok());
    auto in = Ingest(**cat, {P("out/gp")}, {});
    ASSERT_FALSE(in.ok()) << "expected failure: " << want;
    EXPECT_NE(in.status().message().find(want), std::string::npos) << in.status().message();
    auto b = (*cat)->Batches();
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->empty());
    if (fs::exists(P("ark/staging"))) {
      for (auto& e : fs::directory_iterator(P("ark/staging"))) ADD_FAILURE() << "left behind: " << e.path();
    }
  }
};

// Signed custodian manifests (issue 13): with the custodian's key registered on the Ark, ingest
// refuses an unsigned manifest, an opt-out list edited together with its manifest, and a manifest
// signed with another key, naming the file; it accepts the custodian's own signature.
class SignedManifestTest : public IngestTest {
 protected:
  void SetUp() override {
    IngestTest::SetUp();
    auto k = CustodianKey::Generate("gp");
    ASSERT_TRUE(k.ok());
    gp_key_ = *k;
    ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/gp")).ok());
    ASSERT_TRUE(SignExtract(gp_key_, P("out/gp")).ok());
    auto cat = Catalog::Create(P("ark"));
    ASSERT_TRUE(cat.ok());
    cat_ = std::move(*cat);
    ASSERT_TRUE(RegisterCustodianKey(*cat_, "gp", gp_key_.PublicKeyHex(), "admin").ok());
  }
  // "" when ingest succeeds, else its message (and then nothing is loaded).
  std::string IngestError() {
    auto in = Ingest(*cat_, {P("out/gp")}, {});
    if (in.ok()) return "";
    EXPECT_TRUE(cat_->Batches()->empty());
    return in.status().message();
  }
  std::string BatchManifest() {
    auto q = cat_->Prepare("SELECT manifest FROM batches");
    EXPECT_TRUE(q.ok() && *(*q)->Step());
    return (*q)->Text(0);
  }

  CustodianKey gp_key_ = *CustodianKey::Generate("x");
  std::unique_ptr<Catalog> cat_;
};

TEST_F(SignedManifestTest, GoodSignatureIsAccepted) {
  EXPECT_EQ(IngestError(), "");
  EXPECT_NE(BatchManifest().find("\"custodian_signature\":\"verified\""), std::string::npos) << BatchManifest();
}

// Whoever can edit both the opt-out list and the manifest drops an opt-out and fixes the
// manifest's count and fingerprint: the counts agree, the signature does not.
TEST_F(SignedManifestTest, TamperedListAndManifestAreCaught) {
  Write("out/gp/optouts.csv", "nhs_pseudonym\n");
  auto m = nlohmann::ordered_json::parse(*ReadFile(P("out/gp/manifest.json")));
  m["optouts"] = 0;
  m["optouts_sha256"] = Sha256Hex(*ReadFile(P("out/gp/optouts.csv")));
  m["files"]["optouts.csv"] = 0;
  Write("out/gp/manifest.json", m.dump(2) + "\n");
  const std::string e = IngestError();
  EXPECT_NE(e.find("out/gp/manifest.sig: the signature of manifest.json is not custodian 'gp's registered key"), std::string::npos) << e;
}

TEST_F(SignedManifestTest, WrongKeyIsCaught) {
  auto other = CustodianKey::Generate("gp");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(SignExtract(*other, P("out/gp")).ok());
  const std::string e = IngestError();
  EXPECT_NE(e.find("manifest.sig: the signature of manifest.json is not custodian 'gp's registered key"), std::string::npos) << e;
}

TEST_F(SignedManifestTest, UnsignedManifestIsRefused) {
  fs::remove(P("out/gp/manifest.sig"));
  const std::string e = IngestError();
  EXPECT_NE(e.find("out/gp/manifest.json: unsigned (no manifest.sig), but custodian 'gp' has a registered signing key"), std::string::npos) << e;
}

// A custodian with no registered key: accepted (and recorded as such) on an Ark that does not
// enforce governance, refused on one that does.
TEST_F(SignedManifestTest, CustodianWithoutARegisteredKey) {
  ASSERT_TRUE(cat_->Exec("DELETE FROM custodian_keys").ok());
  ASSERT_TRUE(cat_->SetMeta("governance_enforced", "1").ok());
  const std::string e = IngestError();
  EXPECT_NE(e.find("custodian 'gp' has no registered signing key, and this Ark enforces governance"), std::string::npos) << e;
  ASSERT_TRUE(cat_->SetMeta("governance_enforced", "0").ok());
  EXPECT_EQ(IngestError(), "");
  EXPECT_NE(BatchManifest().find("signed; custodian key not registered (not verified)"), std::string::npos) << BatchManifest();
}

TEST(CustodianKey, SavesLoadsAndRefusesAnotherCustodiansExtract) {
  const std::string dir = (fs::temp_directory_path() / ("ark_custkey_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir + "/x");
  auto k = CustodianKey::Generate("acute");
  ASSERT_TRUE(k.ok());
  ASSERT_TRUE(k->Save(dir + "/k").ok());
  EXPECT_FALSE(k->Save(dir + "/k").ok());  // never overwrites
  EXPECT_EQ(fs::status(dir + "/k").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  auto l = CustodianKey::Load(dir + "/k");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->PublicKeyHex(), k->PublicKeyHex());
  std::ofstream(dir + "/x/manifest.json") << "{\"custodian\": \"gp\"}\n";
  Status s = SignExtract(*l, dir + "/x");
  EXPECT_NE(s.message().find("the extract is custodian 'gp's, but the key is custodian 'acute's"), std::string::npos) << s.message();
  fs::remove_all(dir);
}

TEST_F(BadInputTest, WrongColumnCount) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,2,x\n1,2020-01-02\n"); },
         "events.csv:3: expected 5 fields, found 2");
}

TEST_F(BadInputTest, InvalidDate) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-13-02,1,2,x\n"); },
         "events.csv:2: column 'event_date': '2020-13-02' is not a time");
}

TEST_F(BadInputTest, NotANumber) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,abc,x\n"); },
         "events.csv:2: column 'value': 'abc' is not a number");
}

TEST_F(BadInputTest, NonUtf8) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-01-02,\xFF\xFE,2,x\n"); },
         "events.csv: line 2, byte 14: not valid UTF-8");
}

TEST_F(BadInputTest, EmptyFile) {
  Expect([&] { Write("out/gp/events.csv", ""); }, "events.csv: empty file");
}

TEST_F(BadInputTest, TruncatedRecords) {
  Expect([&] {
    auto t = ReadFile(P("out/gp/records.csv"));
    Write("out/gp/records.csv", t->substr(0, t->rfind('\n', t->size() - 2) + 1));
  }, "records.csv: 3 records but the manifest says 4");
}

// Cut at a line end, a file parses cleanly: only the manifest's row count shows the loss.
TEST_F(BadInputTest, EventsTruncatedAtALineEnd) {
  Expect([&] {
    auto t = ReadFile(P("out/gp/events.csv"));
    Write("out/gp/events.csv", t->substr(0, t->rfind('\n', t->size() - 2) + 1));
  }, "events.csv: expected 3 rows (manifest.json), found 2");
}

TEST_F(BadInputTest, OptOutsTruncated) {
  Expect([&] { Write("out/gp/optouts.csv", "nhs_pseudonym\n"); },
         "optouts.csv: 0 opt-outs but the manifest declares 1 (opt-outs fail closed)");
}

// The Ark built without an extract's opt-outs when its feed spec lost the opt-out list: a
// custodian that declares opt-outs cannot be ingested without them.
TEST_F(BadInputTest, FeedSpecWithoutItsOptOutList) {
  Expect([&] {
    std::string spec = *ReadFile(P("out/gp/feed.yaml"));
    const size_t at = spec.find("\noptouts:");
    ASSERT_NE(at, std::string::npos) << spec;
    spec.erase(at + 1, spec.find('\n', at + 1) - at);
    Write("out/gp/feed.yaml", spec);
  }, "the manifest declares 1 opt-outs but the feed spec names no opt-out list");
}

// Another list of the same length: only the custodian's fingerprint shows it.
TEST_F(BadInputTest, OptOutListReplaced) {
  Expect([&] { Write("out/gp/optouts.csv", "nhs_pseudonym\n" + std::string(64, 'a') + "\n"); },
         "optouts.csv: does not match the fingerprint in manifest.json (optouts_sha256)");
}

TEST_F(BadInputTest, ManifestRowCountAltered) {
  Expect([&] {
    auto m = ReadFile(P("out/gp/manifest.json"));
    std::string t = *m;
    const std::string was = "\"events.csv\": 3";
    const size_t at = t.find(was);
    ASSERT_NE(at, std::string::npos) << t;
    t.replace(at, was.size(), "\"events.csv\": 4");
    Write("out/gp/manifest.json", t);
  }, "events.csv: expected 4 rows (manifest.json), found 3");
}

// Wrong JSON types in the manifest are bad input naming the field (they threw type_error before).
TEST_F(BadInputTest, ManifestFieldOfTheWrongType) {
  Expect([&] {
    auto m = ReadFile(P("out/gp/manifest.json"));
    std::string t = *m;
    const size_t at = t.find("\"custodian\": \"gp\"");
    ASSERT_NE(at, std::string::npos) << t;
    t.replace(at, std::string("\"custodian\": \"gp\"").size(), "\"custodian\": 7");
    Write("out/gp/manifest.json", t);
  }, "manifest.json: field 'custodian' must be a string, found 7");
}

TEST_F(BadInputTest, NulInCode) {
  using namespace std::string_literals;
  Expect([&] {
    Write("out/gp/events.csv",
          "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,2,x\n1,2020-01-02,114\0 29006,2,x\n2,2020-01-03,5,,\n"s);
  },
         "events.csv:3: column 'snomed_code': control character 0x00 at byte 4 of '114\\x00 29006'");
}

TEST_F(BadInputTest, NulInUnit) {
  using namespace std::string_literals;
  Expect([&] {
    Write("out/gp/events.csv",
          "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,2,x\n1,2020-01-02,1,2,mm\0Hg\n2,2020-01-03,5,,\n"s);
  },
         "events.csv:3: column 'unit': control character 0x00 at byte 3");
}

TEST_F(BadInputTest, ControlCharacterInPractice) {
  Expect([&] {
    auto t = ReadFile(P("out/gp/records.csv"));
    std::string s = *t;
    const size_t at = s.find("B86002");
    ASSERT_NE(at, std::string::npos);
    s.insert(at + 3, "\x01");
    Write("out/gp/records.csv", s);
  }, "records.csv:4: column 'practice': control character 0x01 at byte 4");
}

TEST_F(BadInputTest, TruncatedMidQuote) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-01-02,\"123"); },
         "events.csv:2: unterminated quoted field");
}

TEST_F(BadInputTest, UnknownRecord) {
  Expect([&] { Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n17,2020-01-02,1,,\n"); },
         "column 'record': '17' is not a record number");
}

TEST_F(IngestTest, KeyMismatchIsCaughtAtIngest) {
  ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/a")).ok());
  auto other = ProgrammeKey::Generate();
  ASSERT_TRUE(Pseudonymise(spec_, *other, P("raw"), P("out/b")).ok());
  auto cat = Catalog::Create(P("ark"));
  auto in = Ingest(**cat, {P("out/a"), P("out/b")}, {});
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("key mismatch"), std::string::npos) << in.status().message();
  ASSERT_TRUE(Ingest(**cat, {P("out/a")}, {}).ok());
  in = Ingest(**cat, {P("out/b")}, {});
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("key mismatch"), std::string::npos);
}

TEST_F(IngestTest, QuarantineSetsBadRowsAside) {
  ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/gp")).ok());
  Write("out/gp/events.csv", "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,2,x\n1,2020-99-02,1,2,x\n2,2020-01-03,5,,\n");
  auto cat = Catalog::Create(P("ark"));
  IngestOptions o;
  o.quarantine_dir = P("q");
  auto in = Ingest(**cat, {P("out/gp")}, o);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0].quarantined, 1u);
  EXPECT_EQ((*in)[0].events, 4u + 2u);
  auto q = ReadFile(P("q/gp/events.csv.rejected.csv"));
  ASSERT_TRUE(q.ok());
  EXPECT_NE(q->find("3,column 'event_date'"), std::string::npos) << *q;
}

// A code with a control character is set aside like any bad row; the codes stored are clean.
TEST_F(IngestTest, QuarantineSetsControlCharactersAside) {
  using namespace std::string_literals;
  ASSERT_TRUE(Pseudonymise(spec_, key_, P("raw"), P("out/gp")).ok());
  Write("out/gp/events.csv",
        "record,event_date,snomed_code,value,unit\n1,2020-01-02,1,2,x\n1,2020-01-02,114\0 29006,2,x\n2,2020-01-03,5,,\n"s);
  auto cat = Catalog::Create(P("ark"));
  IngestOptions o;
  o.quarantine_dir = P("q");
  auto in = Ingest(**cat, {P("out/gp")}, o);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0].quarantined, 1u);
  EXPECT_EQ((*in)[0].events, 4u + 2u);
  auto q = ReadFile(P("q/gp/events.csv.rejected.csv"));
  ASSERT_TRUE(q.ok());
  EXPECT_NE(q->find("3,column 'snomed_code': control character 0x00"), std::string::npos) << *q;
  auto b = (*cat)->Batches();
  ASSERT_TRUE(b.ok());
  auto staged = ReadStagedBatch(P("ark/") + (*b)[0].dir + "/batch.bin");
  ASSERT_TRUE(staged.ok());
  for (const std::string& c : staged->codes) EXPECT_EQ(c.find('\0'), std::string::npos) << c;
}

}  // namespace
}  // namespace ark
