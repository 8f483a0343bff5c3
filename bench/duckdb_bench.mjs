// The DuckDB peer of bench/run.sh, through @duckdb/node-api (installed into bench/node_modules).
//
//   node duckdb_bench.mjs load  --db DB --csv EVENTS.csv --threads N
//       creates table events(person, time, code) from the CSV (header person,time,code) with
//       read_csv and explicit column types, then CHECKPOINTs so the table is on disk; timed.
//   node duckdb_bench.mjs query --db DB --query QUERY.json --runs R --threads N
//       runs SELECT COUNT(DISTINCT person) ... once to warm up, then R timed times.
//
// Prints one JSON object on stdout.
import { readFileSync, rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;
// CPU time of the whole process (every DuckDB thread included), in seconds.
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

async function main() {
  const cmd = process.argv[2];
  const db = arg('--db');
  const threads = arg('--threads', '2');
  if (cmd === 'load') {
    for (const f of [db, `${db}.wal`]) rmSync(f, { force: true });
  }
  const instance = await DuckDBInstance.create(db, { threads });
  const conn = await instance.connect();
  const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];

  if (cmd === 'load') {
    const csv = arg('--csv');
    const c0 = cpuNow();
    const t0 = now();
    await conn.run(
      `CREATE TABLE events AS SELECT * FROM read_csv(${sqlString(csv)}, header = true, delim = ',', ` +
        `columns = {'person': 'UINTEGER', 'time': 'BIGINT', 'code': 'UINTEGER'})`,
    );
    await conn.run('CHECKPOINT');
    const seconds = now() - t0;
    const cpu_seconds = cpuNow() - c0;
    const rows = Number((await conn.runAndReadAll('SELECT COUNT(*) FROM events')).getRows()[0][0]);
    console.log(JSON.stringify({ rows, seconds, rows_per_second: rows / seconds, cpu_seconds, duckdb_version: version, threads: Number(threads) }));
  } else if (cmd === 'query') {
    const q = JSON.parse(readFileSync(arg('--query'), 'utf8'));
    const runs = Number(arg('--runs', '5'));
    const ids = q.codes.map((c) => c.id).join(',');
    const sql =
      `SELECT COUNT(DISTINCT person) FROM events WHERE code IN (${ids}) ` +
      `AND time >= ${q.from_seconds} AND time < ${q.to_seconds}`;
    const run = async () => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
    const count = await run(); // warm-up
    const seconds = [];
    const cpu = [];
    for (let i = 0; i < runs; i++) {
      const c0 = cpuNow();
      const t0 = now();
      const c = await run();
      seconds.push(now() - t0);
      cpu.push(cpuNow() - c0);
      if (c !== count) throw new Error('runs disagree');
    }
    console.log(JSON.stringify({ persons_matched: count, seconds, median_seconds: median(seconds), cpu_seconds: cpu, median_cpu_seconds: median(cpu), sql, duckdb_version: version, threads: Number(threads) }));
  } else {
    throw new Error('usage: duckdb_bench.mjs load|query ...');
  }
  conn.closeSync();
}

main().catch((e) => {
  console.error(`duckdb_bench: ${e.message}`);
  process.exit(1);
});
