import { createHash } from 'node:crypto';
import type { Vector } from '../embedders/types.js';
import type { LineFeaturizer } from '../pipeline/line-features.js';
import type { LinePreparer } from '../pipeline/prepare.js';
import { encodeMatrix, type HeadFile, LogisticHead } from '../models/head.js';
import type { LabelledLogRow } from './dataset.js';
import { classificationReport, calibration, type ClassificationReport } from './metrics.js';
import { fitSoftmaxRegression, fitTemperature } from './softmax-regression.js';
import { mulberry32 } from './random.js';
import { splitIndices, type SplitKind } from './split.js';

export interface TrainOptions {
  readonly split?: SplitKind;
  /** Share of rows held out for the report. */
  readonly testFraction?: number;
  /** Share of the remaining rows used to fit the temperature. */
  readonly validationFraction?: number;
  readonly seed?: number;
  readonly l2?: number;
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly dataName?: string;
  /**
   * How classes are weighted in the loss: `balanced` (inverse frequency), `sqrt` (inverse square
   * root) or `none` (as in the data: the corpus's label mix is the prior the head learns).
   */
  readonly classWeighting?: ClassWeighting;
}

export type ClassWeighting = 'balanced' | 'sqrt' | 'none';

/** Per-class loss weights for the given counts, normalised to a mean of 1 over the rows. */
export function classWeights(counts: ArrayLike<number>, weighting: ClassWeighting): Float64Array {
  const total = Array.from(counts).reduce((a, b) => a + b, 0);
  const raw = Float64Array.from(counts, (c) => (c === 0 ? 0 : weighting === 'balanced' ? 1 / c : weighting === 'sqrt' ? 1 / Math.sqrt(c) : 1));
  let mean = 0;
  for (let i = 0; i < raw.length; i++) mean += raw[i] * counts[i];
  mean /= total || 1;
  return raw.map((w) => (mean > 0 ? w / mean : w));
}

export interface TrainResult {
  readonly head: HeadFile;
  /** Scores of the written head on the held-out rows. */
  readonly report: ClassificationReport;
  readonly ece: number;
  readonly counts: { train: number; validation: number; test: number };
}

const pick = <T>(items: readonly T[], idx: readonly number[]): T[] => idx.map((i) => items[i]);

/** A quarter of the groups (families) among `idx`, seeded; undefined when there are fewer than 4. */
function calibrationGroups(rows: readonly LabelledLogRow[], idx: readonly number[], seed: number): Set<string> | undefined {
  const groups = [...new Set(idx.map((i) => rows[i].group).filter((g): g is string => g !== undefined))].sort();
  if (groups.length < 4) return undefined;
  const random = mulberry32(seed + 7);
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [groups[i], groups[j]] = [groups[j], groups[i]];
  }
  return new Set(groups.slice(0, Math.ceil(groups.length / 4)));
}

/**
 * Fits a head: stratified hold-out for the report, a validation slice for temperature
 * scaling, softmax regression with balanced class weights on the rest. Deterministic.
 */
export async function trainHead(
  rows: readonly LabelledLogRow[],
  features: LineFeaturizer,
  preparer: LinePreparer,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const seed = options.seed ?? 42;
  const split = options.split ?? 'random';
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  if (labels.length < 2) throw new Error(`need at least two labels to train, found ${labels.length}`);
  const asSplitRows = rows.map((r) => ({ message: r.message, label: r.label }));

  const outer = splitIndices(asSplitRows, { kind: split, testFraction: options.testFraction ?? 0.2, seed });
  // With families (the corpus's `family` column) the temperature is fitted on families the head
  // has not seen: confidences must hold on systems never trained on, not only on the corpus.
  const heldOutGroups = calibrationGroups(rows, outer.train, seed);
  const inner = heldOutGroups
    ? { train: outer.train.map((_, k) => k), test: [] as number[] }
    : splitIndices(pick(asSplitRows, outer.train), { kind: split, testFraction: options.validationFraction ?? 0.15, seed: seed + 1 });
  const fitIdx = pick(outer.train, inner.train);
  const valIdx = heldOutGroups ? fitIdx.filter((i) => heldOutGroups.has(rows[i].group!)) : pick(outer.train, inner.test);

  const vectors: Vector[] = await features.featurize(rows.map((r) => preparer.prepare(r.message).line));
  const y = rows.map((r) => labels.indexOf(r.label));

  const counts = new Float64Array(labels.length);
  for (const i of fitIdx) counts[y[i]]++;
  const weighting = options.classWeighting ?? 'sqrt';

  const fit = (idx: readonly number[]) =>
    fitSoftmaxRegression(pick(vectors, idx), pick(y, idx), {
      dimension: features.dimension,
      classes: labels.length,
      l2: options.l2,
      epochs: options.epochs,
      learningRate: options.learningRate,
      seed,
      classWeights: classWeights(counts, weighting),
    });
  const fitted = fit(fitIdx);
  const asHead = (model: ReturnType<typeof fit>): LogisticHead =>
    new LogisticHead({ ...draftOf(model), temperature: 1 });
  const draftOf = (model: ReturnType<typeof fit>): HeadFile => ({
    format: 'logsift-head/v1',
    labels,
    embedder: { kind: features.kind, fingerprint: features.fingerprint, dimension: features.dimension },
    weights: encodeMatrix(model.weights, labels.length, features.dimension),
    bias: [...model.bias],
    temperature: 1,
  });
  // The head whose logits calibrate the temperature: with held-out families, one fitted without them.
  const calibrating = heldOutGroups ? asHead(fit(fitIdx.filter((i) => !heldOutGroups.has(rows[i].group!)))) : asHead(fitted);

  const draft = draftOf(fitted);
  const temperature = valIdx.length > 0 ? fitTemperature(valIdx.map((i) => calibrating.logits(vectors[i])), pick(y, valIdx)) : 1;
  const head = new LogisticHead({ ...draft, temperature });

  const truth: string[] = [];
  const predicted: string[] = [];
  const confidences: number[] = [];
  for (const i of outer.test) {
    const p = head.predictProba(vectors[i]);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    truth.push(rows[i].label);
    predicted.push(labels[best]);
    confidences.push(p[best]);
  }
  const report = classificationReport(truth, predicted, labels);
  const { ece } = calibration(confidences, truth.map((t, i) => t === predicted[i]));

  const digest = createHash('sha256');
  for (const r of rows) digest.update(`${r.message}\u0000${r.label}\n`);
  return {
    head: {
      ...draft,
      temperature,
      training: {
        data: options.dataName ?? 'unknown',
        dataSha256: digest.digest('hex'),
        rows: rows.length,
        split,
        seed,
        classWeighting: weighting,
        ...(heldOutGroups && { temperatureFittedOn: `held-out families: ${[...heldOutGroups].sort().join(', ')}` }),
        counts: { train: fitIdx.length, validation: valIdx.length, test: outer.test.length },
        holdout: { accuracy: report.accuracy, macroF1: report.macro.f1, ece },
        finalLoss: fitted.finalLoss,
      },
    },
    report,
    ece,
    counts: { train: fitIdx.length, validation: valIdx.length, test: outer.test.length },
  };
}
