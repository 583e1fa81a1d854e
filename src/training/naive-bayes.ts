import type { Vector } from '../embedding/types.js';
import { isSparse } from '../embedding/types.js';
import { NaiveBayesModel } from '../models/naive-bayes-model.js';

/**
 * Multinomial Naive Bayes with Lidstone smoothing, over the absolute values of the features.
 *
 * Multinomial NB wants non-negative "counts". The lexical embedder's values are signed (the sign
 * is a hash bit that makes bucket collisions cancel, not evidence), so each feature counts by its
 * magnitude: |x| is the line's log-scaled n-gram count in that bucket, L2-normalised. Dense
 * transformer embeddings have no count meaning at all; NB runs on them the same way but is not
 * expected to do well there.
 *
 * Class weights multiply each row's counts (as scikit-learn's sample_weight does), so balanced
 * weights also make the class prior uniform. Fitting is one pass of counting: deterministic.
 */
export interface NaiveBayesOptions {
  readonly dimension: number;
  readonly labels: readonly string[];
  /** Lidstone smoothing added to every feature count of every class (1 = Laplace). */
  readonly alpha?: number;
  /** Per-class row weights; scaled here to average 1 over the rows. */
  readonly classWeights?: Float64Array;
}

export function fitNaiveBayes(xs: readonly Vector[], ys: readonly number[], options: NaiveBayesOptions): NaiveBayesModel {
  const { dimension: D, labels } = options;
  const C = labels.length;
  const alpha = options.alpha ?? 1;
  if (!(alpha > 0)) throw new Error(`naive Bayes smoothing must be > 0, got ${alpha}`);
  const N = xs.length;
  if (N === 0) throw new Error('cannot fit on zero rows');
  const classWeights = options.classWeights ?? new Float64Array(C).fill(1);
  const meanWeight = ys.reduce((sum, y) => sum + classWeights[y], 0) / N;

  // Feature-major (dimension × classes), like the prediction-time layout.
  const counts = new Float64Array(D * C);
  const classMass = new Float64Array(C);
  const classRows = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const x = xs[n];
    const y = ys[n];
    const w = classWeights[y] / meanWeight;
    classRows[y] += w;
    if (isSparse(x)) {
      for (let i = 0; i < x.indices.length; i++) {
        const v = w * Math.abs(x.values[i]);
        counts[x.indices[i] * C + y] += v;
        classMass[y] += v;
      }
    } else {
      for (let d = 0; d < D; d++) {
        const v = w * Math.abs(x[d]);
        counts[d * C + y] += v;
        classMass[y] += v;
      }
    }
  }
  const totalRows = classRows.reduce((a, b) => a + b, 0);
  // A class with no rows gets prior 0 (log −∞ would poison the softmax): a tiny floor instead.
  const logPrior = Float32Array.from(classRows, (r) => Math.log(Math.max(r, 1e-9) / totalRows));
  const featureLogProb = new Float32Array(D * C);
  for (let c = 0; c < C; c++) {
    const denominator = Math.log(classMass[c] + alpha * D);
    for (let d = 0; d < D; d++) featureLogProb[d * C + c] = Math.log(counts[d * C + c] + alpha) - denominator;
  }
  return new NaiveBayesModel(labels, D, featureLogProb, logPrior);
}
