import type { Embedder, SparseVector, Vector } from '../embedding/types.js';
import { isSparse } from '../embedding/types.js';
import { componentWords, SEVERITIES } from './header.js';
import type { LinePreparer } from './prepare.js';
import type { PreparedLine } from './types.js';
import { COMPONENT_BUCKETS, LEVEL_SLOTS, STRUCTURE_DIMENSION, lineFeaturesFingerprint } from './feature-space.js';

export { STRUCTURE_DIMENSION, lineFeaturesFingerprint } from './feature-space.js';

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The head's input for one prepared line: the embedder's vector of the masked message, then a
 * small block of header features — the level (one-hot, "none" when the line has no level) and
 * the words of the component (hashed). The level is only evidence: the head weighs it against
 * the message, so an INFO line saying a node died can still be a Critical Error.
 */
export class LineFeaturizer {
  readonly kind: Embedder['kind'];
  readonly dimension: number;
  readonly fingerprint: string;

  constructor(
    readonly embedder: Embedder,
    /** How raw lines become prepared lines (training and evaluation start from raw lines). */
    readonly preparer: LinePreparer,
  ) {
    this.kind = embedder.kind;
    this.dimension = embedder.dimension + STRUCTURE_DIMENSION;
    this.fingerprint = lineFeaturesFingerprint(embedder.fingerprint);
  }

  async featurize(lines: readonly PreparedLine[]): Promise<SparseVector[]> {
    const vectors = await this.embedder.embed(lines.map((l) => l.text));
    return vectors.map((v, i) => this.combine(v, lines[i]));
  }

  /** Features of raw log lines: prepared (header split, masked) first, as the pipeline does. */
  async featurizeMessages(messages: readonly string[]): Promise<SparseVector[]> {
    return this.featurize(messages.map((m) => this.preparer.prepare(m).line));
  }

  private combine(message: Vector, line: PreparedLine): SparseVector {
    const base = this.embedder.dimension;
    const structure = new Map<number, number>();
    const level = line.level === undefined ? SEVERITIES.length : SEVERITIES.indexOf(line.level);
    structure.set(base + level, 1);
    const words = line.component ? componentWords(line.component) : [];
    if (words.length > 0) {
      const weight = 1 / Math.sqrt(words.length);
      for (const w of words) {
        const index = base + LEVEL_SLOTS + (fnv1a(w) & (COMPONENT_BUCKETS - 1));
        structure.set(index, (structure.get(index) ?? 0) + weight);
      }
    }
    const extra = [...structure.entries()].sort((a, b) => a[0] - b[0]);
    let indices: ArrayLike<number>;
    let values: ArrayLike<number>;
    if (isSparse(message)) {
      ({ indices, values } = message);
    } else {
      indices = Uint32Array.from({ length: message.length }, (_, i) => i);
      values = message;
    }
    const n = indices.length;
    const outIndices = new Uint32Array(n + extra.length);
    const outValues = new Float32Array(n + extra.length);
    for (let i = 0; i < n; i++) {
      outIndices[i] = indices[i];
      outValues[i] = values[i];
    }
    extra.forEach(([index, value], k) => {
      outIndices[n + k] = index;
      outValues[n + k] = value;
    });
    return { indices: outIndices, values: outValues };
  }

  async close(): Promise<void> {
    await this.embedder.close?.();
  }
}
