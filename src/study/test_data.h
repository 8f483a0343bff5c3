// Small Arks for tests and examples, written from text: persons and events as CSV-like lines.
//   persons: key,birth(YYYY-MM or empty),sex(M|F|U),imd_decile(or empty),practice(or empty),
//            death(YYYY-MM-DD or empty),optout(ok|national|type1|unknown)
//   events:  person,time(YYYY-MM-DD[ HH:MM]),end(same or empty),code(SYSTEM/CODE, or a bare code as MEDS stores them),value(or empty)
// Keys must be 0..n-1 in order. The Ark gets a store and an empty catalog.db (enough for the
// study engines and sql::ExportArk).
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "store/options.h"

namespace ark::study {

struct TestData {
  std::vector<Person> persons;
  std::vector<std::vector<Event>> events;  // per person, in time order
  Dictionaries dicts;
};

// Parses the lines of a "persons:" and an "events:" section (other lines: errors naming `where`).
Result<TestData> ParseTestData(const std::string& text, const std::string& where);
// Writes `data` as a new Ark at `ark_dir` (created; must not hold a store).
Status WriteTestArk(const TestData& data, const std::string& ark_dir);

}  // namespace ark::study
