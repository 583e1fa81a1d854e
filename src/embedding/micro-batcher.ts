import type { Embedder, Vector } from './types.js';

export interface MicroBatchOptions {
  /** How long the first waiting text waits for company before a run starts. */
  readonly windowMs: number;
  /** A run starts at once when this many texts are waiting. */
  readonly maxBatch: number;
}

interface Waiting {
  readonly texts: readonly string[];
  readonly resolve: (vectors: Vector[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Wraps an embedder so that concurrent embed() calls (the batches of several requests, or of
 * one request's pipeline) are run together: texts are gathered for `windowMs` or until
 * `maxBatch` are waiting, identical texts are embedded once, and the inner embedder (which sorts
 * by length to cut padding) runs one call at a time — on two cores, two model runs side by side
 * only fight over the same cores. While a run is going on, new texts gather for the next one.
 */
export class MicroBatchingEmbedder implements Embedder {
  readonly kind: Embedder['kind'];
  readonly dimension: number;
  readonly fingerprint: string;
  /** Runs of the inner embedder and the texts they carried, for benchmarks and metrics. */
  readonly stats = { calls: 0, runs: 0, texts: 0, unique: 0 };
  private queue: Waiting[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    readonly inner: Embedder,
    private readonly options: MicroBatchOptions,
  ) {
    this.kind = inner.kind;
    this.dimension = inner.dimension;
    this.fingerprint = inner.fingerprint;
  }

  embed(texts: readonly string[]): Promise<Vector[]> {
    if (texts.length === 0) return Promise.resolve([]);
    this.stats.calls++;
    return new Promise<Vector[]>((resolve, reject) => {
      this.queue.push({ texts, resolve, reject });
      this.queued += texts.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queued >= this.options.maxBatch || this.options.windowMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.run();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.run();
      }, this.options.windowMs);
    }
  }

  private async run(): Promise<void> {
    if (this.running) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    this.running = true;
    try {
      // One slot per distinct text; each caller gets its own array back, in its own order.
      const slot = new Map<string, number>();
      const unique: string[] = [];
      const slots = batch.map((w) =>
        w.texts.map((t) => {
          let s = slot.get(t);
          if (s === undefined) {
            s = unique.length;
            slot.set(t, s);
            unique.push(t);
          }
          return s;
        }),
      );
      this.stats.runs++;
      this.stats.texts += slots.reduce((n, s) => n + s.length, 0);
      this.stats.unique += unique.length;
      try {
        const vectors = await this.inner.embed(unique);
        batch.forEach((w, k) => w.resolve(slots[k].map((s) => vectors[s])));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    } finally {
      this.running = false;
      // Texts that arrived during the run have waited long enough: run them now.
      if (this.queue.length) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        void this.run();
      }
    }
  }

  /** Whole callers, up to maxBatch texts (at least one caller, however large). */
  private takeBatch(): Waiting[] {
    const out: Waiting[] = [];
    let n = 0;
    while (this.queue.length && (out.length === 0 || n + this.queue[0].texts.length <= this.options.maxBatch)) {
      const w = this.queue.shift()!;
      out.push(w);
      n += w.texts.length;
    }
    this.queued -= n;
    return out;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const err = new Error('embedder is closed');
    for (const w of this.queue.splice(0)) w.reject(err);
    this.queued = 0;
    await this.inner.close?.();
  }
}
