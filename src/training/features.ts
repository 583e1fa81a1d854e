import type { Vector } from '../embedding/types.js';
import type { LineFeaturizer } from '../lines/features.js';

/**
 * The features every trained head sees — `logsift train`, `logsift eval` and `eval --compare` all
 * make them here and nowhere else: each raw line is prepared as the pipeline prepares it (header
 * split into level and component, message masked), then embedded with the header features.
 */
export interface FeatureRow {
  readonly source: string;
  readonly message: string;
}

/** One vector per row, in order. */
export async function featurize(rows: readonly FeatureRow[], features: LineFeaturizer): Promise<Vector[]> {
  return features.featurizeMessages(rows.map((r) => r.message));
}

/** The width of featurize's vectors. */
export function featureDimension(features: LineFeaturizer): number {
  return features.dimension;
}
