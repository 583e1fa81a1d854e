import { LRUCache } from 'lru-cache';
import type { LinePreparer, Prepared } from '../lines/prepare.js';
import type { MinedTemplate, TemplateMiner } from '../lines/templates.js';
import type { Decision, LogRecord, PreparedRecord, RowRecord, Stage, StageName, Verdict } from '../stages/types.js';
import type { NamedTemplate, TemplateNamer } from '../templates/namer.js';
import { templateDecisionKey } from './decision-key.js';
import type { PipelineObserver } from './observer.js';

export interface PipelineOptions {
  /** Stages that see each row's own message and run on every row before the cache (the rules). */
  readonly rowStages?: readonly Stage<RowRecord>[];
  /** Stages behind the cache, cheapest first: they see only the prepared line. */
  readonly stages: readonly Stage[];
  /** Sources whose records skip every stage but the LLM. */
  readonly llmSources: readonly string[];
  readonly unclassifiedLabel: string;
  /** Decisions remembered per (route, prepared line); 0 disables the cache. */
  readonly cacheSize: number;
  /** Header parsing and masking. */
  readonly preparer: LinePreparer;
  /**
   * Remember fallback decisions too. Safe when no stage can later do better (no LLM
   * configured): without it every repeat of an unsure template runs the embedder again.
   */
  readonly cacheFallbacks?: boolean;
  /** Told about every stage call (metrics); must not throw. */
  readonly observer?: PipelineObserver;
  /**
   * Share model decisions per template as well as per prepared line (decision-key.ts): the
   * namer names the template of a row whose prepared line is new, unless the tracker has named
   * the batch's rows already (the store's namer then). Unset: decisions are shared by prepared
   * line only.
   */
  readonly templateNamer?: TemplateNamer;
  /** Another template key than decision-key.ts's (bench/template-cache.ts only: alternatives measured). */
  readonly templateKey?: typeof templateDecisionKey;
}

/**
 * The service's memory of templates across requests (src/templates/tracker.ts). Per batch, before
 * any stage runs, it names each row's template and the label a user set on it (`override`);
 * once the batch is decided it is told the decisions, to count them. The pipeline keeps none of
 * it: a pipeline may be shared (tests) and is replaced on reload, the tracker is the service's.
 */
export interface TemplateTracker {
  assign(records: readonly LogRecord[], prepared: readonly Prepared[]): TemplateAssignment;
  /** The batch's decisions, in row order (override decisions included). Must not throw. */
  record(assignment: TemplateAssignment, records: readonly LogRecord[], decisions: readonly Decision[]): void;
}

/** What the tracker says of a batch: each row's template; `overrides` unset when no row's template has one. */
export interface TemplateAssignment {
  readonly templates: readonly NamedTemplate[];
  readonly overrides?: readonly (string | undefined)[];
}

/** A decision with the template the row's message belongs to (POST /classify?explain=true). */
export interface ExplainedDecision extends Decision {
  readonly template: MinedTemplate;
}

export type { PipelineObserver };

export interface PipelineStats {
  rows: number;
  /** Rows answered from the decision caches of earlier batches (by prepared line or by template). */
  cacheHits: number;
  /** Of cacheHits, rows whose prepared line was new but whose template had a decision (decision-key.ts). */
  templateHits: number;
  /** Rows no cache answered (a row whose prepared line or template repeats within its batch counts here too). */
  cacheMisses: number;
  /** Rows that shared another row's decision within their batch (same prepared line or template). */
  batchDuplicates: number;
  /** Distinct decisions the stages behind the cache made (each a run of the model stages). */
  decided: number;
  byStage: Record<StageName, number>;
  /** Batches a stage threw on; their records moved on to the next stage. */
  stageFailures: Record<string, number>;
}

const DIRECT_STAGE = 'llm';

/** A decision a batch still needs (a distinct prepared line, or template key), and the rows that share it. */
interface Pending {
  readonly record: PreparedRecord;
  readonly rows: number[];
  /** The template key it is shared by, when it is (decision-key.ts). */
  readonly templateKey?: string;
}

type Route = 'staged' | 'direct';

/**
 * Composes the stages. Each row is prepared once (header split, masked); the row stages (rules)
 * see its own message; the rest see only the prepared line, so rows with the same prepared line
 * are decided once, within a batch and across batches through an LRU cache — a cached decision
 * is a function of exactly what the deciding stage saw. With a template namer, a new prepared
 * line of a template already decided (same level and problem words, decision-key.ts) shares
 * that decision: made on the template's first line, not on this one. Tentative verdicts are
 * remembered as the fallback guess.
 */
export class Pipeline {
  readonly stats: PipelineStats = {
    rows: 0,
    cacheHits: 0,
    templateHits: 0,
    cacheMisses: 0,
    batchDuplicates: 0,
    decided: 0,
    byStage: { override: 0, regex: 0, embedding: 0, llm: 0, fallback: 0, error: 0 },
    stageFailures: {},
  };
  /**
   * Decisions by prepared line, one cache per route (through the stages, or straight to the LLM):
   * keyed by the prepared text itself, a string a repeated template's rows share, so a lookup
   * builds no key and V8 hashes the string once.
   */
  private readonly caches?: { readonly staged: LRUCache<string, Decision>; readonly direct: LRUCache<string, Decision> };
  /** Decisions by template key (decision-key.ts), per route: asked when a prepared line is new. */
  private readonly templateCaches?: { readonly staged: LRUCache<string, Decision>; readonly direct: LRUCache<string, Decision> };
  /**
   * The staged route's cached decisions again, by the preparer's shape object (Prepared.shape):
   * a row of a repeated shape, nearly every row of a large upload, finds its decision by object
   * identity instead of hashing its prepared line. Holds what `caches` was given (a shape has one
   * prepared line, so the same decision); weak, so it goes with the shape.
   */
  private readonly byShape = new WeakMap<object, Decision>();
  private readonly llmSources: ReadonlySet<string>;

  constructor(private readonly options: PipelineOptions) {
    this.llmSources = new Set(options.llmSources);
    if (options.cacheSize > 0) {
      this.caches = { staged: new LRUCache({ max: options.cacheSize }), direct: new LRUCache({ max: options.cacheSize }) };
      if (options.templateNamer) this.templateCaches = { staged: new LRUCache({ max: options.cacheSize }), direct: new LRUCache({ max: options.cacheSize }) };
    }
  }

  get stages(): readonly Stage<never>[] {
    return [...(this.options.rowStages ?? []), ...this.options.stages];
  }

  /** Share of rows answered without running a model stage (LRU hits and in-batch duplicates). */
  get cacheHitRate(): { lru: number; overall: number } {
    const { rows, cacheHits, batchDuplicates } = this.stats;
    return { lru: rows ? cacheHits / rows : 0, overall: rows ? (cacheHits + batchDuplicates) / rows : 0 };
  }

  /** The prepared line of a message, as text: its cache key (for benchmarks and debugging). */
  maskOf(message: string): string {
    return this.options.preparer.prepare(message).text;
  }

  /** The label of a line no stage could decide. */
  get unclassifiedLabel(): string {
    return this.options.unclassifiedLabel;
  }

  /** The message without its header, unmasked: what the regex rules match (and templates are mined from). */
  bodyOf(message: string): string {
    return this.options.preparer.prepare(message).body;
  }

  /** What one stage alone says about each record, seeing what it sees in the pipeline (self-tests, threshold curves). */
  async stageVerdicts(name: Stage<never>['name'], records: readonly LogRecord[]): Promise<(Verdict | undefined)[]> {
    const prepared = records.map((r) => this.options.preparer.prepare(r.message));
    const rowStage = this.options.rowStages?.find((s) => s.name === name);
    if (rowStage) return rowStage.classify(records.map((r, i) => ({ source: r.source, message: prepared[i].body })));
    const stage = this.options.stages.find((s) => s.name === name);
    if (!stage) throw new Error(`no ${name} stage in this pipeline`);
    return stage.classify(records.map((r, i) => ({ source: r.source, message: prepared[i].text, line: prepared[i].line })));
  }

  /** Decisions; with `templates`, a row whose template has a user's label gets it (stage `override`, confidence 1). */
  async classify(records: readonly LogRecord[], templates?: TemplateTracker): Promise<Decision[]> {
    return this.classifyPrepared(records, records.map((r) => this.options.preparer.prepare(r.message)), templates);
  }

  /**
   * Decisions, each with the template of the row's message (its header split off) as `miner`
   * mines it. The miner is the caller's: one per request, so that what a template's text says
   * comes only from that request's lines.
   */
  async explain(records: readonly LogRecord[], miner: TemplateMiner, templates?: TemplateTracker): Promise<ExplainedDecision[]> {
    const prepared = records.map((r) => this.options.preparer.prepare(r.message));
    const decisions = await this.classifyPrepared(records, prepared, templates);
    return decisions.map((d, i) => ({ ...d, template: miner.add(prepared[i].body) }));
  }

  private async classifyPrepared(records: readonly LogRecord[], prepared: readonly Prepared[], templates?: TemplateTracker): Promise<Decision[]> {
    const decisions = new Array<Decision>(records.length);

    // A user's label on the row's template comes before everything, every route included. These
    // decisions never enter the decision caches (by prepared line or template, neither knows an override),
    // so setting or removing an override takes effect on the next batch with nothing to invalidate.
    const assignment = templates?.assign(records, prepared);
    const overrides = assignment?.overrides;
    if (overrides) {
      for (let i = 0; i < records.length; i++) {
        const label = overrides[i];
        if (label !== undefined) decisions[i] = { label, stage: 'override', confidence: 1 };
      }
    }

    // Rules first, on every row's own message (LLM-routed sources skip them).
    let open = records.map((_, i) => i).filter((i) => !decisions[i] && !this.llmSources.has(records[i].source));
    for (const stage of this.options.rowStages ?? []) {
      if (open.length === 0) break;
      const verdicts = await this.run(stage, open.map((i) => ({ source: records[i].source, message: prepared[i].body, shape: prepared[i].shape })));
      if (!verdicts) continue;
      const still: number[] = [];
      open.forEach((i, k) => {
        const v = verdicts[k];
        if (v && !v.tentative) decisions[i] = v.rule === undefined ? { label: v.label, stage: stage.name, confidence: v.confidence } : { label: v.label, stage: stage.name, confidence: v.confidence, rule: v.rule };
        else still.push(i);
      });
      open = still;
    }

    // The rest, through the decision caches: by prepared line (by shape first, which is the same),
    // then, for a new prepared line, by template. A miss waits for one representative record per
    // distinct prepared line or template key (the first row's: its prepared line is what the
    // stages see); the other rows copy its decision. Per route, pending decisions by prepared line
    // and by template key are two maps, so that no line, whatever it holds, can pass for a key.
    const pending = { staged: [new Map<string, Pending>(), new Map<string, Pending>()], direct: [new Map<string, Pending>(), new Map<string, Pending>()] };
    const caches = this.caches;
    const namer = this.options.templateNamer;
    const named = assignment?.templates;
    let hits = 0;
    let templateHits = 0;
    let misses = 0;
    for (let i = 0; i < records.length; i++) {
      if (decisions[i]) continue;
      const record = records[i];
      const row = prepared[i];
      const route: Route = this.llmSources.has(record.source) ? 'direct' : 'staged';
      if (route === 'staged' && row.shape !== undefined) {
        const known = this.byShape.get(row.shape);
        if (known) {
          decisions[i] = known;
          hits++;
          continue;
        }
      }
      const cached = caches?.[route].get(row.text);
      if (cached) {
        decisions[i] = cached;
        if (route === 'staged' && row.shape !== undefined) this.byShape.set(row.shape, cached);
        hits++;
        continue;
      }
      const templateKey = this.templateCaches ? (this.options.templateKey ?? templateDecisionKey)(named?.[i] ?? namer!.name(row), row.line) : undefined;
      if (templateKey !== undefined) {
        const shared = this.templateCaches![route].get(templateKey);
        if (shared) {
          decisions[i] = shared;
          this.remember(route, row, shared);
          hits++;
          templateHits++;
          continue;
        }
      }
      misses++;
      const [byLine, byTemplate] = pending[route];
      const entry = templateKey === undefined ? byLine.get(row.text) : byTemplate.get(templateKey);
      if (entry) {
        entry.rows.push(i);
        this.stats.batchDuplicates++;
      } else {
        const fresh: Pending = { record: { source: record.source, message: row.text, line: row.line }, rows: [i], templateKey };
        if (templateKey === undefined) byLine.set(row.text, fresh);
        else byTemplate.set(templateKey, fresh);
      }
    }

    this.stats.cacheHits += hits;
    this.stats.templateHits += templateHits;
    this.stats.cacheMisses += misses;
    this.options.observer?.cache?.(hits, misses);
    const entries = (['staged', 'direct'] as const).flatMap((route) => pending[route].flatMap((byKey) => [...byKey.values()].map((p) => ({ route, ...p }))));
    const unique = entries.map((e) => e.record);
    this.stats.decided += unique.length;
    const decided = unique.length ? await this.decide(unique) : [];
    entries.forEach(({ route, rows, templateKey }, u) => {
      const decision = decided[u];
      // A fallback may change once the LLM recovers, so only firm decisions are remembered
      // (unless there is no LLM to recover).
      const keep = decision.stage !== 'fallback' || this.options.cacheFallbacks;
      if (keep && templateKey !== undefined) this.templateCaches![route].set(templateKey, decision);
      for (const r of rows) {
        decisions[r] = decision;
        if (keep) this.remember(route, prepared[r], decision);
      }
    });

    this.stats.rows += records.length;
    for (const d of decisions) this.stats.byStage[d.stage]++;
    if (assignment) templates!.record(assignment, records, decisions);
    return decisions;
  }

  /** A decision for a prepared line, in the cache by line and (staged route) by shape. */
  private remember(route: Route, row: Prepared, decision: Decision): void {
    this.caches?.[route].set(row.text, decision);
    if (route === 'staged' && row.shape !== undefined && this.caches) this.byShape.set(row.shape, decision);
  }

  /** One stage call, timed and counted; undefined when the stage threw (its records move on). */
  private async run<R extends LogRecord>(stage: Stage<R>, records: readonly R[]): Promise<(Verdict | undefined)[] | undefined> {
    const started = performance.now();
    try {
      const verdicts = await stage.classify(records);
      this.options.observer?.stageCall?.(stage.name, records.length, (performance.now() - started) / 1000, false);
      return verdicts;
    } catch {
      this.options.observer?.stageCall?.(stage.name, records.length, (performance.now() - started) / 1000, true);
      this.stats.stageFailures[stage.name] = (this.stats.stageFailures[stage.name] ?? 0) + 1;
      return undefined;
    }
  }

  /** Runs unique prepared records through the stages behind the cache. */
  private async decide(records: readonly PreparedRecord[]): Promise<Decision[]> {
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
      const verdicts = await this.run(stage, open.map((i) => records[i]));
      if (!verdicts) continue;
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
    for (const stage of this.stages) await (stage as Stage<LogRecord>).close?.();
  }
}
