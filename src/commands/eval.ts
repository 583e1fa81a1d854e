import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { confusionSvg, reliabilitySvg } from '../evaluation/charts.js';
import { evaluate, type EvaluationResult } from '../evaluation/evaluate.js';
import { markdownReport } from '../evaluation/report.js';
import { chooseEmbedder, buildPipeline, createFeaturizer } from '../pipeline/build.js';
import { compareHeads, comparisonMarkdown, formatComparison, type CompareDataSet, type ComparisonResult } from '../evaluation/compare-heads.js';
import { HEAD_KINDS, type HeadKind } from '../models/head-model.js';
import type { StageName } from '../stages/types.js';
import { readLabelledCsv, type LabelledLogRow } from '../training/dataset.js';
import { formatReport } from '../training/metrics.js';
import { splitIndices } from '../training/split.js';
import { maskMessage } from '../lines/masking.js';
import { CLASS_WEIGHTINGS, type ClassWeighting } from '../training/heads.js';
import { trainHead } from '../training/train.js';

export const EVAL_USAGE = `usage: logsift eval --data FILE.csv [options]
       logsift eval --compare --train FILE.csv --data A.csv [--data B.csv ...] [options]

  --split none|group|random|both  none: score the installed head on every row.
                                  group (default) / random: train a head on a split of FILE and
                                  score the pipeline on the held-out part; group keeps all rows of
                                  one masked template on one side. both: random and group.
  --test-fraction 0.3             held-out share for group/random
  --seed 42
  --embedder onnx|lexical         embedder for the trained head (default: as configured)
  --head ${HEAD_KINDS.join('|')}  kind of head trained for group/random (default softmax)
  --class-weights fourth-root|sqrt|balanced|none  label weighting in the trained heads' loss (default fourth-root)
  --model DIR                     folder with head-<embedder>.json for --split none
  --stage all|regex|embedding|llm evaluate one stage alone (default all)
  --llm-sources LIST|none         sources sent straight to the LLM (default: as configured)
  --augment FILE.csv              with group/random: add these labelled rows to the training part
                                  (e.g. data/corpus.csv); they are never scored
  --out DIR                       where report.md, report.json and the SVGs go
                                  (default reports/<file>-<split>); also predictions.csv, one row per scored row

  --compare                       train every head kind on --train (same features, class weights,
                                  validation slice and seed, as \`logsift train --test-fraction 0\`)
                                  and score each, head only, on every --data: accuracy, macro-F1,
                                  accuracy averaged over templates (event_id column, else masked
                                  message), per-source accuracy; training time and predict speed.
                                  Writes compare.md and compare.json to --out (default
                                  reports/compare-<train file>).
  --train FILE.csv                with --compare: the training rows
  --heads LIST                    with --compare: which kinds (default ${HEAD_KINDS.join(',')})
  --validation-fraction 0.15      with --compare: share of --train that fits the temperature`;

type SplitMode = 'none' | 'group' | 'random';
const STAGE_CHOICES = ['all', 'regex', 'embedding', 'llm'] as const;

const COMPARE_ONLY = ['train', 'heads', 'validation-fraction'] as const;
const NOT_WITH_COMPARE = ['split', 'test-fraction', 'model', 'stage', 'llm-sources', 'augment', 'head'] as const;

export async function evalCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', multiple: true },
      split: { type: 'string' },
      'test-fraction': { type: 'string' },
      seed: { type: 'string', default: '42' },
      embedder: { type: 'string' },
      head: { type: 'string' },
      'class-weights': { type: 'string', default: 'fourth-root' },
      model: { type: 'string' },
      stage: { type: 'string' },
      'llm-sources': { type: 'string' },
      augment: { type: 'string' },
      out: { type: 'string' },
      compare: { type: 'boolean', default: false },
      train: { type: 'string' },
      heads: { type: 'string' },
      'validation-fraction': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const dataPaths = values.data ?? [];
  if (values.help || dataPaths.length === 0 || (values.compare && !values.train)) {
    console.error(EVAL_USAGE);
    return values.help ? 0 : 2;
  }
  if (values.embedder && values.embedder !== 'onnx' && values.embedder !== 'lexical') throw new Error(`--embedder must be onnx or lexical, got ${values.embedder}`);
  const classWeighting = values['class-weights'] as ClassWeighting;
  if (!CLASS_WEIGHTINGS.includes(classWeighting)) throw new Error(`--class-weights must be ${CLASS_WEIGHTINGS.join(' or ')}, got ${classWeighting}`);
  if (values.compare) {
    const misplaced = NOT_WITH_COMPARE.filter((flag) => values[flag] !== undefined);
    if (misplaced.length) throw new Error(`${misplaced.map((f) => `--${f}`).join(', ')} do(es) not apply to --compare`);
    return compareCommand({ ...values, train: values.train!, data: dataPaths, classWeighting }, config);
  }
  const onlyCompare = COMPARE_ONLY.filter((flag) => values[flag] !== undefined);
  if (onlyCompare.length) throw new Error(`${onlyCompare.map((f) => `--${f}`).join(', ')} only appl(ies) with --compare`);
  if (dataPaths.length > 1) throw new Error('--data may be given once without --compare');
  const split = values.split ?? 'group';
  const stage = values.stage ?? 'all';
  const testFraction = values['test-fraction'] ?? '0.3';
  const splits: SplitMode[] = split === 'both' ? ['random', 'group'] : [split as SplitMode];
  if (!splits.every((s) => ['none', 'group', 'random'].includes(s))) throw new Error(`--split must be none, group, random or both, got ${split}`);
  if (!(STAGE_CHOICES as readonly string[]).includes(stage)) throw new Error(`--stage must be one of ${STAGE_CHOICES.join(', ')}, got ${stage}`);
  const head = parseHeadKind(values.head ?? 'softmax', '--head');

  const dataPath = resolve(dataPaths[0]);
  const rows = await readLabelledCsv(dataPath);
  const extraTraining = values.augment ? await readLabelledCsv(resolve(values.augment)) : [];
  let effective: Config = values.model ? { ...config, head: { dir: resolve(values.model) } } : config;
  if (values['llm-sources'] !== undefined) {
    const llmSources = values['llm-sources'] === 'none' ? [] : values['llm-sources'].split(',').map((s) => s.trim()).filter(Boolean);
    effective = { ...effective, pipeline: { ...effective.pipeline, llmSources } };
  }
  const stages = stage === 'all' ? undefined : [stage as Exclude<StageName, 'fallback' | 'error' | 'override'>];

  for (const split of splits) {
    const outDir = values.out ? resolve(values.out, splits.length > 1 ? split : '') : resolvePath(`reports/${basename(dataPath, '.csv')}-${split}`);
    const result = await runOne(rows, split, effective, {
      seed: Number(values.seed),
      testFraction: Number(testFraction),
      embedder: values.embedder as 'onnx' | 'lexical' | undefined,
      head,
      classWeighting,
      stages,
      extraTraining,
    });
    const context = {
      data: dataPath,
      split: split === 'none' ? 'none (installed head, every row)' : `${split}, ${testFraction} held out, seed ${values.seed}`,
      ...(split !== 'none' && { 'trained head': `${head}, ${classWeighting} class weights` }),
      ...(values.augment && split !== 'none' && { 'training augmented with': values.augment }),
      stage,
      'sources sent straight to the LLM': effective.pipeline.llmSources.join(', ') || 'none',
      embedder: result.embedder,
      ...(result.leakage !== undefined && {
        'test rows whose masked template is also in training': `${(result.leakage * 100).toFixed(1)} %`,
      }),
    };
    await writeReports(outDir, `logsift eval — ${basename(dataPath)} (${split} split)`, result.evaluation, result.scored, context);
    console.log(`\n== ${basename(dataPath)} · split ${split} · ${result.evaluation.rows} rows scored · embedder ${result.embedder}`);
    console.log(formatReport(result.evaluation.report));
    console.log(`\nstages: ${result.evaluation.stages.map((s) => `${s.stage} ${(s.coverage * 100).toFixed(1)}% (acc ${s.accuracy === null ? '—' : s.accuracy.toFixed(3)})`).join(', ')}`);
    console.log(`expected calibration error ${result.evaluation.calibration.ece.toFixed(4)}`);
    console.log(`distinct model decisions: ${result.evaluation.modelDecisions} (${result.evaluation.templates} templates in the data; accuracy averaged over them ${result.evaluation.templateAccuracy.toFixed(4)})`);
    if (result.leakage !== undefined) console.log(`test rows whose masked template is also in training: ${(result.leakage * 100).toFixed(1)} %`);
    if (result.evaluation.unknownLabels.length) console.log(`labels no stage can produce: ${result.evaluation.unknownLabels.join(', ')}`);
    console.log(`report: ${join(outDir, 'report.md')}`);
  }
  return 0;
}

function parseHeadKind(value: string, flag: string): HeadKind {
  if (!(HEAD_KINDS as readonly string[]).includes(value)) throw new Error(`${flag} must be one of ${HEAD_KINDS.join(', ')}, got ${value}`);
  return value as HeadKind;
}

/** Names a data set in tables: its folder and file, which tell apart e.g. loghub-2k-dev/categories.csv. */
function dataSetName(path: string): string {
  return `${basename(dirname(path))}/${basename(path)}`;
}

async function compareCommand(
  values: { train: string; data: string[]; heads?: string; seed: string; embedder?: string; classWeighting: ClassWeighting; 'validation-fraction'?: string; out?: string },
  config: Config,
): Promise<number> {
  const heads = (values.heads ?? HEAD_KINDS.join(',')).split(',').map((h) => h.trim()).filter(Boolean).map((h) => parseHeadKind(h, '--heads'));
  if (heads.length === 0) throw new Error('--heads names no head');
  if (new Set(heads).size !== heads.length) throw new Error(`--heads names a head twice: ${values.heads}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const validationFraction = Number(values['validation-fraction'] ?? '0.15');
  if (!(validationFraction >= 0 && validationFraction < 1)) throw new Error(`--validation-fraction must be in [0, 1), got ${values['validation-fraction']}`);

  const trainPath = resolve(values.train);
  const trainRows = await readLabelledCsv(trainPath);
  const dataSets: CompareDataSet[] = [];
  for (const path of values.data.map((p) => resolve(p))) dataSets.push({ name: dataSetName(path), rows: await readLabelledCsv(path) });
  if (new Set(dataSets.map((d) => d.name)).size !== dataSets.length) throw new Error('--data names one file twice (or two files with the same folder and name)');

  const kind = (values.embedder as 'onnx' | 'lexical' | undefined) ?? (await chooseEmbedder(config)).kind;
  const embedder = await createFeaturizer(kind, config);
  let result: ComparisonResult;
  try {
    result = await compareHeads(trainRows, dataSets, embedder, { heads, seed, classWeighting: values.classWeighting, split: 'random', validationFraction });
  } finally {
    await embedder.close?.();
  }

  const outDir = values.out ? resolve(values.out) : resolvePath(`reports/compare-${basename(trainPath, '.csv')}`);
  const context = {
    'trained on': trainPath,
    'scored on': values.data.map((p) => resolve(p)).join(', '),
    'class weights': values.classWeighting,
    'validation slice': `${validationFraction} of the training rows (stratified random), seed ${seed}`,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.versions.node}`,
  };
  await mkdir(outDir, { recursive: true });
  await Promise.all([
    writeFile(join(outDir, 'compare.json'), JSON.stringify({ ...context, ...result }, null, 2) + '\n'),
    writeFile(join(outDir, 'compare.md'), comparisonMarkdown(`logsift eval --compare — trained on ${basename(trainPath)}`, result, context)),
  ]);
  console.log(`\n== heads trained on ${basename(trainPath)} (${result.training.fit} rows fit, ${result.training.validation} calibrate) · features ${result.featureSpace} · ${values.classWeighting} class weights`);
  console.log(`   scored head-only (no regex, no LLM); features made at ${Math.round(result.featurizeLinesPerSecond).toLocaleString('en-US')} lines/s, not counted in lines/s below\n`);
  console.log(formatComparison(result));
  for (const d of result.dataSets) {
    if (d.unseenLabels.length) console.log(`\n${d.name}: labels no head was trained on: ${d.unseenLabels.join(', ')}`);
  }
  console.log(`\nreport: ${join(outDir, 'compare.md')}`);
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
    head: HeadKind;
    classWeighting: ClassWeighting;
    stages?: Exclude<StageName, 'fallback' | 'error' | 'override'>[];
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
  const embedder = await createFeaturizer(kind, config);
  // Every training row fits the head, but a validation slice for the temperature.
  const trained = await trainHead([...train.map((i) => rows[i]), ...options.extraTraining], embedder, {
    split,
    seed: options.seed,
    testFraction: 0,
    head: options.head,
    classWeighting: options.classWeighting,
  });
  await embedder.close?.();
  const built = await buildPipeline({ ...config, embedder: { ...config.embedder, kind } }, { head: { head: trained.model, path: '(trained for this evaluation)' }, stages: options.stages });
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
