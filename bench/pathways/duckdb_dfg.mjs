// The DuckDB peer of the pathways benchmark (bench/pathways/run.sh), through @duckdb/node-api.
//
//   node duckdb_dfg.mjs --csv hospital_billing.csv --replicas R [--threads 2] [--memory 8GB]
//
// Builds the same replicated log as pathways_bench (replica r: case key case_no + r * cases,
// time + r s), dictionary-encoded like Ark's (integer case key and activity id, input sequence
// number for ties), then times the directly-follows counts with a window function:
//   SELECT a, b, count(*) FROM (SELECT act a, lead(act) OVER (PARTITION BY case_key ORDER BY t, seq) b
//   FROM events) WHERE b IS NOT NULL GROUP BY a, b
// Prints one JSON object on stdout.
import { DuckDBInstance } from '@duckdb/node-api';

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}
const now = () => Number(process.hrtime.bigint()) / 1e9;
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

async function main() {
  const csv = arg('--csv');
  const replicas = Number(arg('--replicas'));
  const threads = arg('--threads', '2');
  const instance = await DuckDBInstance.create(':memory:', {
    threads,
    memory_limit: arg('--memory', '8GB'),
    temp_directory: '/tmp/ark_pathways_duckdb.tmp',
  });
  const conn = await instance.connect();
  const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
  let t0 = now();
  await conn.run(
    `CREATE TABLE raw AS SELECT row_number() OVER () AS seq, case_id, activity, ` +
      `epoch_ms(CAST(timestamp_posixct_as_utc AS TIMESTAMP)) AS t FROM read_csv(${sqlString(csv)}, header = true, ` +
      `all_varchar = true)`,
  );
  await conn.run(
    `CREATE TABLE base AS SELECT seq, dense_rank() OVER (ORDER BY case_id) - 1 AS case_no, ` +
      `CAST(dense_rank() OVER (ORDER BY activity) - 1 AS INTEGER) AS act, t FROM raw`,
  );
  const cases = Number((await conn.runAndReadAll('SELECT COUNT(DISTINCT case_no) FROM base')).getRows()[0][0]);
  await conn.run(
    `CREATE TABLE events AS SELECT case_no + r * ${cases} AS case_key, act, t + r * 1000 AS t, seq ` +
      `FROM base, range(${replicas}) AS rr(r)`,
  );
  const rows = Number((await conn.runAndReadAll('SELECT COUNT(*) FROM events')).getRows()[0][0]);
  const build = now() - t0;
  const sql =
    `SELECT a, b, count(*) AS n FROM (SELECT act AS a, lead(act) OVER (PARTITION BY case_key ORDER BY t, seq) AS b ` +
    `FROM events) WHERE b IS NOT NULL GROUP BY a, b`;
  t0 = now();
  const res = (await conn.runAndReadAll(sql)).getRows();
  const seconds = now() - t0;
  let pairs = 0;
  for (const r of res) pairs += Number(r[2]);
  console.log(
    JSON.stringify({
      engine: 'duckdb',
      duckdb_version: version,
      threads: Number(threads),
      events: rows,
      build_seconds: build,
      dfg_seconds: seconds,
      dfg_events_per_second: rows / seconds,
      edges: res.length,
      dfg_pairs: pairs,
    }),
  );
}

main().catch((e) => {
  console.error(`duckdb_dfg: ${e.message}`);
  process.exit(1);
});
