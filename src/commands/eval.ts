import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../config.js';
import { resolvePath } from '../config.js';
import { confusionSvg, reliabilitySvg } from '../evaluation/charts.js';
import { evaluate, type EvaluationResult } from '../evaluation/evaluate.js';
import { markdownReport } from '../evaluation/report.js';
import { chooseEmbedder, buildPipeline, createFeaturizer, createPreparer } from '../pipeline/build.js';
import { LogisticHead } from '../models/head.js';
import type { StageName } from '../pipeline/types.js';
import { readLabelledCsv, type LabelledLogRow } from '../training/dataset.js';
import { formatReport } from '../training/metrics.js';
import { splitIndices } from '../training/split.js';
import { maskMessage } from '../pipeline/masking.js';
import { trainHead } from '../training/train.js';

export const EVAL_USAGE = `usage: logsift eval --data FILE.csv [options]

  --split none|group|random|both  none: score the installed head on every row.
                                  group (default) / random: train a head on a split of FILE and
                                  score the pipeline on the held-out part; group keeps all rows of
                                  one masked template on one side. both: random and group.
  --test-fraction 0.3             held-out share for group/random
  --seed 42
  --embedder onnx|lexical         embedder for the trained head (default: as configured)
  --model DIR                     folder with head-<embedder>.json for --split none
  --stage all|regex|embedding|llm evaluate one stage alone (default all)
  --llm-sources LIST|none         sources sent straight to the LLM (default: as configured)
  --augment FILE.csv              with group/random: add these labelled rows to the training part
                                  (e.g. data/corpus.csv); they are never scored
  --out DIR                       where report.md, report.json and the SVGs go
                                  (default reports/<file>-<split>); also predictions.csv, one row per scored row`;

type SplitMode = 'none' | 'group' | 'random';
const STAGE_CHOICES = ['all', 'regex', 'embedding', 'llm'] as const;

export async function evalCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      split: { type: 'string', default: 'group' },
      'test-fraction': { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '42' },
      embedder: { type: 'string' },
      model: { type: 'string' },
      stage: { type: 'string', default: 'all' },
      'llm-sources': { type: 'string' },
      augment: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    console.error(EVAL_USAGE);
    return values.help ? 0 : 2;
  }
  const splits: SplitMode[] = values.split === 'both' ? ['random', 'group'] : [values.split as SplitMode];
  if (!splits.every((s) => ['none', 'group', 'random'].includes(s))) throw new Error(`--split must be none, group, random or both, got ${values.split}`);
  if (!(STAGE_CHOICES as readonly string[]).includes(values.stage)) throw new Error(`--stage must be one of ${STAGE_CHOICES.join(', ')}, got ${values.stage}`);
  if (values.embedder && values.embedder !== 'onnx' && values.embedder !== 'lexical') throw new Error(`--embedder must be onnx or lexical, got ${values.embedder}`);

  const dataPath = resolve(values.data);
  const rows = await readLabelledCsv(dataPath);
  const extraTraining = values.augment ? await readLabelledCsv(resolve(values.augment)) : [];
  let effective: Config = values.model ? { ...config, head: { dir: resolve(values.model) } } : config;
  if (values['llm-sources'] !== undefined) {
    const llmSources = values['llm-sources'] === 'none' ? [] : values['llm-sources'].split(',').map((s) => s.trim()).filter(Boolean);
    effective = { ...effective, pipeline: { ...effective.pipeline, llmSources } };
  }
  const stages = values.stage === 'all' ? undefined : [values.stage as Exclude<StageName, 'fallback' | 'error'>];

  for (const split of splits) {
    const outDir = values.out ? resolve(values.out, splits.length > 1 ? split : '') : resolvePath(`reports/${basename(dataPath, '.csv')}-${split}`);
    const result = await runOne(rows, split, effective, {
      seed: Number(values.seed),
      testFraction: Number(values['test-fraction']),
      embedder: values.embedder as 'onnx' | 'lexical' | undefined,
      stages,
      extraTraining,
    });
    const context = {
      data: dataPath,
      split: split === 'none' ? 'none (installed head, every row)' : `${split}, ${values['test-fraction']} held out, seed ${values.seed}`,
      ...(values.augment && split !== 'none' && { 'training augmented with': values.augment }),
      stage: values.stage,
      'sources sent straight to the LLM': effective.pipeline.llmSources.join(', ') || 'none',
      embedder: result.embedder,
      ...(result.leakage !== undefined && {
        'test rows whose masked template is also in training': `${(result.leakage * 100).toFixed(1)} %`,
      }),
    };
    await writeReports(outDir, `logsift eval — ${basename(dataPath)} (${split} split)`, result.evaluation, result.scored, context);
    console.log(`\n== ${basename(dataPath)} · split ${split} · ${result.evaluation.rows} rows scored · embedder ${result.embedder}`);
    console.log(formatReport(result.evaluation.report));
    console.log(`\naccuracy averaged over ${result.evaluation.templates} templates: ${result.evaluation.templateAccuracy.toFixed(3)}`);
    if (result.evaluation.bySource.length > 1) {
      console.log('per source:   rows  accuracy  templates  template-avg');
      for (const s of result.evaluation.bySource) {
        console.log(`  ${s.name.padEnd(14)} ${String(s.rows).padStart(6)}  ${s.accuracy.toFixed(3)}  ${String(s.templates).padStart(9)}  ${s.templateAccuracy.toFixed(3)}`);
      }
    }
    console.log(`\nstages: ${result.evaluation.stages.map((s) => `${s.stage} ${(s.coverage * 100).toFixed(1)}% (acc ${s.accuracy === null ? '—' : s.accuracy.toFixed(3)})`).join(', ')}`);
    console.log(`expected calibration error ${result.evaluation.calibration.ece.toFixed(4)}`);
    if (result.leakage !== undefined) console.log(`test rows whose masked template is also in training: ${(result.leakage * 100).toFixed(1)} %`);
    if (result.evaluation.unknownLabels.length) console.log(`labels no stage can produce: ${result.evaluation.unknownLabels.join(', ')}`);
    console.log(`report: ${join(outDir, 'report.md')}`);
  }
  return 0;
}

async function runOne(
  rows: readonly LabelledLogRow[],
  split: SplitMode,
  config: Config,
  options: {
    seed: number;
    testFraction: number;
    embedder?: 'onnx' | 'lexical';
    stages?: Exclude<StageName, 'fallback' | 'error'>[];
    extraTraining: readonly LabelledLogRow[];
  },
): Promise<{ evaluation: EvaluationResult; embedder: string; scored: readonly LabelledLogRow[]; leakage?: number }> {
  if (split === 'none') {
    const withEmbedder: Config = options.embedder ? { ...config, embedder: { ...config.embedder, kind: options.embedder } } : config;
    const built = await buildPipeline(withEmbedder, { stages: options.stages });
    try {
      return { evaluation: await evaluate(rows, built), embedder: built.info.embedder.fingerprint, scored: rows };
    } finally {
      await built.pipeline.close();
    }
  }
  const kind = options.embedder ?? (await chooseEmbedder(config)).kind;
  const { train, test } = splitIndices(
    rows.map((r) => ({ message: r.message, label: r.label })),
    { kind: split, testFraction: options.testFraction, seed: options.seed },
  );
  // How much the split leaks: test rows whose masked template also occurs in training.
  const trainTemplates = new Set(train.map((i) => maskMessage(rows[i].message).toLowerCase()));
  const leaked = test.filter((i) => trainTemplates.has(maskMessage(rows[i].message).toLowerCase())).length;
  const features = await createFeaturizer(kind, config);
  // Every training row fits the head, but a validation slice for the temperature.
  const trained = await trainHead([...train.map((i) => rows[i]), ...options.extraTraining], features, createPreparer(config), { split, seed: options.seed, testFraction: 0 });
  await features.close();
  const head = new LogisticHead(trained.head as ConstructorParameters<typeof LogisticHead>[0]);
  const built = await buildPipeline({ ...config, embedder: { ...config.embedder, kind } }, { head: { head, path: '(trained for this evaluation)' }, stages: options.stages });
  try {
    const scored = test.map((i) => rows[i]);
    return {
      evaluation: await evaluate(scored, built),
      embedder: built.info.embedder.fingerprint,
      scored,
      leakage: test.length ? leaked / test.length : 0,
    };
  } finally {
    await built.pipeline.close();
  }
}

async function writeReports(
  outDir: string,
  title: string,
  result: EvaluationResult,
  scored: readonly LabelledLogRow[],
  context: Record<string, string>,
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const { report, decisions, ...summary } = result;
  const predictions = stringify(
    scored.map((r, i) => [r.source, r.message, r.label, decisions[i].label, decisions[i].stage, decisions[i].confidence.toFixed(4)]),
    { header: true, columns: ['source', 'log_message', 'target_label', 'predicted_label', 'label_stage', 'confidence'] },
  );
  await Promise.all([
    writeFile(join(outDir, 'report.json'), JSON.stringify({ ...context, report, ...summary }, null, 2) + '\n'),
    writeFile(join(outDir, 'predictions.csv'), predictions),
    writeFile(join(outDir, 'report.md'), markdownReport(title, result, context)),
    writeFile(join(outDir, 'confusion.svg'), confusionSvg(report.labels, report.confusion)),
    writeFile(join(outDir, 'reliability.svg'), reliabilitySvg(result.calibration.bins, result.calibration.ece)),
  ]);
}
