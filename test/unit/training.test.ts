import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeaderParser } from '../../src/lines/header.js';
import { LineFeaturizer } from '../../src/lines/features.js';
import { maskMessage } from '../../src/lines/masking.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import { describe, expect, it } from 'vitest';
import { LexicalEmbedder } from '../../src/embedding/lexical.js';
import type { Embedder } from '../../src/embedding/types.js';
import { loadHead, LogisticHead, parseHead, saveHead, softmax } from '../../src/models/head.js';
import { fitSoftmaxRegression, fitTemperature } from '../../src/training/softmax-regression.js';
import { splitIndices } from '../../src/training/split.js';
import { trainHead } from '../../src/training/train.js';

const rows = [
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `disk usage at ${50 + i}% on node-${i}`, label: 'Resource Usage' })),
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `user u${i} signed in from the web portal`, label: 'User Action' })),
  ...Array.from({ length: 30 }, (_, i) => ({ source: 's', message: `brute force attempt blocked from host ${i}`, label: 'Security Alert' })),
];

describe('lexical embedder', () => {
  const embedder = new LexicalEmbedder();
  it('is deterministic, unit-norm and sparse with sorted indices', () => {
    const a = embedder.embedOne('Disk usage at 91% on db-01');
    const b = embedder.embedOne('Disk usage at 91% on db-01');
    expect([...a.indices]).toEqual([...b.indices]);
    expect([...a.values]).toEqual([...b.values]);
    const norm = Math.hypot(...a.values);
    expect(norm).toBeCloseTo(1, 5);
    expect([...a.indices]).toEqual([...a.indices].sort((x, y) => x - y));
    expect(a.indices.every((i) => i < embedder.dimension)).toBe(true);
  });
  it('maps numbers to one placeholder, so values do not change the vector', () => {
    const a = embedder.embedOne('job 17 failed');
    const b = embedder.embedOne('job 98341 failed');
    expect([...a.values]).toEqual([...b.values]);
  });
  it('handles empty and huge input', () => {
    expect(embedder.embedOne('').indices.length).toBe(0);
    expect(embedder.embedOne('x'.repeat(5_000_000)).indices.length).toBeGreaterThan(0);
  });
  it('its fingerprint names the feature space', () => {
    expect(embedder.fingerprint).toBe('lexical:v2:d32768:c3-5');
    expect(new LexicalEmbedder({ dimension: 1024 }).fingerprint).not.toBe(embedder.fingerprint);
  });
});

describe('softmax regression', () => {
  it('learns a separable problem and is deterministic', async () => {
    const embedder = new LexicalEmbedder({ dimension: 4096 });
    const xs = rows.map((r) => embedder.embedOne(r.message));
    const labels = [...new Set(rows.map((r) => r.label))];
    const ys = rows.map((r) => labels.indexOf(r.label));
    const fit = () => fitSoftmaxRegression(xs, ys, { dimension: 4096, classes: 3, epochs: 30 });
    const a = fit();
    const b = fit();
    expect([...a.weights]).toEqual([...b.weights]);
    const head = new LogisticHead({
      format: 'logsift-head/v1',
      labels,
      embedder: { kind: 'lexical', fingerprint: embedder.fingerprint, dimension: 4096 },
      weights: Array.from({ length: 3 }, (_, c) => [...a.weights.subarray(c * 4096, (c + 1) * 4096)]),
      bias: [...a.bias],
      temperature: 1,
    });
    const correct = xs.filter((x, i) => {
      const p = head.predictProba(x);
      return p.indexOf(Math.max(...p)) === ys[i];
    }).length;
    expect(correct).toBe(rows.length);
  });

  it('temperature scaling recovers the temperature that generated the labels', () => {
    // Labels drawn from softmax(logits / 2): the NLL-optimal temperature is close to 2.
    const logits: number[][] = [];
    const ys: number[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 4000; i++) {
      const l = [rand() * 8, rand() * 8, rand() * 8];
      const p = softmax(l, 2);
      const u = rand();
      ys.push(u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2);
      logits.push(l);
    }
    expect(fitTemperature(logits, ys)).toBeGreaterThan(1.7);
    expect(fitTemperature(logits, ys)).toBeLessThan(2.3);
  });
});

describe('splits', () => {
  const data = rows.map((r) => ({ message: r.message, label: r.label }));
  it('random split is stratified and reproducible', () => {
    const a = splitIndices(data, { kind: 'random', testFraction: 0.2, seed: 1 });
    expect(a).toEqual(splitIndices(data, { kind: 'random', testFraction: 0.2, seed: 1 }));
    expect(a.test.length).toBe(18);
    expect(a.test.filter((i) => data[i].label === 'User Action').length).toBe(6);
    expect(new Set([...a.train, ...a.test]).size).toBe(data.length);
  });
  it('group split never puts one masked template on both sides', () => {
    const templated = [...data, ...data.map((d) => ({ ...d, message: d.message.replace(/\d+/g, '7') }))];
    const { train, test } = splitIndices(templated, { kind: 'group', testFraction: 0.3, seed: 3 });
    const key = (i: number) => templated[i].message.replace(/\d+/g, '#').toLowerCase();
    const trainKeys = new Set(train.map(key));
    expect(test.some((i) => trainKeys.has(key(i)))).toBe(false);
    expect(train.length + test.length).toBe(templated.length);
  });
});

describe('head files', () => {
  it('train → save → load round-trips, and a mismatched embedder is refused', async () => {
    const embedder = new LexicalEmbedder({ dimension: 2048 });
    const preparer = new LinePreparer(new HeaderParser([]), maskMessage);
    const features = new LineFeaturizer(embedder, preparer);
    const result = await trainHead(rows, features, { epochs: 20, seed: 5 });
    expect(result.report.accuracy).toBe(1);
    expect(result.head.temperature).toBeGreaterThan(0);
    const path = join(mkdtempSync(join(tmpdir(), 'head-')), 'head-lexical.json');
    await saveHead(path, result.head);
    const head = await loadHead(path);
    const [vector] = await features.featurize([preparer.prepare('disk usage at 97% on node-3').line]);
    expect(head.labels[head.predictProba(vector).indexOf(Math.max(...head.predictProba(vector)))]).toBe('Resource Usage');
    expect(() => head.assertCompatible(new LineFeaturizer(new LexicalEmbedder(), preparer))).toThrow(/trained with embedder lexical:v2:d2048:c3-5\+line:v1.*configured embedder is lexical:v2:d32768:c3-5\+line:v1/);
    const other: Embedder = { kind: 'onnx', dimension: features.dimension, fingerprint: 'onnx:abc:256', embed: async () => [] };
    expect(() => head.assertCompatible(other)).toThrow(/retrain it with `logsift train --embedder onnx`/);
  });

  it('invalid head files are clear errors', async () => {
    await expect(loadHead('/nonexistent/head.json')).rejects.toThrow(/no classifier head at \/nonexistent\/head.json/);
    expect(() => parseHead({ format: 'logsift-head/v1', labels: ['a'] }, 'h.json')).toThrow(/h.json is not a valid logsift head/);
    expect(() =>
      parseHead({
        format: 'logsift-head/v1',
        labels: ['a', 'b'],
        embedder: { kind: 'lexical', fingerprint: 'x', dimension: 2 },
        weights: [[1, 2]],
        bias: [0, 0],
      }),
    ).toThrow(/2×2/);
  });
});
