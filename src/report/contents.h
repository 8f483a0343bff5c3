// A table of contents for a finished HTML report: every <h2> gets an id (kept if it has one) and a
// numbered list of links to them goes before the first <section>, so a reader can jump to what
// they need in a long page. Applying it twice changes nothing the second time.
#pragma once

#include <string>

namespace ark {

std::string WithContents(const std::string& html);

}  // namespace ark
