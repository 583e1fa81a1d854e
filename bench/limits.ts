/**
 * logsift against the machine's own limits (issue 12), each beside its reference measured in the
 * same run. Every server is a child process started fresh (cold caches) for every round; rounds
 * alternate between the compared servers and the medians are reported.
 *
 *   upload    a 300,000-row CSV (lines of 13,043 corpus templates, one per 23 rows as in real logs,
 *             digits redrawn) streamed through POST /classify: logsift (lexical) against the
 *             bare Fastify server of bench/reference-server.ts (parse → three constant columns →
 *             stringify). Rows/s, server CPU seconds, peak RSS; target ≥ 0.70 of the reference.
 *   distinct  100,000 rows whose lines are all different templates (a corpus line with a
 *             made-up word in it), through POST /classify with lexical: rows/s; target ≥ 50,000.
 *   onnx      a file (Codebasics by default) through POST /classify with the MiniLM-shaped
 *             model, cold, against the naive loop (one line at a time through tokenise → model →
 *             pool → head, no cache, no batching) measured in-process in the same run; tokens
 *             the model was sent (padded) against the tokens the lines have; peak RSS.
 *
 *   small     10-line requests (Codebasics rows) as a CSV and as a JSON array, autocannon at 32
 *             connections: logsift (lexical) against the bare server, which parses the same body
 *             (csv-parse / Fastify's JSON parser), adds three constant columns and answers it.
 *
 *   npx tsx bench/limits.ts upload   [--rows 300000] [--rounds 3] [--baseline DIR]
 *   npx tsx bench/limits.ts small    [--rows 10] [--connections 32] [--duration 10] [--rounds 3]
 *   npx tsx bench/limits.ts distinct [--rows 100000] [--rounds 3] [--baseline DIR]
 *   npx tsx bench/limits.ts onnx     [--data FILE.csv] [--rounds 3] [--naive-rows 150] [--head-dir .tmp/onnx-head]
 *
 * Run `npm run build` first (the service runs from dist/), or pass --source to run src/ through tsx.
 * `--baseline DIR` (repeatable): also run the build in DIR (another checkout, e.g. a worktree of
 * main, built there) as a further contender, rounds interleaved with the others: before/after in
 * one run.
 * onnx needs a head trained for the random-weight MiniLM (see bench/run.ts for the command).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { PROJECT_ROOT } from '../src/config/index.js';
import { createPreparer } from '../src/pipeline/build.js';
import { CODEBASICS, OUT_DIR, RANDOM_MINILM, fmt, generateCsv, median, readRecords, serve, type Served } from './lib.js';
import autocannon from 'autocannon';
import { csvBody, serverEnv, streamThrough, type StreamResult } from './http.js';
import { benchConfig, pipelineBench } from './pipeline.js';

interface Contender {
  readonly name: string;
  start(): Promise<Served>;
}

const reference: Contender = { name: 'bare Fastify (parse → 3 columns → stringify)', start: () => serve({}, { script: 'bench/reference-server.ts' }) };
/** `source`: run src/ through tsx (tests) instead of dist/. */
let fromSource = false;
const logsift = (env: Record<string, string> = {}): Contender => ({
  name: 'logsift',
  start: () => serve(serverEnv({ embedder: (env.LOGSIFT_EMBEDDER as 'onnx' | undefined) ?? 'lexical', env }), { source: fromSource }),
});
/** The build of another checkout (`--baseline`), lexical. */
const baseline = (root: string): Contender => ({
  name: `logsift at ${root}`,
  start: () => serve(serverEnv({ embedder: 'lexical' }), { root }),
});

/** Each contender on a fresh server per round, rounds interleaved; every result kept. */
async function rounds(file: string, contenders: readonly Contender[], n: number): Promise<StreamResult[][]> {
  const results: StreamResult[][] = contenders.map(() => []);
  for (let round = 0; round < n; round++) {
    // Alternate who goes first, so a slow phase of a shared machine hits both.
    const order = round % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    for (const i of order) {
      const server = await contenders[i].start();
      try {
        results[i].push(await streamThrough(server, file, 0, { probe: false }));
      } finally {
        await server.stop();
      }
    }
  }
  return results;
}

function summary(name: string, runs: readonly StreamResult[]): { line: string; rowsPerS: number; cpu: number; rss: number } {
  const rowsPerS = median(runs.map((r) => r.rowsPerS));
  const cpu = median(runs.map((r) => r.cpuSeconds));
  const rss = Math.max(...runs.map((r) => r.peakRssMb));
  const line = `| ${name} | ${fmt(runs[0].rows)} | ${runs.map((r) => fmt(r.rowsPerS)).join(', ')} | **${fmt(rowsPerS)}** | ${fmt(cpu, 2)} | ${fmt(rss)} |`;
  return { line, rowsPerS, cpu, rss };
}
const TABLE_HEADER = `| server | rows | rows/s per round | median rows/s | median CPU s | peak RSS MB |
|---|---|---|---|---|---|`;

async function compareUpload(file: string, n: number, contenders: readonly Contender[]): Promise<void> {
  const results = await rounds(file, contenders, n);
  console.log(TABLE_HEADER);
  const rows = contenders.map((c, i) => summary(c.name, results[i]));
  for (const r of rows) console.log(r.line);
  for (let i = 1; i < rows.length; i++) {
    console.log(`\n${contenders[i].name} ÷ reference: ${(rows[i].rowsPerS / rows[0].rowsPerS).toFixed(2)} (rows/s), CPU ${(rows[i].cpu / rows[0].cpu).toFixed(2)}×`);
  }
}

/** Lines that are all different templates: a corpus line with a made-up word (letters only, so masking keeps it). */
async function distinctFile(rows: number): Promise<string> {
  const path = resolve(OUT_DIR, `distinct-${rows}.csv`);
  await generateCsv(path, rows, 'distinct');
  return path;
}

async function countTemplates(file: string): Promise<{ rows: number; distinct: number }> {
  const preparer = await createPreparer(benchConfig({ embedder: 'lexical' }));
  const records = readRecords(file);
  return { rows: records.length, distinct: new Set(records.map((r) => preparer.prepare(r.message).text)).size };
}

async function onnxBench(data: string, n: number, naiveRows: number, headDir: string): Promise<void> {
  const env = { LOGSIFT_EMBEDDER: 'onnx', LOGSIFT_MODEL_DIR: RANDOM_MINILM, LOGSIFT_HEAD_DIR: headDir };
  const results = await rounds(data, [logsift(env)], n);
  // The naive loop and the token counts, in-process (the same code the server runs).
  const inProcess = await pipelineBench({ embedder: 'onnx', records: readRecords(data), naiveRows, headDir, modelDir: RANDOM_MINILM });
  const http = summary(`logsift, onnx (${data.split('/').pop()})`, results[0]);
  console.log(TABLE_HEADER);
  console.log(http.line);
  console.log(`\nnaive loop (in-process, first ${inProcess.naiveRows} rows): ${fmt(inProcess.naiveRowsPerS)} rows/s`);
  console.log(`HTTP cold ÷ naive: ${(http.rowsPerS / inProcess.naiveRowsPerS).toFixed(1)}×; in-process pipeline cold ${fmt(inProcess.coldRowsPerS)} rows/s (${(inProcess.ratio).toFixed(1)}×)`);
  if (inProcess.tokens) {
    const { needed, sent, runs } = inProcess.tokens;
    console.log(`tokens the model ran (in-process cold pass): needed ${fmt(needed)}, sent ${fmt(sent)} (padding ${(((sent - needed) / sent) * 100).toFixed(1)}%), ${fmt(runs)} model runs`);
  }
}

/** Small requests under load: each body type against each contender, fresh servers, rounds interleaved. */
async function smallRequests(rows: number, connections: number, durationS: number, n: number, contenders: readonly Contender[]): Promise<void> {
  const csv = csvBody(rows);
  const records = readRecords(CODEBASICS).slice(0, rows);
  const json = JSON.stringify(records.map((r) => ({ source: r.source, log_message: r.message })));
  const bodies = [
    { name: 'CSV', type: 'text/csv', body: csv },
    { name: 'JSON', type: 'application/json', body: json },
  ];
  type Run = { rps: number; p50: number; p99: number; non2xx: number };
  const results = new Map<string, Run[]>();
  for (let round = 0; round < n; round++) {
    const order = round % 2 === 0 ? [...contenders] : [...contenders].reverse();
    for (const contender of order) {
      const server = await contender.start();
      try {
        for (const b of bodies) {
          const run = (c: number, d: number) => autocannon({ url: `${server.url}/classify`, method: 'POST', headers: { 'content-type': b.type }, body: b.body, connections: c, duration: d });
          await run(4, 2); // warm-up: JIT, caches
          const r = await run(connections, durationS);
          const key = `${contender.name}|${b.name}`;
          results.set(key, [...(results.get(key) ?? []), { rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors + r.timeouts }]);
        }
      } finally {
        await server.stop();
      }
    }
  }
  console.log(`| body | server | requests/s per round | median requests/s | median rows/s | p50 ms | p99 ms | non-2xx/errors |
|---|---|---|---|---|---|---|---|`);
  for (const b of bodies) {
    const medians: number[] = [];
    for (const c of contenders) {
      const runs = results.get(`${c.name}|${b.name}`)!;
      const rps = median(runs.map((r) => r.rps));
      medians.push(rps);
      console.log(`| ${b.name} (${rows} rows) | ${c.name} | ${runs.map((r) => fmt(r.rps)).join(', ')} | **${fmt(rps)}** | ${fmt(rps * rows)} | ${fmt(median(runs.map((r) => r.p50)))} | ${fmt(median(runs.map((r) => r.p99)))} | ${runs.reduce((a, r) => a + r.non2xx, 0)} |`);
    }
    if (medians.length === 2) console.log(`| ${b.name} | logsift ÷ reference | | **${(medians[1] / medians[0]).toFixed(2)}** | | | | |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      data: { type: 'string', default: CODEBASICS },
      'naive-rows': { type: 'string', default: '150' },
      'head-dir': { type: 'string', default: resolve(PROJECT_ROOT, '.tmp/onnx-head') },
      source: { type: 'boolean', default: false },
      baseline: { type: 'string', multiple: true },
      connections: { type: 'string', default: '32' },
      duration: { type: 'string', default: '10' },
    },
  });
  fromSource = values.source!;
  const n = Number(values.rounds);
  const what = positionals[0];
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; node ${process.version}; ${new Date().toISOString()}\n`);
  if (what === 'upload') {
    const rows = Number(values.rows ?? 300_000);
    // Real logs repeat their templates: Loghub's 16 systems have one per 23 lines.
    const templates = Math.round(rows / 23);
    const file = await generateCsv(resolve(OUT_DIR, `logs-${rows}-t${templates}.csv`), rows, 'corpus', 1, templates);
    console.log(`${file}: ${fmt(rows)} rows drawn from ${fmt(templates)} corpus lines (about one per 23 rows, as in Loghub), digits redrawn\n`);
    await compareUpload(file, n, [reference, logsift(), ...(values.baseline ?? []).map((dir) => baseline(resolve(dir)))]);
  } else if (what === 'distinct') {
    const file = await distinctFile(Number(values.rows ?? 100_000));
    const { rows, distinct } = await countTemplates(file);
    console.log(`${file}: ${fmt(rows)} rows, ${fmt(distinct)} distinct prepared lines (cache keys)\n`);
    await compareUpload(file, n, [reference, logsift(), ...(values.baseline ?? []).map((dir) => baseline(resolve(dir)))]);
  } else if (what === 'small') {
    const rows = Number(values.rows ?? 10);
    console.log(`${rows}-row requests (Codebasics rows) at ${values.connections} connections, ${values.duration} s each, after a 2 s warm-up; autocannon runs in this process\n`);
    await smallRequests(rows, Number(values.connections), Number(values.duration), n, [reference, logsift()]);
  } else if (what === 'onnx') {
    await onnxBench(values.data!, n, Number(values['naive-rows']), values['head-dir']!);
  } else {
    throw new Error(`unknown benchmark ${what ?? '(none)'}: upload, distinct, small or onnx`);
  }
}
