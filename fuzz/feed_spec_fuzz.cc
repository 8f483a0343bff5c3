// Feed spec YAML (ingest/feed_spec.h ParseFeedSpec) and the views derived from a parsed spec.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "ingest/feed_spec.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = ParseFeedSpec(std::string(fuzz::AsText(data, size)), "fuzz.yaml");
  if (!spec.ok()) return 0;
  FeedSpec view = PseudonymisedView(*spec);
  for (const EventSpec& e : view.events) (void)EventColumns(e);
  for (const EventSpec& e : spec->events) (void)EventColumns(e);
  return 0;
}
