import { describe, expect, it } from 'vitest';
import { LexicalEmbedder } from '../../src/embedding/lexical.js';
import type { SparseVector, Vector } from '../../src/embedding/types.js';
import { argmax, HEAD_KINDS, type HeadKind, type TemperatureScaledHead } from '../../src/models/head-model.js';
import { classWeights, fitHead, type HeadTrainingData } from '../../src/training/heads.js';
import { fitMlp } from '../../src/training/mlp.js';
import { fitNaiveBayes } from '../../src/training/naive-bayes.js';
import { mulberry32 } from '../../src/training/random.js';

const LABELS = ['Resource Usage', 'Security Alert', 'User Action'];
const TEMPLATES = [
  (i: number) => `disk usage at ${50 + i}% on node-${i}`,
  (i: number) => `brute force attempt blocked from host ${i}`,
  (i: number) => `user u${i} signed in from the web portal`,
];
const embedder = new LexicalEmbedder({ dimension: 4096 });

/** Three labels, one template each: separable, 30 training rows a label. */
function separable(): HeadTrainingData {
  const xs: Vector[] = [];
  const ys: number[] = [];
  TEMPLATES.forEach((t, y) => {
    for (let i = 0; i < 30; i++) {
      xs.push(embedder.embedOne(t(i)));
      ys.push(y);
    }
  });
  return { xs, ys, labels: LABELS, dimension: embedder.dimension };
}

const sparse = (pairs: [number, number][]): SparseVector => ({
  indices: Uint32Array.from(pairs.map(([i]) => i)),
  values: Float32Array.from(pairs.map(([, v]) => v)),
});

/**
 * XOR in bag-of-features form: label 1 when exactly one of features 0 and 1 is present, whatever
 * the noise features (2..49) say. No linear model gets all four cases right.
 */
function xor(rows: number, seed: number): HeadTrainingData & { cases: SparseVector[] } {
  const random = mulberry32(seed);
  const xs: Vector[] = [];
  const ys: number[] = [];
  for (let n = 0; n < rows; n++) {
    const a = n % 2;
    const b = Math.floor(n / 2) % 2;
    const pairs: [number, number][] = [];
    if (a) pairs.push([0, 1]);
    if (b) pairs.push([1, 1]);
    const noise = 2 + Math.floor(random() * 48);
    pairs.push([noise, 0.5]);
    xs.push(sparse(pairs));
    ys.push(a ^ b);
  }
  const cases = [sparse([]), sparse([[0, 1]]), sparse([[1, 1]]), sparse([[0, 1], [1, 1]])];
  return { xs, ys, labels: ['same', 'different'], dimension: 50, cases };
}

const predicted = (model: TemperatureScaledHead, xs: readonly Vector[]) => xs.map((x) => argmax(model.predictProba(x)));
const accuracy = (model: TemperatureScaledHead, xs: readonly Vector[], ys: readonly number[]) =>
  predicted(model, xs).filter((p, i) => p === ys[i]).length / ys.length;
const balanced = (data: HeadTrainingData) => classWeights(data.ys, data.labels.length, 'balanced');

describe.each(HEAD_KINDS)('%s head', (kind: HeadKind) => {
  const data = separable();
  const fit = (seed = 7) => fitHead(kind, data, { seed, classWeights: balanced(data) }).model;

  it('learns a separable problem, also on unseen lines of the same templates', () => {
    const model = fit();
    expect(accuracy(model, data.xs, data.ys)).toBe(1);
    const unseen = TEMPLATES.map((t) => embedder.embedOne(t(1234)));
    expect(predicted(model, unseen)).toEqual([0, 1, 2]);
  });

  it('gives probabilities over its labels that sum to 1', () => {
    const model = fit();
    expect(model.labels).toEqual(LABELS);
    for (const x of [...data.xs.slice(0, 5), embedder.embedOne('something else entirely'), sparse([])]) {
      const p = model.predictProba(x);
      expect(p).toHaveLength(LABELS.length);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic for a seed', () => {
    const x = embedder.embedOne('disk usage near the quota for user u3');
    expect([...fit(7).predictProba(x)]).toEqual([...fit(7).predictProba(x)]);
  });

  it('fits a temperature on the validation rows, which changes the probabilities but not the ranking', () => {
    const validation = { xs: data.xs.filter((_, i) => i % 10 === 0), ys: data.ys.filter((_, i) => i % 10 === 0) };
    const raw = fitHead(kind, data, { seed: 7, classWeights: balanced(data) }).model;
    const calibrated = fitHead(kind, data, { seed: 7, classWeights: balanced(data), validation }).model;
    expect(raw.temperature).toBe(1);
    expect(calibrated.temperature).not.toBe(1);
    const x = embedder.embedOne('user u3 blocked from the web portal');
    expect(argmax(calibrated.predictProba(x))).toBe(argmax(raw.predictProba(x)));
    expect([...calibrated.predictProba(x)]).not.toEqual([...raw.predictProba(x)]);
  });

  it('honours the class weights: on a line seen 90 times as one label and 10 as another, balanced weights even them out', () => {
    const xs: Vector[] = Array.from({ length: 100 }, () => sparse([[3, 1]]));
    const ys = xs.map((_, i) => (i < 90 ? 0 : 1));
    const ambiguous = { xs, ys, labels: ['common', 'rare'], dimension: 8 };
    const majorityShare = (weighting: 'balanced' | 'none') =>
      fitHead(kind, ambiguous, { seed: 3, classWeights: classWeights(ys, 2, weighting), hyperparameters: { epochs: 100 } }).model.predictProba(xs[0])[0];
    expect(majorityShare('none')).toBeCloseTo(0.9, 1);
    expect(majorityShare('balanced')).toBeCloseTo(0.5, 1);
  });
});

describe('class weights', () => {
  it('balanced is n / (classes × count); a label without rows weighs 0; none is all ones', () => {
    expect([...classWeights([0, 0, 0, 1], 3, 'balanced')]).toEqual([4 / 9, 4 / 3, 0]);
    expect([...classWeights([0, 0, 0, 1], 3, 'none')]).toEqual([1, 1, 1]);
  });
});

describe('naive Bayes', () => {
  it('is multinomial NB with Lidstone smoothing over |x|', () => {
    // Two classes, two features; hand-computed with alpha 0.5.
    const xs = [sparse([[0, 2]]), sparse([[0, 1], [1, -1]]), sparse([[1, 3]])];
    const model = fitNaiveBayes(xs, [0, 0, 1], { dimension: 2, labels: ['a', 'b'], alpha: 0.5 });
    // class a: counts (3, 1), mass 4; class b: counts (0, 3), mass 3. Prior 2/3, 1/3.
    const logit = [...model.logits(sparse([[0, 1], [1, 2]]))];
    expect(logit[0]).toBeCloseTo(Math.log(2 / 3) + Math.log(3.5 / 5) + 2 * Math.log(1.5 / 5), 5);
    expect(logit[1]).toBeCloseTo(Math.log(1 / 3) + Math.log(0.5 / 4) + 2 * Math.log(3.5 / 4), 5);
    // The sign of a value is a hash bit, not evidence: -x scores as x.
    expect([...model.logits(sparse([[1, -2]]))]).toEqual([...model.logits(sparse([[1, 2]]))]);
  });
});

describe('MLP', () => {
  it('solves XOR, which no linear head can (softmax and naive Bayes stay at or below 3 of 4 cases)', () => {
    const data = xor(400, 11);
    const opts = { seed: 5, classWeights: balanced(data) };
    const mlp = fitMlp(data.xs, data.ys, { dimension: data.dimension, labels: data.labels, hidden: 16, epochs: 60, learningRate: 0.02, seed: 5 }).model;
    expect(predicted(mlp, data.cases)).toEqual([0, 1, 1, 0]);
    expect(accuracy(mlp, data.xs, data.ys)).toBe(1);
    for (const linear of ['softmax', 'naive-bayes'] as const) {
      const model = fitHead(linear, data, { ...opts, hyperparameters: { epochs: 60 } }).model;
      const right = predicted(model, data.cases).filter((p, i) => p === [0, 1, 1, 0][i]).length;
      expect(right, linear).toBeLessThanOrEqual(3);
    }
  });

  it('another seed gives other weights', () => {
    const data = separable();
    const weights = (seed: number) => fitMlp(data.xs, data.ys, { dimension: data.dimension, labels: data.labels, epochs: 2, seed }).model.parameters.outputWeights;
    expect([...weights(1)]).toEqual([...weights(1)]);
    expect([...weights(1)]).not.toEqual([...weights(2)]);
  });

  it('zeroes the first-layer rows of features no training line had, so they add nothing', () => {
    const data = separable();
    const { model } = fitMlp(data.xs, data.ys, { dimension: data.dimension, labels: data.labels, epochs: 1, seed: 1 });
    const seen = new Set(data.xs.flatMap((x) => [...(x as SparseVector).indices]));
    const unseen = [...Array(data.dimension).keys()].find((d) => !seen.has(d))!;
    const row = model.parameters.inputWeights.subarray(unseen * model.hidden, (unseen + 1) * model.hidden);
    expect(row.every((w) => w === 0)).toBe(true);
    const x = data.xs[0] as SparseVector;
    const withUnseen = sparse([...[...x.indices].map((d, i): [number, number] => [d, x.values[i]]), [unseen, 5] as [number, number]].sort((p, q) => p[0] - q[0]));
    expect([...model.predictProba(withUnseen)]).toEqual([...model.predictProba(x)]);
  });
});
