#include "governance/citizen.h"

#include <openssl/rand.h>

#include <ctime>

#include "governance/ledger.h"
#include "privacy/key.h"

namespace ark::gov {
namespace {

constexpr char kCodePrefix[] = "ark-rc-";

Status EnsureSchema(Catalog& cat) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_RETURN_IF_ERROR(cat.Exec("CREATE TABLE IF NOT EXISTS gov_receipt_codes(code_sha256 TEXT PRIMARY KEY, "
                               "pseudonym BLOB NOT NULL, one_time INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, "
                               "issued_by TEXT NOT NULL, issued_at TEXT NOT NULL)"));
  return cat.Exec("CREATE TABLE IF NOT EXISTS gov_receipt_failures(at INTEGER NOT NULL, ledgered INTEGER NOT NULL)");
}

// A wrong code: counted; on the ledger unless kLedgeredRefusals are already there this window.
Status RefuseCode(Catalog& cat, const std::string& why, int64_t now) {
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT count(*), COALESCE(sum(ledgered), 0) FROM gov_receipt_failures WHERE at > ?"));
  q->Bind(1, now - kWindowSeconds);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  const int64_t failures = row ? q->Int(0) : 0, ledgered = row ? q->Int(1) : 0;
  q.reset();
  const bool to_ledger = ledgered < kLedgeredRefusals;
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT INTO gov_receipt_failures(at, ledgered) VALUES (?, ?)"));
  ins->Bind(1, now).Bind(2, to_ledger ? 1 : 0);
  ARK_RETURN_IF_ERROR(ins->Run());
  Status s = Status::PermissionDenied(why);
  if (!to_ledger) return s;
  std::string reason = why;
  if (failures > ledgered) reason += " (" + std::to_string(failures - ledgered) + " more refused receipt codes in the last " +
                                     std::to_string(kWindowSeconds) + " s not ledgered one by one)";
  (void)LogRefusal(cat.ark_dir(), "citizen", Status::PermissionDenied(reason));
  return s;
}

}  // namespace

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

Result<std::string> IssueReceiptCode(Catalog& cat, const Actor& by, const std::string& pseudonym_hex, bool one_time) {
  ARK_RETURN_IF_ERROR(EnsureSchema(cat));
  if (!by.Has("custodian") && !by.Has("admin")) {
    return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied("only a custodian (or an admin) issues citizen receipt codes"));
  }
  Digest d;
  if (!FromHex(pseudonym_hex, &d)) return Status::InvalidArgument("--pseudonym: expected 64 hex digits");
  uint8_t raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("no random bytes");
  const std::string code = kCodePrefix + ToHex(raw, sizeof raw);
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT INTO gov_receipt_codes(code_sha256, pseudonym, one_time, issued_by, issued_at) "
                                             "VALUES (?, ?, ?, ?, ?)"));
  ins->Bind(1, Sha256Hex(code)).BindBlob(2, d.data(), 32).Bind(3, one_time ? 1 : 0).Bind(4, by.user).Bind(5, UtcNow());
  ARK_RETURN_IF_ERROR(ins->Run());
  ARK_RETURN_IF_ERROR(AppendToArkLedger(cat.ark_dir(), Json{{"type", "citizen.code_issued"}, {"by", by.user}, {"one_time", one_time}}).status());
  return code;
}

Result<bool> ReceiptLockedOut(Catalog& cat, int64_t now_unix) {
  ARK_RETURN_IF_ERROR(EnsureSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT count(*) FROM gov_receipt_failures WHERE at > ?"));
  q->Bind(1, now_unix - kWindowSeconds);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  return row && q->Int(0) >= kLockoutFailures;
}

namespace {

// The pseudonym (32 bytes) the code is bound to; spends a one-time code. Refusals as CitizenReceipt.
Result<std::string> PseudonymOfCode(Catalog& cat, const std::string& code, int64_t now_unix) {
  ARK_ASSIGN_OR_RETURN(bool locked, ReceiptLockedOut(cat, now_unix));
  if (locked) {
    return Status::PermissionDenied("too many wrong receipt codes in the last " + std::to_string(kWindowSeconds) +
                                    " s: try again later");
  }
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT pseudonym, one_time, used FROM gov_receipt_codes WHERE code_sha256 = ?"));
  q->Bind(1, Sha256Hex(code));
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return RefuseCode(cat, "wrong citizen receipt code", now_unix);
  const std::string blob = q->Blob(0);
  const bool one_time = q->Int(1) != 0, used = q->Int(2) != 0;
  q.reset();
  if (one_time && used) return RefuseCode(cat, "this citizen receipt code was for one use and has been used", now_unix);
  if (blob.size() != 32) return Status::Corruption(cat.ark_dir() + "/catalog.db: gov_receipt_codes.pseudonym is not 32 bytes");
  if (one_time) {
    ARK_ASSIGN_OR_RETURN(auto u, cat.Prepare("UPDATE gov_receipt_codes SET used = 1 WHERE code_sha256 = ?"));
    u->Bind(1, Sha256Hex(code));
    ARK_RETURN_IF_ERROR(u->Run());
  }
  return blob;
}

Result<CitizenView> ViewOf(Catalog& cat, const std::string& pseudonym) {
  CitizenView v;
  ARK_ASSIGN_OR_RETURN(v.uses, CitizenUses(cat, ToHex(reinterpret_cast<const uint8_t*>(pseudonym.data()), pseudonym.size())));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT kind FROM gov_optouts WHERE pseudonym = ? ORDER BY kind"));
  q->BindBlob(1, pseudonym.data(), 32);
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    v.optouts.push_back(q->Text(0));
  }
  return v;
}

}  // namespace

bool CitizenView::objected() const {
  for (const std::string& k : optouts) {
    if (k == "local") return true;
  }
  return false;
}

Result<std::vector<Use>> CitizenReceipt(Catalog& cat, const std::string& code, int64_t now_unix) {
  ARK_ASSIGN_OR_RETURN(CitizenView v, CitizenLookup(cat, code, now_unix));
  return v.uses;
}

Result<CitizenView> CitizenLookup(Catalog& cat, const std::string& code, int64_t now_unix) {
  ARK_RETURN_IF_ERROR(EnsureSchema(cat));
  ARK_ASSIGN_OR_RETURN(std::string pseudonym, PseudonymOfCode(cat, code, now_unix));
  return ViewOf(cat, pseudonym);
}

Result<CitizenView> RecordObjection(Catalog& cat, const std::string& code, int64_t now_unix) {
  ARK_RETURN_IF_ERROR(EnsureSchema(cat));
  ARK_ASSIGN_OR_RETURN(std::string pseudonym, PseudonymOfCode(cat, code, now_unix));
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT OR IGNORE INTO gov_optouts VALUES (?, 'local')"));
  ins->BindBlob(1, pseudonym.data(), 32);
  ARK_RETURN_IF_ERROR(ins->Run());
  ARK_ASSIGN_OR_RETURN(auto changed, cat.Prepare("SELECT changes()"));
  ARK_RETURN_IF_ERROR(changed->Step().status());
  const bool added = changed->Int(0) > 0;
  changed.reset();
  if (added) {
    ARK_RETURN_IF_ERROR(AppendToArkLedger(cat.ark_dir(), Json{{"type", "citizen.objected"}, {"kind", "local"}}).status());
  }
  return ViewOf(cat, pseudonym);
}

}  // namespace ark::gov
