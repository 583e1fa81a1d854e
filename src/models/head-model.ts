import type { Vector } from '../embedding/types.js';

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
