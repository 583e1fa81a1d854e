/**
 * The lexical embedder hashes n-grams in place for speed; this keeps it bit-identical to the
 * plain definition (hash each feature string with FNV-1a), which the shipped head was trained on.
 */
import { describe, expect, it } from 'vitest';
import { LexicalEmbedder } from '../../src/embedding/lexical.js';
import { readRecords } from '../../bench/lib.js';
import { resolvePath } from '../../src/config/index.js';

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The reference definition: feature strings, a Map of counts. */
function reference(text: string, dimension = 1 << 15, nMin = 3, nMax = 5): { indices: Uint32Array; values: Float32Array } {
  const counts = new Map<number, number>();
  const add = (feature: string, seed: number) => {
    const h = fnv1a(feature, seed);
    counts.set(h & (dimension - 1), (counts.get(h & (dimension - 1)) ?? 0) + (h & 0x80000000 ? -1 : 1));
  };
  const tokens = (text.slice(0, 2000).toLowerCase().match(/[a-z]+|\d+/g) ?? []).map((t) => (t.charCodeAt(0) <= 57 ? '0' : t));
  let previous = '^';
  for (const token of tokens) {
    add(token, 1);
    add(`${previous} ${token}`, 2);
    previous = token;
    if (token.length < 3) continue;
    const padded = `<${token}>`;
    for (let n = nMin; n <= nMax; n++) for (let i = 0; i + n <= padded.length; i++) add(padded.slice(i, i + n), 3);
  }
  if (tokens.length > 0) add(`${previous} $`, 2);
  const indices = Uint32Array.from([...counts.keys()].filter((k) => counts.get(k) !== 0)).sort();
  const values = new Float32Array(indices.length);
  let norm = 0;
  for (let i = 0; i < indices.length; i++) {
    const c = counts.get(indices[i])!;
    const v = Math.sign(c) * Math.log1p(Math.abs(c));
    values[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < values.length; i++) values[i] /= norm;
  return { indices, values };
}

describe('lexical embedder', () => {
  it('equals the reference definition bit for bit (corpus, robustness set, edge cases)', () => {
    const texts = [...readRecords(resolvePath('data/corpus.csv'), 3000), ...readRecords(resolvePath('data/robustness.csv'))].map((r) => r.message);
    texts.push('', 'a', 'ab abc', 'x'.repeat(5000), 'ÄÖÜ straße 12 ünïcödé', 'aaa aaa aaa aaa bbb', '12 34 56');
    const e = new LexicalEmbedder();
    for (const t of texts) {
      const got = e.embedOne(t);
      const want = reference(t);
      expect([...got.indices], t).toEqual([...want.indices]);
      expect([...got.values], t).toEqual([...want.values]);
    }
  });

  it('small dimensions (many collisions, buckets returning to zero) too', () => {
    const e = new LexicalEmbedder({ dimension: 8 });
    for (const t of ['disk full on node 7', 'aaa bbb ccc ddd eee fff ggg hhh', 'User 12 logged in']) {
      const got = e.embedOne(t);
      const want = reference(t, 8);
      expect([...got.indices]).toEqual([...want.indices]);
      expect([...got.values]).toEqual([...want.values]);
    }
  });
});
