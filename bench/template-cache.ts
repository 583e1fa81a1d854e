/**
 * Would caching decisions per mined template beat today's cache per prepared line (level,
 * component, masked message)? Same pipeline (default configuration, lexical embedder, no LLM),
 * three keys, measured in the same run on each data set:
 *   - masked:   today's key, the prepared line;
 *   - template: the id of the message's template (src/lines/templates.ts, one miner per pass);
 *   - template+header: the template id with the level and component (what the stages see beside
 *     the message).
 * Reported: distinct keys decided by the model stages (each a stage run), rows whose label
 * differs from today's, accuracy against the data's labels, and rows/s of classifyAll (median of
 * `--rounds` cold passes, a fresh pipeline each, keys interleaved).
 *
 *   npx tsx bench/template-cache.ts [--data FILE.csv ...] [--rounds 5]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT, loadConfig } from '../src/config/index.js';
import { TemplateMiner } from '../src/lines/templates.js';
import { buildPipeline } from '../src/pipeline/build.js';
import type { PipelineOptions } from '../src/pipeline/pipeline.js';
import { classifyAll } from '../src/pipeline/run.js';
import type { LogRecord } from '../src/stages/types.js';
import { CODEBASICS, median } from './lib.js';

const SHARED = [resolve(PROJECT_ROOT, '../shared'), resolve(PROJECT_ROOT, '../../shared')].find((d) => existsSync(d)) ?? resolve(PROJECT_ROOT, '../shared');
const LOGHUB = resolve(SHARED, 'data/loghub-2k-dev/categories.csv');

type KeyName = 'masked' | 'template' | 'template+header';
const KEYS: KeyName[] = ['masked', 'template', 'template+header'];

function keyFor(name: KeyName): PipelineOptions['decisionKey'] {
  if (name === 'masked') return undefined;
  const miner = new TemplateMiner();
  if (name === 'template') return (p) => miner.add(p.body).id;
  return (p) => `${p.line.level ?? ''}\u0000${p.line.component ?? ''}\u0000${miner.add(p.body).id}`;
}

interface Pass {
  labels: string[];
  decided: number;
  ms: number;
}

async function pass(records: readonly LogRecord[], key: KeyName): Promise<Pass> {
  const config = loadConfig({}, { server: { logLevel: 'silent' }, embedder: { kind: 'lexical' } });
  const { pipeline } = await buildPipeline(config, { decisionKey: keyFor(key) });
  const started = performance.now();
  const decisions = await classifyAll(records, pipeline, { batchSize: config.pipeline.batchSize, maxMessageChars: config.server.maxMessageChars });
  const ms = performance.now() - started;
  const decided = pipeline.stats.decided;
  await pipeline.close();
  return { labels: decisions.map((d) => d.label), decided, ms };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string', multiple: true }, rounds: { type: 'string', default: '5' } } });
  const files = values.data ?? [LOGHUB, CODEBASICS].filter((f) => existsSync(f));
  const rounds = Number(values.rounds);
  for (const file of files) {
    const rows = parse(readFileSync(file), { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
    const records: LogRecord[] = rows.map((r) => ({ source: (r.source ?? '').trim(), message: (r.log_message ?? r.message ?? '').trim() }));
    const truth = rows.map((r) => r.target_label);
    const results = new Map<KeyName, Pass[]>(KEYS.map((k) => [k, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? KEYS : [...KEYS].reverse();
      for (const key of order) results.get(key)!.push(await pass(records, key));
    }
    const today = results.get('masked')![0].labels;
    console.log(`\n${file} (${records.length} rows, ${rounds} rounds)\n`);
    console.log('| key | keys decided (stage runs) | labels differing from today | accuracy | rows/s (median) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const key of KEYS) {
      const passes = results.get(key)!;
      const { labels, decided } = passes[0];
      // Deterministic: every pass of one key gives the same labels.
      if (passes.some((p) => p.labels.join('\n') !== labels.join('\n'))) throw new Error(`${key}: passes disagree`);
      const differing = labels.filter((l, i) => l !== today[i]).length;
      const accuracy = truth.every((t) => t !== undefined) ? (labels.filter((l, i) => l === truth[i]).length / labels.length).toFixed(4) : '—';
      const rate = Math.round(records.length / (median(passes.map((p) => p.ms)) / 1000));
      console.log(`| ${key} | ${decided} | ${differing} | ${accuracy} | ${rate.toLocaleString('en')} |`);
    }
  }
}

await main();
