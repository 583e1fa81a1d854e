/**
 * The one batch driver: input rows → batches → decisions, for every input format (the CSV route)
 * and for evaluation. It applies the per-request limits, turns rows that could not be read into
 * `error` rows in place, and ends an input that broke off or was cut with one `error` row saying
 * why — so the output has exactly one row per input row, in input order, plus at most one last
 * row. It knows nothing of CSV or HTTP: a row's `cells` are carried through untouched for the
 * writer of the output format.
 */
import type { MinedTemplate, TemplateMiner } from '../lines/templates.js';
import type { Decision, LogRecord, StageName } from '../stages/types.js';
import type { PipelineObserver } from './observer.js';
import type { Pipeline, TemplateTracker } from './pipeline.js';

/** One input row: a record to classify, or the reason it could not be read. */
export interface InputRow<C> {
  /** Where it starts in the input (1-based), for error rows. */
  readonly line: number;
  /** What the output keeps of the row (for CSV: its fields). */
  readonly cells: C;
  /** The record to classify; unset for a row that could not be read. */
  readonly record?: LogRecord;
  /** Why the row could not be read: its `error` row's label. */
  readonly error?: string;
}

/** One output row: the input row's cells (none for a closing row) and its decision. */
export interface OutputRow<C> {
  readonly cells: C | undefined;
  readonly decision: Decision;
  /** The row's template, when the run explains (RunOptions.explain); unset for `error` rows. */
  readonly template?: MinedTemplate;
}

export interface RunStats {
  rows: number;
  byStage: Record<StageName, number>;
  /** Set when maxRows cut the input short. */
  truncatedAtLine?: number;
}

export interface RunOptions {
  /** Rows classified per pipeline call. */
  readonly batchSize: number;
  /** Characters of a message the models see; the output keeps the whole row. Default 10 000. */
  readonly maxMessageChars?: number;
  /**
   * Input rows (readable or not) processed; 0 or unset: no limit. Past it the output ends with
   * one `error` row naming the limit and the first line not processed.
   */
  readonly maxRows?: number;
  /** Told about every output row and a row limit reached (metrics). */
  readonly observer?: PipelineObserver;
  /**
   * A problem the input could not show itself (bytes past the Content-Length, found after the
   * body ended): checked once the input has ended.
   */
  readonly inputFault?: () => Error | undefined;
  /** The closing row's text for an input that broke off after `rows` output rows. */
  readonly breakReason?: (err: Error, rows: number) => string;
  /** Filled in as rows go out (the request's log line). */
  readonly stats?: RunStats;
  /** Mine each row's template with this miner and put it on the output row (`?explain=true`). */
  readonly explain?: TemplateMiner;
  /** The service's template store: counts every row's template, applies users' labels (overrides). */
  readonly templates?: TemplateTracker;
}

export function newRunStats(): RunStats {
  return { rows: 0, byStage: { override: 0, regex: 0, embedding: 0, llm: 0, fallback: 0, error: 0 } };
}

const defaultBreakReason = (err: Error, rows: number) => `input ended early after ${rows} rows: ${err.message}`;

/**
 * Labels `input` batch by batch. An input that fails before the first batch has gone out fails
 * this generator with the same error (nothing has been answered yet: the caller reports it as it
 * likes); once a batch has gone out, it ends the output with one `error` row instead.
 */
export async function* runRows<C>(input: AsyncIterable<readonly InputRow<C>[]>, pipeline: Pipeline, options: RunOptions): AsyncGenerator<OutputRow<C>[]> {
  const stats = options.stats ?? newRunStats();
  const maxChars = options.maxMessageChars ?? 10_000;
  const maxRows = options.maxRows ?? 0;
  const breakReason = options.breakReason ?? defaultBreakReason;
  const { observer } = options;
  const yielder = eventLoopYielder();
  let started = false;

  // Rows per decision object until the output batch goes out (emit): the observer is told once per
  // distinct decision, and the rows of a cached template share one object.
  const tally = new Map<Decision, number>();
  const finish = (cells: C | undefined, decision: Decision, template?: MinedTemplate): OutputRow<C> => {
    stats.rows++;
    stats.byStage[decision.stage]++;
    if (observer?.decision) tally.set(decision, (tally.get(decision) ?? 0) + 1);
    return template ? { cells, decision, template } : { cells, decision };
  };
  const errorRow = (cells: C | undefined, reason: string) => finish(cells, { label: reason, stage: 'error', confidence: 0 });

  let batch: InputRow<C>[] = [];
  const flush = async (): Promise<OutputRow<C>[]> => {
    const records: LogRecord[] = [];
    for (const row of batch) {
      if (row.record) records.push(maxChars < row.record.message.length ? { source: row.record.source, message: row.record.message.slice(0, maxChars) } : row.record);
    }
    let decisions: Decision[] = [];
    let templates: (MinedTemplate | undefined)[] = [];
    let failure: string | undefined;
    await yielder();
    try {
      if (records.length && options.explain) {
        const explained = await pipeline.explain(records, options.explain, options.templates);
        decisions = explained;
        templates = explained.map((d) => d.template);
      } else decisions = records.length ? await pipeline.classify(records, options.templates) : [];
    } catch (err) {
      // Stages degrade on their own; this is a bug in the pipeline itself. Label, don't drop.
      failure = `internal error while classifying: ${(err as Error).message}`;
    }
    let next = 0;
    const out = batch.map((row) => {
      if (!row.record) return errorRow(row.cells, row.error ?? `line ${row.line}: unreadable row`);
      if (failure) return errorRow(row.cells, `line ${row.line}: ${failure}`);
      const k = next++;
      return finish(row.cells, decisions[k], templates[k]);
    });
    batch = [];
    return out;
  };
  /** The output's last row, for an input that broke off or was cut. */
  const lastRow = (reason: string): OutputRow<C> => errorRow(undefined, reason);
  const emit = (rows: OutputRow<C>[]): OutputRow<C>[] => {
    started = true;
    for (const [decision, count] of tally) observer!.decision!(decision, count);
    tally.clear();
    return rows;
  };

  let inputRows = 0;
  try {
    for await (const run of input) {
      for (const row of run) {
        if (maxRows > 0 && inputRows >= maxRows) {
          // Never silently short: the last row says where and why the output stops. Leaving the
          // loop ends the input, which discards the rest of it.
          const rows = await flush();
          stats.truncatedAtLine = row.line;
          observer?.rowLimitReached?.();
          yield emit([...rows, lastRow(`row limit reached: at most ${maxRows} rows are processed per request; line ${row.line} and every row after it were not processed`)]);
          return;
        }
        inputRows++;
        batch.push(row);
        if (batch.length >= options.batchSize) yield emit(await flush());
      }
    }
  } catch (err) {
    // The input broke off (size limit, client gone, timeout, a second file): before anything has
    // gone out that is the caller's answer; after, the output says so instead of ending short.
    if (!started) throw err;
    const rows = await flush();
    yield emit([...rows, lastRow(breakReason(err as Error, stats.rows))]);
    return;
  }
  const rows = await flush();
  const fault = options.inputFault?.();
  if (fault) {
    if (!started) throw fault;
    yield emit([...rows, lastRow(`${fault.message} (after ${stats.rows} rows)`)]);
    return;
  }
  yield emit(rows);
}

/** Every decision for `records`, batch by batch through runRows (evaluation, benchmarks). */
export async function classifyAll(records: readonly LogRecord[], pipeline: Pipeline, options: Omit<RunOptions, 'maxRows' | 'inputFault' | 'breakReason'>): Promise<Decision[]> {
  const { batchSize } = options;
  async function* input(): AsyncGenerator<InputRow<undefined>[]> {
    for (let i = 0; i < records.length; i += batchSize) {
      yield records.slice(i, i + batchSize).map((record, k) => ({ line: i + k + 1, cells: undefined, record }));
    }
  }
  const decisions: Decision[] = [];
  for await (const out of runRows(input(), pipeline, options)) for (const row of out) decisions.push(row.decision);
  return decisions;
}

/**
 * A batch whose stages all answer synchronously (regex, lexical, cache) resolves in microtasks
 * only, so a big input could hold the event loop for seconds. Yielding once the loop has been
 * busy for a few milliseconds keeps /healthz and other requests answered, without paying a
 * macrotask on every small request.
 */
const YIELD_AFTER_MS = 10;
function eventLoopYielder(): () => Promise<void> {
  let lastYield = performance.now();
  return async () => {
    if (performance.now() - lastYield < YIELD_AFTER_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    lastYield = performance.now();
  };
}
