import type { Vector } from '../embedding/types.js';
import { isSparse } from '../embedding/types.js';
import { softmax } from '../models/head-model.js';
import { mulberry32, shuffle } from './random.js';

/**
 * Multinomial logistic regression with L2, fitted by mini-batch Adam over a seeded shuffle:
 * the same data and seed always give the same weights.
 */
export interface FitOptions {
  readonly dimension: number;
  readonly classes: number;
  /** L2 strength on the mean loss. */
  readonly l2?: number;
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  /** Seed of the mini-batch order. */
  readonly seed?: number;
  /** Per-class weights (e.g. inverse frequency) to keep rare labels from being ignored. */
  readonly classWeights?: Float64Array;
}

export interface FittedModel {
  /** classes × dimension, row-major. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly finalLoss: number;
}

/** Logits for one vector from row-major weights (classes × dimension). */
export function scores(x: Vector, weights: Float32Array, bias: Float32Array, dimension: number): Float64Array {
  const C = bias.length;
  const out = Float64Array.from(bias);
  if (isSparse(x)) {
    for (let c = 0; c < C; c++) {
      const row = c * dimension;
      let s = 0;
      for (let i = 0; i < x.indices.length; i++) s += weights[row + x.indices[i]] * x.values[i];
      out[c] += s;
    }
  } else {
    for (let c = 0; c < C; c++) {
      const row = c * dimension;
      let s = 0;
      for (let d = 0; d < dimension; d++) s += weights[row + d] * x[d];
      out[c] += s;
    }
  }
  return out;
}

export function fitSoftmaxRegression(xs: readonly Vector[], ys: readonly number[], options: FitOptions): FittedModel {
  const { dimension: D, classes: C } = options;
  // Measured on the shipped corpus with word vectors (docs/EVALUATION.md): 1e-3 underfits (real
  // logs 0.926), 3e-5 lets one chatty template flip (Apache 0.58); 5e-5 was best on the real-log
  // template average and on lines of families the corpus was not checked against.
  const l2 = options.l2 ?? 5e-5;
  // 20 passes over the 160,000-row corpus: as many Adam steps as 40 were over 80,000 rows.
  const epochs = options.epochs ?? 20;
  const lr = options.learningRate ?? 0.02;
  const batchSize = options.batchSize ?? 128;
  const N = xs.length;
  if (N === 0) throw new Error('cannot fit on zero rows');
  const classWeights = options.classWeights ?? new Float64Array(C).fill(1);
  const meanWeight = ys.reduce((sum, y) => sum + classWeights[y], 0) / N;

  const P = C * D + C; // weights (float32, read in the hot loop) then bias
  const w = new Float32Array(C * D);
  const b = new Float32Array(C);
  const grad = new Float64Array(P);
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const order = Array.from({ length: N }, (_, i) => i);
  const random = mulberry32(options.seed ?? 1);
  let step = 0;
  let loss = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    // Seeded shuffle: mini-batches differ per epoch, yet every run is identical.
    shuffle(order, random);
    loss = 0;
    for (let start = 0; start < N; start += batchSize) {
      const end = Math.min(start + batchSize, N);
      grad.fill(0);
      for (let k = start; k < end; k++) {
        const n = order[k];
        const x = xs[n];
        const y = ys[n];
        const weight = classWeights[y] / meanWeight / (end - start);
        const p = softmax(scores(x, w, b, D));
        loss -= (weight * (end - start) / N) * Math.log(Math.max(p[y], 1e-12));
        for (let c = 0; c < C; c++) {
          const g = weight * (p[c] - (c === y ? 1 : 0));
          const row = c * D;
          if (isSparse(x)) {
            for (let i = 0; i < x.indices.length; i++) grad[row + x.indices[i]] += g * x.values[i];
          } else {
            for (let d = 0; d < D; d++) grad[row + d] += g * x[d];
          }
          grad[C * D + c] += g;
        }
      }
      step++;
      const bc1 = 1 - beta1 ** step;
      const bc2 = 1 - beta2 ** step;
      for (let k = 0; k < P; k++) {
        const param = k < C * D ? w[k] : b[k - C * D];
        // L2 on weights only, as scikit-learn does (the bias is not shrunk).
        const g = grad[k] + (k < C * D ? l2 * param : 0);
        if (g === 0 && m[k] === 0) continue;
        m[k] = beta1 * m[k] + (1 - beta1) * g;
        v[k] = beta2 * v[k] + (1 - beta2) * g * g;
        const next = param - (lr * (m[k] / bc1)) / (Math.sqrt(v[k] / bc2) + eps);
        if (k < C * D) w[k] = next;
        else b[k - C * D] = next;
      }
    }
  }
  return { weights: w, bias: b, finalLoss: loss };
}

/**
 * Temperature scaling: the T > 0 minimising the negative log-likelihood of held-out labels
 * given the logits, by golden-section search on log T (the NLL is unimodal in it).
 */
export function fitTemperature(logits: readonly ArrayLike<number>[], ys: readonly number[]): number {
  if (logits.length === 0) return 1;
  const nll = (logT: number): number => {
    const T = Math.exp(logT);
    let sum = 0;
    for (let n = 0; n < logits.length; n++) sum -= Math.log(Math.max(softmax(logits[n], T)[ys[n]], 1e-12));
    return sum / logits.length;
  };
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = nll(a);
  let fb = nll(b);
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b; b = a; fb = fa; a = hi - phi * (hi - lo); fa = nll(a);
    } else {
      lo = a; a = b; fa = fb; b = lo + phi * (hi - lo); fb = nll(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}
