import type { LoadedHead } from '../models/head.js';
import type { LineFeaturizer } from '../lines/features.js';
import type { PreparedRecord, Stage, Verdict } from './types.js';

/**
 * Stage 2: the head over the line's features (embedding of the masked message, level,
 * component). Below the threshold a verdict is only a guess: the LLM may do better, and with no
 * LLM the guess is the answer (`fallback`, with its confidence).
 */
export class EmbeddingStage implements Stage {
  readonly name = 'embedding' as const;

  constructor(
    readonly features: LineFeaturizer,
    readonly head: LoadedHead,
    private readonly threshold: number,
    /** A head trained with a background class says so with this label; the LLM may know better. */
    private readonly unclassifiedLabel = 'Unclassified',
  ) {
    head.assertCompatible(features);
  }

  async classify(records: readonly PreparedRecord[]): Promise<Verdict[]> {
    const vectors = await this.features.featurize(records.map((r) => r.line));
    return vectors.map((vector) => {
      const p = this.head.predictProba(vector);
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
      const label = this.head.labels[best];
      return { label, confidence: p[best], tentative: p[best] < this.threshold || label === this.unclassifiedLabel };
    });
  }

  async close(): Promise<void> {
    await this.features.close();
  }
}
