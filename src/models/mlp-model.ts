import type { Vector } from '../embedding/types.js';
import { addFeatureRows, softmax, type TemperatureScaledHead } from './head-model.js';

export interface MlpParameters {
  /** dimension × hidden, row-major (one row per input feature). */
  readonly inputWeights: Float32Array;
  readonly inputBias: Float32Array;
  /** hidden × labels, row-major. */
  readonly outputWeights: Float32Array;
  readonly outputBias: Float32Array;
}

export class MlpModel implements TemperatureScaledHead {
  readonly hidden: number;

  constructor(
    readonly labels: readonly string[],
    readonly dimension: number,
    readonly parameters: MlpParameters,
    readonly temperature = 1,
  ) {
    const H = parameters.inputBias.length;
    const C = labels.length;
    if (parameters.inputWeights.length !== dimension * H) throw new Error(`MLP input weights hold ${parameters.inputWeights.length} values, expected ${dimension}×${H}`);
    if (parameters.outputWeights.length !== H * C) throw new Error(`MLP output weights hold ${parameters.outputWeights.length} values, expected ${H}×${C}`);
    if (parameters.outputBias.length !== C) throw new Error(`MLP output bias has ${parameters.outputBias.length} entries for ${C} labels`);
    this.hidden = H;
  }

  logits(vector: Vector): Float64Array {
    const { inputWeights, inputBias, outputWeights, outputBias } = this.parameters;
    const H = this.hidden;
    const z = new Float64Array(H);
    forwardHidden(vector, inputWeights, inputBias, H, z);
    for (let h = 0; h < H; h++) if (z[h] < 0) z[h] = 0;
    const out = new Float64Array(this.labels.length);
    forwardOutput(z, outputWeights, outputBias, this.labels.length, out);
    return out;
  }

  predictProba(vector: Vector): Float32Array {
    return softmax(this.logits(vector), this.temperature);
  }

  withTemperature(temperature: number): MlpModel {
    return new MlpModel(this.labels, this.dimension, this.parameters, temperature);
  }
}

/** z = b₁ + W₁ᵀx, written into `z`. */
export function forwardHidden(x: Vector, W1: Float32Array, b1: Float32Array, H: number, z: Float64Array): void {
  for (let h = 0; h < H; h++) z[h] = b1[h];
  addFeatureRows(z, W1, x, H);
}

/** out = b₂ + W₂ᵀa for the ReLU activations `a`, written into `out`. */
export function forwardOutput(a: Float64Array, W2: Float32Array, b2: Float32Array, C: number, out: Float64Array): void {
  for (let c = 0; c < C; c++) out[c] = b2[c];
  for (let h = 0; h < a.length; h++) {
    const ah = a[h];
    if (ah === 0) continue;
    const row = h * C;
    for (let c = 0; c < C; c++) out[c] += ah * W2[row + c];
  }
}
