// The tables of bench/scale/run.sh and bench/results/scale-<date>.json, from its measurements:
//   steps.tsv: "size step wall_s user_s sys_s max_rss_kib other_cores ok|failed" per step and
//              size (/usr/bin/time; other_cores: cores other processes kept busy meanwhile);
//   sizes.tsv: "size status events persons pprl_persons peak_disk_bytes", status ran,
//              skipped-disk, skipped-memory or failed:<step>.
//
//   node report.mjs --steps S --sizes Z --out OUT.json --target-gib 4 [--flat-at 15000000] ...
//       prints the peak-RSS table (step x size, target, PASS/FAIL, slope) and the time table;
//       writes OUT.json.
//   node report.mjs --steps S --sizes Z --extrapolate N
//       prints one line per step: peak RSS and wall at N people extrapolated from the sizes so far.
//   node report.mjs --steps S --sizes Z --predict-rss N
//       prints "GIB STEP": the largest peak RSS predicted at N people (along the line with two
//       sizes or more, in proportion to N with one; "0 none" with none).
//
// The slope is the least-squares line of peak RSS (GiB) against millions of people over the
// sizes measured (two at least). "Flat" is judged where the target is meant to hold: a step
// passes when every size measured stays within the target and the line, extended to --flat-at
// people, does too.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}
const tsv = (file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/)) : []);

const STEPS = ['synth', 'pseudonymise', 'ingest', 'link_deterministic', 'build', 'link_pprl'];
const GiB = 2 ** 20; // KiB per GiB

const measured = tsv(arg('--steps')).map(([size, step, wall, user, sys, rss, other, ok]) => ({
  size: Number(size), step, wall: Number(wall), user: Number(user), sys: Number(sys), rss_kib: Number(rss), rss_gib: Number(rss) / GiB,
  other_cores: Number(other), failed: ok === 'failed',
}));
const sizes = tsv(arg('--sizes')).map(([size, status, events, persons, pprlPersons, bytes]) => ({
  size: Number(size), status, events: Number(events), persons: Number(persons), pprl_persons: Number(pprlPersons), disk_bytes: Number(bytes),
}));
const ran = sizes.filter((s) => s.status === 'ran').map((s) => s.size);
const get = (step, size) => measured.find((m) => m.step === step && m.size === size);

// Least squares y = a + b x over points [x, y]; null below two distinct x.
function fit(points) {
  const n = points.length;
  if (n < 2 || new Set(points.map((p) => p[0])).size < 2) return null;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const b = sxy / sxx;
  return { intercept: my - b * mx, slope: b };
}
const at = (line, x) => (line ? line.intercept + line.slope * x : null);
const lines = Object.fromEntries(STEPS.map((step) => {
  const pts = ran.map((n) => get(step, n)).filter(Boolean);
  return [step, {
    rss: fit(pts.map((m) => [m.size / 1e6, m.rss_gib])),   // GiB against millions of people
    wall: fit(pts.map((m) => [m.size / 1e6, m.wall])),     // seconds against millions of people
  }];
}));

const people = (n) => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : `${+(n / 1e3).toFixed(1)}k`);
const g2 = (x) => (x === null || x === undefined ? '-' : `${x.toFixed(2)} GiB`);
const s1 = (x) => (x === null || x === undefined ? '-' : `${x.toFixed(1)} s`);

if (process.argv.includes('--predict-rss')) {
  const n = Number(arg('--predict-rss'));
  let best = [0, 'none'];
  for (const step of STEPS) {
    const pts = ran.map((x) => get(step, x)).filter(Boolean);
    const l = lines[step].rss;
    const p = l ? at(l, n / 1e6) : pts.length ? pts[pts.length - 1].rss_gib * n / pts[pts.length - 1].size : 0;
    if (p > best[0]) best = [p, step];
  }
  console.log(`${best[0].toFixed(1)} ${best[1]}`);
  process.exit(0);
}

if (process.argv.includes('--extrapolate')) {
  const n = Number(arg('--extrapolate'));
  if (!ran.length) {
    console.log('no size measured yet: nothing to extrapolate from');
  } else if (ran.length < 2) {
    console.log(`one size measured (${people(ran[0])}): no slope to extrapolate from`);
  } else {
    for (const step of STEPS) {
      const l = lines[step];
      console.log(`${step} at ${people(n)} (extrapolated): peak RSS ${g2(at(l.rss, n / 1e6))}, wall ${s1(at(l.wall, n / 1e6))}`);
    }
  }
  process.exit(0);
}

const target = Number(arg('--target-gib', '4'));
const flatAt = Number(arg('--flat-at', '15000000'));
const table = (rows) => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => r.map((v, c) => String(v).padEnd(widths[c])).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
};
const skipped = sizes.filter((s) => s.status.startsWith('skipped')).map((s) => s.size);
const allSizes = sizes.map((s) => s.size);

// ---- peak RSS -------------------------------------------------------------------------------
const verdicts = {};
const rssRows = [['step', ...allSizes.map((n) => `${people(n)}${skipped.includes(n) ? ' (extrap.)' : ''}`), 'target', 'verdict', 'slope (GiB per 1M people)', `at ${people(flatAt)} (line)`]];
for (const step of STEPS) {
  const l = lines[step].rss;
  const pts = allSizes.map((n) => get(step, n)).filter((m) => m && !m.failed);
  // A step that failed (e.g. killed for memory) counts against the target with the RSS it reached.
  const failed = measured.filter((m) => m.step === step && m.failed);
  if (!pts.length && !failed.length) continue;
  const over = [...pts.filter((m) => m.rss_gib > target), ...failed];
  const atFlat = at(l, flatAt / 1e6);
  const pass = over.length === 0 && (atFlat === null || atFlat <= target);
  verdicts[step] = {
    pass,
    reason: over.length ? `over ${target} GiB or failed at ${over.map((m) => people(m.size) + (m.failed ? ' (failed)' : '')).join(', ')}` :
      atFlat !== null && atFlat > target ? `rises: ${atFlat.toFixed(2)} GiB at ${people(flatAt)} on the line` : atFlat === null ? 'one size: flatness not judged' : 'within the target and flat enough',
    slope_gib_per_million: l ? l.slope : null,
    intercept_gib: l ? l.intercept : null,
    [`line_at_${flatAt}_gib`]: atFlat,
  };
  rssRows.push([step,
    ...allSizes.map((n) => (skipped.includes(n) ? (l ? `(${g2(at(l, n / 1e6))})` : '-') :
      get(step, n) ? g2(get(step, n).rss_gib) + (get(step, n).failed ? ' FAILED' : '') : '-')),
    `<= ${target} GiB, flat`, pass ? (atFlat === null ? 'PASS (one size: flat not judged)' : 'PASS') : 'FAIL', l ? `${l.slope >= 0 ? '+' : ''}${l.slope.toFixed(3)}` : '-', g2(atFlat)]);
}

// ---- times ----------------------------------------------------------------------------------
const timeRows = [['step', ...allSizes.map((n) => people(n)), 'wall slope (s per 1M people)']];
for (const step of STEPS) {
  if (!allSizes.some((n) => get(step, n))) continue;
  const l = lines[step].wall;
  timeRows.push([step, ...allSizes.map((n) => {
    const m = get(step, n);
    if (!m) return skipped.includes(n) && l ? `(${s1(at(l, n / 1e6))})` : '-';
    return `${m.wall.toFixed(1)} s (u ${m.user.toFixed(1)}, s ${m.sys.toFixed(1)})${m.failed ? ' FAILED' : ''}`;
  }), l ? l.slope.toFixed(1) : '-']);
}
const ingestSys = ran.map((n) => {
  const m = get('ingest', n);
  const sz = sizes.find((s) => s.size === n && s.status === 'ran');
  return m && { size: n, sys_share_of_cpu: m.sys / (m.user + m.sys || 1), sys_share_of_wall: m.sys / (m.wall || 1),
    events_per_second: sz ? sz.events / m.wall : null };
}).filter(Boolean);

const out = [];
out.push('');
out.push(`Ark scale bench, ${new Date().toISOString().slice(0, 19)}Z, commit ${arg('--commit', 'unknown')}: ${arg('--years', '10')} years, seed ${arg('--seed', '1')}, ` +
  `${arg('--threads', '2')} threads, ${cpus().length} cores (${cpus()[0].model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB`);
out.push('regions: ' + sizes.map((s) => (s.status === 'ran'
  ? `${people(s.size)} people -> ${s.events} events, ${s.persons} persons (deterministic link), ${s.pprl_persons} (pprl), peak disk ${(s.disk_bytes / 2 ** 30).toFixed(2)} GiB`
  : s.status.startsWith('failed:') ? `${people(s.size)}: ${s.status.slice(7)} FAILED (see the logs)`
  : `${people(s.size)} ${s.status.replace('-', ' (')})`)).join('; '));
out.push('');
out.push('peak RSS (GiB = 2^30 bytes; from /usr/bin/time %M; "(...)" extrapolated along the line)');
out.push(table(rssRows));
out.push('');
out.push('wall time (user, sys CPU seconds)');
out.push(table(timeRows));
out.push('');
for (const x of ingestSys) {
  out.push(`ingest at ${people(x.size)}: ${(x.events_per_second / 1e6).toFixed(2)}M events/s; system time ${(100 * x.sys_share_of_cpu).toFixed(0)}% of its CPU time ` +
    `(${(100 * x.sys_share_of_wall).toFixed(0)}% of wall)`);
}
const busy = measured.filter((m) => STEPS.includes(m.step) && m.wall >= 0.5 && m.other_cores > 0.25);
if (busy.length) {
  out.push(`WARNING: other work kept more than a quarter of a core busy during ${busy.map((m) => `${m.step} at ${people(m.size)} (${m.other_cores.toFixed(2)})`).join(', ')}: ` +
    'wall times (and the wall slopes) are longer than this machine gives when idle; peak RSS is not affected');
}
if (Math.max(0, ...ran) < 1e6) out.push('NOTE: every size here is below 1M people: these figures do not test the targets (which are set for 1M-15M people).');
for (const [step, v] of Object.entries(verdicts)) if (!v.pass) out.push(`FAIL ${step}: ${v.reason}`);
out.push(`measurements: ${arg('--scratch', '?')}; this table as JSON: ${arg('--out')}`);
console.log(out.join('\n'));

writeFileSync(arg('--out'), JSON.stringify({
  date: new Date().toISOString(),
  commit: arg('--commit', 'unknown'),
  machine: { cores: cpus().length, cpu: cpus()[0].model.trim(), memory_gib: Math.round(totalmem() / 2 ** 30) },
  params: { years: Number(arg('--years', '10')), seed: Number(arg('--seed', '1')), threads: Number(arg('--threads', '2')), sizes: allSizes },
  target: { peak_rss_gib: target, flat_judged_at_people: flatAt },
  sizes,
  steps: measured,
  verdicts,
  ingest_system_time: ingestSys,
  extrapolated: Object.fromEntries(skipped.map((n) => [n, Object.fromEntries(STEPS.map((step) => [step,
    { peak_rss_gib: at(lines[step].rss, n / 1e6), wall_seconds: at(lines[step].wall, n / 1e6) }]))])),
}, null, 2) + '\n');
