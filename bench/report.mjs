// The last step of bench/run.sh: reads the step logs, checks that the three engines agree, prints
// the final table and writes bench/results/latest.json. Exit status 2 when the counts differ,
// 3 when BENCH_STRICT=1 and a target was missed.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}
const logs = arg('--logs');
const people = Number(arg('--people'));
const years = Number(arg('--years'));
const seed = Number(arg('--seed'));
const threads = Number(arg('--threads'));

const has = (name) => existsSync(join(logs, name));
const text = (name) => readFileSync(join(logs, name), 'utf8').trim();
const json = (name) => JSON.parse(text(`${name}.out`));
// logs/NAME.time: wall seconds, peak RSS (KiB), the step's CPU seconds, and the average number of
// cores other processes kept busy meanwhile (-1: unknown).
const time = (name) => {
  const [s, rss, cpu, other] = text(`${name}.time`).split(/\s+/).map(Number);
  return { seconds: s, max_rss_kb: rss, cpu_seconds: cpu ?? 0, other_cores: other ?? -1 };
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
// Looks a key up in a JSON object under any of several names (the CLI's spelling may vary).
const pick = (o, ...keys) => {
  for (const k of keys) if (o && o[k] !== undefined) return o[k];
  return undefined;
};

const query = JSON.parse(readFileSync(arg('--query'), 'utf8'));
const stats = json('stats');
const events = Number(stats.events);

// ---- Ark ------------------------------------------------------------------------------------
const synth = time('synth');
const synthCached = has('synth.cached');
const pseud = time('pseudonymise');
const ingestBatches = json('ingest');
const ingestEvents = ingestBatches.reduce((a, b) => a + Number(b.events), 0);
const ingestRows = ingestBatches.reduce((a, b) => a + Object.values(b.rows || {}).reduce((x, y) => x + Number(y), 0), 0);
const ingest = time('ingest');
const link = time('link');
const linkOut = json('link');
const build = time('build');
const exp = { ...json('export'), ...time('export') };
const inproc = json('scan_inproc');

const cliRuns = readdirSync(logs)
  .filter((f) => /^scan_cli_\d+\.out$/.test(f))
  .map((f) => {
    const name = f.replace(/\.out$/, '');
    const o = json(name);
    return { out: o, wall: time(name).seconds, seconds: Number(pick(o, 'seconds', 'scan_seconds', 'elapsed_seconds')) };
  });
let cli = null;
if (cliRuns.length) {
  const counts = new Set(cliRuns.map((r) => Number(pick(r.out, 'persons_matched', 'persons', 'matched'))));
  cli = {
    persons_matched: [...counts][0],
    runs_agree: counts.size === 1,
    seconds: cliRuns.map((r) => r.seconds),
    median_seconds: median(cliRuns.map((r) => r.seconds)),
    process_wall_seconds: cliRuns.map((r) => r.wall),
    median_process_wall_seconds: median(cliRuns.map((r) => r.wall)),
    events_scanned: pick(cliRuns[0].out, 'events_scanned', 'events'),
    output: cliRuns[0].out,
  };
}

// The headline scan figure: the median of warm runs in one process (ark_bench scan calls
// Store::CountPersonsWithAnyCode, the same call `ark scan` makes), like the peers' queries, which
// also run warm in one process. `ark scan` (one process per run, so each run also faults in the
// store's mapping) is reported beside it and must give the same count.
const arkScanSeconds = inproc.median_seconds;
const arkScanSource = 'Store::CountPersonsWithAnyCode, warm, in one process (ark_bench scan)';
const arkCount = inproc.persons_matched;
const unknownCodes = cli ? cli.output.unknown_codes || [] : [];

// ---- peers ----------------------------------------------------------------------------------
const sqliteLoad = json('sqlite_load');
const sqliteQuery = json('sqlite_query');
const duckLoad = json('duckdb_load');
const duckQuery = json('duckdb_query');
const sqliteBytes = Number(text('sqlite_bytes'));
const duckBytes = Number(text('duckdb_bytes'));
// The like-for-like peer of ingest: DuckDB loading every file of the same pseudonymised feeds into
// typed tables. Each table's rows must equal its file's data lines, the feed's manifest and the
// rows Ark's ingest reported for that file.
// Its seconds and cpu_seconds are the timed load (CREATE TABLEs + CHECKPOINT); process_* the whole
// node process (start-up and the untimed row checks too).
const duckFeedsProcess = time('duckdb_feeds_load');
const duckFeeds = { ...json('duckdb_feeds_load'), max_rss_kb: duckFeedsProcess.max_rss_kb, other_cores: duckFeedsProcess.other_cores,
  process_seconds: duckFeedsProcess.seconds, process_cpu_seconds: duckFeedsProcess.cpu_seconds, db_bytes: Number(text('duckdb_feeds_bytes')) };
const arkFileRows = Object.fromEntries(ingestBatches.map((b) => [b.feed, b.rows || {}]));
const feedRowMismatches = duckFeeds.tables.filter((t) => !t.rows_match ||
  (arkFileRows[t.custodian] && arkFileRows[t.custodian][t.file] !== undefined && Number(arkFileRows[t.custodian][t.file]) !== t.rows))
  .map((t) => `${t.custodian}/${t.file}: DuckDB ${t.rows}, CSV ${t.csv_rows}, manifest ${t.manifest_rows}, Ark ${arkFileRows[t.custodian]?.[t.file]}`);
const kernel = has('kernel.out') ? json('kernel') : null;

// ---- the check: same events, same answer ----------------------------------------------------
const counts = {
  ark_scan_cli: cli ? cli.persons_matched : null,
  ark_in_process: inproc.persons_matched,
  sqlite: sqliteQuery.persons_matched,
  duckdb: duckQuery.persons_matched,
};
const distinct = new Set(Object.values(counts).filter((v) => v !== null).map(Number));
const agree = distinct.size === 1 && (!cli || cli.runs_agree) && unknownCodes.length === 0;
const sameRows = exp.rows === events && sqliteLoad.rows === events && duckLoad.rows === events && feedRowMismatches.length === 0;

// ---- figures and targets --------------------------------------------------------------------
const full = people >= 1000000;
const tenYears = people === 1000000 && years === 10;
const fig = {
  synth_seconds: synth.seconds,
  ingest_events_per_second: ingestEvents / ingest.seconds,
  bytes_per_event: Number(stats.bytes_on_disk) / events,
  scan_events_per_second: events / arkScanSeconds,
  scan_median_seconds: arkScanSeconds,
  sqlite_load_rows_per_second: sqliteLoad.rows / sqliteLoad.seconds,
  duckdb_load_rows_per_second: duckLoad.rows / duckLoad.seconds,
  // Same input as Ark's ingest: the rows of every feed file, and of the event files alone.
  ingest_feed_rows_per_second: ingestRows / ingest.seconds,
  duckdb_feeds_rows_per_second: duckFeeds.rows / duckFeeds.seconds,
  duckdb_feeds_event_rows_per_second: duckFeeds.event_rows / duckFeeds.seconds,
  // Ark ingest / DuckDB full load over the same files: DuckDB's wall time / Ark's (> 1: Ark faster).
  ark_ingest_over_duckdb_feeds_load: duckFeeds.seconds / ingest.seconds,
  sqlite_bytes_per_event: sqliteBytes / events,
  duckdb_bytes_per_event: duckBytes / events,
  sqlite_scan_events_per_second: events / sqliteQuery.median_seconds,
  duckdb_scan_events_per_second: events / duckQuery.median_seconds,
  // Per CPU-second (all threads): less sensitive than wall rates to other work on the machine.
  ingest_events_per_cpu_second: ingest.cpu_seconds > 0 ? ingestEvents / ingest.cpu_seconds : null,
  sqlite_load_rows_per_cpu_second: sqliteLoad.cpu_seconds ? sqliteLoad.rows / sqliteLoad.cpu_seconds : null,
  duckdb_load_rows_per_cpu_second: duckLoad.cpu_seconds ? duckLoad.rows / duckLoad.cpu_seconds : null,
  duckdb_feeds_event_rows_per_cpu_second: duckFeeds.cpu_seconds ? duckFeeds.event_rows / duckFeeds.cpu_seconds : null,
  scan_events_per_cpu_second: inproc.median_cpu_seconds ? events / inproc.median_cpu_seconds : null,
  sqlite_scan_events_per_cpu_second: sqliteQuery.median_cpu_seconds ? events / sqliteQuery.median_cpu_seconds : null,
  duckdb_scan_events_per_cpu_second: duckQuery.median_cpu_seconds ? events / duckQuery.median_cpu_seconds : null,
};
const targets = {
  synth: { target: '<= 120 s for 1M people x 10 years', applies: tenYears, pass: synth.seconds <= 120 },
  ingest: { target: '>= 5M events/s', applies: true, pass: fig.ingest_events_per_second >= 5e6 },
  bytes: { target: '<= 4 bytes/event', applies: true, pass: fig.bytes_per_event <= 4 },
  scan: { target: '>= 1G events/s on >= 1M people', applies: full, pass: fig.scan_events_per_second >= 1e9 },
};

// ---- the table ------------------------------------------------------------------------------
const si = (x, unit = '') => {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)}G${unit}`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M${unit}`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k${unit}`;
  return `${x.toFixed(2)}${unit}`;
};
const sec = (x) => (x >= 100 ? `${x.toFixed(0)} s` : x >= 1 ? `${x.toFixed(2)} s` : `${(x * 1000).toFixed(1)} ms`);
const verdict = (t) => (!t.applies ? 'n/a here' : t.pass ? 'PASS' : 'MISS');
// a/b as "N.Nx faster" (or, below 1, "N.Nx slower"); words = [better, worse].
const ratio = (a, b, words) => {
  if (!a || !b) return '-';
  const r = a / b;
  return r >= 1 ? `${r.toFixed(1)}x ${words[0]}` : `${(1 / r).toFixed(1)}x ${words[1]}`;
};
const FASTER = ['faster', 'slower'];
const SMALLER = ['smaller', 'larger'];

const rows = [
  ['figure', 'Ark', 'SQLite', 'DuckDB', 'target', 'verdict', 'Ark vs SQLite', 'Ark vs DuckDB'],
  [`synth ${people} people x ${years} y (wall)`, sec(synth.seconds) + (synthCached ? ' (cached)' : ''), '', '', '<= 120 s (1M x 10 y)', verdict(targets.synth), '', ''],
  ['ingest / load 3-integer CSV (events/s)', si(fig.ingest_events_per_second, '/s'), si(fig.sqlite_load_rows_per_second, '/s'), si(fig.duckdb_load_rows_per_second, '/s'), '>= 5M/s', verdict(targets.ingest),
    ratio(fig.ingest_events_per_second, fig.sqlite_load_rows_per_second, FASTER), ratio(fig.ingest_events_per_second, fig.duckdb_load_rows_per_second, FASTER)],
  ['ingest / load 3-integer CSV (wall)', sec(ingest.seconds), sec(sqliteLoad.seconds), sec(duckLoad.seconds), '', '', '', ''],
  ['ingest / full load of the feeds (events/s)', si(fig.ingest_events_per_second, '/s'), '', si(fig.duckdb_feeds_event_rows_per_second, '/s') + ' (event rows)', '', '',
    '', ratio(fig.ark_ingest_over_duckdb_feeds_load, 1, FASTER)],
  ['ingest / full load of the feeds (rows/s)', si(fig.ingest_feed_rows_per_second, '/s'), '', si(fig.duckdb_feeds_rows_per_second, '/s'), '', '', '', ''],
  ['ingest / full load of the feeds (wall)', sec(ingest.seconds), '', sec(duckFeeds.seconds), '', '', '', ''],
  ['bytes per event on disk', fig.bytes_per_event.toFixed(2), fig.sqlite_bytes_per_event.toFixed(2), fig.duckdb_bytes_per_event.toFixed(2), '<= 4', verdict(targets.bytes),
    ratio(fig.sqlite_bytes_per_event, fig.bytes_per_event, SMALLER), ratio(fig.duckdb_bytes_per_event, fig.bytes_per_event, SMALLER)],
  ['scan (events/s, median)', si(fig.scan_events_per_second, '/s'), si(fig.sqlite_scan_events_per_second, '/s'), si(fig.duckdb_scan_events_per_second, '/s'), '>= 1G/s (>= 1M people)', verdict(targets.scan),
    ratio(fig.scan_events_per_second, fig.sqlite_scan_events_per_second, FASTER), ratio(fig.scan_events_per_second, fig.duckdb_scan_events_per_second, FASTER)],
  ['scan (median time)', sec(arkScanSeconds), sec(sqliteQuery.median_seconds), sec(duckQuery.median_seconds), '', '', '', ''],
  ['ingest / load per CPU-second', si(fig.ingest_events_per_cpu_second, '/s'), si(fig.sqlite_load_rows_per_cpu_second, '/s'), si(fig.duckdb_load_rows_per_cpu_second, '/s'), '', '',
    ratio(fig.ingest_events_per_cpu_second, fig.sqlite_load_rows_per_cpu_second, FASTER), ratio(fig.ingest_events_per_cpu_second, fig.duckdb_load_rows_per_cpu_second, FASTER)],
  ['scan per CPU-second', si(fig.scan_events_per_cpu_second, '/s'), si(fig.sqlite_scan_events_per_cpu_second, '/s'), si(fig.duckdb_scan_events_per_cpu_second, '/s'), '', '',
    ratio(fig.scan_events_per_cpu_second, fig.sqlite_scan_events_per_cpu_second, FASTER), ratio(fig.scan_events_per_cpu_second, fig.duckdb_scan_events_per_cpu_second, FASTER)],
  ['persons matched', String(arkCount), String(sqliteQuery.persons_matched), String(duckQuery.persons_matched), 'all equal', agree ? 'SAME' : 'DIFFER', '', ''],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const line = (r) => r.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd();

const out = [];
out.push('');
out.push(`Ark bench, ${new Date().toISOString().slice(0, 19)}Z, commit ${arg('--commit')}: ${people} people x ${years} years (seed ${seed}), ` +
  `${events} events, ${stats.persons} persons, ${threads} threads, ${cpus().length} cores (${cpus()[0].model.trim()})`);
out.push(`query: ${query.codes.length} codes (ranks ${query.codes.map((c) => c.rank).slice(0, 6).join(', ')}, ... of ${query.distinct_codes_in_store} codes by frequency), ` +
  `time in [${query.from}, ${query.to}); ${query.selected_code_events} events carry one of the codes`);
out.push('');
out.push(line(rows[0]));
out.push(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows.slice(1)) out.push(line(r));
out.push('');
out.push('every time (seconds):');
out.push(`  ark synth ${synth.seconds.toFixed(2)} (CPU ${synth.cpu_seconds.toFixed(1)} s; peak RSS ${(synth.max_rss_kb / 1024).toFixed(0)} MiB)${synthCached ? ' (cached: measured when the region was generated)' : ''}; ` +
  `pseudonymise (5 custodians, one after another) ${pseud.seconds.toFixed(2)}${synthCached ? ' (cached)' : ''}`);
out.push(`  ark ingest ${ingest.seconds.toFixed(2)} (CPU ${ingest.cpu_seconds.toFixed(1)} s; ${ingestEvents} events${ingestRows ? `, ${ingestRows} rows` : ''}; peak RSS ${(ingest.max_rss_kb / 1024).toFixed(0)} MiB); ` +
  `ark link ${link.seconds.toFixed(2)}; ark build ${build.seconds.toFixed(2)} (CPU ${build.cpu_seconds.toFixed(1)} s; peak RSS ${(build.max_rss_kb / 1024).toFixed(0)} MiB)`);
if (linkOut && linkOut.mode === 'pprl' && linkOut.pprl) {
  const p = linkOut.pprl;
  out.push(`  ark link --mode pprl: ${link.seconds.toFixed(2)} s (CPU ${link.cpu_seconds.toFixed(1)} s; peak RSS ${(link.max_rss_kb / 1024).toFixed(0)} MiB); ` +
    `${p.records} records, ${p.candidate_pairs} candidate pairs; ${linkOut.persons} persons` +
    (linkOut.precision !== undefined ? `; against the truth precision ${Number(linkOut.precision).toFixed(5)}, recall ${Number(linkOut.recall).toFixed(5)}` : ''));
}
out.push(`  store: ${stats.bytes_on_disk} bytes on disk for ${events} events; export to CSV ${exp.seconds.toFixed(2)} (${exp.rows} rows)`);
out.push(`  Ark scan, warm, one process (the table's figure): runs ${inproc.seconds.map((s) => s.toFixed(4)).join(', ')}; median ${inproc.median_seconds.toFixed(4)}` +
  ` = ${si(events / inproc.median_seconds, ' events/s')}`);
if (cli) {
  out.push(`  ark scan CLI, one process per run (its own timer; includes faulting in the mapped store): ${cli.seconds.map((s) => s.toFixed(4)).join(', ')}; ` +
    `median ${cli.median_seconds.toFixed(4)} = ${si(events / cli.median_seconds, ' events/s')}; whole process median ${cli.median_process_wall_seconds.toFixed(3)}`);
} else {
  out.push('  (ark scan is not in this build)');
}
out.push(`  SQLite ${sqliteLoad.sqlite_version}: load ${sqliteLoad.seconds.toFixed(2)}; query runs ${sqliteQuery.seconds.map((s) => s.toFixed(3)).join(', ')}; median ${sqliteQuery.median_seconds.toFixed(3)} (one thread: SQLite has no parallel scan)`);
out.push(`  DuckDB full load of the same feeds (the like-for-like peer of ingest; the table's "Ark vs DuckDB" there is DuckDB's wall time / Ark's over the same files): ` +
  `${duckFeeds.files} files, ${duckFeeds.bytes} bytes, every column typed, into ${duckFeeds.files} tables, one transaction + CHECKPOINT: ` +
  `${duckFeeds.seconds.toFixed(2)} s (CPU ${duckFeeds.cpu_seconds.toFixed(1)} s; peak RSS ${(duckFeeds.max_rss_kb / 1024).toFixed(0)} MiB); ` +
  `${duckFeeds.rows} rows = ${si(fig.duckdb_feeds_rows_per_second, ' rows/s')}, of which ${duckFeeds.event_rows} in event files = ${si(fig.duckdb_feeds_event_rows_per_second, ' event rows/s')}; ` +
  `database ${duckFeeds.db_bytes} bytes; rows loaded = CSV rows: ${duckFeeds.rows_match && feedRowMismatches.length === 0 ? 'yes, every file' : 'NO'}. ` +
  `Ark's ingest read the same ${ingestRows} rows and made ${ingestEvents} events of them: Ark ingest / DuckDB full load = ${fig.ark_ingest_over_duckdb_feeds_load.toFixed(2)}x`);
out.push(`  DuckDB ${duckLoad.duckdb_version}: load ${duckLoad.seconds.toFixed(2)} (incl. CHECKPOINT); query runs ${duckQuery.seconds.map((s) => s.toFixed(4)).join(', ')}; median ${duckQuery.median_seconds.toFixed(4)}`);
if (kernel) {
  const k1 = kernel.threads_1, kn = kernel[`threads_${threads}`];
  out.push(`  reference: bitmap lookup over an in-memory uint32 code column (${si(kernel.events)} events): ` +
    `1 thread ${si(k1.events_per_second, ' events/s')}` + (kn && threads !== 1 ? `, ${threads} threads ${si(kn.events_per_second, ' events/s')}` : '') +
    `; the Ark scan ran at ${(100 * fig.scan_events_per_second / (kn || k1).events_per_second).toFixed(0)}% of it`);
}
// Contention: how many cores other processes kept busy during each measured step.
const measured = { synth, ingest, link, build, 'Ark scan': time('scan_inproc'),
  'SQLite load': time('sqlite_load'), 'SQLite query': time('sqlite_query'), 'DuckDB load': time('duckdb_load'), 'DuckDB query': time('duckdb_query'), 'DuckDB feeds load': duckFeedsProcess };
const busy = Object.entries(measured).filter(([, t]) => t.other_cores >= 0 && t.seconds >= 0.5);
if (busy.length) {
  out.push(`  other processes kept busy (cores, average over the step): ` +
    busy.map(([k, t]) => `${k} ${t.other_cores.toFixed(2)}`).join(', ') + (synthCached ? ' (synth: when cached)' : ''));
  const noisy = busy.filter(([, t]) => t.other_cores > 0.25);
  if (noisy.length) {
    out.push(`WARNING: the machine was busy with other work during ${noisy.map(([k]) => k).join(', ')}: ` +
      `those figures are lower than this machine gives when idle`);
  }
}
out.push(`raw data: ${arg('--scratch')}; this table as JSON: ${arg('--out')}`);
if (!sameRows) out.push(`WARNING: row counts differ: store ${events}, export ${exp.rows}, SQLite ${sqliteLoad.rows}, DuckDB ${duckLoad.rows}` +
  (feedRowMismatches.length ? `; DuckDB full load of the feeds: ${feedRowMismatches.join('; ')}` : ''));
if (!agree) {
  out.push('');
  out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  out.push(`!!! THE ENGINES DISAGREE on the number of persons matched: ${JSON.stringify(counts)}`);
  if (unknownCodes.length) out.push(`!!! ark scan did not know codes: ${unknownCodes.join(', ')}`);
  out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
}
console.log(out.join('\n'));

const result = {
  date: new Date().toISOString(),
  commit: arg('--commit'),
  machine: { cores: cpus().length, cpu: cpus()[0].model.trim(), memory_gib: Math.round(totalmem() / 2 ** 30) },
  params: { people, years, seed, threads },
  region: { persons: Number(stats.persons), events, events_by_custodian: stats.events_by_custodian },
  query: { codes: query.codes, from: query.from, to: query.to, selected_code_events: query.selected_code_events },
  figures: fig,
  targets,
  counts: { ...counts, agree },
  steps: {
    synth: { ...synth, cached: synthCached },
    pseudonymise: { ...pseud, cached: synthCached },
    ingest: { ...ingest, events: ingestEvents, rows: ingestRows, batches: ingestBatches },
    link,
    build: { ...build, out: json('build') },
    stats,
    export: exp,
    ark_scan_cli: cli,
    ark_scan_in_process: inproc,
    ark_scan_headline_source: arkScanSource,
    sqlite_load: sqliteLoad,
    sqlite_query: sqliteQuery,
    sqlite_bytes: sqliteBytes,
    duckdb_load: duckLoad,
    duckdb_query: duckQuery,
    duckdb_bytes: duckBytes,
    duckdb_feeds_load: { ...duckFeeds, row_mismatches: feedRowMismatches },
    kernel,
  },
};
writeFileSync(arg('--out'), JSON.stringify(result, null, 2) + '\n');

if (!agree || !sameRows) process.exit(2);
if (process.env.BENCH_STRICT === '1' && Object.values(targets).some((t) => t.applies && !t.pass)) process.exit(3);
