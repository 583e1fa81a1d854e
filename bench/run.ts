/**
 * `npm run bench`: every benchmark, printed as the Markdown tables of bench/RESULTS.md.
 * Needs `npm run build` (the HTTP benchmarks run dist/) and, for onnx, a head trained for the
 * random-weight MiniLM (its accuracy is meaningless; only speed matters):
 *
 *   node -e "const {parse}=require('csv-parse/sync'),{stringify}=require('csv-stringify/sync'),fs=require('fs'); fs.writeFileSync('.tmp/subset.csv', stringify(parse(fs.readFileSync('data/corpus.csv'),{columns:true}).filter((_,i)=>i%20==0),{header:true}))"
 *   LOGSIFT_MODEL_DIR=../shared/models/minilm-l6-shaped-random \
 *     npx tsx src/cli.ts train --data .tmp/subset.csv --embedder onnx --out .tmp/onnx-head --epochs 5
 *
 *   npx tsx bench/run.ts [--onnx-head-dir .tmp/onnx-head] [--skip-onnx] [--duration 10]
 *                        [--onnx-rows 20000] [--onnx-naive-rows 300] [--small]
 *
 * --small: a run of seconds (tiny files, short loads) — what test/bench-smoke.test.ts runs.
 */
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/config/index.js';
import { CODEBASICS, OUT_DIR, fmt, generateCsv, readRecords } from './lib.js';
import { formatPipelineRow, pipelineBench, PIPELINE_TABLE_HEADER } from './pipeline.js';
import { formatLoadRow, loadBench, LOAD_TABLE_HEADER, startupBench, streamBench } from './http.js';

export interface RunOptions {
  readonly small?: boolean;
  readonly onnxHeadDir?: string;
  readonly skipOnnx?: boolean;
  readonly durationS?: number;
  readonly onnxRows?: number;
  readonly onnxNaiveRows?: number;
  /** Run src/ through tsx instead of dist/ (the smoke test). */
  readonly source?: boolean;
  readonly log?: (line: string) => void;
}

export async function runAll(o: RunOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  const log = (l: string) => {
    lines.push(l);
    (o.log ?? console.log)(l);
  };
  const small = o.small ?? false;
  const bigRows = small ? 2_000 : 1_000_000;
  const big = await generateCsv(resolve(OUT_DIR, `logs-${bigRows}.csv`), bigRows);
  const onnx = !o.skipOnnx && o.onnxHeadDir && existsSync(resolve(o.onnxHeadDir, 'head-onnx.json'));

  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${new Date().toISOString()}`);
  log('');
  log('### Pipeline throughput (Pipeline.classify, 256-row batches; CSV parsing not included)');
  log('');
  log(PIPELINE_TABLE_HEADER);
  const codebasics = readRecords(CODEBASICS, small ? 300 : Infinity);
  const bigRecords = readRecords(big);
  log(formatPipelineRow('codebasics', await pipelineBench({ embedder: 'lexical', records: codebasics })));
  log(formatPipelineRow(`generated ${fmt(bigRows)}`, await pipelineBench({ embedder: 'lexical', records: bigRecords, naiveRows: small ? undefined : 100_000 })));
  if (onnx) {
    const naiveRows = small ? 20 : (o.onnxNaiveRows ?? 300);
    log(formatPipelineRow('codebasics', await pipelineBench({ embedder: 'onnx', records: codebasics, headDir: o.onnxHeadDir, naiveRows })));
    const rows = small ? 100 : (o.onnxRows ?? 20_000);
    log(formatPipelineRow(`generated, first ${fmt(rows)}`, await pipelineBench({ embedder: 'onnx', records: bigRecords.slice(0, rows), headDir: o.onnxHeadDir, naiveRows })));
  }

  const kinds: Array<'lexical' | 'onnx'> = onnx ? ['lexical', 'onnx'] : ['lexical'];
  log('');
  log('### HTTP load (autocannon, POST /classify, text/csv body of Codebasics rows; after a warm-up)');
  log('');
  log(LOAD_TABLE_HEADER);
  // --small (the smoke test): half-second loads, enough to see that they run without errors;
  // the warm-up below is as long (min(2, durationS)).
  const durationS = small ? 0.5 : (o.durationS ?? 10);
  for (const embedder of kinds) {
    const results = await loadBench({
      embedder,
      headDir: embedder === 'onnx' ? o.onnxHeadDir : undefined,
      source: o.source,
      rows: small ? [10] : [10, 1000],
      connections: small ? [1, 8] : [1, 8, 32, 128],
      durationS,
    });
    for (const r of results) log(formatLoadRow(embedder, r));
  }

  log('');
  log(`### Streaming ${fmt(bigRows)} rows through POST /classify (chunked upload; /healthz probed every 50 ms meanwhile)`);
  log('');
  log('| embedder | client | rows | MB in | seconds | rows/s | server RSS idle → peak MB | /healthz p50 / max ms (probes > 100 ms) |');
  log('|---|---|---|---|---|---|---|---|');
  const clients: Array<[string, number]> = small ? [['fast', 0]] : [['fast', 0], ['slow reader, 2 MB/s', 2048]];
  for (const [client, slowKbps] of clients) {
    const s = await streamBench({ embedder: 'lexical', file: big, slowKbps, source: o.source });
    log(`| lexical | ${client} | ${fmt(s.rows)} | ${fmt(s.bytes / 2 ** 20, 1)} | ${s.seconds.toFixed(1)} | ${fmt(s.rowsPerS)} | ${fmt(s.idleRssMb)} → ${fmt(s.peakRssMb)} | ${s.healthz.p50.toFixed(1)} / ${s.healthz.max.toFixed(0)} (${s.healthz.over100} of ${s.healthz.samples}) |`);
  }
  if (onnx) {
    const onnxFile = await generateCsv(resolve(OUT_DIR, `logs-${small ? 300 : 1_000}.csv`), small ? 300 : 1_000);
    const s = await streamBench({ embedder: 'onnx', headDir: o.onnxHeadDir, file: onnxFile, source: o.source });
    log(`| onnx | fast | ${fmt(s.rows)} | ${fmt(s.bytes / 2 ** 20, 1)} | ${s.seconds.toFixed(1)} | ${fmt(s.rowsPerS)} | ${fmt(s.idleRssMb)} → ${fmt(s.peakRssMb)} | ${s.healthz.p50.toFixed(1)} / ${s.healthz.max.toFixed(0)} (${s.healthz.over100} of ${s.healthz.samples}) |`);
  }

  log('');
  log(`### Start-up: spawn of \`node ${o.source ? '--import tsx src/cli.ts' : 'dist/cli.js'} serve\` → first /readyz 200`);
  log('');
  log('| embedder | runs (ms) | median ms |');
  log('|---|---|---|');
  for (const embedder of kinds) {
    const s = await startupBench({ embedder, headDir: embedder === 'onnx' ? o.onnxHeadDir : undefined, repeats: small ? 1 : 5, source: o.source });
    log(`| ${embedder} | ${s.readyMs.map((m) => m.toFixed(0)).join(', ')} | ${s.median.toFixed(0)} |`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'onnx-head-dir': { type: 'string', default: resolve(PROJECT_ROOT, '.tmp/onnx-head') },
      'skip-onnx': { type: 'boolean', default: false },
      duration: { type: 'string', default: '10' },
      'onnx-rows': { type: 'string', default: '20000' },
      'onnx-naive-rows': { type: 'string', default: '300' },
      small: { type: 'boolean', default: false },
      source: { type: 'boolean', default: false },
    },
  });
  await runAll({
    small: values.small,
    onnxHeadDir: values['onnx-head-dir'],
    skipOnnx: values['skip-onnx'],
    durationS: Number(values.duration),
    onnxRows: Number(values['onnx-rows']),
    onnxNaiveRows: Number(values['onnx-naive-rows']),
    source: values.source,
  });
}
