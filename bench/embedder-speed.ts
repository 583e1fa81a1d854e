/**
 * Embedder throughput on 512 synthetic, real-looking log lines (short app messages, HTTP access
 * lines, long OpenStack nova lines) with the random-weight MiniLM (same shape and arithmetic as
 * the real model, so its speed is the real model's speed).
 *
 *   npx tsx bench/embedder-speed.ts [--model-dir DIR] [--lines N] [--repeats R] [--batch-one]
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/config/index.js';
import { createOnnxEmbedder } from '../src/embedding/onnx.js';

const { values } = parseArgs({
  options: {
    'model-dir': { type: 'string', default: resolve(PROJECT_ROOT, '../shared/models/minilm-l6-shaped-random') },
    lines: { type: 'string', default: '512' },
    repeats: { type: 'string', default: '3' },
    'batch-one': { type: 'boolean', default: false },
  },
});

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeLines(n: number): string[] {
  const r = rng(42);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const hex = (len: number) => Array.from({ length: len }, () => '0123456789abcdef'[int(0, 15)]).join('');
  const pick = <T>(xs: T[]) => xs[int(0, xs.length - 1)];
  const ip = () => `${int(10, 192)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  const templates: Array<() => string> = [
    () => `User User${int(1, 999)} logged in.`,
    () => `User ${int(1000, 99999)} logged out.`,
    () => `Backup ${pick(['started', 'completed successfully', 'failed'])} at ${int(0, 23)}:${int(10, 59)}.`,
    () => `Firewall dropped traffic from ${ip()} after a port scan`,
    () => `Account ${int(1000, 9999)} locked after repeated wrong passwords`,
    () => `Disk usage on /var/lib/${pick(['mysql', 'docker', 'kafka'])} exceeded ${int(80, 99)}% threshold`,
    () => `ERROR: connection refused while connecting to db-${int(1, 9).toString().padStart(2, '0')}:5432`,
    () => `Report q${int(1, 4)}_${int(1000, 9999)}.xlsx exported by analyst${int(1, 999)}`,
    () => `SMTP relay refused outgoing mail for the billing queue`,
    () => `Operator ${int(1000, 9999)} granted root rights outside the change window`,
    () => `GET /v2/${hex(32)}/servers/detail HTTP/1.1 RCODE  ${pick([200, 404, 500])} len: ${int(200, 3000)} time: 0.${int(1000000, 9999999)}`,
    () =>
      `nova.osapi_compute.wsgi.server [req-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} ${hex(32)} ${hex(32)} - - -] ${ip()} "GET /v2/${hex(32)}/servers/detail HTTP/1.1" status: ${pick([200, 404])} len: ${int(200, 3000)} time: 0.${int(1000000, 9999999)}`,
    () =>
      `nova.compute.manager [req-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} - - - - -] [instance: ${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}] VM ${pick(['Started', 'Paused', 'Resumed'])} (Lifecycle Event)`,
    () =>
      `Routing of support request ${int(1000, 9999)} stopped: its queue has no owner.`,
    () =>
      `Plugin '${pick(['CsvBridge', 'LegacyExporter'])}' is going away in release ${int(3, 6)}.0; switch to '${pick(['ExportHub', 'DataHub'])}' before spring`,
    () => `Billing run for contract ${int(1000, 9999)} halted: no tax profile for the region.`,
  ];
  return Array.from({ length: n }, () => pick(templates)());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const lines = makeLines(Number(values.lines));
const repeats = Number(values.repeats);
const modelDir = values['model-dir'];
console.log(`model: ${modelDir}`);
console.log(`${lines.length} lines, mean ${Math.round(lines.reduce((s, l) => s + l.length, 0) / lines.length)} chars; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); node ${process.version}`);
console.log('| maxSeqLength | threads | batch | mean tokens | lines/s, median of ' + repeats + ' (min–max) | ms/line | CPU ms/line | load ms |');
console.log('|---|---|---|---|---|---|---|---|');

const configs: Array<{ maxSeqLength: number; threads: number; batchSize: number }> = [];
for (const maxSeqLength of [128, 256]) for (const threads of [0, 1, 2]) configs.push({ maxSeqLength, threads, batchSize: 32 });
if (values['batch-one']) for (const maxSeqLength of [128, 256]) configs.push({ maxSeqLength, threads: 0, batchSize: 1 });

// Every configuration is loaded first, then timed round-robin (one full pass of the lines per
// configuration per round), so drifting background load spreads evenly over them.
const loaded = [];
for (const c of configs) {
  const t0 = performance.now();
  const e = await createOnnxEmbedder({ modelDir, modelFile: 'onnx/model_quantized.onnx', ...c });
  const loadMs = performance.now() - t0;
  const tokens = e.tokenize(lines).reduce((s, ids) => s + ids.length, 0) / lines.length;
  await e.embed(lines.slice(0, 64)); // warm-up
  loaded.push({ c, e, loadMs, tokens, rates: [] as number[], cpuMs: [] as number[] });
}
for (let i = 0; i < repeats; i++) {
  for (const l of loaded) {
    const s = performance.now();
    const cpu0 = process.cpuUsage();
    await l.e.embed(lines);
    const cpu = process.cpuUsage(cpu0);
    l.rates.push(lines.length / ((performance.now() - s) / 1000));
    // process CPU time (all threads) per line: less sensitive to other load than wall time
    l.cpuMs.push((cpu.user + cpu.system) / 1000 / lines.length);
  }
}
for (const { c, e, loadMs, tokens, rates, cpuMs } of loaded) {
  const rate = median(rates);
  const spread = `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}`;
  console.log(`| ${c.maxSeqLength} | ${c.threads} | ${c.batchSize} | ${tokens.toFixed(1)} | ${rate.toFixed(0)} (${spread}) | ${(1000 / rate).toFixed(2)} | ${median(cpuMs).toFixed(2)} | ${loadMs.toFixed(0)} |`);
  await e.close();
}
