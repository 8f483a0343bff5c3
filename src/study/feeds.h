// The feeds (event sources: custodians, imports, live feeds) a study run may read — in a project,
// the datasets it is approved for (gov::Access::datasets). nullopt = every feed. Every engine
// (native, SQLite, PostgreSQL) reads only events of these sources; person attributes (sex, birth,
// area, practice, death, opt-out status) come from the linked person and are kept.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ark::study {

using Feeds = std::optional<std::vector<std::string>>;

}  // namespace ark::study
