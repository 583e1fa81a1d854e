/**
 * The template store: one SQLite file (`<data.dir>/templates.sqlite`, better-sqlite3), created on
 * first start. Per template: its text, how many lines and when (first, last), the sources seen
 * (at most MAX_SOURCES), one example line, the label the pipeline last gave its lines (label,
 * stage, confidence) and a user's label on it (the override: label, who, when).
 *
 * - Migrations: one list (MIGRATIONS), applied in order from `PRAGMA user_version`, each in a
 *   transaction that also sets the version; a file newer than this code is refused.
 * - WAL journal: readers (GET /templates) do not wait for the writer, and a write is one append.
 * - Writes come in batches (`apply`, one transaction for everything the tracker gathered since
 *   its last flush); overrides are written at once (`setOverride`), they are few.
 * - Bounded (`prune`): templates seen fewer than `pruneBelowCount` times and not for
 *   `pruneAfterDays` are removed, then the rarest, least recently seen past `maxTemplates`. A
 *   template with an override is never pruned: it is a user's work.
 *
 * Synchronous (better-sqlite3): every call blocks the event loop for its duration, which is why
 * the hot path only gathers counts in memory (tracker.ts) and this module is called once a flush.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Sources kept per template (the first seen). */
export const MAX_SOURCES = 16;

export interface StoredTemplate {
  readonly id: string;
  readonly text: string;
  readonly count: number;
  /** Milliseconds since the epoch. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly sources: readonly string[];
  readonly example: { readonly source: string; readonly message: string };
  /** What the pipeline last decided for the template's lines (overrides aside); unset before any. */
  readonly decided?: { readonly label: string; readonly stage: string; readonly confidence: number };
  readonly override?: { readonly label: string; readonly by: string; readonly at: number };
}

/** What the tracker gathered about one template since its last flush. */
export interface TemplateDelta {
  readonly id: string;
  readonly text: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  readonly sources: Set<string>;
  /** The first line gathered (unset only while a renamed template has had no line of its own yet). */
  example?: { readonly source: string; readonly message: string };
  decided?: { readonly label: string; readonly stage: string; readonly confidence: number };
  /** Ids this template replaced when it generalised: their rows are merged into it. */
  replaces?: Set<string>;
}

export interface TemplateQuery {
  readonly label?: string;
  readonly stage?: string;
  readonly source?: string;
  /** Substring of the template text, case-insensitive (ASCII). */
  readonly text?: string;
  /** First seen at or after (ms). */
  readonly since?: number;
  readonly sort: 'count' | 'recent';
  readonly limit: number;
  /** From the previous page (`next`). */
  readonly cursor?: { readonly value: number; readonly id: string };
}

export interface PruneLimits {
  readonly maxTemplates: number;
  readonly pruneAfterDays: number;
  readonly pruneBelowCount: number;
}

interface Row {
  id: string;
  text: string;
  count: number;
  first_seen: number;
  last_seen: number;
  sources: string;
  example: string;
  example_source: string;
  label: string | null;
  stage: string | null;
  confidence: number | null;
  override_label: string | null;
  override_by: string | null;
  override_at: number | null;
}

/** Schema versions, in order: MIGRATIONS[n] takes a file from user_version n to n + 1. Append only. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE templates (
     id TEXT PRIMARY KEY,
     text TEXT NOT NULL,
     count INTEGER NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     sources TEXT NOT NULL DEFAULT '[]',
     example TEXT NOT NULL,
     example_source TEXT NOT NULL,
     label TEXT,
     stage TEXT,
     confidence REAL,
     override_label TEXT,
     override_by TEXT,
     override_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX templates_by_count ON templates (count DESC, id);
   CREATE INDEX templates_by_last_seen ON templates (last_seen DESC, id);
   CREATE INDEX templates_by_first_seen ON templates (first_seen);
   CREATE INDEX templates_overridden ON templates (override_label) WHERE override_label IS NOT NULL;`,
];

const EFFECTIVE_LABEL = 'COALESCE(override_label, label)';
const EFFECTIVE_STAGE = "CASE WHEN override_label IS NOT NULL THEN 'override' ELSE stage END";

export class TemplateStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<TemplateStore['prepare']>;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'templates.sqlite');
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // WAL makes NORMAL durable against a crash of the process (not of the machine): counts may
    // lose their last second on power loss, an override is never lost to a process crash.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.statements = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare<[string], Row>('SELECT * FROM templates WHERE id = ?'),
      // A flush needs only a stored template's sources (and whether it is stored): not its example line.
      sourcesOf: db.prepare<[string], string>('SELECT sources FROM templates WHERE id = ?').pluck(),
      insert: db.prepare(
        `INSERT INTO templates (id, text, count, first_seen, last_seen, sources, example, example_source, label, stage, confidence, override_label, override_by, override_at)
         VALUES (@id, @text, @count, @first_seen, @last_seen, @sources, @example, @example_source, @label, @stage, @confidence, @override_label, @override_by, @override_at)`,
      ),
      update: db.prepare(
        `UPDATE templates SET text = @text, count = count + @count, first_seen = MIN(first_seen, @first_seen), last_seen = MAX(last_seen, @last_seen),
           sources = @sources, label = COALESCE(@label, label), stage = COALESCE(@stage, stage), confidence = COALESCE(@confidence, confidence),
           override_label = COALESCE(override_label, @override_label), override_by = CASE WHEN override_label IS NULL THEN @override_by ELSE override_by END,
           override_at = CASE WHEN override_label IS NULL THEN @override_at ELSE override_at END
         WHERE id = @id`,
      ),
      remove: db.prepare<[string]>('DELETE FROM templates WHERE id = ?'),
      setOverride: db.prepare<[string | null, string | null, number | null, string]>('UPDATE templates SET override_label = ?, override_by = ?, override_at = ? WHERE id = ?'),
      overrides: db.prepare<[], { id: string; override_label: string }>('SELECT id, override_label FROM templates WHERE override_label IS NOT NULL'),
      recent: db.prepare<[number], { text: string }>('SELECT text FROM templates ORDER BY last_seen DESC, id LIMIT ?'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM templates'),
      pruneOld: db.prepare<[number, number]>('DELETE FROM templates WHERE override_label IS NULL AND count < ? AND last_seen < ?'),
      pruneExcess: db.prepare<[number]>(
        'DELETE FROM templates WHERE id IN (SELECT id FROM templates WHERE override_label IS NULL ORDER BY count ASC, last_seen ASC LIMIT ?)',
      ),
    };
  }

  /** Schema version of the file (PRAGMA user_version). */
  get version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  get size(): number {
    return this.statements.count.get()!.n;
  }

  get(id: string): StoredTemplate | undefined {
    const row = this.statements.get.get(id);
    return row && toTemplate(row);
  }

  /** Every override, id → label (the tracker holds them in memory). */
  overrides(): Map<string, string> {
    return new Map(this.statements.overrides.all().map((r) => [r.id, r.override_label]));
  }

  /** Texts of the `limit` most recently seen templates, least recent first (to seed a miner). */
  recentTexts(limit: number): string[] {
    return this.statements.recent.all(limit).map((r) => r.text).reverse();
  }

  /**
   * Writes a flush's deltas in one transaction; returns the ids that were not in the store
   * before, and did not replace a template that was (new patterns, not renamed ones).
   */
  apply(deltas: Iterable<TemplateDelta>): string[] {
    const fresh: string[] = [];
    const s = this.statements;
    this.db.transaction(() => {
      for (const d of deltas) {
        const stored = s.sourcesOf.get(d.id);
        let known = stored !== undefined;
        // A template that generalised: the rows of the ids it replaced are folded into it.
        let carried: Pick<Row, 'count' | 'first_seen' | 'example' | 'example_source' | 'override_label' | 'override_by' | 'override_at'> & { sources: string[] } | undefined;
        for (const old of d.replaces ?? []) {
          if (old === d.id) continue;
          const row = s.get.get(old);
          if (!row) continue;
          known = true;
          s.remove.run(old);
          const earlier = !carried || row.first_seen < carried.first_seen;
          carried = {
            // The example of the earliest: the template's first line stays its example.
            example: earlier ? row.example : carried!.example,
            example_source: earlier ? row.example_source : carried!.example_source,
            count: (carried?.count ?? 0) + row.count,
            first_seen: Math.min(carried?.first_seen ?? Infinity, row.first_seen),
            sources: [...(carried?.sources ?? []), ...(JSON.parse(row.sources) as string[])],
            override_label: carried?.override_label ?? row.override_label,
            override_by: carried?.override_by ?? row.override_by,
            override_at: carried?.override_at ?? row.override_at,
          };
        }
        const sources = new Set<string>(stored !== undefined ? (JSON.parse(stored) as string[]) : []);
        for (const src of carried?.sources ?? []) if (sources.size < MAX_SOURCES) sources.add(src);
        for (const src of d.sources) if (sources.size < MAX_SOURCES) sources.add(src);
        const params = {
          id: d.id,
          text: d.text,
          count: d.count + (carried?.count ?? 0),
          first_seen: Math.min(d.firstSeen, carried?.first_seen ?? Infinity),
          last_seen: d.lastSeen,
          sources: JSON.stringify([...sources]),
          example: carried?.example ?? d.example?.message ?? '',
          example_source: carried?.example_source ?? d.example?.source ?? '',
          label: d.decided?.label ?? null,
          stage: d.decided?.stage ?? null,
          confidence: d.decided?.confidence ?? null,
          override_label: carried?.override_label ?? null,
          override_by: carried?.override_by ?? null,
          override_at: carried?.override_at ?? null,
        };
        if (stored !== undefined) s.update.run(params);
        else s.insert.run(params);
        if (!known) fresh.push(d.id);
      }
    })();
    return fresh;
  }

  /** Sets (label) or removes (null) a template's override; false when the id is not stored. */
  setOverride(id: string, override: { label: string; by: string; at: number } | null): boolean {
    const r = this.statements.setOverride.run(override?.label ?? null, override?.by ?? null, override?.at ?? null, id);
    return r.changes > 0;
  }

  /** Removes old rare templates, then the rarest past maxTemplates; returns how many went. */
  prune(limits: PruneLimits, now = Date.now()): number {
    return this.db.transaction(() => {
      let removed = Number(this.statements.pruneOld.run(limits.pruneBelowCount, now - limits.pruneAfterDays * 86_400_000).changes);
      const excess = this.size - limits.maxTemplates;
      if (excess > 0) removed += Number(this.statements.pruneExcess.run(excess).changes);
      return removed;
    })();
  }

  /** One page of templates, filtered and sorted; `next` is the cursor of the page after, if any. */
  list(q: TemplateQuery): { templates: StoredTemplate[]; next?: { value: number; id: string } } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.label !== undefined) {
      where.push(`${EFFECTIVE_LABEL} = ?`);
      args.push(q.label);
    }
    if (q.stage !== undefined) {
      where.push(`${EFFECTIVE_STAGE} = ?`);
      args.push(q.stage);
    }
    if (q.source !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(templates.sources) WHERE json_each.value = ?)');
      args.push(q.source);
    }
    if (q.text !== undefined) {
      where.push('instr(lower(text), lower(?)) > 0');
      args.push(q.text);
    }
    if (q.since !== undefined) {
      where.push('first_seen >= ?');
      args.push(q.since);
    }
    const column = q.sort === 'count' ? 'count' : 'last_seen';
    if (q.cursor) {
      where.push(`(${column} < ? OR (${column} = ? AND id > ?))`);
      args.push(q.cursor.value, q.cursor.value, q.cursor.id);
    }
    const sql = `SELECT * FROM templates ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${column} DESC, id ASC LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...args, q.limit + 1);
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { templates: page.map(toTemplate), next: more && last ? { value: q.sort === 'count' ? last.count : last.last_seen, id: last.id } : undefined };
  }

  /** Every template with an override, most seen first (exports). */
  overridden(): StoredTemplate[] {
    return this.db.prepare<[], Row>('SELECT * FROM templates WHERE override_label IS NOT NULL ORDER BY count DESC, id').all().map(toTemplate);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`${db.name} has schema version ${version}, newer than this logsift knows (${MIGRATIONS.length}): it was written by a later version`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function toTemplate(r: Row): StoredTemplate {
  return {
    id: r.id,
    text: r.text,
    count: r.count,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    sources: JSON.parse(r.sources) as string[],
    example: { source: r.example_source, message: r.example },
    ...(r.label !== null && { decided: { label: r.label, stage: r.stage ?? '', confidence: r.confidence ?? 0 } }),
    ...(r.override_label !== null && { override: { label: r.override_label, by: r.override_by ?? '', at: r.override_at ?? 0 } }),
  };
}
