import type { Embedder, Vector } from '../embedders/types.js';

/**
 * The features every trained head sees — `logsift train`, `logsift eval` and `eval --compare` all
 * make them here and nowhere else, so changing what a head is trained on (header parsing, level
 * or component features, ...) is a change to these two functions only.
 */
export interface FeatureRow {
  readonly source: string;
  readonly message: string;
}

/** One vector per row, in order. */
export async function featurize(rows: readonly FeatureRow[], embedder: Embedder): Promise<Vector[]> {
  return embedder.embed(rows.map((r) => r.message));
}

/** The width of featurize's vectors. */
export function featureDimension(embedder: Embedder): number {
  return embedder.dimension;
}
