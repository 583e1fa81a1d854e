/** Shared helpers of the benchmarks (bench/*.ts) and their smoke test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { PROJECT_ROOT } from '../src/config/index.js';
import { generateCorpus, mulberry32 } from '../src/training/corpus.js';
import type { LogRecord } from '../src/stages/types.js';

// `../shared` next to a checkout, `../../shared` for a git worktree in /work/wt/<name>.
const SHARED = [resolve(PROJECT_ROOT, '../shared'), resolve(PROJECT_ROOT, '../../shared')].find((d) => existsSync(d)) ?? resolve(PROJECT_ROOT, '../shared');
export const CODEBASICS = resolve(SHARED, 'data/codebasics/synthetic_logs.csv');
export const RANDOM_MINILM = resolve(SHARED, 'models/minilm-l6-shaped-random');
export const OUT_DIR = resolve(PROJECT_ROOT, 'bench/out');

/** source + message of every row of a CSV with `source` and `log_message` columns. */
export function readRecords(path: string, limit = Infinity): LogRecord[] {
  const rows = parse(readFileSync(path), { columns: true, bom: true, skip_empty_lines: true, to: Number.isFinite(limit) ? limit : undefined }) as Record<string, string>[];
  return rows.map((r) => ({ source: (r.source ?? '').trim(), message: (r.log_message ?? r.message ?? '').trim() }));
}

/**
 * Writes a CSV of `rows` log lines (source,log_message), skipping the work when the file exists
 * (the name carries the count). `corpus` (default): the rows of data/corpus.csv taken as
 * templates, in a seeded random order, one line per row, every digit run redrawn — lines repeat their templates
 * with fresh numbers and ids, as real logs do. `generator`: fresh lines from the corpus
 * generator (src/training/corpus.ts), 9,000 per seed — random names, hosts and words make most
 * lines a template of their own, a worst case for the template cache. `distinct`: as `corpus`,
 * with a made-up word of 6–10 letters (which masking keeps) in every line, so that every line
 * is a template of its own: the worst case. `templates`: draw from that many corpus lines only
 * (a seeded sample), for a file with the repetition of real logs (Loghub: a template per 23 lines).
 */
export async function generateCsv(path: string, rows: number, mode: 'corpus' | 'generator' | 'distinct' = 'corpus', seed = 1, templates_ = Infinity): Promise<string> {
  if (existsSync(path)) return path;
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path + '.part');
  out.write('source,log_message\n');
  let written = 0;
  const r = mulberry32(seed);
  const corpus = mode !== 'generator' ? readRecords(resolve(PROJECT_ROOT, 'data/corpus.csv')) : [];
  const templates = corpus.length > templates_ ? corpus.filter(() => r() < templates_ / corpus.length) : corpus;
  for (let s = seed; written < rows; s++) {
    const n = Math.min(9000, rows - written);
    const chunk: string[][] =
      mode !== 'generator'
        ? Array.from({ length: n }, () => {
            const t = templates[Math.floor(r() * templates.length)];
            // One line per row (stack traces joined): the HTTP benchmarks count rows by line breaks.
            const message = t.message.replace(/\d+/g, (d) => redrawDigits(d, r)).replace(/\r?\n/g, ' ');
            return [t.source, mode === 'distinct' ? `${message} ref=${madeUpWord(r)}` : message];
          })
        : generateCorpus({ seed: s, rows: n }).map((c) => [c.source, c.log_message.replace(/\r?\n/g, ' ')]);
    written += chunk.length;
    if (!out.write(stringify(chunk))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(path + '.part', path);
  return path;
}

/** New digits for a digit run, of its length; a leading zero stays zero and no other appears (JSON numbers stay valid). */
function redrawDigits(run: string, r: () => number): string {
  let out = run[0] === '0' ? '0' : String(1 + Math.floor(r() * 9));
  for (let i = 1; i < run.length; i++) out += String(Math.floor(r() * 10));
  return out;
}

function madeUpWord(r: () => number): string {
  const length = 6 + Math.floor(r() * 5);
  let word = '';
  for (let i = 0; i < length; i++) word += String.fromCharCode(97 + Math.floor(r() * 26));
  return word;
}

/** An ephemeral TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the first /readyz 200. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/**
 * Starts the service as a child process (`node dist/cli.js serve`, the TypeScript sources
 * through tsx with `source: true`, or another server's `script` through tsx) and waits for
 * /readyz 200, polling every 5 ms. `root`: the checkout whose dist/ runs (default this one), for
 * comparing a build of another commit in the same run.
 */
export async function serve(env: Record<string, string>, options: { source?: boolean; timeoutMs?: number; nodeArgs?: string[]; script?: string; root?: string } = {}): Promise<Served> {
  const port = await freePort();
  const root = options.root ?? PROJECT_ROOT;
  const args = options.script
    ? [...(options.nodeArgs ?? []), '--import', 'tsx', resolve(PROJECT_ROOT, options.script)]
    : options.source
    ? [...(options.nodeArgs ?? []), '--import', 'tsx', resolve(PROJECT_ROOT, 'src/cli.ts'), 'serve']
    : [...(options.nodeArgs ?? []), resolve(root, 'dist/cli.js'), 'serve'];
  if (!options.source && !options.script && !existsSync(resolve(root, 'dist/cli.js'))) throw new Error(`${resolve(root, 'dist/cli.js')} missing: run \`npm run build\` there first`);
  // Every server starts with an empty template store of its own (cold, like its caches), never the repository's var/.
  const dataDir = env.LOGSIFT_DATA_DIR ?? process.env.LOGSIFT_DATA_DIR ?? (await mkdir(resolve(OUT_DIR, 'data'), { recursive: true }), await mkdtemp(resolve(OUT_DIR, 'data/store-')));
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    // LOGSIFT_* of the benchmark's own environment pass through (e.g. LOGSIFT_ONNX_WORKER=false).
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('LOGSIFT_'))),
      LOGSIFT_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
      await res.arrayBuffer();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready after ${options.timeoutMs ?? 60_000} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  return {
    child,
    url,
    pid: child.pid!,
    readyMs,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used so far (Linux /proc, clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
