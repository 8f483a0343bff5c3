// The operations view (docs/api.md, "Operations"): live indicators, alerts as they happen (Server-
// Sent Events on /api/v1/live/alerts/stream), the data-action latency histogram as an SVG bar
// chart, and feed health per source. Counts of people arrive from the server already under the
// disclosure rules (a redacted count is null); this view shows them, it never computes them.
// Indicators, feeds and latency are re-read every 2 s while the view is open and after each alert.
import { get } from './api.js';
import { byId, el, fillTable, plural, setStatus } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
let stream = null;
let timer = null;
const alerts = [];  // newest first, as shown

const count = (v) => (v === null || v === undefined ? 'redacted (7 or fewer)' : String(v));
const share = (v) => (v === null || v === undefined ? 'not published' : (100 * v).toFixed(1) + '%');

function indicatorRows(i) {
  const ae = i.ae_4h || {}, re = i.readmissions_30d || {}, aki = i.aki || {}, news = i.news2 || {}, beds = i.bed_occupancy || {};
  return [
    ['Messages applied', String(i.records ?? 0)],
    ['Persons in a bed', count(beds.occupied)],
    ['A&E attendances today' + (ae.day ? ' (' + ae.day + ')' : ''), count(ae.attendances)],
    ['A&E completed within 4 hours', count(ae.within_4h) + ' of ' + count(ae.completed) + ': ' + share(ae.performance)],
    ['A&E attendances open', count(ae.open)],
    ['Emergency admissions / 30-day readmissions', count(re.emergency_admissions) + ' / ' + count(re.readmissions) + ': ' + share(re.rate)],
    ['Persons at AKI stage 1 / 2 / 3', [aki.persons_stage_1, aki.persons_stage_2, aki.persons_stage_3].map(count).join(' / ')],
    ['Persons with NEWS2 5 or more / 7 or more', count(news.persons_5_or_more) + ' / ' + count(news.persons_7_or_more)],
    ['Alerts', count((i.alerts || {}).total)],
  ];
}

function showIndicators(i) {
  fillTable(byId('ops-indicators'), indicatorRows(i), [{ get: (r) => r[0] }, { get: (r) => r[1] }]);
  setStatus(byId('ops-indicators-status'), 'As of ' + (i.as_of || 'no event yet') + '. ' + (i.disclosure ? 'Counts: ' + i.disclosure + '.' : ''));
}

function alertItem(a) {
  const where = [a.site, a.ward].filter(Boolean).join(' ');
  return el('li', { 'data-alert': a.id },
    el('strong', {}, a.rule), ' (' + a.severity + '): ' + a.signal + ' = ' + a.value +
    (where ? ' at ' + where : '') + (a.event_time ? ', event ' + a.event_time : '') + ', ' + a.message_type);
}

function showAlerts() {
  byId('ops-alerts').replaceChildren(...alerts.slice(0, 50).map(alertItem));
  setStatus(byId('ops-alerts-status'), alerts.length ? plural(alerts.length, 'alert') + ', newest first.' : 'No alert yet.');
}

function showFeeds(feeds) {
  fillTable(byId('ops-feeds'), feeds, [
    { get: (f) => f.source },
    { get: (f) => String(f.messages) },
    { get: (f) => f.per_second_1m.toFixed(2) },
    { get: (f) => f.last_message },
    { get: (f) => String(f.aa) },
    { get: (f) => String(f.ae) },
    { get: (f) => String(f.ar) },
  ]);
  setStatus(byId('ops-feeds-status'), feeds.length ? plural(feeds.length, 'source') + '.' : 'No message received since this server started.');
}

const svg = (tag, attrs, ...children) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
};

const seconds = (le) => (le === null ? '+Inf' : le < 1 ? le * 1000 + ' ms' : le + ' s');

// One bar per bucket (alerts whose latency falls in it), labelled with its upper bound.
function showLatency(h) {
  const data = h.from_receipt, w = 960, ht = 220, pad = 36, n = data.buckets.length;
  const max = Math.max(1, ...data.buckets.map((b) => b.count));
  const bw = (w - 2 * pad) / n;
  const summary = plural(data.count, 'alert') + (data.count ? ', median at most ' + seconds(data.p50_seconds) +
    ', 95% at most ' + seconds(data.p95_seconds) : '') + ' from receipt of the message to the alert';
  const bars = data.buckets.map((b, k) => {
    const bh = ((ht - 2 * pad) * b.count) / max, x = pad + k * bw, y = ht - pad - bh;
    return svg('g', { 'data-bucket': k },
      svg('rect', { x: x + 2, y, width: bw - 4, height: bh, class: 'bar' }, svg('title', {}, '≤ ' + seconds(b.le) + ': ' + b.count)),
      svg('text', { x: x + bw / 2, y: ht - pad + 14, 'text-anchor': 'middle', class: 'axis' }, seconds(b.le)),
      b.count ? svg('text', { x: x + bw / 2, y: y - 4, 'text-anchor': 'middle', class: 'axis' }, String(b.count)) : '');
  });
  const chart = svg('svg', { viewBox: '0 0 ' + w + ' ' + ht, role: 'img', 'aria-label': 'Data-action latency: ' + summary, id: 'ops-latency-chart' },
    svg('line', { x1: pad, y1: ht - pad, x2: w - pad, y2: ht - pad, class: 'axis-line' }), ...bars);
  byId('ops-latency').replaceChildren(chart);
  setStatus(byId('ops-latency-status'), summary + '.');
}

async function refresh() {
  const [ind, feeds, lat] = await Promise.all([get('/live/indicators'), get('/live/feeds'), get('/live/latency')]);
  showIndicators(ind);
  showFeeds(feeds);
  showLatency(lat);
}

function listen() {
  if (stream) return;
  stream = new EventSource('/api/v1/live/alerts/stream');
  stream.addEventListener('alert', (e) => {
    const a = JSON.parse(e.data);
    if (alerts.some((x) => x.id === a.id)) return;
    alerts.unshift(a);
    showAlerts();
    refresh().catch(() => {});
  });
  stream.addEventListener('open', () => setStatus(byId('ops-stream-status'), 'Live: alerts appear here as they are raised.', 'ok'));
  stream.addEventListener('error', () => setStatus(byId('ops-stream-status'), 'The alert stream is reconnecting…', 'error'));
}

function stop() {
  if (stream) stream.close();
  stream = null;
  clearInterval(timer);
  timer = null;
}

export async function show() {
  const recent = await get('/live/alerts');
  alerts.splice(0, alerts.length, ...recent.reverse());
  showAlerts();
  await refresh();
  listen();
  if (!timer) {
    timer = setInterval(() => {
      if (location.hash !== '#operations') return stop();
      refresh().catch(() => {});
    }, 2000);
  }
}
