#include "synth/synth.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/fs.h"
#include "core/time.h"
#include "synth/simulator.h"
#include "synth/writer.h"

namespace ark::synth {
namespace {

constexpr uint32_t kShardPeople = 4096;

const char* const kCustodians[] = {"gp", "acute", "community", "social_care", "deaths"};
// Files of each custodian in manifest order.
const std::vector<std::vector<std::string>> kFiles = {
    {"patients.csv", "events.csv", "optouts.csv"},
    {"patients.csv", "ae_attendances.csv", "inpatient_spells.csv", "lab_results.csv"},
    {"clients.csv", "contacts.csv"},
    {"people.csv", "assessments.csv", "services.csv"},
    {"registrations.csv"}};

// Simulates all people on `threads` threads, one shard at a time, reporting progress.
std::vector<ShardOutput> Simulate(const World& world, const SynthOptions& o) {
  const uint64_t n = world.people();
  const size_t shards = static_cast<size_t>((n + kShardPeople - 1) / kShardPeople);
  std::vector<ShardOutput> out(shards);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  std::condition_variable cv;
  int running = std::max(1, o.threads);
  auto worker = [&] {
    PersonSim sim(world);
    for (;;) {
      const size_t s = next.fetch_add(1);
      if (s >= shards) break;
      const uint64_t lo = s * uint64_t{kShardPeople}, hi = std::min<uint64_t>(n, lo + kShardPeople);
      for (uint64_t p = lo; p < hi; ++p) sim.Run(static_cast<uint32_t>(p), &out[s]);
      done += hi - lo;
    }
    std::lock_guard<std::mutex> lock(mu);
    --running;
    cv.notify_all();
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < std::max(1, o.threads); ++i) pool.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lock(mu);
    while (running > 0) {
      const bool timeout = cv.wait_for(lock, std::chrono::seconds(2)) == std::cv_status::timeout;
      if (o.progress && running > 0 && timeout)
        o.progress("people " + std::to_string(done.load()) + "/" + std::to_string(n));
    }
  }
  for (auto& t : pool) t.join();
  return out;
}

Status WriteManifest(const SynthOptions& o, const World& world, const WriteResult& written) {
  nlohmann::ordered_json m;
  m["people"] = o.people;
  m["years"] = o.years;
  m["seed"] = o.seed;
  if (!world.profile().is_default) m["profile"] = world.profile().name;  // default: as before
  m["start"] = FormatDate(world.start_day());
  m["end"] = FormatDate(world.end_day());
  nlohmann::ordered_json custodians = nlohmann::ordered_json::object();
  for (size_t i = 0; i < kFiles.size(); ++i) {
    nlohmann::ordered_json files = nlohmann::ordered_json::object();
    for (const std::string& name : kFiles[i])
      for (const FileStat& f : written.files)
        if (f.custodian == kCustodians[i] && f.file == name) files[name] = f.rows;
    custodians[kCustodians[i]]["files"] = files;
  }
  m["custodians"] = custodians;
  return WriteFileAtomic(o.out_dir + "/manifest.json", m.dump(2) + "\n");
}

// --out must be new or empty, unless `force`: then a previous region's folders and manifest are
// removed first (so no file of the earlier run, e.g. acute/feed.hl7, outlives it); other files
// in the directory are left alone.
Status PrepareOutDir(const SynthOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(o.out_dir, ec)) return Status::OK();
  if (!fs::is_directory(o.out_dir, ec)) {
    return Status::FailedPrecondition("--out " + o.out_dir + " exists and is not a directory");
  }
  const bool empty = fs::is_empty(o.out_dir, ec);
  if (ec) return Status::IOError("--out " + o.out_dir + ": " + ec.message());
  if (empty) return Status::OK();
  if (!o.force) {
    return Status::FailedPrecondition("--out " + o.out_dir +
                                      " exists and is not empty: refusing to overwrite it (--force replaces a region "
                                      "written there before)");
  }
  ARK_RETURN_IF_ERROR(RemoveAll(o.out_dir + "/manifest.json"));  // first: the run is incomplete from here on
  for (const char* c : kCustodians) ARK_RETURN_IF_ERROR(RemoveAll(o.out_dir + "/" + c));
  return RemoveAll(o.out_dir + "/truth");
}

}  // namespace

Status ValidateOptions(const SynthOptions& o) {
  if (o.people < 1 || o.people > 20000000)
    return Status::InvalidArgument("--people must be between 1 and 20000000 (got " + std::to_string(o.people) + ")");
  if (o.years < 1 || o.years > 50)
    return Status::InvalidArgument("--years must be between 1 and 50 (got " + std::to_string(o.years) + ")");
  if (o.out_dir.empty()) return Status::InvalidArgument("--out is required");
  if (auto p = FindRegionProfile(o.profile); !p.ok()) return p.status();
  if (o.threads < 1 || o.threads > 64)
    return Status::InvalidArgument("--threads must be between 1 and 64 (got " + std::to_string(o.threads) + ")");
  return Status::OK();
}

Result<SynthSummary> GenerateRegion(const SynthOptions& o) {
  ARK_RETURN_IF_ERROR(ValidateOptions(o));
  const auto t0 = std::chrono::steady_clock::now();
  // A run is complete only once manifest.json exists; an earlier run's is removed (with --force).
  ARK_RETURN_IF_ERROR(PrepareOutDir(o));
  for (const char* c : kCustodians) ARK_RETURN_IF_ERROR(MakeDirs(o.out_dir + "/" + c));
  ARK_RETURN_IF_ERROR(MakeDirs(o.out_dir + "/truth"));

  if (o.progress) o.progress("building the region frame");
  ARK_ASSIGN_OR_RETURN(const RegionProfile profile, FindRegionProfile(o.profile));
  const World world(o.people, o.years, o.seed, profile);
  std::vector<ShardOutput> shards = Simulate(world, o);
  WriteResult written;
  ARK_RETURN_IF_ERROR(WriteRegion(world, &shards, o.out_dir, o.threads, o.progress, &written));
  for (const char* c : kCustodians) ARK_RETURN_IF_ERROR(FsyncPath(o.out_dir + "/" + c));
  ARK_RETURN_IF_ERROR(FsyncPath(o.out_dir + "/truth"));
  ARK_RETURN_IF_ERROR(WriteManifest(o, world, written));

  SynthSummary s;
  s.bytes = written.bytes;
  for (const FileStat& f : written.files) {
    s.files.push_back({f.custodian + "/" + f.file, f.rows});
    const bool identity = f.file == "patients.csv" || f.file == "clients.csv" || f.file == "people.csv" ||
                          f.file == "registrations.csv" || f.file == "optouts.csv";
    if (f.custodian != "truth" && !identity) s.event_rows += f.rows;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace ark::synth
