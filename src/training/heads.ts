import type { Vector } from '../embedding/types.js';
import type { HeadKind } from '../models/head-model.js';
import type { TrainedHeadModel } from '../models/head.js';
import { fitMlp } from './mlp.js';
import { fitNaiveBayes } from './naive-bayes.js';
import { SoftmaxRegressionModel } from '../models/softmax-model.js';
import { fitSoftmaxRegression, fitTemperature } from './softmax-regression.js';

/**
 * One entry point that fits any head kind on the same features, labels, class weights and seed,
 * then calibrates it with a temperature fitted on a validation slice: what `logsift train` and
 * `logsift eval --compare` both call, so a compared head is exactly the head train would write.
 */
export type ClassWeighting = 'balanced' | 'sqrt' | 'fourth-root' | 'none';
export const CLASS_WEIGHTINGS: readonly ClassWeighting[] = ['balanced', 'sqrt', 'fourth-root', 'none'];

/**
 * Per-class weights from the fitting rows' labels. `balanced`: n / (classes × count), scikit-learn's
 * class_weight='balanced', so every label weighs the same in the loss; a label without rows gets 0.
 */
export function classWeights(ys: readonly number[], classes: number, weighting: ClassWeighting): Float64Array {
  if (weighting === 'none') return new Float64Array(classes).fill(1);
  const counts = new Float64Array(classes);
  for (const y of ys) counts[y]++;
  if (weighting === 'balanced') return counts.map((c) => (c === 0 ? 0 : ys.length / (classes * c)));
  // sqrt: halfway (on a log scale) between the data's own mix and balanced — rare labels are not
  // drowned, yet the head keeps the prior that routine lines are the common case. fourth-root: a
  // quarter of the way, closer to the corpus mix (which follows real logs).
  const power = weighting === 'sqrt' ? 0.5 : 0.25;
  const raw = counts.map((c) => (c === 0 ? 0 : c ** -power));
  let mean = 0;
  for (let c = 0; c < classes; c++) mean += raw[c] * counts[c];
  mean /= ys.length || 1;
  return raw.map((w) => (mean > 0 ? w / mean : w));
}

export interface HeadTrainingData {
  readonly xs: readonly Vector[];
  /** Indices into `labels`. */
  readonly ys: readonly number[];
  readonly labels: readonly string[];
  readonly dimension: number;
}

/** Hyper-parameters a caller may override; each head uses the ones that apply to it. */
export interface HeadHyperparameters {
  /** softmax, mlp */
  readonly l2?: number;
  /** softmax, mlp */
  readonly epochs?: number;
  /** softmax, mlp */
  readonly learningRate?: number;
  /** mlp: hidden units */
  readonly hidden?: number;
  /** naive-bayes: Lidstone smoothing */
  readonly alpha?: number;
}

export interface FitHeadOptions {
  readonly seed: number;
  readonly classWeights: Float64Array;
  /** Rows for the temperature; without them the temperature stays 1. */
  readonly validation?: { readonly xs: readonly Vector[]; readonly ys: readonly number[] };
  /** A temperature fitted elsewhere (on held-out families); wins over `validation`. */
  readonly temperature?: number;
  readonly hyperparameters?: HeadHyperparameters;
}

export type FittedHead = TrainedHeadModel & { readonly finalLoss?: number };

export function fitHead(kind: HeadKind, data: HeadTrainingData, options: FitHeadOptions): FittedHead {
  const { xs, ys, labels, dimension } = data;
  const { seed, classWeights } = options;
  const hp = options.hyperparameters ?? {};
  let fitted: FittedHead;
  switch (kind) {
    case 'softmax': {
      const fit = fitSoftmaxRegression(xs, ys, { dimension, classes: labels.length, l2: hp.l2, epochs: hp.epochs, learningRate: hp.learningRate, seed, classWeights });
      fitted = { kind, model: SoftmaxRegressionModel.fromFit(fit, labels, dimension), finalLoss: fit.finalLoss };
      break;
    }
    case 'naive-bayes':
      fitted = { kind, model: fitNaiveBayes(xs, ys, { dimension, labels, alpha: hp.alpha, classWeights }) };
      break;
    case 'mlp': {
      const fit = fitMlp(xs, ys, { dimension, labels, hidden: hp.hidden, epochs: hp.epochs, learningRate: hp.learningRate, l2: hp.l2, seed, classWeights });
      fitted = { kind, model: fit.model, finalLoss: fit.finalLoss };
      break;
    }
    default:
      throw new Error(`unknown head kind ${kind as string}`);
  }
  if (options.temperature !== undefined) return { ...fitted, model: fitted.model.withTemperature(options.temperature) } as FittedHead;
  const validation = options.validation;
  if (!validation || validation.xs.length === 0) return fitted;
  const temperature = fitTemperature(validation.xs.map((x) => fitted.model.logits(x)), validation.ys);
  return { ...fitted, model: fitted.model.withTemperature(temperature) } as FittedHead;
}
