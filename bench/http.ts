/**
 * HTTP benchmarks against the service run as a child process (`node dist/cli.js serve`; run
 * `npm run build` first), so the load generator and the server are separate processes:
 *
 *   load     autocannon POST /classify with an N-row CSV at several connection counts
 *   stream   one big CSV streamed through POST /classify: rows/s, peak RSS of the server, and
 *            /healthz latency sampled every 50 ms meanwhile (optionally a slow-reading client)
 *   startup  spawn → first /readyz 200, per embedder
 *
 *   npx tsx bench/http.ts load    [--embedder lexical] [--rows 10,1000] [--connections 1,8,32,128] [--duration 10]
 *   npx tsx bench/http.ts stream  [--embedder lexical] [--file bench/out/logs-1000000.csv] [--slow-kbps 0]
 *   npx tsx bench/http.ts startup [--embedder lexical] [--repeats 5]
 *   Options for all: --head-dir DIR --model-dir DIR --source (run src/ through tsx instead of dist/)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CODEBASICS, RANDOM_MINILM, cpuSecondsOf, fmt, median, memoryOf, readRecords, serve, type Served } from './lib.js';
import { stringify } from 'csv-stringify/sync';

export interface ServerBenchOptions {
  readonly embedder: 'lexical' | 'onnx';
  readonly headDir?: string;
  readonly modelDir?: string;
  /** Run the TypeScript sources (tests) instead of dist/. */
  readonly source?: boolean;
  readonly env?: Record<string, string>;
}

export function serverEnv(o: ServerBenchOptions): Record<string, string> {
  return {
    LOGSIFT_EMBEDDER: o.embedder,
    ...(o.embedder === 'onnx' ? { LOGSIFT_MODEL_DIR: o.modelDir ?? RANDOM_MINILM } : o.modelDir ? { LOGSIFT_MODEL_DIR: o.modelDir } : {}),
    ...(o.headDir ? { LOGSIFT_HEAD_DIR: o.headDir } : {}),
    ...o.env,
  };
}

/** An N-row CSV body made of Codebasics rows (repeating), as a client would send it. */
export function csvBody(rows: number): string {
  const records = readRecords(CODEBASICS);
  const out: string[][] = [['source', 'log_message']];
  for (let i = 0; i < rows; i++) out.push([records[i % records.length].source, records[i % records.length].message]);
  return stringify(out);
}

export interface LoadResult {
  rows: number;
  connections: number;
  requestsPerS: number;
  rowsPerS: number;
  p50: number;
  p975: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function loadBench(o: ServerBenchOptions & { rows: number[]; connections: number[]; durationS: number }): Promise<LoadResult[]> {
  const server = await serve(serverEnv(o), { source: o.source });
  const results: LoadResult[] = [];
  try {
    for (const rows of o.rows) {
      const body = csvBody(rows);
      const run = (connections: number, duration: number) =>
        autocannon({
          url: `${server.url}/classify`,
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body,
          connections,
          duration,
        });
      await run(4, Math.min(2, o.durationS)); // warm-up: fills the cache, JIT
      for (const connections of o.connections) {
        const r = await run(connections, o.durationS);
        results.push({
          rows,
          connections,
          // Only 2xx answers count: a 503 (load shedding) is quick but classifies nothing.
          requestsPerS: r['2xx'] / r.duration,
          rowsPerS: (r['2xx'] / r.duration) * rows,
          p50: r.latency.p50,
          p975: r.latency.p97_5,
          p99: r.latency.p99,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
        });
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}

export interface StreamResult {
  file: string;
  bytes: number;
  rows: number;
  seconds: number;
  rowsPerS: number;
  peakRssMb: number;
  idleRssMb: number;
  /** CPU seconds the server spent on the upload. */
  cpuSeconds: number;
  healthz: { samples: number; p50: number; max: number; over100: number };
}

/** Streams a CSV file through POST /classify (chunked), counting output rows; server RSS peak from VmHWM. */
/** GET a URL every 50 ms until stdin says stop; print the latencies (ms) as JSON. */
const PROBE = `
const url = process.argv[1]; const out = []; let stop = false;
process.stdin.on('data', () => { stop = true; }); process.stdin.resume();
(async () => { while (!stop) { const t = performance.now(); try { const r = await fetch(url); await r.arrayBuffer(); out.push(performance.now() - t); } catch { out.push(-1); } await new Promise((r) => setTimeout(r, 50)); }
  process.stdout.write(JSON.stringify(out)); process.exit(0); })();`;

export async function streamBench(o: ServerBenchOptions & { file: string; slowKbps?: number }): Promise<StreamResult> {
  const server = await serve(serverEnv(o), { source: o.source });
  try {
    return await streamThrough(server, o.file, o.slowKbps);
  } finally {
    await server.stop();
  }
}

/** Streams `file` through a running server's POST /classify (see streamBench). */
export async function streamThrough(server: Served, file: string, slowKbps = 0, options: { probe?: boolean } = {}): Promise<StreamResult> {
  const idleRssMb = memoryOf(server.pid).rssMb;
  // The probe runs in a process of its own, so the client's work does not delay its timers.
  const probe = options.probe === false ? undefined : spawn(process.execPath, ['-e', PROBE, `${server.url}/healthz`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let probeOut = '[]';
  if (probe) {
    probeOut = '';
    probe.stdout!.on('data', (d: Buffer) => (probeOut += d.toString()));
  }
  const probeDone = probe ? once(probe, 'exit') : Promise.resolve();
  const cpuBefore = cpuSecondsOf(server.pid);
  const started = performance.now();
  const lines = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/classify`, { method: 'POST', headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } }, (res) => {
      let newlines = 0;
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
        if (slowKbps) {
          // A slow client: pause so that reading runs at about slowKbps.
          res.pause();
          setTimeout(() => res.resume(), (chunk.length / (slowKbps * 1024)) * 1000);
        }
      });
      res.on('end', () => resolve(newlines - 1));
      res.on('error', reject);
    });
    req.on('error', reject);
    createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(req);
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsOf(server.pid) - cpuBefore;
  probe?.stdin!.end('stop');
  await probeDone;
  const latencies = JSON.parse(probeOut) as number[];
  const { hwmMb } = memoryOf(server.pid);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    file,
    bytes: statSync(file).size,
    rows: lines,
    seconds,
    rowsPerS: lines / seconds,
    peakRssMb: hwmMb,
    idleRssMb,
    cpuSeconds,
    healthz: { samples: sorted.length, p50: median(sorted), max: sorted[sorted.length - 1] ?? 0, over100: sorted.filter((l) => l > 100).length },
  };
}

export async function startupBench(o: ServerBenchOptions & { repeats: number }): Promise<{ readyMs: number[]; median: number }> {
  const readyMs: number[] = [];
  for (let i = 0; i < o.repeats; i++) {
    const server = await serve(serverEnv(o), { source: o.source });
    readyMs.push(server.readyMs);
    await server.stop();
  }
  return { readyMs, median: median(readyMs) };
}

export const LOAD_TABLE_HEADER = `| embedder | rows/request | connections | req/s | rows/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx |
|---|---|---|---|---|---|---|---|---|---|`;
export function formatLoadRow(embedder: string, r: LoadResult): string {
  return `| ${embedder} | ${fmt(r.rows)} | ${r.connections} | ${fmt(r.requestsPerS)} | ${fmt(r.rowsPerS)} | ${r.p50} | ${r.p975} | ${r.p99} | ${r.errors} | ${r.non2xx} |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      embedder: { type: 'string', default: 'lexical' },
      rows: { type: 'string', default: '10,1000' },
      connections: { type: 'string', default: '1,8,32,128' },
      duration: { type: 'string', default: '10' },
      file: { type: 'string', default: 'bench/out/logs-1000000.csv' },
      'slow-kbps': { type: 'string', default: '0' },
      repeats: { type: 'string', default: '5' },
      'head-dir': { type: 'string' },
      'model-dir': { type: 'string' },
      source: { type: 'boolean', default: false },
    },
  });
  const base: ServerBenchOptions = {
    embedder: values.embedder as 'lexical' | 'onnx',
    headDir: values['head-dir'],
    modelDir: values['model-dir'],
    source: values.source,
  };
  const what = positionals[0] ?? 'load';
  if (what === 'load') {
    const results = await loadBench({
      ...base,
      rows: values.rows!.split(',').map(Number),
      connections: values.connections!.split(',').map(Number),
      durationS: Number(values.duration),
    });
    console.log(LOAD_TABLE_HEADER);
    for (const r of results) console.log(formatLoadRow(base.embedder, r));
  } else if (what === 'stream') {
    const { generateCsv } = await import('./lib.js');
    const match = /logs-(\d+)\.csv$/.exec(values.file!);
    if (match) await generateCsv(values.file!, Number(match[1]));
    console.log(JSON.stringify(await streamBench({ ...base, file: values.file!, slowKbps: Number(values['slow-kbps']) })));
  } else if (what === 'startup') {
    console.log(JSON.stringify(await startupBench({ ...base, repeats: Number(values.repeats) })));
  } else {
    throw new Error(`unknown benchmark ${what}: load, stream or startup`);
  }
}
