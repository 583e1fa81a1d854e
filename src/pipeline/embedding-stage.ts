import type { Embedder } from '../embedders/types.js';
import type { LoadedHead } from '../models/head.js';
import type { LogRecord, Stage, Verdict } from './types.js';

/** Stage 2: sentence embedding + logistic-regression head. Below the threshold a verdict is only a guess. */
export class EmbeddingStage implements Stage {
  readonly name = 'embedding' as const;

  constructor(
    readonly embedder: Embedder,
    readonly head: LoadedHead,
    private readonly threshold: number,
    /** A head trained with a background class says so with this label; the LLM may know better. */
    private readonly unclassifiedLabel = 'Unclassified',
  ) {
    head.assertCompatible(embedder);
  }

  async classify(records: readonly LogRecord[]): Promise<Verdict[]> {
    const vectors = await this.embedder.embed(records.map((r) => r.message));
    return vectors.map((vector) => {
      const p = this.head.predictProba(vector);
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
      const label = this.head.labels[best];
      return { label, confidence: p[best], tentative: p[best] < this.threshold || label === this.unclassifiedLabel };
    });
  }

  async close(): Promise<void> {
    await this.embedder.close?.();
  }
}
