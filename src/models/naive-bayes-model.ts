import type { Vector } from '../embedding/types.js';
import { addFeatureRows, softmax, type TemperatureScaledHead } from './head-model.js';

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
    const out = Float64Array.from(this.logPrior);
    addFeatureRows(out, this.featureLogProb, vector, this.labels.length, true);
    return out;
  }

  predictProba(vector: Vector): Float32Array {
    return softmax(this.logits(vector), this.temperature);
  }

  withTemperature(temperature: number): NaiveBayesModel {
    return new NaiveBayesModel(this.labels, this.dimension, this.featureLogProb, this.logPrior, temperature);
  }
}
