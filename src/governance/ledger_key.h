// Where an Ark's ledger signing key lives: outside the Ark's data directory, so that whoever holds
// the Ark's files alone cannot re-sign a rewritten ledger (docs/ledger-format.md "The signing key").
//
//   ARK_LEDGER_KEY (or `ark --ledger-key PATH`, which sets it): the key file, or a directory that
//                  holds <id>.key (when it is an existing directory or ends in '/')
//   else           $XDG_CONFIG_HOME/ark/keys/<id>.key, or ~/.config/ark/keys/<id>.key
//
// where <id> is the ledger's origin after "ark.ledger/" (16 hex digits). A key path inside the
// Ark is refused. An Ark made before this rule keeps its key at ARK/ledger/ledger.key: the first
// Ledger::Open moves it to the path above and says so on stderr.
//
// Thread safety: reads the environment; no shared state.
#pragma once

#include <string>

#include "ark/status.h"
#include "governance/checkpoint.h"

namespace ark::gov {

// The key file for the ledger `origin` of the Ark at `ark_dir` (InvalidArgument when it would be
// inside the Ark, or when neither ARK_LEDGER_KEY, XDG_CONFIG_HOME nor HOME is set).
Result<std::string> LedgerKeyPath(const std::string& ark_dir, const std::string& origin);

// A new signing key for a new ledger of the Ark at `ark_dir`, saved (0600) at its LedgerKeyPath.
Result<NoteSigner> CreateLedgerKey(const std::string& ark_dir);

// The signing key of the existing ledger whose published verifier key is `vkey`: first moves an
// old ARK/ledger/ledger.key out of the Ark; then loads the key and checks it is this ledger's.
Result<NoteSigner> LoadLedgerKey(const std::string& ark_dir, const std::string& vkey);

}  // namespace ark::gov
