/**
 * Soak test (not in CI): N minutes of mixed traffic against a real server process.
 *
 *   npm run soak -- --minutes 10 [--concurrency 8] [--report bench/SOAK.md] [--url http://host:port]
 *
 * Without --url it starts `src/cli.ts serve` itself (lexical embedder, LLM pointed at an
 * in-process stub that fails 30 % of calls: 500s, malformed JSON, hangs past the timeout).
 * Traffic: good CSVs of 10–3,000 rows, malformed ones (broken quoting, wrong field counts),
 * requests that must get a 4xx, slow clients trickling their upload, clients that hang up.
 * Checks rows in = rows out (in order, by an id column) for every 200, counts errors by kind,
 * samples the server's RSS from /metrics, and reports latency percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { FakeOpenAI, answer, closedPort, hang, malformed, status } from '../test/helpers/fake-openai.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    report: { type: 'string' },
    url: { type: 'string' },
    seed: { type: 'string', default: '42' },
  },
});
const MINUTES = Number(args.minutes);
const CONCURRENCY = Number(args.concurrency);

// mulberry32: a reproducible traffic mix.
let seed = Number(args.seed) >>> 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const LABELS = ['Security Alert', 'Error', 'Critical Error', 'Resource Usage', 'User Action', 'System Notification', 'Workflow Error', 'Deprecation Warning', 'HTTP Status'];
const MESSAGES = [
  () => `User ${int(1, 99999)} logged in.`,
  () => `Backup completed in ${int(2, 90)} minutes.`,
  () => `Firewall dropped traffic from 10.0.${int(0, 255)}.${int(0, 255)} after a port scan`,
  () => `nova.osapi_compute.wsgi.server GET /v2/servers/detail HTTP/1.1 status: ${pick([200, 404, 500])} len: ${int(100, 9999)}`,
  () => `Disk usage at ${int(70, 99)}% on volume /dev/sd${pick(['a', 'b', 'c'])}`,
  () => `Multiple failed login attempts for admin account from ${int(1, 250)}.${int(1, 250)}.1.1`,
  () => `SMTP relay refused outgoing mail for the billing queue`,
  () => `"quoted, with comma" and ""escaped"" quotes ${int(1, 9)}`,
  () => `=cmd|' /C calc'!A${int(1, 9)}`,
];
// LegacyCRM lines go to the LLM; random words make new templates (numbers are masked away), so
// a good share of them are real calls to the failing stub.
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(' ');
const word = () => pick(WORDS) + pick(WORDS);
const LEGACY = [
  () => `Escalation of ticket ${int(1, 9999)} by ${word()} failed: agent ${word()} is inactive.`,
  () => `Routing of support request ${int(1, 9999)} stopped: queue owner ${pick(['left', 'quit', 'moved', `x${int(1, 400)}`])}.`,
  () => `Plugin 'CsvBridge' is going away in release ${int(4, 9)}.0; switch to '${pick(['Insights', 'Reports', `Mod${int(1, 300)}`])}'.`,
  () => `Invoice generation aborted for order ${int(1, 9999)} due to ${pick(['tax module', 'missing rate', `rule ${int(1, 500)}`])}.`,
];

const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function goodCsv(rows: number): string {
  const lines = ['id,source,log_message'];
  for (let i = 0; i < rows; i++) {
    const legacy = rand() < 0.02;
    lines.push(`${i},${legacy ? 'LegacyCRM' : pick(['ModernCRM', 'BillingSystem', 'AnalyticsEngine', 'ModernHR'])},${csvCell(legacy ? pick(LEGACY)() : pick(MESSAGES)())}`);
  }
  return lines.join(pick(['\n', '\r\n'])) + '\n';
}

/** Rows whose count is still known: wrong field counts, stray quotes, NULs, a bad byte. */
function malformedCsv(rows: number): string {
  const lines = ['id,source,log_message'];
  for (let i = 0; i < rows; i++) {
    const kind = int(0, 5);
    if (kind === 0) lines.push(`${i},ModernCRM`); // too few fields
    else if (kind === 1) lines.push(`${i},ModernCRM,a,b,c`); // too many
    else if (kind === 2) lines.push(`${i},ModernCRM,stray "quote" inside`);
    else if (kind === 3) lines.push(`${i},ModernCRM,nul\u0000byte`);
    else lines.push(`${i},ModernCRM,${pick(MESSAGES)()}`);
  }
  return lines.join('\n') + '\n';
}

interface Result {
  kind: string;
  status: number;
  ms: number;
  rowsIn: number;
  rowsOut: number;
  orderOk: boolean;
  error?: string;
}

function countRows(text: string): { rows: number; orderOk: boolean } {
  // Output rows may contain quoted newlines; a cheap state machine counts records.
  let rows = 0;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === '\n' && !inQuotes) rows++;
  }
  // ids: the first field of each record outside quotes, checked on the unquoted lines.
  let expect = 0;
  let orderOk = true;
  for (const line of text.split('\n').slice(1)) {
    const m = /^(\d+),/.exec(line);
    if (!m) continue;
    if (Number(m[1]) !== expect) orderOk = false;
    expect = Number(m[1]) + 1;
  }
  return { rows: rows - 1, orderOk };
}

function post(base: string, kind: string, body: string, rowsIn: number, opts: { contentType?: string; slowMs?: number; abortAfterMs?: number } = {}): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (r: Omit<Result, 'kind' | 'ms' | 'rowsIn'>) => resolve({ kind, ms: performance.now() - started, rowsIn, ...r });
    const req = request(`${base}/classify`, { method: 'POST', headers: { 'content-type': opts.contentType ?? 'text/csv' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => done({ status: res.statusCode ?? 0, rowsOut: 0, orderOk: false, error: `response: ${e.message}` }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return done({ status: res.statusCode ?? 0, rowsOut: 0, orderOk: true, error: text.slice(0, 200) });
        const { rows, orderOk } = countRows(text);
        done({ status: 200, rowsOut: rows, orderOk });
      });
    });
    req.on('error', (e) => done({ status: 0, rowsOut: 0, orderOk: false, error: e.message }));
    if (opts.abortAfterMs !== undefined) {
      req.write(body.slice(0, Math.floor(body.length / 3)));
      setTimeout(() => req.destroy(new Error('client hung up (intended)')), opts.abortAfterMs);
      return;
    }
    if (!opts.slowMs) return void req.end(body);
    const pieces = 10;
    const size = Math.ceil(body.length / pieces);
    let i = 0;
    const next = () => {
      if (i >= pieces) return void req.end();
      req.write(body.slice(i * size, (i + 1) * size));
      i++;
      setTimeout(next, opts.slowMs);
    };
    next();
  });
}

async function oneRequest(base: string): Promise<Result> {
  const r = rand();
  if (r < 0.55) {
    const n = int(10, 3000);
    return post(base, 'good', goodCsv(n), n);
  }
  if (r < 0.7) {
    const n = int(10, 1000);
    return post(base, 'malformed', malformedCsv(n), n);
  }
  if (r < 0.8) {
    const which = int(0, 2);
    if (which === 0) return post(base, 'expect-4xx', 'source,text\nA,b\n', 0);
    if (which === 1) return post(base, 'expect-4xx', '', 0);
    return post(base, 'expect-4xx', '{"a":1}', 0, { contentType: 'application/json' });
  }
  if (r < 0.95) {
    const n = int(50, 500);
    return post(base, 'slow-client', goodCsv(n), n, { slowMs: int(100, 400) });
  }
  return post(base, 'aborted', goodCsv(2000), 2000, { abortAfterMs: int(10, 200) });
}

async function scrape(base: string): Promise<Record<string, number>> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(process_resident_memory_bytes|nodejs_heap_size_used_bytes|nodejs_eventloop_lag_p99_seconds|logsift_llm_failures_total|logsift_llm_calls_total|logsift_llm_timeouts_total|logsift_load_shed_total) (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
    const k = /^logsift_llm_errors_total\{kind="(\w+)"\} (\S+)$/.exec(line);
    if (k) out[`llm_errors.${k[1]}`] = Number(k[2]);
    const o = /^logsift_llm_circuit_opened_total (\S+)$/.exec(line);
    if (o) out.circuit_opened = Number(o[1]);
  }
  return out;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(): Promise<void> {
  let child: ChildProcess | undefined;
  let fake: FakeOpenAI | undefined;
  let base = args.url;
  if (!base) {
    fake = await new FakeOpenAI().start();
    fake.respond(() => {
      const r = rand();
      if (r < 0.15) return status(500);
      if (r < 0.25) return malformed();
      if (r < 0.3) return hang();
      return answer(pick(LABELS));
    });
    const port = await closedPort();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        LOGSIFT_EMBEDDER: 'lexical',
        LOGSIFT_LLM_BASE_URL: fake.baseUrl,
        LOGSIFT_LLM_TIMEOUT_MS: '2000',
        LOGSIFT_LLM_RETRIES: '1',
        LOGSIFT_MAX_ROWS: '50000',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 120; i++) {
      const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const startMetrics = await scrape(base);
  const rss: { t: number; mb: number }[] = [{ t: 0, mb: startMetrics.process_resident_memory_bytes / 2 ** 20 }];
  const t0 = Date.now();
  const end = t0 + MINUTES * 60_000;
  const results: Result[] = [];
  const sampler = setInterval(() => {
    scrape(base!).then((m) => rss.push({ t: (Date.now() - t0) / 1000, mb: m.process_resident_memory_bytes / 2 ** 20 }), () => undefined);
  }, 10_000);
  const progress = setInterval(() => console.error(`soak: ${Math.round((Date.now() - t0) / 1000)} s, ${results.length} requests, RSS ${rss.at(-1)?.mb.toFixed(0)} MB`), 60_000);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) results.push(await oneRequest(base!));
    }),
  );
  clearInterval(sampler);
  clearInterval(progress);
  const endMetrics = await scrape(base);
  rss.push({ t: (Date.now() - t0) / 1000, mb: endMetrics.process_resident_memory_bytes / 2 ** 20 });

  // Verdicts per request kind.
  const errors: Record<string, number> = {};
  const bump = (k: string) => (errors[k] = (errors[k] ?? 0) + 1);
  let rowsIn = 0;
  let rowsOut = 0;
  for (const r of results) {
    if (r.kind === 'aborted') {
      bump(r.status === 0 ? 'aborted by client (intended)' : `aborted request answered ${r.status}`);
      continue;
    }
    if (r.kind === 'expect-4xx') {
      if (r.status >= 400 && r.status < 500) bump(`expected 4xx: ${r.status}`);
      else if (r.status === 503 && /overloaded/.test(r.error ?? '')) bump('shed under load: 503 (4xx case)');
      else bump(`UNEXPECTED: 4xx case answered ${r.status}`);
      continue;
    }
    if (r.status !== 200) {
      if (r.status === 503 && /overloaded/.test(r.error ?? '')) bump(`shed under load: 503 ${/\(([^=)]+)/.exec(r.error!)?.[1]?.trim() ?? ''}`);
      else bump(r.status === 0 ? `UNEXPECTED network error: ${r.error}` : `UNEXPECTED status ${r.status}: ${r.error ?? ''}`);
      continue;
    }
    rowsIn += r.rowsIn;
    rowsOut += r.rowsOut;
    if (r.rowsOut !== r.rowsIn) bump('UNEXPECTED row count mismatch');
    if (!r.orderOk) bump('UNEXPECTED rows out of order');
  }
  const lat = (kind?: string) => results.filter((r) => (kind ? r.kind === kind : r.kind !== 'aborted')).map((r) => r.ms);
  // RSS trend: least-squares slope over the second half (after warm-up), MB per minute.
  const tail = rss.filter((s) => s.t >= (MINUTES * 60) / 2);
  const n = tail.length;
  const mx = tail.reduce((a, s) => a + s.t, 0) / n;
  const my = tail.reduce((a, s) => a + s.mb, 0) / n;
  const slope = (tail.reduce((a, s) => a + (s.t - mx) * (s.mb - my), 0) / Math.max(1e-9, tail.reduce((a, s) => a + (s.t - mx) ** 2, 0))) * 60;
  const unexpected = Object.entries(errors).filter(([k]) => k.startsWith('UNEXPECTED')).reduce((a, [, v]) => a + v, 0);

  const kinds = ['good', 'malformed', 'slow-client', 'expect-4xx'];
  const md = [
    `# Soak test`,
    ``,
    `\`npm run soak -- --minutes ${MINUTES} --concurrency ${CONCURRENCY}\` · ${new Date().toISOString().slice(0, 10)} · Node ${process.version} · lexical embedder · LLM stub failing 30 % of calls (15 % HTTP 500, 10 % malformed JSON, 5 % hang past the 2 s timeout)`,
    ``,
    `| figure | value |`,
    `|---|---|`,
    `| duration | ${((Date.now() - t0) / 60000).toFixed(1)} min |`,
    `| requests | ${results.length} |`,
    `| rows in (200 answers) | ${rowsIn} |`,
    `| rows out | ${rowsOut} |`,
    `| rows in = rows out | ${rowsIn === rowsOut ? 'yes' : '**no**'} |`,
    `| unexpected outcomes | ${unexpected} |`,
    `| RSS start / end / max | ${rss[0].mb.toFixed(0)} / ${rss.at(-1)!.mb.toFixed(0)} / ${Math.max(...rss.map((s) => s.mb)).toFixed(0)} MB |`,
    `| RSS trend, second half | ${slope.toFixed(2)} MB/min |`,
    `| latency p50 / p99 (all but aborted) | ${pct(lat(), 50).toFixed(0)} / ${pct(lat(), 99).toFixed(0)} ms |`,
    ...kinds.map((k) => `| latency p50 / p99, ${k} (${lat(k).length}) | ${pct(lat(k), 50).toFixed(0)} / ${pct(lat(k), 99).toFixed(0)} ms |`),
    `| LLM calls / failed calls / timed-out attempts (server) | ${endMetrics.logsift_llm_calls_total ?? 0} / ${endMetrics.logsift_llm_failures_total ?? 0} / ${endMetrics.logsift_llm_timeouts_total ?? 0} |`,
    `| LLM failed attempts by kind (server) | ${Object.entries(endMetrics).filter(([k]) => k.startsWith('llm_errors.')).map(([k, v]) => `${k.slice(11)} ${v}`).join(', ')}; circuit opened ${endMetrics.circuit_opened ?? 0} times |`,
    `| event-loop lag p99 at end | ${((endMetrics.nodejs_eventloop_lag_p99_seconds ?? 0) * 1000).toFixed(1)} ms |`,
    ``,
    `Outcomes by kind:`,
    ``,
    ...Object.entries(errors)
      .sort()
      .map(([k, v]) => `- ${k}: ${v}`),
    ``,
    `RSS samples (s → MB): ${rss.filter((_, i) => i % 6 === 0 || i === rss.length - 1).map((s) => `${Math.round(s.t)}→${s.mb.toFixed(0)}`).join(', ')}`,
    ``,
  ].join('\n');
  console.log(md);
  if (args.report) writeFileSync(args.report, md);

  if (child) {
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    console.error(`server exited with ${await exited} after SIGTERM`);
  }
  await fake?.close();
  process.exitCode = unexpected === 0 && rowsIn === rowsOut ? 0 : 1;
}

await main();
