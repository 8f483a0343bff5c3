// `ark dummy DEF --people N --out ARK [--seed S]`: a small Ark of made-up persons whose data
// satisfies the definition's codelists and windows (study/dummy.h), to write and test
// definitions without the real Ark.
#include <cstdio>

#include "command.h"
#include "core/time.h"
#include "study/definition.h"
#include "study/dummy.h"

namespace ark::cli {
namespace {

int Dummy(int argc, char** argv) {
  CLI::App app(
      "Make a small Ark of dummy persons whose data satisfies a study definition's codelists and windows.\n"
      "  ark dummy DEF.yaml --people N --out ARK [--seed S]\n"
      "The dummy persons have a known opt-out status (not opted out), so 'ark run ARK DEF.yaml' works for any purpose.",
      "ark dummy");
  std::string yaml, out;
  int people = 500, threads = 2;
  uint64_t seed = 1;
  app.add_option("definition", yaml, "study definition (YAML)")->required();
  app.add_option("--out", out, "the new Ark's directory (must not exist or be empty)")->required();
  app.add_option("--people", people, "number of dummy persons")->capture_default_str();
  app.add_option("--seed", seed, "random seed (the same seed gives the same data)")->capture_default_str();
  app.add_option("--threads", threads, "build threads")->capture_default_str();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto def = study::ParseDefinitionFile(yaml);
  if (!def.ok()) return ReportError(def.status());
  auto r = study::MakeDummyArk(*def, out, {.people = people, .seed = seed, .threads = threads});
  if (!r.ok()) return ReportError(r.status());
  std::printf("made %llu dummy persons, %llu events (%s to %s) in %s; try 'ark run %s %s --out DIR'\n",
              (unsigned long long)r->persons, (unsigned long long)r->events, FormatDate(r->span_from).c_str(),
              FormatDate(r->span_to).c_str(), out.c_str(), out.c_str(), yaml.c_str());
  return 0;
}

ARK_COMMAND(kDummy, "dummy", "make a small dummy-data Ark for a study definition", Dummy);

}  // namespace
}  // namespace ark::cli
