// The columns of a study definition's dataset as a site evaluates them for a network operation
// (GLM factors, counts per unit): the native engine under the project's purpose, values as the
// dataset's CSV text ("" for NULL, "T"/"F" for bools). Stays inside the site: only aggregates of
// these columns ever leave it.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(DatasetColumns d, EvaluateColumns(ark, def, purpose, {"practice", "admitted"}));
//   // d.rows[i][0] is row i's practice, d.rows[i][1] its "T"/"F"
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "store/options.h"
#include "study/definition.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::net {

struct DatasetColumns {
  std::vector<std::string> names;
  std::vector<study::Type> types;
  std::vector<std::vector<std::string>> rows;  // one per dataset row, values in `names` order
  std::vector<PersonKey> persons;              // distinct persons, sorted
};

// InvalidArgument naming the definition file when a name is not one of its variables. Reads only
// events of `feeds` (the project's approved datasets; nullopt: every feed).
Result<DatasetColumns> EvaluateColumns(const std::string& ark_dir, const std::string& definition_path, study::Purpose purpose,
                                       const std::vector<std::string>& names, const study::Feeds& feeds = std::nullopt);

}  // namespace ark::net
