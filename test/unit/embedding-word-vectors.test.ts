/**
 * Word vectors in the lexical embedder: the derived file (format, determinism, refusal of a broken
 * file) from a tiny package-format fixture, and what the block adds to a line's vector. The real
 * 200k-word file is what the shipped head uses (models/word-vectors, derived by `logsift models`).
 */
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LexicalEmbedder } from '../../src/embedding/lexical.js';
import type { SparseVector } from '../../src/embedding/types.js';
import { deriveWordVectors, loadWordVectors, type WordVectors } from '../../src/models/word-vectors.js';

// The package's layout: words by frequency, each with its components, l2 norm and rank appended.
const WORDS: Record<string, number[]> = {
  the: [1, 1, 0, 0],
  failed: [0, 0, 1, 0.2],
  unsuccessful: [0, 0.1, 0.9, 0.3],
  succeeded: [0.2, 0, -1, 0],
  restart: [0.9, -0.1, 0, 1],
  'e-mail': [1, 0, 0, 0], // not all letters: left out
  reboot: [1, 0, 0.1, 0.9],
};

function cosine(a: SparseVector, b: SparseVector, from: number): number {
  const dense = (v: SparseVector) => {
    const out = new Map<number, number>();
    v.indices.forEach((index, k) => index >= from && out.set(index, v.values[k]));
    return out;
  };
  const x = dense(a);
  const y = dense(b);
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (const [k, v] of x) {
    dot += v * (y.get(k) ?? 0);
    nx += v * v;
  }
  for (const v of y.values()) ny += v * v;
  return dot / Math.sqrt(nx * ny);
}

describe('word vectors', () => {
  let dir: string;
  let file: string;
  let vectors: WordVectors;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logsift-wv-'));
    const words = Object.keys(WORDS);
    const pkg = { precision: 8, dimensions: 4, words, vectors: Object.fromEntries(words.map((w, i) => [w, [...WORDS[w], 1, i]])) };
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg));
    file = join(dir, 'wv.bin');
    await deriveWordVectors(file, { source: join(dir, 'package.json') });
    vectors = await loadWordVectors(file);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps the all-letter words in frequency order, unit length as int8, and derives the same bytes twice', async () => {
    expect([...vectors.rows.keys()]).toEqual(['the', 'failed', 'unsuccessful', 'succeeded', 'restart', 'reboot']);
    const row = vectors.rows.get('failed')!;
    const raw = WORDS.failed;
    const unit = raw.map((x) => x / Math.hypot(...raw));
    // ×381, clamped to the int8 range (real 100-d components are small enough not to clamp).
    expect([...vectors.data.subarray(row * 4, row * 4 + 4)]).toEqual(unit.map((x) => Math.max(-127, Math.min(127, Math.round(x * 381)))));
    const again = join(dir, 'again.bin');
    await deriveWordVectors(again, { source: join(dir, 'package.json') });
    expect((await loadWordVectors(again)).fingerprint).toBe(vectors.fingerprint);
    expect(await readFile(again)).toEqual(await readFile(file));
    const fewer = join(dir, 'fewer.bin');
    await deriveWordVectors(fewer, { source: join(dir, 'package.json'), vocabulary: 2 });
    const small = await loadWordVectors(fewer);
    expect([...small.rows.keys()]).toEqual(['the', 'failed']);
    expect(small.fingerprint).not.toBe(vectors.fingerprint);
  });

  it('refuses a truncated or foreign file, saying how to mend it', async () => {
    const broken = join(dir, 'broken.bin');
    await writeFile(broken, await readFile(file));
    await truncate(broken, 60);
    await expect(loadWordVectors(broken)).rejects.toThrow(/broken\.bin is (truncated|not a logsift word-vector file).*delete it/);
    await writeFile(broken, '{"hello": 1}\nxyz');
    await expect(loadWordVectors(broken)).rejects.toThrow(/not a logsift word-vector file.*delete it/);
  });

  it('appends a block of length 0.5 after the buckets; lines of synonyms meet there, n-grams unchanged', () => {
    const plain = new LexicalEmbedder({ dimension: 1024 });
    const withVectors = new LexicalEmbedder({ dimension: 1024, wordVectors: vectors });
    expect(withVectors.dimension).toBe(1024 + 4);
    expect(withVectors.fingerprint).toBe(`${plain.fingerprint}+wv:${vectors.fingerprint}:w0.5:r1000`);

    const a = withVectors.embedOne('job 7 failed after restart');
    const b = withVectors.embedOne('unsuccessful reboot');
    const c = withVectors.embedOne('job succeeded');
    const block = [...a.indices].filter((i) => i >= 1024);
    expect(block).toEqual([1024, 1025, 1026, 1027]);
    const blockNorm = Math.hypot(...[...a.values].slice(-4));
    expect(blockNorm).toBeCloseTo(0.5, 5);
    // The n-gram part is the plain embedder's, untouched.
    const base = plain.embedOne('job 7 failed after restart');
    expect([...a.indices].slice(0, -4)).toEqual([...base.indices]);
    expect([...a.values].slice(0, -4)).toEqual([...base.values]);
    // No shared word, yet near in the word-vector block; "succeeded" points the other way.
    expect(cosine(a, b, 1024)).toBeGreaterThan(0.9);
    expect(cosine(a, c, 1024)).toBeLessThan(cosine(a, b, 1024));
  });

  it('gives no block to a line without a known word, and weighs frequent words down', () => {
    const e = new LexicalEmbedder({ dimension: 1024, wordVectors: vectors });
    const unknown = e.embedOne('zzz 42 qqq');
    expect([...unknown.indices].every((i) => i < 1024)).toBe(true);
    // "the" (rank 0) weighs nothing: "the reboot" is "reboot".
    const withThe = e.embedOne('the reboot');
    const alone = e.embedOne('reboot');
    expect([...withThe.values].slice(-4)).toEqual([...alone.values].slice(-4));
  });
});
