/**
 * Names the template of each prepared line: one long-lived miner (src/lines/templates.ts) fed the
 * message (header split off) of a line the first time its masked message is seen; later rows
 * with that masked message take the template from a map. Messages with one masked form differ
 * only where masking put a placeholder, which the miner takes as parameters too, so this
 * changes nothing but the cost (and lines that differ only in their level or component, which
 * the miner never sees, are mined once).
 *
 * Two users: the template store's tracker (tracker.ts: counts, overrides) and the pipeline
 * (decisions shared per template, src/pipeline/decision-key.ts). With the store on, the pipeline
 * takes the tracker's names, so a line is mined once.
 *
 * When a template generalises its text, and so its id, changes: the old id becomes an alias of
 * the new one, and the lines named before are given the new id the next time they are named.
 */
import { LRUCache } from 'lru-cache';
import type { Prepared } from '../lines/prepare.js';
import { TemplateMiner } from '../lines/templates.js';

/** A prepared line's template: its id (a hash of its text) and text, as of the last naming. */
export interface NamedTemplate {
  readonly id: string;
  readonly text: string;
}

export interface TemplateNamerOptions {
  /** Templates the miner holds (least recently used forgotten past it). */
  readonly maxTemplates: number;
  /** Told when a template generalised: `previousIds` now name `id` (whose text is `text`). */
  readonly onRenamed?: (previousIds: readonly string[], id: string, text: string) => void;
}

/** The template of one prepared line; `renames`: the namer's rename count when `id` was last resolved. */
interface Entry {
  id: string;
  text: string;
  renames: number;
}

export class TemplateNamer {
  private readonly miner: TemplateMiner;
  /** Masked message (PreparedLine.text) → its template. */
  private readonly byMessage: LRUCache<string, Entry>;
  /**
   * The same entries by the preparer's shape object (Prepared.shape): the rows of a repeated
   * shape, nearly every row of a large upload, find their template by object identity instead
   * of hashing and comparing the prepared line. Weak: an entry goes with its shape.
   */
  private readonly byShape = new WeakMap<object, Entry>();
  /** Old id → the id its template has now (bounded: the miner's cap). */
  private readonly aliases: LRUCache<string, string>;
  /** The text of each id aliases point to. */
  private readonly texts: LRUCache<string, string>;
  /** Renames so far: an entry resolved since the last one needs no alias lookup. */
  private renames = 0;

  constructor(private readonly options: TemplateNamerOptions) {
    this.miner = new TemplateMiner({ maxTemplates: options.maxTemplates });
    this.byMessage = new LRUCache({ max: options.maxTemplates * 4 });
    this.aliases = new LRUCache({ max: options.maxTemplates });
    this.texts = new LRUCache({ max: options.maxTemplates });
  }

  /** Holds templates again from their texts (TemplateMiner.seed), oldest first. */
  seed(texts: Iterable<string>): void {
    for (const text of texts) this.miner.seed(text);
  }

  /** Templates the miner holds now. */
  get size(): number {
    return this.miner.size;
  }

  /** The prepared line's template, mined the first time its masked message is seen. */
  name(prepared: Prepared): NamedTemplate {
    const { shape } = prepared;
    let entry = shape === undefined ? undefined : this.byShape.get(shape);
    if (entry === undefined) {
      entry = this.byMessage.get(prepared.line.text);
      if (entry === undefined) {
        const mined = this.miner.add(prepared.body);
        if (mined.previousIds) this.renamed(mined.previousIds, mined.id, mined.template);
        entry = { id: mined.id, text: mined.template, renames: this.renames };
        this.byMessage.set(prepared.line.text, entry);
      }
      if (shape !== undefined) this.byShape.set(shape, entry);
    }
    if (entry.renames !== this.renames) {
      const id = this.resolve(entry.id);
      if (id !== entry.id) {
        entry.id = id;
        entry.text = this.texts.get(id) ?? entry.text;
      }
      entry.renames = this.renames;
    }
    return entry;
  }

  private renamed(previousIds: readonly string[], id: string, text: string): void {
    this.renames++;
    this.texts.set(id, text);
    for (const old of previousIds) if (old !== id) this.aliases.set(old, id);
    this.options.onRenamed?.(previousIds, id, text);
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
