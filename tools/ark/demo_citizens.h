// The demo's citizens: receipt codes, as GP practices would issue them, for people whose data the
// demo's projects used, so that a person trying the web app's "Your data" view has codes to enter.
#pragma once

#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark::cli {

// Issues standing receipt codes (gov::IssueReceiptCode, as the admin) for up to two people: the
// first person with recorded uses and no opt-out, and the first with a national opt-out (their
// receipt shows the opt-out and, since opt-outs applied, no research or planning use). Writes
// them to `file` ("CODE  what it shows" lines, 0600) and returns how many were issued.
Result<int> IssueDemoReceiptCodes(Catalog& cat, const std::string& file);

}  // namespace ark::cli
