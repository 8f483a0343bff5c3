#include "governance/cosign.h"

#include <ctime>

#include "core/fs.h"
#include "governance/checkpoint.h"
#include "governance/cosignature.h"
#include "governance/ledger.h"

namespace ark::gov {
namespace {

constexpr const char* kCosignatures = "/cosignatures.log";

std::string IsoTime(uint64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  char buf[32];
  if (!gmtime_r(&tt, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return std::to_string(t);
  return buf;
}

// Checks one checkpoint `cp` that witness `w` cosigned at `time` against the log.
Status CheckOne(const merkle::MerkleTree& tree, const Checkpoint& cp, const std::string& w, uint64_t time) {
  const std::string at = " (cosigned at " + IsoTime(time) + ")";
  if (cp.size > tree.size()) {
    return Status::Corruption("witness " + w + " cosigned a checkpoint of size " + std::to_string(cp.size) + at + " but the log has " +
                              std::to_string(tree.size()) + " entries: the ledger was rolled back (entries or checkpoints removed)");
  }
  if (*tree.Root(cp.size) != cp.root) {
    return Status::Corruption("the Merkle root of the first " + std::to_string(cp.size) + " entries is not the root witness " + w +
                              " cosigned for that size" + at + ": history was rewritten (a fork), whoever re-signed it");
  }
  return Status::OK();
}

}  // namespace

Result<AddCheckpointRequest> CosignRequest(const std::string& ledger_dir, uint64_t old_size) {
  ARK_ASSIGN_OR_RETURN(LedgerReport rep, VerifyLedger(ledger_dir));
  if (old_size > rep.checkpoint.size) {
    return Status::InvalidArgument("the witness has cosigned size " + std::to_string(old_size) + " but the ledger's latest checkpoint has size " +
                                   std::to_string(rep.checkpoint.size) + ": the ledger was rolled back");
  }
  AddCheckpointRequest req;
  req.old_size = old_size;
  req.checkpoint = rep.note;
  if (old_size > 0) {
    ARK_ASSIGN_OR_RETURN(LoadedLog log, LoadLog(ledger_dir));
    ARK_ASSIGN_OR_RETURN(auto proof, log.tree.ConsistencyProof(old_size, rep.checkpoint.size));
    for (const merkle::Hash& h : proof) req.proof.emplace_back(merkle::View(h));
  }
  return req;
}

Status StoreCosignatures(const std::string& ledger_dir, const std::string& checkpoint, const std::string& lines,
                         const std::string& witness_vkey) {
  if (lines.empty() || lines.back() != '\n') return Status::InvalidArgument("witness reply: no signature lines");
  const std::string note = checkpoint + lines;
  if (!witness_vkey.empty()) {
    ARK_ASSIGN_OR_RETURN(CosignatureVerifier v, CosignatureVerifier::Parse(witness_vkey));
    auto t = v.Verify(note);
    if (!t.ok()) return t.status().WithContext("witness reply");
  }
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(ledger_dir + kCosignatures, false));
  ARK_RETURN_IF_ERROR(f.Append("note " + std::to_string(note.size()) + "\n" + note));
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

Result<std::vector<std::string>> StoredCosignatures(const std::string& ledger_dir) {
  if (!PathExists(ledger_dir + kCosignatures)) return std::vector<std::string>{};
  return ReadNoteLog(ledger_dir + kCosignatures);
}

Result<std::vector<Witnessed>> CheckWitnessed(const merkle::MerkleTree& tree, const std::string& origin,
                                              const std::vector<std::string>& witness_vkeys,
                                              const std::vector<std::string>& notes) {
  std::vector<Witnessed> out;
  for (const std::string& vkey : witness_vkeys) {
    ARK_ASSIGN_OR_RETURN(CosignatureVerifier v, CosignatureVerifier::Parse(vkey));
    Witnessed best{v.name()};
    bool any = false;
    for (const std::string& note : notes) {
      auto time = v.Verify(note);
      if (time.status().code() == StatusCode::kNotFound) continue;
      if (!time.ok()) return time.status();
      ARK_ASSIGN_OR_RETURN(SplitNoteResult n, SplitNote(note));
      ARK_ASSIGN_OR_RETURN(Checkpoint cp, Checkpoint::ParseBody(n.body));
      if (cp.origin != origin) {
        return Status::Corruption("witness " + v.name() + " cosigned a checkpoint of log '" + cp.origin + "', not of this ledger '" + origin +
                                  "': the ledger was replaced");
      }
      ARK_RETURN_IF_ERROR(CheckOne(tree, cp, v.name(), *time));
      if (!any || cp.size > best.size || (cp.size == best.size && *time > best.time)) best = {v.name(), cp.size, *time};
      any = true;
    }
    if (!any) {
      return Status::NotFound("no checkpoint of this ledger cosigned by witness " + v.name() +
                              " (stored cosignatures deleted? ask the witness for its latest: ark ledger witness latest)");
    }
    out.push_back(best);
  }
  return out;
}

}  // namespace ark::gov
