// Subcommands of `ark ledger` defined in cmd_ledger_witness.cc.
#pragma once

namespace ark::cli {

int LedgerWitness(int argc, char** argv);  // ark ledger witness [keygen|latest|serve] ...
int LedgerCosign(int argc, char** argv);   // ark ledger cosign ARK --witness URL|CMD

}  // namespace ark::cli
