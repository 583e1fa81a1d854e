import type { Embedder, SparseVector } from './types.js';

/**
 * `lexical`: hashed word uni/bi-grams and character n-grams, log-scaled and L2-normalised.
 * Needs no downloaded weights, is deterministic, and costs microseconds per line, so the
 * service always starts and a head can be trained anywhere.
 */
export interface LexicalOptions {
  /** Number of hash buckets (power of two). */
  readonly dimension?: number;
  readonly charNgramMin?: number;
  readonly charNgramMax?: number;
}

const DEFAULTS = { dimension: 1 << 15, charNgramMin: 3, charNgramMax: 5 } as const;

// Variable parts become placeholder tokens so features describe the template, not the values.
const TOKEN = /[a-z]+|\d+/g;
const MAX_CHARS = 2000;

/** FNV-1a, 32-bit, over UTF-16 code units: fast and stable across platforms. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class LexicalEmbedder implements Embedder {
  readonly kind = 'lexical' as const;
  readonly dimension: number;
  readonly fingerprint: string;
  private readonly mask: number;
  private readonly nMin: number;
  private readonly nMax: number;

  constructor(options: LexicalOptions = {}) {
    const { dimension, charNgramMin, charNgramMax } = { ...DEFAULTS, ...options };
    if (!Number.isInteger(Math.log2(dimension))) throw new Error(`lexical dimension must be a power of two, got ${dimension}`);
    this.dimension = dimension;
    this.mask = dimension - 1;
    this.nMin = charNgramMin;
    this.nMax = charNgramMax;
    this.fingerprint = `lexical:v1:d${dimension}:c${charNgramMin}-${charNgramMax}`;
  }

  async embed(texts: readonly string[]): Promise<SparseVector[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous core, exposed for the trainer and benchmarks. */
  embedOne(text: string): SparseVector {
    const counts = new Map<number, number>();
    const add = (feature: string, seed: number): void => {
      const h = fnv1a(feature, seed);
      const index = h & this.mask;
      // The top bit picks a sign so that collisions cancel out on average.
      const sign = h & 0x80000000 ? -1 : 1;
      counts.set(index, (counts.get(index) ?? 0) + sign);
    };

    const lower = text.slice(0, MAX_CHARS).toLowerCase();
    const tokens = (lower.match(TOKEN) ?? []).map((t) => (t.charCodeAt(0) <= 57 ? '0' : t));
    let previous = '^';
    for (const token of tokens) {
      add(token, 1);
      add(`${previous} ${token}`, 2);
      previous = token;
      if (token.length < 3) continue;
      const padded = `<${token}>`;
      for (let n = this.nMin; n <= this.nMax; n++) {
        for (let i = 0; i + n <= padded.length; i++) add(padded.slice(i, i + n), 3);
      }
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
}
