/**
 * Decisions shared per template (pipeline.templateDecisions, the default) against decisions per
 * prepared line only (level, component, masked message: the cache before templates). Same
 * pipeline otherwise (default configuration, lexical embedder, no LLM, no template store: the
 * pipeline's own namer), measured in the same run on each data set:
 *   - distinct decisions: the model stages' runs (Pipeline.stats.decided), against the data's
 *     true templates (its `event_id` column, where it has one: issue 11 asks for at most 1.15 ×);
 *   - rows whose label differs between the two, accuracy and accuracy averaged over templates
 *     (as `logsift eval` computes them);
 *   - rows/s of classifyAll (median of `--rounds` cold passes, a fresh pipeline each, the two
 *     interleaved).
 *
 *   npx tsx bench/template-cache.ts [--data FILE.csv ...] [--rounds 5] [--show N] [--variants]
 *
 * `--show N` prints up to N rows whose label differs, with both labels and the truth.
 * `--variants` adds the template keys measured against the shipped one (decision-key.ts), each
 * leaving out part of it: the template id alone; with the level; with the level and the problem
 * words but sharing templates without a constant word; and the shipped key with the component.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { PROJECT_ROOT, loadConfig } from '../src/config/index.js';
import { templateOf } from '../src/evaluation/evaluate.js';
import { buildPipeline } from '../src/pipeline/build.js';
import { hasConstantWord, problemWords, templateDecisionKey } from '../src/pipeline/decision-key.js';
import type { PipelineOptions } from '../src/pipeline/pipeline.js';
import { classifyAll } from '../src/pipeline/run.js';
import type { LogRecord } from '../src/stages/types.js';
import { CODEBASICS, median } from './lib.js';

const SHARED = [resolve(PROJECT_ROOT, '../shared'), resolve(PROJECT_ROOT, '../../shared')].find((d) => existsSync(d)) ?? resolve(PROJECT_ROOT, '../shared');
const LOGHUB = resolve(SHARED, 'data/loghub-2k-dev/categories.csv');

type KeyName = 'masked line' | 'template' | 'template id' | 'template id, level' | 'template id, level, problem words (no constant-word rule)' | 'template, component';
const KEYS: KeyName[] = ['masked line', 'template'];
const VARIANTS: Partial<Record<KeyName, PipelineOptions['templateKey']>> = {
  'template id': (t) => t.id,
  'template id, level': (t, line) => `${t.id}\u0000${line.level ?? ''}`,
  'template id, level, problem words (no constant-word rule)': (t, line) => `${t.id}\u0000${line.level ?? ''}\u0000${problemWords(line.text)}`,
  'template, component': (t, line) => (hasConstantWord(t.text) ? `${templateDecisionKey(t, line)}\u0000${line.component ?? ''}` : undefined),
};

interface Pass {
  labels: string[];
  decided: number;
  templateHits: number;
  ms: number;
}

async function pass(records: readonly LogRecord[], key: KeyName): Promise<Pass> {
  const config = loadConfig({}, { server: { logLevel: 'silent' }, embedder: { kind: 'lexical' }, pipeline: { templateDecisions: key !== 'masked line' } });
  const { pipeline } = await buildPipeline(config, { templateKey: VARIANTS[key] });
  const started = performance.now();
  const decisions = await classifyAll(records, pipeline, { batchSize: config.pipeline.batchSize, maxMessageChars: config.server.maxMessageChars });
  const ms = performance.now() - started;
  const { decided, templateHits } = pipeline.stats;
  await pipeline.close();
  return { labels: decisions.map((d) => d.label), decided, templateHits, ms };
}

/** Accuracy, and accuracy averaged over templates (each counts once), as `logsift eval` scores them. */
function scores(labels: readonly string[], truth: readonly string[], templates: readonly string[]): { accuracy: number; templateAccuracy: number } {
  const perTemplate = new Map<string, { n: number; hits: number }>();
  let hits = 0;
  labels.forEach((label, i) => {
    const t = perTemplate.get(templates[i]) ?? { n: 0, hits: 0 };
    t.n++;
    if (label === truth[i]) {
      t.hits++;
      hits++;
    }
    perTemplate.set(templates[i], t);
  });
  let sum = 0;
  for (const t of perTemplate.values()) sum += t.hits / t.n;
  return { accuracy: hits / labels.length, templateAccuracy: sum / perTemplate.size };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string', multiple: true }, rounds: { type: 'string', default: '5' }, show: { type: 'string', default: '0' }, variants: { type: 'boolean', default: false } } });
  const keys: KeyName[] = values.variants ? [...KEYS, ...(Object.keys(VARIANTS) as KeyName[])] : KEYS;
  const files = values.data ?? [LOGHUB, CODEBASICS].filter((f) => existsSync(f));
  const rounds = Number(values.rounds);
  for (const file of files) {
    const rows = parse(readFileSync(file), { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
    const records: LogRecord[] = rows.map((r) => ({ source: (r.source ?? '').trim(), message: (r.log_message ?? r.message ?? '').trim() }));
    const truth = rows.map((r) => r.target_label);
    const templates = rows.map((r, i) => templateOf({ source: records[i].source, message: records[i].message, label: truth[i], ...(r.event_id && { template: r.event_id }) }));
    const trueTemplates = rows.every((r) => r.event_id) ? new Set(templates).size : undefined;
    const results = new Map<KeyName, Pass[]>(keys.map((k) => [k, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? keys : [...keys].reverse();
      for (const key of order) results.get(key)!.push(await pass(records, key));
    }
    const before = results.get('masked line')![0].labels;
    console.log(`\n${file} (${records.length} rows${trueTemplates ? `, ${trueTemplates} true templates` : ''}, ${rounds} rounds)\n`);
    console.log('| decisions shared by | distinct decisions (model runs) | ÷ true templates | rows from a template\'s decision | labels differing | accuracy | accuracy averaged over templates | rows/s (median) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const key of keys) {
      const passes = results.get(key)!;
      const { labels, decided, templateHits } = passes[0];
      // Deterministic: every pass of one key gives the same labels.
      if (passes.some((p) => p.labels.join('\n') !== labels.join('\n'))) throw new Error(`${key}: passes disagree`);
      const differing = labels.filter((l, i) => l !== before[i]).length;
      const scored = truth.every((t) => t !== undefined) ? scores(labels, truth, templates) : undefined;
      const rate = Math.round(records.length / (median(passes.map((p) => p.ms)) / 1000));
      const ratio = trueTemplates ? (decided / trueTemplates).toFixed(2) : '—';
      console.log(
        `| ${key} | ${decided.toLocaleString('en')} | ${ratio} | ${templateHits.toLocaleString('en')} | ${differing} | ${scored?.accuracy.toFixed(4) ?? '—'} | ${scored?.templateAccuracy.toFixed(4) ?? '—'} | ${rate.toLocaleString('en')} |`,
      );
    }
    const shown = Number(values.show);
    if (shown > 0) {
      const after = results.get('template')![0].labels;
      const differing = after.flatMap((l, i) => (l !== before[i] ? [i] : [])).slice(0, shown);
      for (const i of differing) console.log(`  line ${i + 2}: ${before[i]} → ${after[i]} (truth ${truth[i]}): ${records[i].message.slice(0, 200)}`);
    }
  }
}

await main();
