import { isSparse, type Vector } from '../embedding/types.js';

/** The models logsift can train as a head (the `kind` of a logsift-head/v2 file). */
export const HEAD_KINDS = ['softmax', 'naive-bayes', 'mlp'] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/**
 * What every classifier head is, whichever model is inside: class probabilities over its labels
 * for one feature vector. The service, `logsift eval` and `eval --compare` use heads through this
 * alone.
 */
export interface Head {
  readonly labels: readonly string[];
  predictProba(vector: Vector): Float32Array;
}

/**
 * A head whose probabilities are softmax(logits / temperature): every head logsift trains is one,
 * so one temperature fit on a validation slice calibrates any of them.
 */
export interface TemperatureScaledHead extends Head {
  readonly temperature: number;
  /** Scores before temperature and softmax. */
  logits(vector: Vector): ArrayLike<number>;
  /** The same model with another temperature (parameters are shared, not copied). */
  withTemperature(temperature: number): TemperatureScaledHead;
}

export function softmax(logits: ArrayLike<number>, temperature = 1): Float32Array {
  const out = new Float32Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] / temperature - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Index of the largest entry (the first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * out += Σ_d x_d · table[d, ·] over a feature-major table (dimension × width, one contiguous row per
 * feature: the cheap access for sparse input). `magnitude`: use |x_d| (naive Bayes counts).
 * The first layer of every head kind: softmax and naive Bayes logits, the MLP's hidden layer.
 */
export function addFeatureRows(out: Float32Array | Float64Array, table: Float32Array, vector: Vector, width: number, magnitude = false): void {
  if (isSparse(vector)) {
    const { indices, values } = vector;
    for (let i = 0; i < indices.length; i++) {
      const offset = indices[i] * width;
      const v = magnitude ? Math.abs(values[i]) : values[i];
      for (let k = 0; k < width; k++) out[k] += table[offset + k] * v;
    }
  } else {
    for (let d = 0; d < vector.length; d++) {
      const v = magnitude ? Math.abs(vector[d]) : vector[d];
      if (v === 0) continue;
      const offset = d * width;
      for (let k = 0; k < width; k++) out[k] += table[offset + k] * v;
    }
  }
}
