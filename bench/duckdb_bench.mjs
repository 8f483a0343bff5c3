// The DuckDB peer of bench/run.sh, through @duckdb/node-api (installed into bench/node_modules).
//
//   node duckdb_bench.mjs load  --db DB --csv EVENTS.csv --threads N
//       creates table events(person, time, code) from the CSV (header person,time,code) with
//       read_csv and explicit column types, then CHECKPOINTs so the table is on disk; timed.
//   node duckdb_bench.mjs query --db DB --query QUERY.json --runs R --threads N
//       runs SELECT COUNT(DISTINCT person) ... once to warm up, then R timed times.
//   node duckdb_bench.mjs load-feeds --db DB --feeds FEEDS_DIR --threads N
//       the like-for-like peer of `ark ingest`: loads every CSV file of every pseudonymised feed
//       (FEEDS_DIR/<custodian>/*.csv) into its own typed table <custodian>_<file> (types from
//       duckdb_feed_schema.mjs), in one transaction, then CHECKPOINTs; timed from the first
//       CREATE TABLE to the end of the CHECKPOINT. Afterwards (untimed) checks that each table
//       holds as many rows as its file has data lines and as the feed's manifest.json says.
//
// Prints one JSON object on stdout.
import { closeSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { COLUMN_TYPES, NON_EVENT_FILES } from './duckdb_feed_schema.mjs';

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
const sqlIdent = (s) => `"${s.replaceAll('"', '""')}"`;

// The header line of a CSV file, split on commas (the feeds' headers are plain names).
function csvHeader(file) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const end = buf.subarray(0, n).indexOf(10);
    if (end < 0) throw new Error(`${file}: no header line in the first ${buf.length} bytes`);
    return buf.toString('utf8', 0, end).replace(/\r$/, '').split(',');
  } finally {
    closeSync(fd);
  }
}

// Data lines of a CSV file: newline-terminated lines (plus an unterminated last one) minus the
// header. The feeds quote no newlines, so lines are rows.
function csvDataLines(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(8 << 20);
  let lines = 0;
  let last = 10;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      const b = buf.subarray(0, n);
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
      last = b[n - 1];
    }
  } finally {
    closeSync(fd);
  }
  if (last !== 10) lines++;
  return Math.max(0, lines - 1);
}

// Every CSV file of every feed under `feedsDir`, with its table name and typed columns.
function feedFiles(feedsDir) {
  const files = [];
  for (const custodian of readdirSync(feedsDir).sort()) {
    const dir = join(feedsDir, custodian);
    if (!statSync(dir).isDirectory()) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.csv')).sort()) {
      const path = join(dir, name);
      const columns = csvHeader(path).map((c) => {
        const t = COLUMN_TYPES[c];
        if (t === undefined) throw new Error(`${path}: column '${c}' has no type in bench/duckdb_feed_schema.mjs`);
        return typeof t === 'string' ? { name: c, read: t, type: t } : { name: c, ...t };
      });
      const table = `${custodian}_${name.replace(/\.csv$/, '')}`;
      files.push({ custodian, file: name, path, table, columns, event_file: !NON_EVENT_FILES.has(name),
        manifest_rows: manifest.files?.[name] ?? null, bytes: statSync(path).size });
    }
  }
  if (!files.length) throw new Error(`${feedsDir}: no feed directories with CSV files`);
  return files;
}

// CREATE TABLE ... AS SELECT from read_csv with every column's type given (no type sniffing).
function createTableSql(f) {
  const read = f.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.read)}`).join(', ');
  const select = f.columns.map((c) => (c.select ? `${c.select(sqlIdent(c.name))} AS ${sqlIdent(c.name)}` : sqlIdent(c.name))).join(', ');
  return `CREATE TABLE ${sqlIdent(f.table)} AS SELECT ${select} FROM read_csv(${sqlString(f.path)}, ` +
    `header = true, delim = ',', quote = '"', escape = '"', auto_detect = false, columns = {${read}})`;
}

async function loadFeeds(conn, feedsDir) {
  const files = feedFiles(feedsDir);
  const c0 = cpuNow();
  const t0 = now();
  await conn.run('BEGIN TRANSACTION');
  for (const f of files) await conn.run(createTableSql(f));
  await conn.run('COMMIT');
  await conn.run('CHECKPOINT');
  const seconds = now() - t0;
  const cpu_seconds = cpuNow() - c0;
  // Untimed: what each table holds against the file and the manifest.
  const tables = [];
  for (const f of files) {
    const rows = Number((await conn.runAndReadAll(`SELECT COUNT(*) FROM ${sqlIdent(f.table)}`)).getRows()[0][0]);
    const csv_rows = csvDataLines(f.path);
    tables.push({ custodian: f.custodian, file: f.file, table: f.table, event_file: f.event_file, bytes: f.bytes,
      columns: Object.fromEntries(f.columns.map((c) => [c.name, c.type])), rows, csv_rows, manifest_rows: f.manifest_rows,
      rows_match: rows === csv_rows && (f.manifest_rows === null || rows === f.manifest_rows) });
  }
  const sum = (xs) => xs.reduce((a, t) => a + t, 0);
  const rows = sum(tables.map((t) => t.rows));
  const event_rows = sum(tables.filter((t) => t.event_file).map((t) => t.rows));
  return { files: tables.length, bytes: sum(tables.map((t) => t.bytes)), rows, event_rows,
    csv_rows: sum(tables.map((t) => t.csv_rows)), rows_match: tables.every((t) => t.rows_match),
    seconds, rows_per_second: rows / seconds, event_rows_per_second: event_rows / seconds, cpu_seconds, tables };
}

async function main() {
  const cmd = process.argv[2];
  const db = arg('--db');
  const threads = arg('--threads', '2');
  if (cmd === 'load' || cmd === 'load-feeds') {
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
  } else if (cmd === 'load-feeds') {
    const r = await loadFeeds(conn, arg('--feeds'));
    console.log(JSON.stringify({ ...r, duckdb_version: version, threads: Number(threads) }));
  } else {
    throw new Error('usage: duckdb_bench.mjs load|query|load-feeds ...');
  }
  conn.closeSync();
}

main().catch((e) => {
  console.error(`duckdb_bench: ${e.message}`);
  process.exit(1);
});
