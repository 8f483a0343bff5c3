#include "demo_citizens.h"

#include "core/fs.h"
#include "governance/citizen.h"
#include "governance/governance.h"

namespace ark::cli {

namespace {
// The lower-case hex pseudonyms the query returns (one BLOB column), at most `limit`.
Result<std::vector<std::string>> Pseudonyms(Catalog& cat, const std::string& sql) {
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(sql));
  std::vector<std::string> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(q->Text(0));
  }
  return out;
}
}  // namespace

Result<int> IssueDemoReceiptCodes(Catalog& cat, const std::string& file) {
  const gov::Actor admin{"admin", {"admin"}};
  std::string lines =
      "# Receipt codes of the demo's citizens, as their GP practices would issue them (docs/governance.md).\n"
      "# Enter one in the web app's \"Your data\" view (ark serve out/demo/ark), or: ark citizen receipt ARK --code CODE\n";
  int issued = 0;
  ARK_ASSIGN_OR_RETURN(auto candidates,
                       Pseudonyms(cat, "SELECT lower(hex(pseudonym)) FROM person_keys WHERE pseudonym NOT IN "
                                       "(SELECT pseudonym FROM gov_optouts) ORDER BY person LIMIT 2000"));
  for (const std::string& p : candidates) {
    ARK_ASSIGN_OR_RETURN(auto uses, gov::CitizenUses(cat, p));
    if (uses.empty()) continue;
    ARK_ASSIGN_OR_RETURN(std::string code, gov::IssueReceiptCode(cat, admin, p, false));
    lines += code + "  a person whose data the demo's projects used\n";
    ++issued;
    break;
  }
  ARK_ASSIGN_OR_RETURN(auto opted, Pseudonyms(cat, "SELECT lower(hex(pseudonym)) FROM gov_optouts WHERE kind = 'national' "
                                                   "AND pseudonym IN (SELECT pseudonym FROM person_keys) LIMIT 1"));
  if (!opted.empty()) {
    ARK_ASSIGN_OR_RETURN(std::string code, gov::IssueReceiptCode(cat, admin, opted[0], false));
    lines += code + "  a person with a national data opt-out\n";
    ++issued;
  }
  ARK_RETURN_IF_ERROR(WriteFileAtomic(file, lines));
  return issued;
}

}  // namespace ark::cli
