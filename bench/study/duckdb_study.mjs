// The DuckDB peer of the study benchmark (study_bench), through @duckdb/node-api (bench/node_modules).
//
//   node duckdb_study.mjs --dir DIR --threads N --runs R
//
// DIR holds person.csv, event.csv (written by study_bench from the store) and script.json (the
// SQL Ark generates: {setup: [...], dataset: "...", measures: ["..."]}). Loads the two tables
// (timed), then runs the whole script R times (timed). Prints one JSON object on stdout.
import { readFileSync, rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}
const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

async function main() {
  const dir = arg('--dir');
  const threads = arg('--threads', '2');
  const runs = Number(arg('--runs', '1'));
  const db = `${dir}/study.duckdb`;
  for (const f of [db, `${db}.wal`]) rmSync(f, { force: true });
  const instance = await DuckDBInstance.create(db, { threads });
  const conn = await instance.connect();
  const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
  const script = JSON.parse(readFileSync(`${dir}/script.json`, 'utf8'));

  const t0 = now();
  await conn.run(
    `CREATE TABLE ark_person AS SELECT * FROM read_csv(${sqlString(`${dir}/person.csv`)}, header = true, delim = ',', nullstr = '', ` +
      `columns = {'person_id': 'BIGINT', 'birth_year': 'INTEGER', 'birth_month': 'INTEGER', 'sex': 'VARCHAR', 'death_day': 'INTEGER', ` +
      `'lsoa': 'VARCHAR', 'imd_decile': 'INTEGER', 'practice': 'VARCHAR', 'optout_known': 'INTEGER', 'optout_national': 'INTEGER', ` +
      `'optout_type1': 'INTEGER'})`,
  );
  await conn.run(
    `CREATE TABLE ark_event AS SELECT * FROM read_csv(${sqlString(`${dir}/event.csv`)}, header = true, delim = ',', nullstr = '', ` +
      `columns = {'person_id': 'BIGINT', 'time': 'BIGINT', 'end_time': 'BIGINT', 'code': 'VARCHAR', 'value': 'DOUBLE', 'seq': 'BIGINT'})`,
  );
  await conn.run('CHECKPOINT');
  const load_seconds = now() - t0;

  const seconds = [];
  let dataset_rows = 0;
  let measure_sums = [];
  for (let r = 0; r < runs; ++r) {
    const t = now();
    for (const stmt of script.setup) await conn.run(stmt);
    dataset_rows = (await conn.runAndReadAll(script.dataset)).getRows().length;
    measure_sums = [];
    for (const q of script.measures) {
      const rows = (await conn.runAndReadAll(q)).getRows();
      let n = 0;
      let d = 0;
      for (const row of rows) {
        n += Number(row[row.length - 2]);
        d += Number(row[row.length - 1]);
      }
      measure_sums.push([n, d]);
    }
    seconds.push(now() - t);
  }
  console.log(JSON.stringify({ seconds, median_seconds: median(seconds), load_seconds, dataset_rows, measure_sums, duckdb_version: version, threads: Number(threads) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
