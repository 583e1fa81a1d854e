import type { Vector } from '../embedding/types.js';
import { isSparse } from '../embedding/types.js';
import { softmax, type TemperatureScaledHead } from './head-model.js';

/** A fitted multinomial naive Bayes as a head (fitted by `training/naive-bayes.ts`). */
export class NaiveBayesModel implements TemperatureScaledHead {
  constructor(
    readonly labels: readonly string[],
    readonly dimension: number,
    /** dimension × labels: log P(feature | class), row-major. */
    readonly featureLogProb: Float32Array,
    /** log P(class). */
    readonly logPrior: Float32Array,
    readonly temperature = 1,
  ) {
    if (featureLogProb.length !== dimension * labels.length) throw new Error(`naive Bayes feature table holds ${featureLogProb.length} values, expected ${dimension}×${labels.length}`);
    if (logPrior.length !== labels.length) throw new Error(`naive Bayes prior has ${logPrior.length} entries for ${labels.length} labels`);
  }

  /** Joint log-likelihood log P(class) + Σ |x_d| log P(d | class). */
  logits(vector: Vector): Float64Array {
    const C = this.labels.length;
    const out = Float64Array.from(this.logPrior);
    const table = this.featureLogProb;
    if (isSparse(vector)) {
      const { indices, values } = vector;
      for (let i = 0; i < indices.length; i++) {
        const offset = indices[i] * C;
        const v = Math.abs(values[i]);
        for (let c = 0; c < C; c++) out[c] += table[offset + c] * v;
      }
    } else {
      for (let d = 0; d < vector.length; d++) {
        const v = Math.abs(vector[d]);
        if (v === 0) continue;
        const offset = d * C;
        for (let c = 0; c < C; c++) out[c] += table[offset + c] * v;
      }
    }
    return out;
  }

  predictProba(vector: Vector): Float32Array {
    return softmax(this.logits(vector), this.temperature);
  }

  withTemperature(temperature: number): NaiveBayesModel {
    return new NaiveBayesModel(this.labels, this.dimension, this.featureLogProb, this.logPrior, temperature);
  }
}
