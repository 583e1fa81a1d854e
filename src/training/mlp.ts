import type { Vector } from '../embedding/types.js';
import { isSparse } from '../embedding/types.js';
import { softmax } from '../models/head-model.js';
import { forwardHidden, forwardOutput, MlpModel } from '../models/mlp-model.js';
import { mulberry32, shuffle } from './random.js';

/**
 * A one-hidden-layer perceptron: input → ReLU(W₁ᵀx + b₁) → W₂ᵀh + b₂ → softmax, fitted by
 * mini-batch Adam on the class-weighted cross-entropy over a seeded shuffle, from a seeded
 * initialisation: the same data and seed give the same weights.
 *
 * Built for sparse input: W₁ is stored one row per input feature, so a line with k non-zeros
 * costs k × hidden multiply-adds, and Adam updates only the W₁ rows a mini-batch touched (lazy
 * Adam, as PyTorch's SparseAdam; their L2 decay is applied when they are touched). A W₁ row that
 * no training line ever touched still holds its random initial values, which carry no evidence:
 * it is zeroed at the end, so an unseen feature adds nothing at prediction time.
 */
export interface MlpOptions {
  readonly dimension: number;
  readonly labels: readonly string[];
  readonly hidden?: number;
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  /** L2 strength on the mean loss, on weights only (not biases). */
  readonly l2?: number;
  /** Standard deviation of the initial W₁ entries (inputs are unit-norm, so also of the first pre-activations). */
  readonly initScale?: number;
  readonly seed?: number;
  /** Per-class weights (e.g. inverse frequency); scaled here to average 1 over the rows. */
  readonly classWeights?: Float64Array;
}

export const MLP_DEFAULTS = { hidden: 64, epochs: 10, learningRate: 0.005, batchSize: 64, l2: 1e-4, initScale: 0.1 } as const;


export function fitMlp(xs: readonly Vector[], ys: readonly number[], options: MlpOptions): { model: MlpModel; finalLoss: number } {
  const { dimension: D, labels } = options;
  const C = labels.length;
  const { hidden: H, epochs, learningRate: lr, batchSize, l2, initScale } = { ...MLP_DEFAULTS, ...stripUndefined(options) };
  const N = xs.length;
  if (N === 0) throw new Error('cannot fit on zero rows');
  if (!Number.isInteger(H) || H < 1) throw new Error(`MLP hidden units must be a positive integer, got ${H}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`MLP batch size must be a positive integer, got ${batchSize}`);
  const classWeights = options.classWeights ?? new Float64Array(C).fill(1);
  const meanWeight = ys.reduce((sum, y) => sum + classWeights[y], 0) / N;
  const random = mulberry32(options.seed ?? 1);
  const normal = gaussian(random);

  const W1 = new Float32Array(D * H);
  for (let k = 0; k < W1.length; k++) W1[k] = normal() * initScale;
  const b1 = new Float32Array(H);
  const W2 = new Float32Array(H * C);
  const outputScale = Math.sqrt(1 / H);
  for (let k = 0; k < W2.length; k++) W2[k] = normal() * outputScale;
  const b2 = new Float32Array(C);

  // W₁ gradient and Adam moments, touched rows only; the small dense parameters in one block:
  // b₁ (H), W₂ (H·C), b₂ (C).
  const gW1 = new Float64Array(D * H);
  const mW1 = new Float32Array(D * H);
  const vW1 = new Float32Array(D * H);
  const touched = new Uint32Array(D);
  const isTouched = new Uint8Array(D);
  const everTouched = new Uint8Array(D);
  const P = H + H * C + C;
  const gDense = new Float64Array(P);
  const mDense = new Float64Array(P);
  const vDense = new Float64Array(P);

  const z = new Float64Array(H);
  const a = new Float64Array(H);
  const dz = new Float64Array(H);
  const out = new Float64Array(C);
  const g = new Float64Array(C);
  const order = Array.from({ length: N }, (_, i) => i);
  let step = 0;
  let loss = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(order, random);
    loss = 0;
    for (let start = 0; start < N; start += batchSize) {
      const end = Math.min(start + batchSize, N);
      let nTouched = 0;
      for (let k = start; k < end; k++) {
        const n = order[k];
        const x = xs[n];
        const y = ys[n];
        const weight = classWeights[y] / meanWeight / (end - start);
        forwardHidden(x, W1, b1, H, z);
        for (let h = 0; h < H; h++) a[h] = z[h] > 0 ? z[h] : 0;
        forwardOutput(a, W2, b2, C, out);
        const p = softmax(out);
        loss -= (weight * (end - start) / N) * Math.log(Math.max(p[y], 1e-12));
        for (let c = 0; c < C; c++) g[c] = weight * (p[c] - (c === y ? 1 : 0));
        backwardOutput(a, g, W2, gDense, H, C, dz);
        nTouched = backwardInput(x, dz, H, gW1, isTouched, touched, nTouched);
      }
      step++;
      const bc1 = 1 - BETA1 ** step;
      const bc2 = 1 - BETA2 ** step;
      for (let t = 0; t < nTouched; t++) {
        const d = touched[t];
        isTouched[d] = 0;
        everTouched[d] = 1;
        adamStep(W1, gW1, mW1, vW1, d * H, (d + 1) * H, l2, lr, bc1, bc2);
      }
      // b₁, W₂, b₂ share one moment block: offsets 0, H and H + H·C.
      adamStep(b1, gDense, mDense, vDense, 0, H, 0, lr, bc1, bc2, 0);
      adamStep(W2, gDense, mDense, vDense, 0, H * C, l2, lr, bc1, bc2, H);
      adamStep(b2, gDense, mDense, vDense, 0, C, 0, lr, bc1, bc2, H + H * C);
    }
  }
  for (let d = 0; d < D; d++) if (!everTouched[d]) W1.fill(0, d * H, (d + 1) * H);
  return { model: new MlpModel(labels, D, { inputWeights: W1, inputBias: b1, outputWeights: W2, outputBias: b2 }), finalLoss: loss };
}


const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/**
 * One Adam step on params[from, to), with L2 added to the gradient; the gradient and moments of
 * param k sit at k + offset. Clears the gradient it used.
 */
function adamStep(
  params: Float32Array,
  grad: Float64Array,
  m: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  from: number,
  to: number,
  l2: number,
  lr: number,
  bc1: number,
  bc2: number,
  offset = 0,
): void {
  for (let k = from; k < to; k++) {
    const j = k + offset;
    const g = grad[j] + l2 * params[k];
    grad[j] = 0;
    const mj = BETA1 * m[j] + (1 - BETA1) * g;
    const vj = BETA2 * v[j] + (1 - BETA2) * g * g;
    m[j] = mj;
    v[j] = vj;
    params[k] -= (lr * (mj / bc1)) / (Math.sqrt(vj / bc2) + EPSILON);
  }
}

/** Adds one row's W₂ and b₂ gradients (output gradient g) into gDense; writes the hidden pre-activation gradient into dz. */
function backwardOutput(a: Float64Array, g: Float64Array, W2: Float32Array, gDense: Float64Array, H: number, C: number, dz: Float64Array): void {
  const b2At = H + H * C;
  for (let c = 0; c < C; c++) gDense[b2At + c] += g[c];
  for (let h = 0; h < H; h++) {
    const ah = a[h];
    if (ah === 0) {
      dz[h] = 0; // ReLU: no gradient through an inactive unit
      continue;
    }
    const row = h * C;
    let back = 0;
    for (let c = 0; c < C; c++) {
      back += W2[row + c] * g[c];
      gDense[H + row + c] += ah * g[c];
    }
    dz[h] = back;
    gDense[h] += back;
  }
}

/** Adds one row's W₁ gradient x·dzᵀ into gW1, recording rows touched for the first time; returns the new count. */
function backwardInput(x: Vector, dz: Float64Array, H: number, gW1: Float64Array, isTouched: Uint8Array, touched: Uint32Array, nTouched: number): number {
  const add = (d: number, v: number): void => {
    if (!isTouched[d]) {
      isTouched[d] = 1;
      touched[nTouched++] = d;
    }
    const row = d * H;
    for (let h = 0; h < H; h++) gW1[row + h] += v * dz[h];
  };
  if (isSparse(x)) {
    for (let i = 0; i < x.indices.length; i++) add(x.indices[i], x.values[i]);
  } else {
    for (let d = 0; d < x.length; d++) if (x[d] !== 0) add(d, x[d]);
  }
  return nTouched;
}



/** Standard normal draws (Box–Muller) from a uniform generator. */
function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - random(); // (0, 1]: log(0) is never taken
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
