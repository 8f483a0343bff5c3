// Writes the seeds that need the engine itself to make (docs/fuzzing.md): a real ledger and its
// signed checkpoint (ledger_fuzz, checkpoint_fuzz) and a pseudonymised extract (ingest_fuzz).
// Usage: build-asan/fuzz/make_seeds fuzz/corpus  (fuzz/seeds.py makes the others).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/fs.h"
#include "governance/ledger.h"
#include "ingest/feed_spec.h"
#include "ingest/pseudonymise.h"

using namespace ark;
namespace fs = std::filesystem;

namespace {

std::string Read(const std::string& p) {
  auto r = ReadFile(p);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return *r;
}

void Put(const std::string& corpus, const std::string& harness, const std::string& name,
         const std::string& text) {
  fs::create_directories(corpus + "/" + harness);
  std::ofstream(corpus + "/" + harness + "/" + name, std::ios::binary) << text;
}

std::string Part(const std::string& name, const std::string& text) {
  return "=== " + name + "\n" + text;
}

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string corpus = argv[1];
  const std::string tmp = fs::temp_directory_path().string() + "/ark-make-seeds";
  fs::remove_all(tmp);
  fs::create_directories(tmp + "/ark");
  {
    auto l = gov::Ledger::Open(tmp + "/ark");
    Check(l.status());
    Check((*l)->Append(gov::Json{{"event", "project_approved"}, {"project", "P1"}, {"by", "alice"}})
              .status());
    Check((*l)->Append(std::vector<gov::Json>{gov::Json{{"event", "run"}, {"study", "diabetes"}},
                                              gov::Json{{"event", "release"}, {"n", 3}}})
              .status());
  }
  const std::string ld = tmp + "/ark/ledger";
  const std::string entries = Read(ld + "/entries.jsonl"), cp = Read(ld + "/checkpoint"),
                    pub = Read(ld + "/ledger.pub"), key = Read(ld + "/ledger.key");
  Put(corpus, "ledger_fuzz", "verified",
      entries + Part("checkpoint", cp) + Part("ledger.pub", pub));
  Put(corpus, "ledger_fuzz", "with_key",
      entries + Part("checkpoint", cp) + Part("ledger.pub", pub) + Part("ledger.key", key));
  Put(corpus, "ledger_fuzz", "earlier",
      entries + Part("checkpoint", cp) + Part("ledger.pub", pub) + Part("earlier", cp));
  Put(corpus, "checkpoint_fuzz", "note", cp + Part("vkey", pub));
  Put(corpus, "checkpoint_fuzz", "note_and_key", cp + Part("vkey", pub) + Part("key", key));

  // A pseudonymised gp extract (the unit tests' sample).
  fs::create_directories(tmp + "/raw");
  std::ofstream(tmp + "/raw/patients.csv")
      << "patient_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,lsoa,imd_decile,"
         "practice_code,"
         "registered_from,registered_to\n"
         "P1,9434765919,Alice,Brown,1950-03-04,F,LS1 1AA,E01000001,3,B86001,2015-01-01,\n"
         "P2,,Bob,Green,1970-12-31,M,LS2 2BB,E01000002,7,B86001,2016-05-01,2020-01-01\n"
         "P3,943 476 5870,Carol,White,1988-02-30,F,LS3 3CC,E01000002,7,B86002,2017-01-01,\n";
  std::ofstream(tmp + "/raw/events.csv")
      << "patient_id,event_date,snomed_code,value,unit\n"
         "P1,2020-01-02,271649006,140,mmHg\nP2,2019-06-01,60621009,27.5,kg/m2\n";
  std::ofstream(tmp + "/raw/optouts.csv") << "nhs_number\n9434765919\n";
  Digest d{};
  d[0] = 1;
  auto spec = BuiltinFeedSpec("gp");
  Check(spec.status());
  Check(Pseudonymise(*spec, ProgrammeKey::FromBytes(d), tmp + "/raw", tmp + "/out", false, 1)
            .status());
  std::string seed;
  for (const char* f :
       {"records.csv", "manifest.json", "feed.yaml", "events.csv", "patients.csv", "optouts.csv"}) {
    if (fs::exists(tmp + "/out/" + f)) seed += Part(f, Read(tmp + "/out/" + f));
  }
  Put(corpus, "ingest_fuzz", "gp_pseudonymised", seed);
  fs::remove_all(tmp);
  std::printf("seeds written to %s\n", corpus.c_str());
  return 0;
}
