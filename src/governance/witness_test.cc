// Witnesses outside the Ark (witness.h, cosign.h): each attack of an operator who holds the Ark's
// directory and its signing key, done for real on a real ledger. Each passes plain `VerifyLedger`
// (as every attack passed `ark ledger verify` before witnesses) and fails against a witness.
#include "governance/witness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/fs.h"
#include "governance/checkpoint.h"
#include "governance/cosign.h"
#include "governance/ed25519.h"
#include "governance/encoding.h"
#include "governance/ledger.h"
#include "governance/ledger_key.h"
#include "governance/witness_http.h"

namespace ark::gov {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kNow = 1764763200;  // 2025-12-03T12:00:00Z: a fixed cosignature time

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("ark_witness_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())).string();
    fs::remove_all(root_);
    fs::create_directories(root_);
    ::setenv("ARK_LEDGER_KEY", (root_ + "/operator/").c_str(), 1);  // the operator's keys, outside the Ark
    ark_ = root_ + "/ark";
    dir_ = ark_ + "/ledger";
    Append(4, "run.executed");
    Append(1, "refusal");
    Append(5, "output.released");  // 10 entries, checkpoints at 0, 4, 5, 10
    auto c = Cosigner::Generate("regulator.example/witness");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->Save(root_ + "/regulator/w.key").ok());
    wkey_ = c->VerifierKey();
    auto w = Witness::Open(root_ + "/regulator/w.key", root_ + "/regulator/state");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    witness_ = std::make_unique<Witness>(std::move(*w));
    ASSERT_TRUE(witness_->TrustLog(*ReadFile(dir_ + "/ledger.pub")).ok());
  }
  void TearDown() override {
    ::unsetenv("ARK_LEDGER_KEY");
    fs::remove_all(root_);
  }

  void Append(int n, const std::string& type) {
    auto l = Ledger::Open(ark_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    std::vector<Json> batch;
    for (int i = 0; i < n; ++i) batch.push_back(Json{{"type", type}, {"by", "analyst" + std::to_string(i)}});
    ASSERT_TRUE((*l)->Append(batch).ok());
  }
  std::string Origin() { return NoteVerifier::Parse(*ReadFile(dir_ + "/ledger.pub"))->name(); }
  uint64_t WitnessSize() {
    auto latest = witness_->Latest(Origin());
    if (!latest.ok() || !*latest) return 0;
    return Checkpoint::ParseBody(SplitNote(**latest)->body)->size;
  }
  // The Ark asks the witness to cosign its latest checkpoint and stores the cosignature.
  Status Cosign() {
    ARK_ASSIGN_OR_RETURN(AddCheckpointRequest req, CosignRequest(dir_, WitnessSize()));
    uint64_t latest = 0;
    ARK_ASSIGN_OR_RETURN(std::string line, witness_->Add(req, kNow, &latest));
    return StoreCosignatures(dir_, req.checkpoint, line, wkey_);
  }
  // What a verifier does: the witness's key, and its latest cosigned checkpoint fetched from the
  // witness (not from the Ark).
  Result<LedgerReport> VerifyWithWitness(bool ask_witness = true) {
    VerifyOptions o;
    o.witnesses = {wkey_};
    if (ask_witness) o.cosigned = {**witness_->Latest(Origin())};
    return VerifyLedger(dir_, o);
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> out;
    std::string s = *ReadFile(dir_ + "/entries.jsonl");
    for (size_t p = 0; p < s.size();) {
      size_t e = s.find('\n', p);
      out.push_back(s.substr(p, e - p));
      p = e + 1;
    }
    return out;
  }
  // The operator's rewrite: new entries (renumbered), and checkpoints at `sizes` re-signed with
  // the Ark's own signing key (which the operator holds), replacing checkpoints.log.
  void Rewrite(std::vector<std::string> lines, const std::vector<uint64_t>& sizes) {
    auto key = LedgerKeyPath(ark_, Origin());
    ASSERT_TRUE(key.ok());
    auto signer = NoteSigner::Load(*key);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    std::string entries, log, note;
    merkle::MerkleTree t;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string& l = lines[i];
      l = "{\"seq\":" + std::to_string(i) + l.substr(l.find(','));
      entries += l + "\n";
      t.Append(merkle::LeafHash(l));
    }
    for (uint64_t n : sizes) {
      Checkpoint cp{Origin(), n, *t.Root(n)};
      note = *signer->SignNote(cp.Body());
      log += "note " + std::to_string(note.size()) + "\n" + note;
    }
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/entries.jsonl", entries).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/checkpoints.log", log).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/checkpoint", note).ok());
  }
  static void ExpectError(const Status& s, const std::string& part) {
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find(part), std::string::npos) << s.ToString();
  }

  std::string root_, ark_, dir_, wkey_;
  std::unique_ptr<Witness> witness_;
};

TEST_F(WitnessTest, WitnessCosignsAGrowingLedgerAndVerifyChecksIt) {
  ASSERT_TRUE(Cosign().ok());
  Append(5, "data.accessed");
  Status s = Cosign();  // from 10 to 15, with a consistency proof
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(WitnessSize(), 15u);
  auto rep = VerifyWithWitness();
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->witnessed.size(), 1u);
  EXPECT_EQ(rep->witnessed[0].first, "regulator.example/witness");
  EXPECT_EQ(rep->witnessed[0].second, 15u);
  // The witness's state outlives its process: a new one refuses an old size and says its own.
  auto again = Witness::Open(root_ + "/regulator/w.key", root_ + "/regulator/state");
  ASSERT_TRUE(again.ok());
  auto req = CosignRequest(dir_, 10);
  ASSERT_TRUE(req.ok());
  uint64_t latest = 0;
  auto r = again->Add(*req, kNow, &latest);
  EXPECT_EQ(WitnessHttpStatus(r.status()), 409);
  EXPECT_EQ(latest, 15u);
  // A bundle carries the cosignatures.
  ASSERT_TRUE(ExportLedger(ark_, root_ + "/bundle").ok());
  VerifyOptions o;
  o.witnesses = {wkey_};
  EXPECT_TRUE(VerifyLedger(root_ + "/bundle", o).ok());
}

// (a) The operator restores the ledger directory as it was before the last cosigned checkpoint.
TEST_F(WitnessTest, RollbackToAnEarlierCheckpointIsDetected) {
  ASSERT_TRUE(Cosign().ok());
  fs::copy(dir_, root_ + "/snapshot", fs::copy_options::recursive);
  Append(3, "refusal");
  ASSERT_TRUE(Cosign().ok());  // the witness has now seen 13
  fs::remove_all(dir_);
  fs::copy(root_ + "/snapshot", dir_, fs::copy_options::recursive);
  ASSERT_TRUE(VerifyLedger(dir_).ok());                // the old check passes: a consistent, signed, older ledger
  ASSERT_TRUE(VerifyWithWitness(false).ok());          // so do the cosignatures the Ark kept (they are older too)
  ExpectError(VerifyWithWitness().status(), "rolled back");  // the witness's own latest catches it
  // And the witness will not cosign the rolled-back ledger.
  auto req = CosignRequest(dir_, 10);
  ASSERT_TRUE(req.ok());
  Checkpoint old = *Checkpoint::ParseBody(SplitNote(req->checkpoint)->body);
  req->old_size = 13;
  uint64_t latest = 0;
  auto r = witness_->Add(*req, kNow, &latest);
  EXPECT_EQ(old.size, 10u);
  EXPECT_EQ(WitnessHttpStatus(r.status()), 400);  // old size beyond the checkpoint
  req->old_size = 10;
  r = witness_->Add(*req, kNow, &latest);
  EXPECT_EQ(WitnessHttpStatus(r.status()), 409);
  EXPECT_EQ(latest, 13u);
  ExpectError(r.status(), "rollback refused");
}

// (b) A fork: a different history with the same size as one the witness cosigned, re-signed.
TEST_F(WitnessTest, ForkAtACosignedSizeIsDetected) {
  ASSERT_TRUE(Cosign().ok());
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 10u);
  lines[4] = "{\"seq\":4,\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"run.executed\",\"by\":\"analyst0\"}";  // the refusal, gone
  Rewrite(lines, {0, 4, 5, 10});
  ASSERT_TRUE(VerifyLedger(dir_).ok());  // re-signed with the Ark's key: the old check passes
  ExpectError(VerifyWithWitness().status(), "history was rewritten");
  ExpectError(VerifyWithWitness(false).status(), "history was rewritten");  // the Ark's stored cosignature too
  // The witness refuses the forked checkpoint of the same size, and keeps it as evidence.
  auto req = CosignRequest(dir_, 10);
  ASSERT_TRUE(req.ok());
  uint64_t latest = 0;
  auto r = witness_->Add(*req, kNow, &latest);
  EXPECT_EQ(WitnessHttpStatus(r.status()), 409);
  ExpectError(r.status(), "fork refused");
  auto evidence = ReadFile(root_ + "/regulator/state/evidence.log");
  ASSERT_TRUE(evidence.ok());
  EXPECT_NE(evidence->find(req->checkpoint), std::string::npos);
}

// (c) History rewritten (an entry removed), new entries appended and everything re-signed.
TEST_F(WitnessTest, RewriteResignedWithTheArksKeyIsDetected) {
  ASSERT_TRUE(Cosign().ok());
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin() + 4);  // the refusal
  for (int i = 0; i < 3; ++i) lines.push_back("{\"seq\":0,\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"token.issued\"}");
  Rewrite(lines, {0, 4, 9, 12});
  ASSERT_TRUE(VerifyLedger(dir_).ok());
  ExpectError(VerifyWithWitness().status(), "history was rewritten");
  // Asked to cosign size 12, with a consistency proof from 10 of the rewritten tree: refused.
  auto req = CosignRequest(dir_, 10);
  ASSERT_TRUE(req.ok());
  uint64_t latest = 0;
  auto r = witness_->Add(*req, kNow, &latest);
  EXPECT_EQ(WitnessHttpStatus(r.status()), 422);
  ExpectError(r.status(), "does not extend");
  EXPECT_EQ(WitnessSize(), 10u);  // nothing recorded
}

TEST_F(WitnessTest, DeletedCheckpointsLogIsDetected) {
  // Deleting checkpoints.log alone: an Ark's ledger must have it (the old code fell back to the
  // `checkpoint` copy and passed).
  std::string log = *ReadFile(dir_ + "/checkpoints.log");
  fs::remove(dir_ + "/checkpoints.log");
  ExpectError(VerifyLedger(dir_).status(), "checkpoints.log is missing");
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/checkpoints.log", log).ok());
  // Deleting it (and the LOCK, so that the directory looks like a bundle) after truncating the
  // entries back to an earlier checkpoint, whose note the operator kept: only the witness knows.
  const std::string earlier = *ReadFile(dir_ + "/checkpoint");  // size 10
  std::vector<std::string> first10 = Lines();
  Append(4, "refusal");
  ASSERT_TRUE(Cosign().ok());  // witness: 14
  std::string entries;
  for (auto& l : first10) entries += l + "\n";
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/entries.jsonl", entries).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/checkpoint", earlier).ok());
  fs::remove(dir_ + "/checkpoints.log");
  fs::remove(dir_ + "/LOCK");
  fs::remove(dir_ + "/cosignatures.log");
  ASSERT_TRUE(VerifyLedger(dir_).ok());
  ExpectError(VerifyWithWitness().status(), "rolled back");
}

TEST_F(WitnessTest, DeletedOrForgedCosignaturesAreNoticed) {
  ASSERT_TRUE(Cosign().ok());
  ASSERT_TRUE(VerifyWithWitness(false).ok());
  std::string stored = *ReadFile(dir_ + "/cosignatures.log");
  fs::remove(dir_ + "/cosignatures.log");
  ExpectError(VerifyWithWitness(false).status(), "no checkpoint of this ledger cosigned by witness");
  // A cosignature line whose signature was altered.
  size_t dash = stored.rfind("\xE2\x80\x94 regulator.example/witness ");
  ASSERT_NE(dash, std::string::npos);
  size_t sig = stored.find(' ', dash + 4) + 1;
  stored[sig + 20] = stored[sig + 20] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/cosignatures.log", stored).ok());
  ExpectError(VerifyWithWitness(false).status(), "does not verify");
}

TEST_F(WitnessTest, ProtocolErrors) {
  auto req = CosignRequest(dir_, 0);
  ASSERT_TRUE(req.ok());
  uint64_t latest = 0;
  // 404: a log the witness does not trust.
  auto stranger = Witness::Open(root_ + "/regulator/w.key", root_ + "/other-state");
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ(WitnessHttpStatus(stranger->Add(*req, kNow, &latest).status()), 404);
  // 403: a checkpoint that the log did not sign.
  AddCheckpointRequest forged = *req;
  forged.checkpoint[forged.checkpoint.find('\n') + 1] = '9';  // the size line
  EXPECT_EQ(WitnessHttpStatus(witness_->Add(forged, kNow, &latest).status()), 403);
  // A second key for a known origin is refused.
  auto other = NoteSigner::Generate(Origin());
  ExpectError(witness_->TrustLog(other->VerifierKey()), "different key");
  // Request bodies.
  EXPECT_FALSE(ParseAddCheckpoint("old 01\n\n" + req->checkpoint).ok());
  EXPECT_FALSE(ParseAddCheckpoint("old 3\nnot-base64\n\n" + req->checkpoint).ok());
  EXPECT_FALSE(ParseAddCheckpoint("old 0\n" + Base64Encode(std::string(32, 'x')) + "\n\n" + req->checkpoint).ok());
  std::string many = "old 5\n";
  for (int i = 0; i < 64; ++i) many += Base64Encode(std::string(32, 'x')) + "\n";
  ExpectError(ParseAddCheckpoint(many + "\n" + req->checkpoint).status(), "63");
  auto round = ParseAddCheckpoint(FormatAddCheckpoint(*req));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->checkpoint, req->checkpoint);
  // 200, then the same request again: old 0 is no longer the witness's size.
  ASSERT_TRUE(witness_->Add(*req, kNow, &latest).ok());
  EXPECT_EQ(WitnessHttpStatus(witness_->Add(*req, kNow, &latest).status()), 409);
  EXPECT_EQ(latest, 10u);
}

// The cosignature is C2SP tlog-cosignature/v1, checked here from the spec, not through Cosigner.
TEST_F(WitnessTest, CosignatureIsTlogCosignatureV1) {
  auto c = Cosigner::Load(root_ + "/regulator/w.key");
  ASSERT_TRUE(c.ok());
  const std::string body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  auto line = c->Cosign(body, 1679315147);
  ASSERT_TRUE(line.ok());
  auto parsed = ParseSignatureLine(line->substr(0, line->size() - 1));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->name, "regulator.example/witness");
  ASSERT_EQ(parsed->blob.size(), 4u + 8u + 64u);
  // vkey: name + key ID + base64(0x04 || public key); key ID = SHA-256(name "\n" 0x04 pub)[:4].
  const std::string vkey = c->VerifierKey();
  auto raw = Base64Decode(vkey.substr(vkey.find('+', vkey.find('+') + 1) + 1));  // base64 may hold '+'s
  ASSERT_TRUE(raw && raw->size() == 33 && (*raw)[0] == '\x04');
  ed25519::PublicKey pub;
  std::memcpy(pub.data(), raw->data() + 1, 32);
  merkle::Hash id = merkle::Sha256("regulator.example/witness\n" + raw->substr(0, 33));
  EXPECT_EQ(parsed->blob.substr(0, 4), std::string(reinterpret_cast<const char*>(id.data()), 4));
  // The timestamp, big-endian, then the Ed25519 signature over the cosigned message.
  EXPECT_EQ(parsed->blob.substr(4, 8), std::string("\x00\x00\x00\x00\x64\x18\x50\xcb", 8));
  EXPECT_TRUE(ed25519::Verify(pub, "cosignature/v1\ntime 1679315147\n" + body, parsed->blob.substr(12)));
  EXPECT_FALSE(ed25519::Verify(pub, "cosignature/v1\ntime 1679315148\n" + body, parsed->blob.substr(12)));
  auto v = CosignatureVerifier::Parse(vkey);
  ASSERT_TRUE(v.ok());
  auto t = v->Verify(body + "\n" + *line);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1679315147u);
}

TEST_F(WitnessTest, HttpAddCheckpoint) {
  std::atomic<bool> stop{false};
  std::atomic<int> port{0};
  std::thread server([&] { (void)ServeWitness(*witness_, "127.0.0.1", 0, &stop, [&](uint16_t p) { port = p; }); });
  while (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string url = "http://127.0.0.1:" + std::to_string(port.load());
  auto req = CosignRequest(dir_, 0);
  ASSERT_TRUE(req.ok());
  auto ok = PostAddCheckpoint(url, FormatAddCheckpoint(*req));
  auto conflict = PostAddCheckpoint(url, FormatAddCheckpoint(*req));
  auto bad = PostAddCheckpoint(url, "old x\n\n");
  stop = true;
  server.join();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_TRUE(StoreCosignatures(dir_, req->checkpoint, ok->body, wkey_).ok());
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, 409);
  EXPECT_EQ(conflict->content_type, "text/x.tlog.size");
  EXPECT_EQ(conflict->body, "10\n");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(VerifyWithWitness(false).ok());
}

}  // namespace
}  // namespace ark::gov
