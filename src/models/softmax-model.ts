import type { Vector } from '../embedding/types.js';
import { addFeatureRows, softmax, type TemperatureScaledHead } from './head-model.js';

/**
 * A fitted softmax regression as a head. Weights are kept feature-major (dimension × classes):
 * one contiguous row per feature, the cheap access for sparse input.
 */
export class SoftmaxRegressionModel implements TemperatureScaledHead {
  constructor(
    readonly labels: readonly string[],
    readonly dimension: number,
    /** dimension × labels, row-major. */
    readonly weightsByFeature: Float32Array,
    readonly bias: Float32Array,
    readonly temperature = 1,
  ) {
    if (weightsByFeature.length !== dimension * labels.length) throw new Error(`softmax weights hold ${weightsByFeature.length} values, expected ${dimension}×${labels.length}`);
    if (bias.length !== labels.length) throw new Error(`softmax bias has ${bias.length} entries for ${labels.length} labels`);
  }

  /** From the trainer's class-major weights (classes × dimension). */
  static fromFit(fitted: { readonly weights: Float32Array; readonly bias: Float32Array }, labels: readonly string[], dimension: number): SoftmaxRegressionModel {
    return new SoftmaxRegressionModel(labels, dimension, transpose(fitted.weights, labels.length, dimension), fitted.bias);
  }

  /** Class-major weights (classes × dimension), the layout of head files. */
  weightsByClass(): Float32Array {
    return transpose(this.weightsByFeature, this.dimension, this.labels.length);
  }

  logits(vector: Vector): Float32Array {
    const out = Float32Array.from(this.bias);
    addFeatureRows(out, this.weightsByFeature, vector, this.labels.length);
    return out;
  }

  predictProba(vector: Vector): Float32Array {
    return softmax(this.logits(vector), this.temperature);
  }

  withTemperature(temperature: number): SoftmaxRegressionModel {
    return new SoftmaxRegressionModel(this.labels, this.dimension, this.weightsByFeature, this.bias, temperature);
  }
}

/** rows × cols row-major → cols × rows row-major. */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c];
  }
  return out;
}
