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
}

export interface PipelineStats {
  rows: number;
  cacheHits: number;
  cacheMisses: number;
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
      if (entry) entry.rows.push(i);
      else pending.set(key, { record, rows: [i] });
    }

    const keys = [...pending.keys()];
    const unique = keys.map((k) => pending.get(k)!.record);
    const decided = await this.decide(unique);
    keys.forEach((key, u) => {
      const decision = decided[u];
      for (const row of pending.get(key)!.rows) decisions[row] = decision;
      // A fallback may change once the LLM recovers, so only firm decisions are remembered.
      if (decision.stage !== 'fallback') this.cache?.set(key, decision);
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
      try {
        verdicts = await stage.classify(open.map((i) => records[i]));
      } catch {
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
