// ExportArk / EnsureExported in the Ark relational schema (docs/relational-schema.md).
#include <ctime>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "sql/export.h"
#include "sql/export_impl.h"
#include "sql/store_chunks.h"

namespace ark::sql {
namespace {

using V = Connection::Value;

constexpr const char* kArkDdl = R"(
DROP TABLE IF EXISTS ark_event;
DROP TABLE IF EXISTS ark_person;
DROP TABLE IF EXISTS ark_meta;
CREATE TABLE ark_person (
  person_id        BIGINT PRIMARY KEY,
  birth_year       INTEGER,
  birth_month      INTEGER,
  sex              TEXT NOT NULL,
  death_day        INTEGER,
  lsoa             TEXT,
  imd_decile       INTEGER,
  practice         TEXT,
  optout_known     INTEGER NOT NULL,
  optout_national  INTEGER NOT NULL,
  optout_type1     INTEGER NOT NULL
);
CREATE TABLE ark_event (
  person_id  BIGINT NOT NULL,
  time       BIGINT NOT NULL,
  end_time   BIGINT,
  code       TEXT NOT NULL,
  value      DOUBLE PRECISION,
  unit       TEXT,
  source     TEXT,
  encounter  BIGINT,
  seq        BIGINT NOT NULL
);
CREATE TABLE ark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)";

constexpr const char* kArkIndexes = R"(
CREATE INDEX ark_event_code ON ark_event (code, person_id, time);
CREATE INDEX ark_event_person ON ark_event (person_id, time, seq);
)";

std::string_view Str(const std::vector<std::string>& dict, uint32_t id) {
  return id < dict.size() ? std::string_view(dict[id]) : std::string_view();
}

V TextOrNull(const std::vector<std::string>& dict, uint32_t id) {
  if (id == 0 || id >= dict.size()) return V::Null();
  return V::Text(dict[id]);
}

Status WriteArk(const Store& store, Connection& conn) {
  const auto dicts = store.dicts();
  ARK_RETURN_IF_ERROR(conn.Exec(kArkDdl));
  std::vector<Person> persons;
  persons.reserve(store.num_persons());
  uint64_t n_events = 0;
  {
    StoreChunks chunks(store);
    const Person* p = nullptr;
    std::span<const Event> ev;
    size_t i = 0;
    ARK_RETURN_IF_ERROR(conn.LoadValues(
        "ark_event", {"person_id", "time", "end_time", "code", "value", "unit", "source", "encounter", "seq"},
        [&](std::vector<V>& row) {
          while (i >= ev.size()) {
            if (!chunks.Next(&p, &ev)) return false;
            persons.push_back(*p);
            i = 0;
          }
          const Event& e = ev[i];
          row[0] = V::Int(e.person);
          row[1] = V::Int(e.time);
          row[2] = e.end == kNoTime ? V::Null() : V::Int(e.end);
          row[3] = V::Text(Str(dicts->codes, e.code));
          row[4] = e.has_value() ? V::Real(e.value) : V::Null();
          row[5] = TextOrNull(dicts->units, e.unit);
          row[6] = TextOrNull(dicts->sources, e.source);
          row[7] = e.encounter == kNoEncounter ? V::Null() : V::Int(e.encounter);
          row[8] = V::Int(static_cast<int64_t>(i));
          ++i;
          ++n_events;
          return true;
        }));
    ARK_RETURN_IF_ERROR(chunks.status());
    // Persons with no events were skipped by the loop above: take the rest.
    while (chunks.Next(&p, &ev)) persons.push_back(*p);
    ARK_RETURN_IF_ERROR(chunks.status());
  }
  size_t k = 0;
  ARK_RETURN_IF_ERROR(conn.LoadValues(
      "ark_person",
      {"person_id", "birth_year", "birth_month", "sex", "death_day", "lsoa", "imd_decile", "practice", "optout_known",
       "optout_national", "optout_type1"},
      [&](std::vector<V>& row) {
        if (k >= persons.size()) return false;
        const Person& p = persons[k++];
        static const char* kSex[] = {"M", "F", "U"};
        row[0] = V::Int(p.key);
        row[1] = p.birth_year ? V::Int(p.birth_year) : V::Null();
        row[2] = p.birth_month ? V::Int(p.birth_month) : V::Null();
        row[3] = V::Text(kSex[p.sex == 'M' ? 0 : p.sex == 'F' ? 1 : 2]);
        row[4] = p.has_death() ? V::Int(p.death_day) : V::Null();
        row[5] = TextOrNull(dicts->areas, p.lsoa);
        row[6] = p.imd_decile ? V::Int(p.imd_decile) : V::Null();
        row[7] = TextOrNull(dicts->practices, p.practice);
        row[8] = V::Int((p.flags & kOptOutKnown) ? 1 : 0);
        row[9] = V::Int((p.flags & kOptedOutNational) ? 1 : 0);
        row[10] = V::Int((p.flags & kOptedOutType1) ? 1 : 0);
        return true;
      }));
  const StoreStats st = store.Stats();
  const std::vector<std::pair<std::string, std::string>> meta = {
      {"store_version", std::to_string(st.version)},
      {"persons", std::to_string(persons.size())},
      {"events", std::to_string(n_events)},
      {"exported_at", UtcNow()}};
  size_t m = 0;
  ARK_RETURN_IF_ERROR(conn.LoadValues("ark_meta", {"key", "value"}, [&](std::vector<V>& row) {
    if (m >= meta.size()) return false;
    row[0] = V::Text(meta[m].first);
    row[1] = V::Text(meta[m].second);
    ++m;
    return true;
  }));
  ARK_RETURN_IF_ERROR(conn.Exec(kArkIndexes));
  return conn.Exec("ANALYZE");
}

}  // namespace

Result<std::unique_ptr<Store>> OpenArkStore(const std::string& ark_dir) {
  if (!PathExists(ark_dir + "/catalog.db")) return Status::NotFound("no Ark at " + ark_dir + " (run 'ark init')");
  return Store::Open(ark_dir + "/store");
}

Status InTransaction(Connection& conn, const std::function<Status()>& body) {
  ARK_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  // Index builds after a bulk load: more sort memory (this transaction only).
  Status s = conn.Exec(conn.dialect() == Dialect::kPostgres ? "SET LOCAL maintenance_work_mem = '256MB'"
                                                              : "PRAGMA threads = 2");
  if (s.ok()) s = body();
  if (s.ok()) s = conn.Exec("COMMIT");
  if (!s.ok()) (void)conn.Exec("ROLLBACK");
  return s;
}

Status ExportArk(const std::string& ark_dir, Connection& conn, Schema schema) {
  ARK_ASSIGN_OR_RETURN(auto store, OpenArkStore(ark_dir));
  Status s = InTransaction(conn, [&] { return schema == Schema::kArk ? WriteArk(*store, conn) : WriteOmop(*store, conn, true); });
  return s.WithContext("export " + ark_dir);
}

Status ExportOmop(const std::string& ark_dir, Connection& conn, bool secondary_use_only) {
  ARK_ASSIGN_OR_RETURN(auto store, OpenArkStore(ark_dir));
  Status s = InTransaction(conn, [&] { return WriteOmop(*store, conn, secondary_use_only); });
  return s.WithContext("export " + ark_dir);
}

Status EnsureExported(const std::string& ark_dir, Connection& conn) {
  ARK_ASSIGN_OR_RETURN(auto store, OpenArkStore(ark_dir));
  const std::string exists_sql = conn.dialect() == Dialect::kSqlite
                                     ? "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='ark_meta'"
                                     : "SELECT count(*) FROM pg_tables WHERE tablename='ark_meta' AND schemaname=current_schema()";
  ARK_ASSIGN_OR_RETURN(ResultSet ex, conn.Query(exists_sql));
  if (!ex.rows.empty() && ex.rows[0][0] && *ex.rows[0][0] != "0") {
    ARK_ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT key, value FROM ark_meta"));
    std::string version, events;
    for (auto& r : rs.rows) {
      if (!r[0] || !r[1]) continue;
      if (*r[0] == "store_version") version = *r[1];
      if (*r[0] == "events") events = *r[1];
    }
    const StoreStats st = store->Stats();
    if (version == std::to_string(st.version) && events == std::to_string(st.events)) return Status::OK();
  }
  store.reset();
  return ExportArk(ark_dir, conn, Schema::kArk);
}

}  // namespace ark::sql
