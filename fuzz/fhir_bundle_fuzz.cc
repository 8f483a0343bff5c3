// FHIR R4 Bundles, single resources and NDJSON posted to the live feed (live/record.h
// FromFhirBundle), and the dateTime parsers (live::ParseFhirDateTime, fhir::ParseDateTime).
#include <cstdint>
#include <string>

#include "fhir/resource.h"
#include "fuzz_util.h"
#include "live/record.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  (void)live::FromFhirBundle(text);
  if (size <= 64) {
    (void)live::ParseFhirDateTime(text);
    (void)fhir::ParseDateTime(text, true);
    (void)fhir::ParseDateTime(text, false);
  }
  return 0;
}
