// Checks a study definition sent to the API (POST /api/v1/definitions/check, and before a job is
// queued): every error with its line and column (1-based), as an editor shows them.
//
// A definition sent to the API lists its codes inline: a codelist `file:` is refused at its
// position (the server reads no file a request names). Otherwise the errors are those of
// study::ParseDefinition ("definition:LINE:COL: what"), split into line, column and message; an
// error without a position has line and column 0.
#pragma once

#include <string>
#include <vector>

namespace ark::server {

struct DefinitionError {
  int line = 0, column = 0;
  std::string message;
};

std::vector<DefinitionError> CheckDefinition(const std::string& yaml);

}  // namespace ark::server
