/**
 * The service's memory of templates across requests, between the pipeline and the store
 * (store.ts): the pipeline's TemplateTracker.
 *
 * - One long-lived namer (namer.ts: a miner, templates.minerMaxTemplates) names every row's
 *   template, whatever request it came in. It is not the `?explain=true` miner: that one is per
 *   request, so that an explained answer depends only on its own lines (docs/TEMPLATES.md). At
 *   start-up it is seeded with the store's most recently seen templates, so a restart does not
 *   hand a template's first lines the ids of more specific texts. The pipeline shares decisions
 *   per template by these names too (src/pipeline/decision-key.ts).
 * - Hot path: a row whose masked message was mined before is not mined again (namer.ts); when a
 *   template generalises, its old id is an alias of the new one and what was gathered under the
 *   old id moves over.
 * - Overrides are held in memory (id → label), read once from the store and kept in step by
 *   setOverride; a row's override is one map lookup.
 * - Counts are gathered in memory per template and written by `flush()` in one transaction, on a
 *   timer (templates.flushIntervalMs) and before any /templates request reads the store.
 */
import type { Prepared } from '../lines/prepare.js';
import type { TemplateAssignment, TemplateTracker } from '../pipeline/pipeline.js';
import type { Decision, LogRecord } from '../stages/types.js';
import { TemplateNamer, type NamedTemplate } from './namer.js';
import { MAX_SOURCES, type PruneLimits, type TemplateDelta, type TemplateStore } from './store.js';

export interface TrackerOptions {
  readonly minerMaxTemplates: number;
  /** Told the ids of templates the store had never held, after each flush. */
  readonly onNew?: (templates: readonly { id: string; text: string; source: string }[]) => void;
  /** The clock (tests). */
  readonly now?: () => number;
}

interface Assignment extends TemplateAssignment {
  /** Each row's entry of `pending` as it was when the row was counted. */
  readonly deltas: readonly TemplateDelta[];
}

/** A delta being gathered, with the source last added: rows of one template mostly come from one source, and skip the set. */
interface Gathering extends TemplateDelta {
  lastSource: string | undefined;
}

/**
 * A new delta, every field set from the start (in one order): deltas of one shape keep the
 * per-row code that touches them monomorphic, where fields added later (the decision, the ids
 * replaced) would give them several.
 */
function gathering(id: string, text: string, count: number, firstSeen: number, lastSeen: number, sources: Set<string>, example: TemplateDelta['example'], lastSource: string | undefined): Gathering {
  return { id, text, count, firstSeen, lastSeen, sources, example, decided: undefined, replaces: undefined, lastSource };
}

export class StoreTracker implements TemplateTracker {
  private readonly namer: TemplateNamer;
  private overrides: Map<string, string>;
  private pending = new Map<string, Gathering>();
  private readonly now: () => number;

  constructor(
    private readonly store: TemplateStore,
    private readonly options: TrackerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.namer = new TemplateNamer({ maxTemplates: options.minerMaxTemplates, onRenamed: (previousIds, id, text) => this.renamed(previousIds, id, text) });
    this.namer.seed(store.recentTexts(options.minerMaxTemplates));
    this.overrides = store.overrides();
  }

  /** Templates the miner holds now. */
  get minerSize(): number {
    return this.namer.size;
  }

  assign(records: readonly LogRecord[], prepared: readonly Prepared[]): Assignment {
    const templates = new Array<NamedTemplate>(records.length);
    const deltas = new Array<TemplateDelta>(records.length);
    let overrides: (string | undefined)[] | undefined;
    // One clock reading a batch: its rows arrived together.
    const now = this.now();
    for (let i = 0; i < records.length; i++) {
      const named = this.namer.name(prepared[i]);
      templates[i] = named;
      if (this.overrides.size) {
        const label = this.overrides.get(named.id);
        if (label !== undefined) (overrides ??= new Array(records.length))[i] = label;
      }
      deltas[i] = this.count(named, records[i], now);
    }
    return overrides ? { templates, deltas, overrides } : { templates, deltas };
  }

  record(assignment: TemplateAssignment, _records: readonly LogRecord[], decisions: readonly Decision[]): void {
    const { deltas } = assignment as Assignment;
    for (let i = 0; i < deltas.length; i++) {
      const d = decisions[i];
      // What the pipeline said, not the override: it is what the template goes back to without one.
      // A delta flushed or renamed away since assign() is no longer pending: its row's decision
      // is dropped, as the next row of the template will set it again.
      if (d.stage !== 'override' && d.stage !== 'error') deltas[i].decided = d;
    }
  }

  /** The label a user set on the template, if any. */
  override(id: string): string | undefined {
    return this.overrides.get(id);
  }

  /** Sets or removes a template's override, in the store and for every later row. False: no such template. */
  setOverride(id: string, override: { label: string; by: string } | null): boolean {
    this.flush();
    if (!this.store.setOverride(id, override && { ...override, at: this.now() })) return false;
    if (override) this.overrides.set(id, override.label);
    else this.overrides.delete(id);
    return true;
  }

  /** Writes what was gathered since the last flush (one transaction); reports new templates. */
  flush(): void {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const fresh = this.store.apply(batch.values());
    if (fresh.length && this.options.onNew) {
      this.options.onNew(fresh.map((id) => ({ id, text: batch.get(id)!.text, source: batch.get(id)!.example?.source ?? '' })));
    }
  }

  prune(limits: PruneLimits): number {
    this.flush();
    return this.store.prune(limits, this.now());
  }

  private count(named: NamedTemplate, record: LogRecord, now: number): TemplateDelta {
    const delta = this.pending.get(named.id);
    if (delta) {
      delta.count++;
      delta.lastSeen = now;
      if (record.source !== delta.lastSource) {
        if (delta.sources.size < MAX_SOURCES) delta.sources.add(record.source);
        delta.lastSource = record.source;
      }
      delta.example ??= { source: record.source, message: record.message };
      return delta;
    }
    const fresh = gathering(named.id, named.text, 1, now, now, new Set([record.source]), { source: record.source, message: record.message }, record.source);
    this.pending.set(named.id, fresh);
    return fresh;
  }

  /** A template generalised: its old ids now name `id`; what was gathered under them moves over. */
  private renamed(previousIds: readonly string[], id: string, text: string): void {
    let target = this.pending.get(id);
    for (const old of previousIds) {
      if (old === id) continue;
      const label = this.overrides.get(old);
      if (label !== undefined && !this.overrides.has(id)) this.overrides.set(id, label);
      const moved = this.pending.get(old);
      this.pending.delete(old);
      if (!target) {
        target = gathering(id, text, 0, moved?.firstSeen ?? this.now(), this.now(), new Set(), moved?.example, undefined);
        this.pending.set(id, target);
      }
      (target.replaces ??= new Set()).add(old);
      for (const r of moved?.replaces ?? []) target.replaces.add(r);
      if (moved) {
        target.count += moved.count;
        target.firstSeen = Math.min(target.firstSeen, moved.firstSeen);
        for (const s of moved.sources) if (target.sources.size < MAX_SOURCES) target.sources.add(s);
        target.decided ??= moved.decided;
      }
    }
  }
}
