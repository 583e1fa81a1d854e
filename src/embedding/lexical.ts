import type { WordVectors } from '../models/word-vectors.js';
import type { Embedder, SparseVector } from './types.js';

/**
 * `lexical`: hashed word uni/bi-grams and character n-grams, log-scaled and L2-normalised, then
 * (with word vectors) the weighted mean of the words' GloVe vectors. Needs no downloaded weights,
 * is deterministic, and costs microseconds per line, so the service always starts and a head can
 * be trained anywhere.
 *
 * The n-grams know only the corpus's wording; the word vectors carry what English knows about
 * the words, so a line that says "unforeseen reboot" lands near one that says "unexpected
 * restart" even when neither word is in the corpus.
 */
export interface LexicalOptions {
  /** Number of hash buckets (power of two). */
  readonly dimension?: number;
  readonly charNgramMin?: number;
  readonly charNgramMax?: number;
  /** Appends the mean word vector after the buckets (models/word-vectors.ts). */
  readonly wordVectors?: WordVectors;
}

const DEFAULTS = { dimension: 1 << 15, charNgramMin: 3, charNgramMax: 5 } as const;
/**
 * Length of the word-vector block against the n-gram block's 1: large enough to move a line whose
 * words are new, small enough that the corpus's own n-grams still decide the lines they know
 * (1.0 lost 3 points of line accuracy on real logs; 0.5 none, and gained on paraphrases).
 */
const WORD_VECTOR_WEIGHT = 0.5;
/**
 * Frequent words say little (the, of, to, is): a word of frequency rank r counts r / (r + 1000),
 * the smooth-inverse-frequency weighting of sentence embeddings with ranks for frequencies.
 */
const WORD_RANK_SMOOTHING = 1000;

// Variable parts become placeholder tokens so features describe the template, not the values.
const TOKEN = /[a-z]+|\d+/g;
// Identifiers in logs are camelCase or PascalCase (setLightsOn, QuorumCnxManager, HTTPServer): split
// them into words so "cancelTimer" and "cancel timer" share features. One pass puts a space after
// a lower-case letter or digit followed by a capital, and after an acronym's last-but-one capital
// (HTTPServer → HTTP Server).
const CAMEL_BOUNDARY = /([a-z\d])(?=[A-Z])|([A-Z])(?=[A-Z][a-z])/g;
const MAX_CHARS = 2000;
/** log1p of small counts, looked up (the same doubles Math.log1p gives). */
const LOG1P = Float64Array.from({ length: 64 }, (_, k) => Math.log1p(k));

/** FNV-1a, 32-bit, over UTF-16 code units: fast and stable across platforms. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fnvStart(seed: number): number {
  return (0x811c9dc5 ^ seed) >>> 0;
}
function fnvStep(h: number, text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
function fnvFinish(h: number): number {
  return h >>> 0;
}

export class LexicalEmbedder implements Embedder {
  readonly kind = 'lexical' as const;
  readonly dimension: number;
  readonly fingerprint: string;
  private readonly mask: number;
  /** Bits of a bucket index. */
  private readonly keyBits: number;
  private readonly nMin: number;
  private readonly nMax: number;
  private readonly buckets: number;
  private readonly wordVectors?: WordVectors;
  private readonly wordSum: Float64Array;

  constructor(options: LexicalOptions = {}) {
    const { dimension, charNgramMin, charNgramMax, wordVectors } = { ...DEFAULTS, ...options };
    if (!Number.isInteger(Math.log2(dimension))) throw new Error(`lexical dimension must be a power of two, got ${dimension}`);
    this.buckets = dimension;
    this.dimension = dimension + (wordVectors?.dimension ?? 0);
    this.mask = dimension - 1;
    this.keyBits = Math.log2(dimension);
    this.nMin = charNgramMin;
    this.nMax = charNgramMax;
    this.wordVectors = wordVectors;
    this.wordSum = new Float64Array(wordVectors?.dimension ?? 0);
    this.fingerprint =
      `lexical:v2:d${dimension}:c${charNgramMin}-${charNgramMax}` +
      (wordVectors ? `+wv:${wordVectors.fingerprint}:w${WORD_VECTOR_WEIGHT}:r${WORD_RANK_SMOOTHING}` : '');
  }

  async embed(texts: readonly string[]): Promise<SparseVector[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Per-bucket counts of the line being embedded, and the buckets it touched (reset after each line). */
  private scratch?: Int32Array;
  private touched = new Uint32Array(1024);
  /** Character codes of the token being n-grammed, between `<` and `>`. */
  private padded: number[] = [];
  /** The line's non-zero buckets and their counts, in touch order; radix-sort scratch. */
  private picked = new Uint32Array(1024);
  private cellCount = new Int32Array(1024);
  private orderA = new Uint32Array(1024);
  private orderB = new Uint32Array(1024);
  private readonly histogram = new Uint32Array(257);

  /**
   * Positions 0..n-1 of `keys` in ascending key order: an LSD radix sort, 8 bits a pass (two passes
   * for 2^15 buckets). A line has ~200 buckets; TypedArray#sort took a third of the embedder's time.
   */
  private sortedOrder(keys: Uint32Array, n: number): Uint32Array {
    if (this.orderA.length < n) {
      this.orderA = new Uint32Array(n * 2);
      this.orderB = new Uint32Array(n * 2);
    }
    let from = this.orderA;
    let to = this.orderB;
    for (let i = 0; i < n; i++) from[i] = i;
    const histogram = this.histogram;
    for (let shift = 0; shift < this.keyBits; shift += 8) {
      histogram.fill(0);
      for (let i = 0; i < n; i++) histogram[((keys[from[i]] >>> shift) & 255) + 1]++;
      for (let b = 1; b <= 256; b++) histogram[b] += histogram[b - 1];
      for (let i = 0; i < n; i++) to[histogram[(keys[from[i]] >>> shift) & 255]++] = from[i];
      const swap = from;
      from = to;
      to = swap;
    }
    return from;
  }

  /**
   * Synchronous core, exposed for the trainer and benchmarks. Features are hashed in place (no
   * n-gram strings are built) into a reusable count array; the result is the same, bit for bit,
   * as hashing each feature string with fnv1a.
   */
  embedOne(text: string): SparseVector {
    const counts = (this.scratch ??= new Int32Array(this.buckets));
    let touched = this.touched;
    let nTouched = 0;
    const bucketMask = this.mask;
    const add = (h: number): void => {
      const index = h & bucketMask;
      // The top bit picks a sign so that collisions cancel out on average.
      const before = counts[index];
      if (before === 0) {
        // A bucket may return to 0 and be touched again: duplicates are dropped below.
        if (nTouched === touched.length) {
          const grown = new Uint32Array(touched.length * 2);
          grown.set(touched);
          this.touched = touched = grown;
        }
        touched[nTouched++] = index;
      }
      counts[index] = before + (h & 0x80000000 ? -1 : 1);
    };

    const lower = text.slice(0, MAX_CHARS).replace(CAMEL_BOUNDARY, '$1$2 ').toLowerCase();
    const tokens = (lower.match(TOKEN) ?? []).map((t) => (t.charCodeAt(0) <= 57 ? '0' : t));
    let previous = '^';
    const { nMin, nMax } = this;
    const padded = this.padded;
    for (const token of tokens) {
      add(fnv1a(token, 1));
      // `${previous} ${token}`
      add(fnvFinish(fnvStep(fnvStep(fnvStep(fnvStart(2), previous, 0, previous.length), ' ', 0, 1), token, 0, token.length)));
      previous = token;
      const len = token.length;
      if (len < 3) continue;
      // Character n-grams of `<${token}>`. FNV runs left to right, so the hash of the n-gram at i
      // is one step on from the (n-1)-gram's: every length from one walk per start.
      const paddedLength = len + 2;
      padded[0] = 60;
      for (let k = 0; k < len; k++) padded[k + 1] = token.charCodeAt(k);
      padded[paddedLength - 1] = 62;
      for (let i = 0; i + nMin <= paddedLength; i++) {
        let h = fnvStart(3);
        for (let k = i; k < i + nMin - 1; k++) h = Math.imul(h ^ padded[k], 0x01000193);
        for (let n = nMin; n <= nMax && i + n <= paddedLength; n++) {
          h = Math.imul(h ^ padded[i + n - 1], 0x01000193);
          add(fnvFinish(h));
        }
      }
    }
    if (tokens.length > 0) add(fnv1a(`${previous} $`, 2));

    // The buckets still non-zero, each once (a bucket that went back to 0 and was touched again is
    // in `touched` twice: the first copy takes it and zeroes its count, so the second is skipped).
    let unique = 0;
    const picked = this.picked.length >= nTouched ? this.picked : (this.picked = new Uint32Array(nTouched * 2));
    const cellCount = this.cellCount.length >= nTouched ? this.cellCount : (this.cellCount = new Int32Array(nTouched * 2));
    for (let i = 0; i < nTouched; i++) {
      const index = touched[i];
      const c = counts[index];
      if (c === 0) continue;
      picked[unique] = index;
      cellCount[unique++] = c;
      counts[index] = 0;
    }
    const order = this.sortedOrder(picked, unique);
    const words = this.wordVectors ? this.meanWordVector(tokens) : undefined;
    const out = new Uint32Array(unique + (words ? words.length : 0));
    const values = new Float32Array(out.length);
    let norm = 0;
    for (let i = 0; i < unique; i++) {
      const k = order[i];
      out[i] = picked[k];
      const c = cellCount[k];
      const magnitude = c > 0 ? c : -c;
      const v = Math.sign(c) * (magnitude < LOG1P.length ? LOG1P[magnitude] : Math.log1p(magnitude));
      values[i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < unique; i++) values[i] /= norm;
    if (words) {
      for (let d = 0; d < words.length; d++) {
        out[unique + d] = this.buckets + d;
        values[unique + d] = words[d];
      }
    }
    return { indices: out, values };
  }

  /**
   * The weighted mean of the known words' vectors, scaled to length WORD_VECTOR_WEIGHT; undefined
   * when no word is known (the block is then absent, not a zero vector of some other length).
   */
  private meanWordVector(tokens: readonly string[]): Float64Array | undefined {
    const { rows, data, dimension } = this.wordVectors!;
    const sum = this.wordSum.fill(0);
    let known = 0;
    for (const token of tokens) {
      const row = rows.get(token);
      if (row === undefined) continue;
      known++;
      const weight = row / (row + WORD_RANK_SMOOTHING);
      const base = row * dimension;
      for (let d = 0; d < dimension; d++) sum[d] += weight * data[base + d];
    }
    if (known === 0) return undefined;
    let norm = 0;
    for (let d = 0; d < dimension; d++) norm += sum[d] * sum[d];
    if (norm === 0) return undefined;
    const scale = WORD_VECTOR_WEIGHT / Math.sqrt(norm);
    for (let d = 0; d < dimension; d++) sum[d] *= scale;
    return sum;
  }
}
