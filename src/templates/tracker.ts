/**
 * The service's memory of templates across requests, between the pipeline and the store
 * (store.ts): the pipeline's TemplateTracker.
 *
 * - One long-lived miner (templates.minerMaxTemplates) mines every row's message (its header
 *   split off), whatever request it came in. It is not the `?explain=true` miner: that one is per
 *   request, so that an explained answer depends only on its own lines (docs/TEMPLATES.md). At
 *   start-up this miner is seeded with the store's most recently seen templates, so a restart
 *   does not hand a template's first lines the ids of more specific texts.
 * - Hot path: a row whose prepared line (the decision cache's key) was mined before is not mined
 *   again; its template comes from a map (prepared line → template id). Lines with one prepared
 *   line differ only where masking put a placeholder, which the miner takes as parameters too.
 *   When a template generalises its id changes: the old id is an alias of the new one.
 * - Overrides are held in memory (id → label), read once from the store and kept in step by
 *   setOverride; a row's override is one map lookup.
 * - Counts are gathered in memory per template and written by `flush()` in one transaction, on a
 *   timer (templates.flushIntervalMs) and before any /templates request reads the store.
 */
import { LRUCache } from 'lru-cache';
import type { Prepared } from '../lines/prepare.js';
import { TemplateMiner } from '../lines/templates.js';
import type { TemplateAssignment, TemplateTracker } from '../pipeline/pipeline.js';
import type { Decision, LogRecord } from '../stages/types.js';
import { MAX_SOURCES, type PruneLimits, type TemplateDelta, type TemplateStore } from './store.js';

export interface TrackerOptions {
  readonly minerMaxTemplates: number;
  /** Told the ids of templates the store had never held, after each flush. */
  readonly onNew?: (templates: readonly { id: string; text: string; source: string }[]) => void;
  /** The clock (tests). */
  readonly now?: () => number;
}

interface Assignment extends TemplateAssignment {
  readonly ids: readonly string[];
}

/** Prepared line → template: the id, and the text (kept so a delta can be written without the miner). */
interface Known {
  id: string;
  text: string;
}

export class StoreTracker implements TemplateTracker {
  private readonly miner: TemplateMiner;
  private readonly byLine: LRUCache<string, Known>;
  /** Old id → the id its template has now (bounded: the miner's cap). */
  private readonly aliases: LRUCache<string, string>;
  /** The text of each id aliases point to. */
  private readonly texts: LRUCache<string, string>;
  private overrides: Map<string, string>;
  private pending = new Map<string, TemplateDelta>();
  private readonly now: () => number;

  constructor(
    private readonly store: TemplateStore,
    private readonly options: TrackerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.miner = new TemplateMiner({ maxTemplates: options.minerMaxTemplates });
    for (const text of store.recentTexts(options.minerMaxTemplates)) this.miner.seed(text);
    this.byLine = new LRUCache({ max: options.minerMaxTemplates * 4 });
    this.aliases = new LRUCache({ max: options.minerMaxTemplates });
    this.texts = new LRUCache({ max: options.minerMaxTemplates });
    this.overrides = store.overrides();
  }

  /** Templates the miner holds now. */
  get minerSize(): number {
    return this.miner.size;
  }

  assign(records: readonly LogRecord[], prepared: readonly Prepared[]): Assignment {
    const ids = new Array<string>(records.length);
    let overrides: (string | undefined)[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const key = prepared[i].text;
      let known = this.byLine.get(key);
      if (known) {
        const renamed = this.aliases.size ? this.resolve(known.id) : known.id;
        if (renamed !== known.id) {
          known.id = renamed;
          known.text = this.texts.get(renamed) ?? known.text;
        }
      } else {
        const mined = this.miner.add(prepared[i].body);
        known = { id: mined.id, text: mined.template };
        if (mined.previousIds) this.renamed(mined.previousIds, mined.id, mined.template);
        this.byLine.set(key, known);
      }
      ids[i] = known.id;
      if (this.overrides.size) {
        const label = this.overrides.get(known.id);
        if (label !== undefined) (overrides ??= new Array(records.length))[i] = label;
      }
      this.count(known, records[i]);
    }
    return overrides ? { ids, overrides } : { ids };
  }

  record(assignment: TemplateAssignment, _records: readonly LogRecord[], decisions: readonly Decision[]): void {
    const { ids } = assignment as Assignment;
    for (let i = 0; i < ids.length; i++) {
      const d = decisions[i];
      // What the pipeline said, not the override: it is what the template goes back to without one.
      if (d.stage === 'override' || d.stage === 'error') continue;
      const delta = this.pending.get(ids[i]);
      if (!delta) continue;
      if (delta.decided) {
        delta.decided.label = d.label;
        delta.decided.stage = d.stage;
        delta.decided.confidence = d.confidence;
      } else delta.decided = { label: d.label, stage: d.stage, confidence: d.confidence };
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

  private count(known: Known, record: LogRecord): void {
    const now = this.now();
    const delta = this.pending.get(known.id);
    if (delta) {
      delta.count++;
      delta.lastSeen = now;
      if (delta.sources.size < MAX_SOURCES) delta.sources.add(record.source);
      delta.example ??= { source: record.source, message: record.message };
      return;
    }
    this.pending.set(known.id, { id: known.id, text: known.text, count: 1, firstSeen: now, lastSeen: now, sources: new Set([record.source]), example: { source: record.source, message: record.message } });
  }

  /** A template generalised: its old ids now name `id`; what was gathered under them moves over. */
  private renamed(previousIds: readonly string[], id: string, text: string): void {
    this.texts.set(id, text);
    let target = this.pending.get(id);
    for (const old of previousIds) {
      if (old === id) continue;
      this.aliases.set(old, id);
      const label = this.overrides.get(old);
      if (label !== undefined && !this.overrides.has(id)) this.overrides.set(id, label);
      const moved = this.pending.get(old);
      this.pending.delete(old);
      if (!target) {
        target = { id, text, count: 0, firstSeen: moved?.firstSeen ?? this.now(), lastSeen: this.now(), sources: new Set(), example: moved?.example };
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

  /** Follows aliases to the id a template has now. */
  private resolve(id: string): string {
    let current = id;
    for (let hops = 0; hops < 32; hops++) {
      const next = this.aliases.get(current);
      if (next === undefined || next === current) break;
      current = next;
    }
    return current;
  }
}
