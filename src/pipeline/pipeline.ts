import { LRUCache } from 'lru-cache';
import { maskMessage } from './masking.js';
import type { Decision, LogRecord, Stage, StageName } from './types.js';

export interface PipelineOptions {
  /** Stages, cheapest first. */
  readonly stages: readonly Stage[];
  /** Sources whose records skip every stage but the LLM. */
  readonly llmSources: readonly string[];
  readonly unclassifiedLabel: string;
  /** Decisions remembered per (route, masked message); 0 disables the cache. */
  readonly cacheSize: number;
  readonly mask?: (message: string) => string;
  /**
   * Remember fallback decisions too. Safe when no stage can later do better (no LLM
   * configured): without it every repeat of an unsure template runs the embedder again.
   */
  readonly cacheFallbacks?: boolean;
  /** Told about every stage call (metrics); must not throw. */
  readonly observer?: PipelineObserver;
}

/** Hooks for metrics, so the pipeline needs no metrics library of its own. */
export interface PipelineObserver {
  /** One stage.classify call: how many records it was given, how long it took, whether it threw. */
  stageCall?(stage: StageName, records: number, seconds: number, failed: boolean): void;
}

export interface PipelineStats {
  rows: number;
  /** Rows answered from the LRU of earlier batches. */
  cacheHits: number;
  /** Rows not in the LRU (a row whose template repeats within its batch counts here too). */
  cacheMisses: number;
  /** Rows that shared another row's decision within their batch (same masked template). */
  batchDuplicates: number;
  /** Unique templates the stages decided. */
  decided: number;
  byStage: Record<StageName, number>;
  /** Batches a stage threw on; their records moved on to the next stage. */
  stageFailures: Record<string, number>;
}

const DIRECT_STAGE = 'llm';

/**
 * Composes the stages: each record goes through them in order until one gives a firm verdict;
 * tentative verdicts are remembered as the fallback guess. Identical masked messages are
 * decided once, within a batch and across batches through an LRU cache.
 */
export class Pipeline {
  readonly stats: PipelineStats = {
    rows: 0,
    cacheHits: 0,
    cacheMisses: 0,
    batchDuplicates: 0,
    decided: 0,
    byStage: { regex: 0, embedding: 0, llm: 0, fallback: 0, error: 0 },
    stageFailures: {},
  };
  private readonly cache?: LRUCache<string, Decision>;
  private readonly llmSources: ReadonlySet<string>;
  private readonly mask: (message: string) => string;

  constructor(private readonly options: PipelineOptions) {
    this.llmSources = new Set(options.llmSources);
    this.mask = options.mask ?? maskMessage;
    if (options.cacheSize > 0) this.cache = new LRUCache({ max: options.cacheSize });
  }

  get stages(): readonly Stage[] {
    return this.options.stages;
  }

  /** Share of rows answered without running a stage (LRU hits and in-batch duplicates). */
  get cacheHitRate(): { lru: number; overall: number } {
    const { rows, cacheHits, batchDuplicates } = this.stats;
    return { lru: rows ? cacheHits / rows : 0, overall: rows ? (cacheHits + batchDuplicates) / rows : 0 };
  }

  /** The masked cache key of a message (for benchmarks and debugging). */
  maskOf(message: string): string {
    return this.mask(message);
  }

  async classify(records: readonly LogRecord[]): Promise<Decision[]> {
    const decisions = new Array<Decision>(records.length);
    // One representative record per distinct key; the rest copy its decision.
    const pending = new Map<string, { record: LogRecord; rows: number[] }>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const key = `${this.llmSources.has(record.source) ? 'L' : 'S'}\u0000${this.mask(record.message)}`;
      const cached = this.cache?.get(key);
      if (cached) {
        decisions[i] = cached;
        this.stats.cacheHits++;
        continue;
      }
      this.stats.cacheMisses++;
      const entry = pending.get(key);
      if (entry) {
        entry.rows.push(i);
        this.stats.batchDuplicates++;
      } else pending.set(key, { record, rows: [i] });
    }

    const keys = [...pending.keys()];
    const unique = keys.map((k) => pending.get(k)!.record);
    this.stats.decided += unique.length;
    const decided = unique.length ? await this.decide(unique) : [];
    keys.forEach((key, u) => {
      const decision = decided[u];
      for (const row of pending.get(key)!.rows) decisions[row] = decision;
      // A fallback may change once the LLM recovers, so only firm decisions are remembered
      // (unless there is no LLM to recover).
      if (decision.stage !== 'fallback' || this.options.cacheFallbacks) this.cache?.set(key, decision);
    });

    this.stats.rows += records.length;
    for (const d of decisions) this.stats.byStage[d.stage]++;
    return decisions;
  }

  /** Runs unique records through the stages. */
  private async decide(records: readonly LogRecord[]): Promise<Decision[]> {
    const result = new Array<Decision | undefined>(records.length);
    const guesses = new Array<Decision | undefined>(records.length);
    for (const stage of this.options.stages) {
      const open: number[] = [];
      for (let i = 0; i < records.length; i++) {
        if (result[i]) continue;
        const direct = this.llmSources.has(records[i].source);
        if (direct && stage.name !== DIRECT_STAGE) continue;
        open.push(i);
      }
      if (open.length === 0) continue;
      let verdicts;
      const started = performance.now();
      try {
        verdicts = await stage.classify(open.map((i) => records[i]));
        this.options.observer?.stageCall?.(stage.name, open.length, (performance.now() - started) / 1000, false);
      } catch {
        this.options.observer?.stageCall?.(stage.name, open.length, (performance.now() - started) / 1000, true);
        this.stats.stageFailures[stage.name] = (this.stats.stageFailures[stage.name] ?? 0) + 1;
        continue;
      }
      open.forEach((i, k) => {
        const v = verdicts[k];
        if (!v) return;
        const decision: Decision = { label: v.label, stage: stage.name, confidence: v.confidence };
        if (v.tentative) {
          if (!guesses[i] || guesses[i]!.confidence < v.confidence) guesses[i] = decision;
        } else {
          result[i] = decision;
        }
      });
    }
    // Array.from, not map: map skips the holes of a sparse array.
    return Array.from(
      result,
      (d, i) =>
        d ??
        (guesses[i]
          ? { ...guesses[i]!, stage: 'fallback' as const }
          : { label: this.options.unclassifiedLabel, stage: 'fallback' as const, confidence: 0 }),
    );
  }

  async close(): Promise<void> {
    for (const stage of this.options.stages) await stage.close?.();
  }
}
