import { createHash } from 'node:crypto';
import type { LineFeaturizer } from '../lines/features.js';
import { argmax, type HeadKind } from '../models/head-model.js';
import { headFileFor, LoadedHead, type HeadFile } from '../models/head.js';
import type { LabelledLogRow } from './dataset.js';
import { featureDimension, featurize } from './features.js';
import { classWeights, fitHead, type ClassWeighting, type HeadHyperparameters } from './heads.js';
import { classificationReport, calibration, type ClassificationReport } from './metrics.js';
import { mulberry32, shuffle } from './random.js';
import { splitIndices, type SplitKind } from './split.js';

export interface TrainOptions extends HeadHyperparameters {
  /** Which model to fit (default softmax). */
  readonly head?: HeadKind;
  /** How labels are weighted in the loss (default balanced). */
  readonly classWeighting?: ClassWeighting;
  readonly split?: SplitKind;
  /** Share of rows held out for the report. */
  readonly testFraction?: number;
  /** Share of the remaining rows used to fit the temperature. */
  readonly validationFraction?: number;
  readonly seed?: number;
  readonly dataName?: string;
}

export interface TrainResult {
  /** The head file to write. */
  readonly head: HeadFile;
  /** The same head, loaded. */
  readonly model: LoadedHead;
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
  shuffle(groups, mulberry32(seed + 7));
  return new Set(groups.slice(0, Math.ceil(groups.length / 4)));
}

/**
 * The row split of training: a stratified hold-out for the report, then a validation slice of
 * the rest for the temperature; the head fits on what remains. Deterministic for a seed.
 */
export function trainingSplit(
  rows: readonly { message: string; label: string }[],
  options: { split: SplitKind; testFraction: number; validationFraction: number; seed: number },
): { fit: number[]; validation: number[]; test: number[] } {
  const { split, seed } = options;
  const outer = splitIndices(rows, { kind: split, testFraction: options.testFraction, seed });
  const inner = splitIndices(pick(rows, outer.train), { kind: split, testFraction: options.validationFraction, seed: seed + 1 });
  return { fit: pick(outer.train, inner.train), validation: pick(outer.train, inner.test), test: outer.test };
}

/** The sorted label set of labelled rows (a head's label order). */
export function labelSet(rows: readonly { label: string }[]): string[] {
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  if (labels.length < 2) throw new Error(`need at least two labels to train, found ${labels.length}`);
  return labels;
}

/**
 * Fits a head of the chosen kind: stratified hold-out for the report, a validation slice for
 * temperature scaling, the model with (by default balanced) class weights on the rest. Deterministic.
 */
export async function trainHead(rows: readonly LabelledLogRow[], embedder: LineFeaturizer, options: TrainOptions = {}): Promise<TrainResult> {
  const seed = options.seed ?? 42;
  const split = options.split ?? 'random';
  const kind = options.head ?? 'softmax';
  const weighting = options.classWeighting ?? 'fourth-root';
  const labels = labelSet(rows);
  const { fit: fitIdx, validation: valIdx, test: testIdx } = trainingSplit(rows, {
    split,
    testFraction: options.testFraction ?? 0.2,
    validationFraction: options.validationFraction ?? 0.15,
    seed,
  });

  const vectors = await featurize(rows, embedder);
  const dimension = featureDimension(embedder);
  const y = rows.map((r) => labels.indexOf(r.label));
  const { l2, epochs, learningRate, hidden, alpha } = options;
  // Only the ones given: the rest are the head's defaults.
  const hyperparameters = Object.fromEntries(Object.entries({ l2, epochs, learningRate, hidden, alpha }).filter(([, v]) => v !== undefined));
  // With families (the corpus's `family` column) the temperature is fitted on families a first
  // head did not see: confidences must hold on systems never trained on, not only on the corpus.
  const heldOut = calibrationGroups(rows, [...fitIdx, ...valIdx], seed);
  let temperature: number | undefined;
  let finalFit = fitIdx;
  let calibrationNote: string | undefined;
  if (heldOut) {
    finalFit = [...fitIdx, ...valIdx];
    const seen = finalFit.filter((i) => !heldOut.has(rows[i].group!));
    const unseen = finalFit.filter((i) => heldOut.has(rows[i].group!));
    const provisional = fitHead(kind, { xs: pick(vectors, seen), ys: pick(y, seen), labels, dimension }, {
      seed,
      classWeights: classWeights(pick(y, seen), labels.length, weighting),
      validation: { xs: pick(vectors, unseen), ys: pick(y, unseen) },
      hyperparameters,
    });
    temperature = provisional.model.temperature;
    calibrationNote = `temperature fitted on held-out families: ${[...heldOut].sort().join(', ')}`;
  }
  const finalY = pick(y, finalFit);
  const fitted = fitHead(kind, { xs: pick(vectors, finalFit), ys: finalY, labels, dimension }, {
    seed,
    classWeights: classWeights(finalY, labels.length, weighting),
    validation: { xs: pick(vectors, valIdx), ys: pick(y, valIdx) },
    temperature,
    hyperparameters,
  });

  const truth: string[] = [];
  const predicted: string[] = [];
  const confidences: number[] = [];
  for (const i of testIdx) {
    const p = fitted.model.predictProba(vectors[i]);
    const best = argmax(p);
    truth.push(rows[i].label);
    predicted.push(labels[best]);
    confidences.push(p[best]);
  }
  const report = classificationReport(truth, predicted, labels);
  const { ece } = calibration(confidences, truth.map((t, i) => t === predicted[i]));

  const digest = createHash('sha256');
  for (const r of rows) digest.update(`${r.message}\u0000${r.label}\n`);
  const counts = { train: fitIdx.length, validation: valIdx.length, test: testIdx.length };
  const training = {
    data: options.dataName ?? 'unknown',
    dataSha256: digest.digest('hex'),
    rows: rows.length,
    split,
    seed,
    classWeighting: weighting,
    ...(calibrationNote && { calibration: calibrationNote }),
    hyperparameters,
    counts,
    holdout: { accuracy: report.accuracy, macroF1: report.macro.f1, ece },
    ...(fitted.finalLoss !== undefined && { finalLoss: fitted.finalLoss }),
  };
  const embedderBinding = { kind: embedder.kind, fingerprint: embedder.fingerprint, dimension };
  return {
    head: headFileFor(fitted, embedderBinding, training),
    model: new LoadedHead(fitted, embedderBinding, training),
    report,
    ece,
    counts,
  };
}
