// Connections (SQLite, a real PostgreSQL server), PgCluster, and the Ark-schema export compared
// row by row with the store.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "catalog/catalog.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "sql/sql_test_util.h"
#include "store/store_test_util.h"

namespace ark::sql {
namespace {

using store::testing::TempDir;

std::string Cell(const ResultSet& rs, size_t r, size_t c) { return rs.rows.at(r).at(c).value_or("<null>"); }

void RoundTrip(Connection& conn) {
  ASSERT_TRUE(conn.Exec("DROP TABLE IF EXISTS rt; CREATE TABLE rt (i BIGINT, d DOUBLE PRECISION, t TEXT)").ok());
  std::vector<std::vector<std::optional<std::string>>> rows = {
      {"1", "2.5", "plain"}, {std::nullopt, std::nullopt, std::nullopt}, {"-7", "0", "tab\there\nnew\\line 'q' \"dq\""}};
  size_t i = 0;
  Status s = conn.Load("rt", {"i", "d", "t"}, [&](std::vector<std::optional<std::string>>& row) {
    if (i >= rows.size()) return false;
    row = rows[i++];
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  int j = 0;
  s = conn.LoadValues("rt", {"i", "d", "t"}, [&](std::vector<Connection::Value>& row) {
    if (j++ >= 1) return false;
    row = {Connection::Value::Int(int64_t{1} << 40), Connection::Value::Real(0.1), Connection::Value::Text("x\ty")};
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto rs = conn.Query("SELECT i, d, t FROM rt ORDER BY i NULLS FIRST");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows.size(), 4u);
  EXPECT_EQ(rs->columns, (std::vector<std::string>{"i", "d", "t"}));
  EXPECT_FALSE(rs->rows[0][0].has_value());
  EXPECT_FALSE(rs->rows[0][2].has_value());
  EXPECT_EQ(Cell(*rs, 1, 0), "-7");
  EXPECT_EQ(Cell(*rs, 1, 2), "tab\there\nnew\\line 'q' \"dq\"");
  EXPECT_EQ(Cell(*rs, 2, 0), "1");
  EXPECT_EQ(std::stod(Cell(*rs, 2, 1)), 2.5);
  EXPECT_EQ(Cell(*rs, 3, 0), "1099511627776");
  EXPECT_EQ(std::stod(Cell(*rs, 3, 1)), 0.1);
  EXPECT_EQ(Cell(*rs, 3, 2), "x\ty");

  // A failing load leaves nothing behind.
  ASSERT_TRUE(conn.Exec("CREATE TABLE IF NOT EXISTS rt2 (i BIGINT NOT NULL)").ok());
  int k = 0;
  s = conn.Load("rt2", {"i"}, [&](std::vector<std::optional<std::string>>& row) {
    if (k++ >= 3) return false;
    if (k == 3) row[0].reset();  // NULL into NOT NULL
    else row[0] = "5";
    return true;
  });
  EXPECT_FALSE(s.ok());
  auto n = conn.Query("SELECT count(*) FROM rt2");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(Cell(*n, 0, 0), "0");

  // Errors name the engine.
  Status bad = conn.Exec("SELEC 1");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(conn.dialect() == Dialect::kSqlite ? "sqlite" : "postgresql"), std::string::npos)
      << bad.message();
}

TEST(SqlConnection, SqliteRoundTrip) {
  const std::string dir = TempDir("sql_rt");
  ASSERT_TRUE(MakeDirs(dir).ok());
  auto conn = Connection::Open("sqlite:" + dir + "/a.sqlite");
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ((*conn)->dialect(), Dialect::kSqlite);
  RoundTrip(**conn);
}

TEST(SqlConnection, PostgresRoundTrip) {
  auto url = testing::SharedPgUrl();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto conn = Connection::Open(*url);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ((*conn)->dialect(), Dialect::kPostgres);
  ASSERT_TRUE((*conn)->Exec("DROP TABLE IF EXISTS rt2").ok());
  RoundTrip(**conn);
}

TEST(SqlConnection, QuotingDoublesTheQuoteCharacter) {
  EXPECT_EQ(QuoteIdentifier("person"), "\"person\"");
  EXPECT_EQ(QuoteIdentifier("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(QuoteLiteral("O'Brien"), "'O''Brien'");
  EXPECT_EQ(QuoteLiteral(""), "''");
}

TEST(SqlConnection, BadUrls) {
  auto a = Connection::Open("mysql://x");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  auto b = Connection::Open("postgresql://nobody@127.0.0.1:1/none");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("postgresql"), std::string::npos);
}

TEST(SqlPgCluster, StartLoadQueryStop) {
  const std::string dir = "/tmp/ark_test_pgc_" + std::to_string(::getpid());
  (void)RemoveAll(dir);
  auto c = PgCluster::Start(dir);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GT((*c)->port(), 0);
  EXPECT_NE((*c)->url().find("127.0.0.1"), std::string::npos);
  {
    auto conn = Connection::Open((*c)->url());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (x INTEGER)").ok());
    int i = 0;
    ASSERT_TRUE((*conn)->Load("t", {"x"}, [&](std::vector<std::optional<std::string>>& row) {
      if (i >= 100) return false;
      row[0] = std::to_string(i++);
      return true;
    }).ok());
    auto rs = (*conn)->Query("SELECT sum(x) FROM t");
    ASSERT_TRUE(rs.ok());
    EXPECT_EQ(Cell(*rs, 0, 0), "4950");
  }
  const std::string url = (*c)->url();
  EXPECT_TRUE((*c)->Stop().ok());
  EXPECT_TRUE((*c)->Stop().ok());  // a no-op
  EXPECT_FALSE(Connection::Open(url).ok());
  c->reset();
  (void)RemoveAll(dir);
}

// A small Ark: a catalog plus a store written directly.
std::string MakeArk(const store::testing::Data& d) {
  const std::string dir = TempDir("sql_ark");
  EXPECT_TRUE(MakeDirs(dir).ok());
  EXPECT_TRUE(Catalog::Create(dir).ok());
  EXPECT_TRUE(store::testing::WriteData(dir + "/store", d).ok());
  return dir;
}

void CompareWithStore(Connection& conn, const store::testing::Data& d) {
  auto ps = conn.Query("SELECT person_id, birth_year, birth_month, sex, death_day, lsoa, imd_decile, practice, "
                       "optout_known, optout_national, optout_type1 FROM ark_person ORDER BY person_id");
  ASSERT_TRUE(ps.ok()) << ps.status().ToString();
  ASSERT_EQ(ps->rows.size(), d.persons.size());
  auto opt_int = [](int64_t v, bool present) { return present ? std::to_string(v) : std::string("<null>"); };
  auto opt_str = [](const std::vector<std::string>& dict, uint32_t id) { return id ? dict[id] : std::string("<null>"); };
  for (size_t k = 0; k < d.persons.size(); ++k) {
    const Person& p = d.persons[k];
    SCOPED_TRACE("person " + std::to_string(k));
    EXPECT_EQ(Cell(*ps, k, 0), std::to_string(k));
    EXPECT_EQ(Cell(*ps, k, 1), opt_int(p.birth_year, p.birth_year != 0));
    EXPECT_EQ(Cell(*ps, k, 2), opt_int(p.birth_month, p.birth_month != 0));
    EXPECT_EQ(Cell(*ps, k, 3), std::string(1, p.sex));
    EXPECT_EQ(Cell(*ps, k, 4), opt_int(p.death_day, p.has_death()));
    EXPECT_EQ(Cell(*ps, k, 5), opt_str(d.dicts.areas, p.lsoa));
    EXPECT_EQ(Cell(*ps, k, 6), opt_int(p.imd_decile, p.imd_decile != 0));
    EXPECT_EQ(Cell(*ps, k, 7), opt_str(d.dicts.practices, p.practice));
    EXPECT_EQ(Cell(*ps, k, 8), (p.flags & kOptOutKnown) ? "1" : "0");
    EXPECT_EQ(Cell(*ps, k, 9), (p.flags & kOptedOutNational) ? "1" : "0");
    EXPECT_EQ(Cell(*ps, k, 10), (p.flags & kOptedOutType1) ? "1" : "0");
  }
  auto es = conn.Query("SELECT person_id, time, end_time, code, value, unit, source, encounter, seq FROM ark_event "
                       "ORDER BY person_id, seq");
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  ASSERT_EQ(es->rows.size(), d.num_events());
  size_t r = 0;
  for (size_t k = 0; k < d.events.size(); ++k) {
    for (size_t i = 0; i < d.events[k].size(); ++i, ++r) {
      const Event& e = d.events[k][i];
      SCOPED_TRACE("event row " + std::to_string(r));
      EXPECT_EQ(Cell(*es, r, 0), std::to_string(k));
      EXPECT_EQ(Cell(*es, r, 1), std::to_string(e.time));
      EXPECT_EQ(Cell(*es, r, 2), opt_int(e.end, e.end != kNoTime));
      EXPECT_EQ(Cell(*es, r, 3), d.dicts.codes[e.code]);
      if (e.has_value()) EXPECT_EQ(std::stod(Cell(*es, r, 4)), e.value);
      else EXPECT_EQ(Cell(*es, r, 4), "<null>");
      EXPECT_EQ(Cell(*es, r, 5), opt_str(d.dicts.units, e.unit));
      EXPECT_EQ(Cell(*es, r, 6), opt_str(d.dicts.sources, e.source));
      EXPECT_EQ(Cell(*es, r, 7), opt_int(e.encounter, e.encounter != 0));
      EXPECT_EQ(Cell(*es, r, 8), std::to_string(i));
    }
  }
  auto meta = conn.Query("SELECT value FROM ark_meta WHERE key = 'events'");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(Cell(*meta, 0, 0), std::to_string(d.num_events()));
}

TEST(SqlExport, ArkSchemaSqliteMatchesStore) {
  auto d = store::testing::MakeData(300, 40, 50, 7);
  const std::string ark = MakeArk(d);
  auto conn = Connection::Open("sqlite:" + ark + "/export.sqlite");
  ASSERT_TRUE(conn.ok());
  Status s = ExportArk(ark, **conn, Schema::kArk);
  ASSERT_TRUE(s.ok()) << s.ToString();
  CompareWithStore(**conn, d);
  // A second export replaces the first.
  ASSERT_TRUE(ExportArk(ark, **conn, Schema::kArk).ok());
  CompareWithStore(**conn, d);
  // Up to date: EnsureExported does nothing (a marker row survives).
  ASSERT_TRUE((*conn)->Exec("INSERT INTO ark_meta VALUES ('marker', '1')").ok());
  ASSERT_TRUE(EnsureExported(ark, **conn).ok());
  auto m = (*conn)->Query("SELECT count(*) FROM ark_meta WHERE key = 'marker'");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Cell(*m, 0, 0), "1");
  // Stale: re-exported.
  ASSERT_TRUE((*conn)->Exec("UPDATE ark_meta SET value = '0' WHERE key = 'events'").ok());
  ASSERT_TRUE(EnsureExported(ark, **conn).ok());
  m = (*conn)->Query("SELECT count(*) FROM ark_meta WHERE key = 'marker'");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Cell(*m, 0, 0), "0");
  auto idx = (*conn)->Query("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'ark_event_%'");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(Cell(*idx, 0, 0), "2");
}

TEST(SqlExport, ArkSchemaPostgresMatchesStore) {
  auto url = testing::SharedPgUrl();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto d = store::testing::MakeData(200, 30, 40, 11);
  const std::string ark = MakeArk(d);
  auto conn = Connection::Open(*url);
  ASSERT_TRUE(conn.ok());
  Status s = ExportArk(ark, **conn, Schema::kArk);
  ASSERT_TRUE(s.ok()) << s.ToString();
  CompareWithStore(**conn, d);
  ASSERT_TRUE(EnsureExported(ark, **conn).ok());
  CompareWithStore(**conn, d);
}

// Three persons: 0 cleared for secondary use, 1 opted out, 2 never checked.
store::testing::Data OmopData() {
  store::testing::Data d;
  d.dicts.codes = {"", "REG/P1", "ICD10/J44.1", "SNOMED/123", "OPCS4/A01", "LOINC/1-1", "DMD/99", "COMM/X",
                   "AE/1", "ADMIMETH/21", "DEATH/J44.1", "DISDEST/19",
                   // 61 bytes, with a 2-byte character across byte 50
                   "COMM/" + std::string(44, 'x') + "\xc3\xa9" + std::string(10, 'y')};
  d.dicts.units = {"", "mmol/L"};
  d.dicts.sources = {"", "gp", "acute"};
  d.dicts.practices = {"", "P1"};
  const Seconds day = kSecondsPerDay, t0 = 18000 * day;
  for (uint32_t k = 0; k < 3; ++k) {
    Person p;
    p.key = k;
    p.birth_year = 1950;
    p.sex = k == 1 ? 'F' : 'M';
    p.flags = k == 0 ? kOptOutKnown : k == 1 ? (kOptOutKnown | kOptedOutNational) : 0;
    std::vector<Event> ev;
    auto add = [&](Seconds t, CodeId c, double v = kNoValue, uint32_t unit = 0, uint16_t src = 1, uint32_t enc = 0,
                   Seconds end = kNoTime) {
      Event e;
      e.person = k;
      e.time = t;
      e.code = c;
      e.value = v;
      e.unit = unit;
      e.source = src;
      e.encounter = enc;
      e.end = end;
      ev.push_back(e);
    };
    add(t0, 1, kNoValue, 0, 1, 0, t0 + 100 * day);         // registration, 100 days
    add(t0 + 1 * day, 2);                                   // condition
    add(t0 + 2 * day, 3);                                   // SNOMED without value: condition
    add(t0 + 3 * day, 3, 7.5, 1);                           // SNOMED with value: measurement
    add(t0 + 4 * day, 9, kNoValue, 0, 2, 5, t0 + 6 * day);  // spell 5: inpatient visit
    add(t0 + 4 * day, 4, kNoValue, 0, 2, 5);                // procedure in the spell
    add(t0 + 5 * day, 5, 4.2, 1, 2, 5);                     // lab in the spell
    add(t0 + 6 * day, 11, kNoValue, 0, 2, 5);               // discharge destination
    add(t0 + 7 * day, 8, kNoValue, 0, 2, 6, t0 + 7 * day + 3600);  // A&E attendance 6
    add(t0 + 8 * day, 6, 28);                               // drug
    add(t0 + 9 * day, 7);                                   // community contact: observation
    add(t0 + 10 * day, 12);                                 // a long code: cut to varchar(50)
    add(t0 + 200 * day, 10);                                // death
    d.persons.push_back(p);
    d.events.push_back(ev);
  }
  return d;
}

void CheckOmop(Connection& conn, bool all_persons) {
  const std::string n = all_persons ? "3" : "1";
  const std::vector<std::pair<std::string, std::string>> counts = {
      {"person", n}, {"observation_period", n}, {"visit_occurrence", all_persons ? "6" : "2"},
      {"condition_occurrence", all_persons ? "6" : "2"}, {"procedure_occurrence", n}, {"drug_exposure", n},
      {"measurement", all_persons ? "6" : "2"}, {"observation", all_persons ? "6" : "2"}, {"death", n}, {"cdm_source", "1"}};
  for (auto& [table, want] : counts) {
    auto rs = conn.Query("SELECT count(*) FROM " + table);
    ASSERT_TRUE(rs.ok()) << rs.status().ToString();
    EXPECT_EQ(Cell(*rs, 0, 0), want) << table;
  }
  auto v = conn.Query("SELECT visit_concept_id, visit_start_date, visit_end_date, admitted_from_source_value, "
                      "discharged_to_source_value FROM visit_occurrence WHERE person_id = 0 ORDER BY visit_occurrence_id");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->rows.size(), 2u);
  EXPECT_EQ(Cell(*v, 0, 0), "9201");
  EXPECT_EQ(Cell(*v, 0, 1), FormatDate(18004));
  EXPECT_EQ(Cell(*v, 0, 2), FormatDate(18006));
  EXPECT_EQ(Cell(*v, 0, 3), "ADMIMETH/21");
  EXPECT_EQ(Cell(*v, 0, 4), "DISDEST/19");
  EXPECT_EQ(Cell(*v, 1, 0), "9203");
  auto p = conn.Query("SELECT procedure_source_value, procedure_concept_id, v.visit_concept_id FROM procedure_occurrence p "
                      "JOIN visit_occurrence v ON v.visit_occurrence_id = p.visit_occurrence_id WHERE p.person_id = 0");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->rows.size(), 1u);
  EXPECT_EQ(Cell(*p, 0, 0), "OPCS4/A01");
  EXPECT_EQ(Cell(*p, 0, 1), "0");
  EXPECT_EQ(Cell(*p, 0, 2), "9201");
  auto m = conn.Query("SELECT measurement_source_value, value_as_number, unit_source_value FROM measurement "
                      "WHERE person_id = 0 ORDER BY measurement_date");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->rows.size(), 2u);
  EXPECT_EQ(Cell(*m, 0, 0), "SNOMED/123");
  EXPECT_EQ(std::stod(Cell(*m, 0, 1)), 7.5);
  EXPECT_EQ(Cell(*m, 0, 2), "mmol/L");
  auto op = conn.Query("SELECT observation_period_start_date, observation_period_end_date FROM observation_period WHERE person_id = 0");
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(Cell(*op, 0, 0), FormatDate(18000));
  EXPECT_EQ(Cell(*op, 0, 1), FormatDate(18099));
  auto dth = conn.Query("SELECT death_date, cause_source_value FROM death WHERE person_id = 0");
  ASSERT_TRUE(dth.ok());
  EXPECT_EQ(Cell(*dth, 0, 0), FormatDate(18200));
  EXPECT_EQ(Cell(*dth, 0, 1), "J44.1");
  auto lc = conn.Query("SELECT observation_source_value FROM observation WHERE person_id = 0 ORDER BY observation_date");
  ASSERT_TRUE(lc.ok());
  EXPECT_EQ(Cell(*lc, 0, 0), "COMM/X");
  EXPECT_EQ(Cell(*lc, 1, 0), "COMM/" + std::string(44, 'x'));  // 49 bytes: the character is not split
  auto g = conn.Query("SELECT gender_concept_id, year_of_birth FROM person WHERE person_id = 0");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Cell(*g, 0, 0), "8507");
  EXPECT_EQ(Cell(*g, 0, 1), "1950");
}

TEST(SqlExport, OmopSqliteAndPostgres) {
  const auto d = OmopData();
  const std::string ark = MakeArk(d);
  auto lite = Connection::Open("sqlite:" + ark + "/omop.sqlite");
  ASSERT_TRUE(lite.ok());
  Status s = ExportArk(ark, **lite, Schema::kOmop);  // secondary use: person 0 only
  ASSERT_TRUE(s.ok()) << s.ToString();
  CheckOmop(**lite, false);
  ASSERT_TRUE(ExportOmop(ark, **lite, false).ok());
  CheckOmop(**lite, true);
  auto url = testing::SharedPgUrl();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto pg = Connection::Open(*url);
  ASSERT_TRUE(pg.ok());
  s = ExportArk(ark, **pg, Schema::kOmop);
  ASSERT_TRUE(s.ok()) << s.ToString();
  CheckOmop(**pg, false);
  ASSERT_TRUE(ExportOmop(ark, **pg, false).ok());
  CheckOmop(**pg, true);
}

TEST(SqlExport, FailedExportKeepsThePreviousOne) {
  const auto d = store::testing::MakeData(50, 10, 10, 3);
  const std::string ark = MakeArk(d);
  auto conn = Connection::Open("sqlite:" + ark + "/x.sqlite");
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(ExportArk(ark, **conn, Schema::kArk).ok());
  // An index name taken by another table makes the new export fail at its very end.
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE guard (x INTEGER); DROP INDEX ark_event_code; "
                            "CREATE INDEX ark_event_code ON guard (x)").ok());
  ASSERT_TRUE(RemoveAll(ark + "/store").ok());
  ASSERT_TRUE(store::testing::WriteData(ark + "/store", store::testing::MakeData(60, 10, 10, 4)).ok());
  Status s = ExportArk(ark, **conn, Schema::kArk);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sqlite"), std::string::npos) << s.message();
  CompareWithStore(**conn, d);  // the first export, intact
}

TEST(SqlExport, EnsureExportedSeesAppends) {
  auto d = store::testing::MakeData(40, 10, 10, 5);
  const std::string ark = MakeArk(d);
  auto conn = Connection::Open("sqlite:" + ark + "/e.sqlite");
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(EnsureExported(ark, **conn).ok());
  CompareWithStore(**conn, d);
  {
    auto st = Store::Open(ark + "/store");
    ASSERT_TRUE(st.ok());
    AppendEvent a;
    a.person = 40;  // a new person, known only from the live delta
    a.time = 20000 * kSecondsPerDay;
    a.code = "SNOMED/999";
    a.value = 1.5;
    a.unit = "kg";
    a.source = "live";
    ASSERT_TRUE((*st)->Append(std::span<const AppendEvent>(&a, 1)).ok());
  }
  ASSERT_TRUE(EnsureExported(ark, **conn).ok());
  auto rs = (*conn)->Query("SELECT person_id, code, value, unit, source, seq FROM ark_event WHERE code = 'SNOMED/999'");
  ASSERT_TRUE(rs.ok());
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(Cell(*rs, 0, 0), "40");
  EXPECT_EQ(Cell(*rs, 0, 2), "1.5");
  EXPECT_EQ(Cell(*rs, 0, 3), "kg");
  EXPECT_EQ(Cell(*rs, 0, 4), "live");
  EXPECT_EQ(Cell(*rs, 0, 5), "0");
  auto n = (*conn)->Query("SELECT count(*) FROM ark_person");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(Cell(*n, 0, 0), "41");
}

TEST(SqlExport, NoArkIsNotFound) {
  auto conn = Connection::Open("sqlite::memory:");
  ASSERT_TRUE(conn.ok());
  Status s = ExportArk("/nonexistent/ark", **conn, Schema::kArk);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
}

// A process that starts a cluster and dies without stopping it (as a crashed test would) leaves
// no server behind: the watchdog stops it.
TEST(SqlPgCluster, StopsWhenItsOwnerDies) {
  const std::string dir = "/tmp/ark_test_pgc_orphan_" + std::to_string(::getpid());
  (void)RemoveAll(dir);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto c = PgCluster::Start(dir);
    const int port = c.ok() ? (*c)->port() : 0;
    (void)!::write(fds[1], &port, sizeof port);
    ::_exit(0);  // no destructors, no Stop(): the cluster is orphaned
  }
  ::close(fds[1]);
  int port = 0;
  ASSERT_EQ(::read(fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_GT(port, 0) << "the child could not start a cluster (see " << dir << "/setup.log)";
  const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
  bool stopped = false;
  for (int i = 0; i < 300 && !stopped; ++i) {  // up to 30 s
    stopped = !PathExists(dir + "/pgdata/postmaster.pid") && !Connection::Open(url).ok();
    if (!stopped) ::usleep(100000);
  }
  EXPECT_TRUE(stopped) << "the orphaned server on port " << port << " is still running";
  if (!stopped) {  // do not leak it from the test either
    (void)!std::system(("runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D " + dir +
                        "/pgdata -m immediate stop >/dev/null 2>&1").c_str());
  }
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::sql
