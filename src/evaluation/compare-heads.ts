import type { Vector } from '../embedding/types.js';
import type { LineFeaturizer } from '../lines/features.js';
import { argmax, type Head, type HeadKind } from '../models/head-model.js';
import { maskMessage } from '../lines/masking.js';
import type { LabelledLogRow } from '../training/dataset.js';
import { featureDimension, featurize } from '../training/features.js';
import { classWeights, fitHead, type ClassWeighting, type HeadHyperparameters } from '../training/heads.js';
import { calibration, classificationReport } from '../training/metrics.js';
import type { SplitKind } from '../training/split.js';
import { labelSet, trainingSplit } from '../training/train.js';

/**
 * `logsift eval --compare`: every head kind fitted on the same features, labels, class weights,
 * validation slice and seed — exactly as `logsift train --test-fraction 0` would fit it — then
 * scored head-only (no regex rules, no LLM) on every evaluation set, with its training time and
 * prediction speed measured in the same process.
 */
export interface CompareDataSet {
  /** Short name for tables (parent folder/file). */
  readonly name: string;
  readonly rows: readonly LabelledLogRow[];
}

export interface CompareOptions {
  readonly heads: readonly HeadKind[];
  readonly seed: number;
  readonly classWeighting: ClassWeighting;
  /** How the temperature's validation slice is cut from the training rows. */
  readonly split: SplitKind;
  readonly validationFraction: number;
  readonly hyperparameters?: HeadHyperparameters;
}

export interface SourceScore {
  readonly source: string;
  readonly rows: number;
  readonly accuracy: number;
}

export interface DataSetScores {
  /** Share of lines labelled correctly. */
  readonly accuracy: number;
  readonly macroF1: number;
  /** Accuracy within each template, averaged over templates (each template counts once). */
  readonly templateAccuracy: number;
  /** Expected calibration error of the top probability. */
  readonly ece: number;
  /** Per `source`, when the set has sources. */
  readonly perSource?: readonly SourceScore[];
}

export interface HeadResult {
  readonly head: HeadKind;
  /** Fit plus temperature, seconds. */
  readonly trainSeconds: number;
  /** predictProba over already-made features, all evaluation rows (fastest of a few passes). */
  readonly predictLinesPerSecond: number;
  /** Keyed by data set name, in the order of `dataSets`. */
  readonly scores: Record<string, DataSetScores>;
}

export interface DataSetInfo {
  readonly name: string;
  readonly rows: number;
  readonly templates: number;
  /** Where a row's template comes from. */
  readonly templateKey: 'event_id' | 'masked message';
  readonly sources: number;
  /** Labels in the set that no head was trained on (every such row is an error for every head). */
  readonly unseenLabels: readonly string[];
}

export interface ComparisonResult {
  readonly featureSpace: string;
  readonly training: { rows: number; fit: number; validation: number; labels: readonly string[] };
  /** featurize() over training and evaluation rows together, lines per second. */
  readonly featurizeLinesPerSecond: number;
  readonly dataSets: readonly DataSetInfo[];
  readonly heads: readonly HeadResult[];
}

const pick = <T>(items: readonly T[], idx: readonly number[]): T[] => idx.map((i) => items[i]);

/** Template of a row: its event id when the file has one, else its masked message. */
export function templateKey(row: LabelledLogRow): string {
  return row.template ? row.template : maskMessage(row.message).toLowerCase();
}

/** Accuracy per template, averaged over templates. */
export function templateAccuracy(templates: readonly string[], correct: readonly boolean[]): number {
  const tally = new Map<string, { hits: number; rows: number }>();
  templates.forEach((t, i) => {
    const entry = tally.get(t) ?? { hits: 0, rows: 0 };
    entry.rows++;
    if (correct[i]) entry.hits++;
    tally.set(t, entry);
  });
  if (tally.size === 0) return 0;
  let sum = 0;
  for (const { hits, rows } of tally.values()) sum += hits / rows;
  return sum / tally.size;
}

export function perSourceAccuracy(sources: readonly string[], correct: readonly boolean[]): SourceScore[] {
  const tally = new Map<string, { hits: number; rows: number }>();
  sources.forEach((s, i) => {
    const entry = tally.get(s) ?? { hits: 0, rows: 0 };
    entry.rows++;
    if (correct[i]) entry.hits++;
    tally.set(s, entry);
  });
  return [...tally.keys()].sort().map((source) => {
    const { hits, rows } = tally.get(source)!;
    return { source, rows, accuracy: hits / rows };
  });
}

/** Scores a head's predictions on one labelled set. */
export function scoreDataSet(rows: readonly LabelledLogRow[], labels: readonly string[], probabilities: readonly Float32Array[]): DataSetScores {
  const truth = rows.map((r) => r.label);
  const predicted: string[] = [];
  const confidences: number[] = [];
  for (const p of probabilities) {
    const best = argmax(p);
    predicted.push(labels[best]);
    confidences.push(p[best]);
  }
  const correct = truth.map((t, i) => t === predicted[i]);
  const report = classificationReport(truth, predicted, labels);
  const hasSources = rows.some((r) => r.source !== '');
  return {
    accuracy: report.accuracy,
    macroF1: report.macro.f1,
    templateAccuracy: templateAccuracy(rows.map(templateKey), correct),
    ece: calibration(confidences, correct).ece,
    ...(hasSources && { perSource: perSourceAccuracy(rows.map((r) => r.source), correct) }),
  };
}

/** Probabilities for every vector, and how long predictProba took in total (ms). */
function predictTimed(head: Head, vectors: readonly Vector[]): { probabilities: Float32Array[]; ms: number } {
  const started = performance.now();
  const probabilities = vectors.map((v) => head.predictProba(v));
  return { probabilities, ms: performance.now() - started };
}

const WARM_UP_ROWS = 500;
/** Prediction is timed this many times and the fastest pass counts: other processes on a shared machine only ever slow a pass down. */
const TIMED_PASSES = 3;

export async function compareHeads(
  trainRows: readonly LabelledLogRow[],
  dataSets: readonly CompareDataSet[],
  embedder: LineFeaturizer,
  options: CompareOptions,
): Promise<ComparisonResult> {
  if (options.heads.length === 0) throw new Error('no heads to compare');
  const labels = labelSet(trainRows);
  // No hold-out: every training row fits a head except the validation slice for its temperature.
  const split = trainingSplit(trainRows, { split: options.split, testFraction: 0, validationFraction: options.validationFraction, seed: options.seed });

  // Features are made once and shared by every head.
  const featurizeStarted = performance.now();
  const trainVectors = await featurize(trainRows, embedder);
  const dataVectors: Vector[][] = [];
  for (const set of dataSets) dataVectors.push(await featurize(set.rows, embedder));
  const featurizeMs = performance.now() - featurizeStarted;
  const featurizedRows = trainRows.length + dataSets.reduce((n, s) => n + s.rows.length, 0);

  const y = trainRows.map((r) => labels.indexOf(r.label));
  const fitY = pick(y, split.fit);
  const data = { xs: pick(trainVectors, split.fit), ys: fitY, labels, dimension: featureDimension(embedder) };
  const fitOptions = {
    seed: options.seed,
    classWeights: classWeights(fitY, labels.length, options.classWeighting),
    validation: { xs: pick(trainVectors, split.validation), ys: pick(y, split.validation) },
    hyperparameters: options.hyperparameters,
  };
  const evaluationRows = dataSets.reduce((n, s) => n + s.rows.length, 0);
  const warmUp = dataVectors.flat().slice(0, WARM_UP_ROWS);

  const heads: HeadResult[] = [];
  for (const kind of options.heads) {
    const started = performance.now();
    const fitted = fitHead(kind, data, fitOptions);
    const trainSeconds = (performance.now() - started) / 1000;
    // A first pass lets the JIT compile predictProba, so lines/s measures the steady state.
    predictTimed(fitted.model, warmUp);
    let predictMs = 0;
    const scores: Record<string, DataSetScores> = {};
    dataSets.forEach((set, i) => {
      const first = predictTimed(fitted.model, dataVectors[i]);
      let fastest = first.ms;
      for (let pass = 1; pass < TIMED_PASSES; pass++) fastest = Math.min(fastest, predictTimed(fitted.model, dataVectors[i]).ms);
      predictMs += fastest;
      scores[set.name] = scoreDataSet(set.rows, labels, first.probabilities);
    });
    heads.push({ head: kind, trainSeconds, predictLinesPerSecond: evaluationRows / Math.max(predictMs / 1000, 1e-9), scores });
  }

  return {
    featureSpace: `${embedder.fingerprint} (dim ${featureDimension(embedder)})`,
    training: { rows: trainRows.length, fit: split.fit.length, validation: split.validation.length, labels },
    featurizeLinesPerSecond: featurizedRows / Math.max(featurizeMs / 1000, 1e-9),
    dataSets: dataSets.map((set) => {
      const hasEventIds = set.rows.some((r) => r.template);
      return {
        name: set.name,
        rows: set.rows.length,
        templates: new Set(set.rows.map(templateKey)).size,
        templateKey: hasEventIds ? 'event_id' : 'masked message',
        sources: new Set(set.rows.map((r) => r.source).filter(Boolean)).size,
        unseenLabels: [...new Set(set.rows.map((r) => r.label))].filter((l) => !labels.includes(l)).sort(),
      };
    }),
    heads,
  };
}

const METRICS = [
  ['accuracy', 'accuracy'],
  ['macroF1', 'macro-F1'],
  ['templateAccuracy', 'template acc'],
] as const;

const fixed = (x: number, digits = 3) => x.toFixed(digits);
const rate = (x: number) => Math.round(x).toLocaleString('en-US');

/** The side-by-side table for the terminal: one row per head, metric columns per data set. */
export function formatComparison(result: ComparisonResult): string {
  const headWidth = Math.max(12, ...result.heads.map((h) => h.head.length)) + 2;
  const cell = 13;
  const fixedCols = ['train s', 'lines/s'];
  const groupWidth = METRICS.length * cell;
  const lead = ''.padEnd(headWidth) + fixedCols.map(() => ''.padStart(cell)).join('');
  const groupLine = lead + result.dataSets.map((d) => `  ${truncate(d.name, groupWidth - 2)}`.padEnd(groupWidth)).join('');
  const header = 'head'.padEnd(headWidth) + fixedCols.map((c) => c.padStart(cell)).join('') + result.dataSets.map(() => METRICS.map(([, t]) => t.padStart(cell)).join('')).join('');
  const lines = [groupLine.trimEnd(), header];
  for (const h of result.heads) {
    const cells = [fixed(h.trainSeconds, 1), rate(h.predictLinesPerSecond)];
    for (const d of result.dataSets) for (const [key] of METRICS) cells.push(fixed(h.scores[d.name][key]));
    lines.push(h.head.padEnd(headWidth) + cells.map((c) => c.padStart(cell)).join(''));
  }
  return lines.join('\n');
}

function truncate(s: string, width: number): string {
  return s.length <= width ? s : `…${s.slice(s.length - width + 1)}`;
}

/** report.md for a comparison: the table, the per-source tables and how it was made. */
export function comparisonMarkdown(title: string, result: ComparisonResult, context: Record<string, string>): string {
  const best = (values: number[], v: number) => (v === Math.max(...values) ? `**${fixed(v)}**` : fixed(v));
  const out = [`# ${title}`, ''];
  for (const [k, v] of Object.entries(context)) out.push(`- ${k}: ${v}`);
  out.push(
    `- features: ${result.featureSpace}, made at ${rate(result.featurizeLinesPerSecond)} lines/s (shared by every head, not in the speeds below)`,
    `- training: ${result.training.rows} rows, ${result.training.fit} fit the head, ${result.training.validation} fit its temperature`,
    '- scored head-only: no regex rules, no LLM; template accuracy averages the accuracy within each template, so frequent templates do not dominate',
    '',
  );
  out.push('| head | train s | predict lines/s | ' + result.dataSets.map((d) => METRICS.map(([, t]) => `${d.name} ${t}`).join(' | ')).join(' | ') + ' |');
  out.push('|---|---:|---:|' + result.dataSets.map(() => METRICS.map(() => '---:').join('|')).join('|') + '|');
  for (const h of result.heads) {
    const cells = [h.head, fixed(h.trainSeconds, 1), rate(h.predictLinesPerSecond)];
    for (const d of result.dataSets) {
      for (const [key] of METRICS) cells.push(best(result.heads.map((o) => o.scores[d.name][key]), h.scores[d.name][key]));
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('', '## Data sets', '', '| data set | rows | templates (from) | sources | labels no head was trained on |', '|---|---:|---|---:|---|');
  for (const d of result.dataSets) out.push(`| ${d.name} | ${d.rows} | ${d.templates} (${d.templateKey}) | ${d.sources} | ${d.unseenLabels.join(', ') || '—'} |`);
  out.push('', '## Calibration (expected calibration error of the top probability)', '', '| head | ' + result.dataSets.map((d) => d.name).join(' | ') + ' |', '|---|' + result.dataSets.map(() => '---:').join('|') + '|');
  for (const h of result.heads) out.push(`| ${h.head} | ${result.dataSets.map((d) => fixed(h.scores[d.name].ece)).join(' | ')} |`);
  for (const d of result.dataSets) {
    const first = result.heads[0].scores[d.name].perSource;
    if (!first) continue;
    out.push('', `## Accuracy per source: ${d.name}`, '', `| source | rows | ${result.heads.map((h) => h.head).join(' | ')} |`, `|---|---:|${result.heads.map(() => '---:').join('|')}|`);
    first.forEach((s, i) => {
      const values = result.heads.map((h) => h.scores[d.name].perSource![i].accuracy);
      out.push(`| ${s.source} | ${s.rows} | ${values.map((v) => best(values, v)).join(' | ')} |`);
    });
  }
  return out.join('\n') + '\n';
}
