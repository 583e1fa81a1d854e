import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Pipeline as ClassifierPipeline } from '../pipeline/pipeline.js';
import type { Decision, LogRecord, StageName } from '../stages/types.js';
import { toInputError, type CsvRow, type OpenedCsv } from './reader.js';

export const OUTPUT_COLUMNS = ['target_label', 'label_stage', 'confidence'] as const;

export interface LabelOptions {
  /** Rows classified per pipeline call. */
  readonly batchSize: number;
  /** Characters of a message the models see; the output always keeps the whole line. */
  readonly maxMessageChars?: number;
  /** Prefix cells starting with = + - @ (and tab/CR) with a quote so spreadsheets do not run them. */
  readonly neutraliseFormulas?: boolean;
  /**
   * Input rows (good or malformed) processed per request; 0 or unset: no limit. Past it the
   * output ends with one `error` row naming the limit and the first line not processed.
   */
  readonly maxRows?: number;
  /** Called for every output row (metrics). */
  readonly onDecision?: (decision: Decision) => void;
  /** Called when the row limit cut the input. */
  readonly onRowLimit?: () => void;
  /**
   * A problem the connection reported that the input stream itself could not show (bytes past
   * the Content-Length, found after the body ended): checked once the input has ended.
   */
  readonly inputFault?: () => Error | undefined;
}

export interface LabelStats {
  rows: number;
  byStage: Record<StageName, number>;
  /** Set when maxRows cut the input short. */
  truncatedAtLine?: number;
}

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * The output header: the input's columns in order, then ours. An input column that already
 * bears one of our names is kept as `input_<name>` so no value is lost or overwritten.
 */
export function outputHeader(header: readonly string[]): string[] {
  const ours = new Set<string>(OUTPUT_COLUMNS);
  return [...header.map((h) => (ours.has(h.trim().toLowerCase()) ? `input_${h}` : h)), ...OUTPUT_COLUMNS];
}

/**
 * Streams the labelled CSV: exactly one output row per input row, in input order. Rows the
 * parser could not read, or with the wrong number of fields, come out with label_stage `error`
 * and the reason in target_label.
 *
 * Resolves once the first chunk of the answer (the header with the first batch, or everything
 * for an input smaller than a batch) is ready; an upload that fails before then (size limit, a
 * second file in the form, a timeout) rejects with its 4xx instead, since nothing has been sent.
 * After that, such a failure ends the output with one `error` row saying why.
 */
export async function labelCsv(csv: OpenedCsv, classifier: ClassifierPipeline, options: LabelOptions): Promise<{ output: Readable; stats: LabelStats }> {
  const stats: LabelStats = { rows: 0, byStage: { regex: 0, embedding: 0, llm: 0, fallback: 0, error: 0 } };
  const width = csv.header.length;
  const maxChars = options.maxMessageChars ?? 10_000;
  const maxRows = options.maxRows ?? 0;
  const neutralise = options.neutraliseFormulas ?? true;
  const safe = (cell: string) => (neutralise && FORMULA_START.test(cell) ? `'${cell}` : cell);
  // Header cells are cells too: a spreadsheet runs `=cmd|x` in the first line as readily.
  const header = outputHeader(csv.header).map(safe);

  const finish = (fields: readonly string[], decision: Decision): string[] => {
    stats.rows++;
    stats.byStage[decision.stage]++;
    options.onDecision?.(decision);
    return [...fields.map(safe), safe(decision.label), decision.stage, formatConfidence(decision.confidence)];
  };
  const errorRow = (fields: readonly string[], reason: string): string[] => {
    const padded = fields.slice(0, width);
    while (padded.length < width) padded.push('');
    return finish(padded, { label: reason, stage: 'error', confidence: 0 });
  };

  // One CSV string per batch: far fewer stream chunks (and writes) than one per row.
  const csvText = (rows: string[][]) => stringify(rows);

  async function* labelled(): AsyncGenerator<string> {
    // The header goes out with the first batch: until then a failing upload can still be a 4xx.
    let pendingHeader: string | undefined = csvText([header]);
    const emit = (text = ''): string => {
      const chunk = (pendingHeader ?? '') + text;
      pendingHeader = undefined;
      return chunk;
    };
    let batch: CsvRow[] = [];
    const flush = async (): Promise<string> => {
      const out: string[][] = [];
      const good = batch.filter((r): r is Extract<CsvRow, { kind: 'row' }> => r.kind === 'row' && r.fields.length === width);
      const records: LogRecord[] = good.map((r) => ({
        source: r.fields[csv.sourceIndex].trim(),
        message: r.fields[csv.messageIndex].trim().slice(0, maxChars),
      }));
      let decisions: Decision[] = [];
      let failure: string | undefined;
      await yieldIfBusy();
      try {
        decisions = records.length ? await classifier.classify(records) : [];
      } catch (err) {
        // Stages degrade on their own; this is a bug in the pipeline itself. Label, don't drop.
        failure = `internal error while classifying: ${(err as Error).message}`;
      }
      let next = 0;
      for (const row of batch) {
        if (failure && row.kind === 'row') {
          out.push(errorRow(row.fields, `line ${row.line}: ${failure}`));
        } else if (row.kind === 'malformed') {
          out.push(errorRow([], `line ${row.line}: ${row.reason}: ${row.raw}`));
        } else if (row.fields.length !== width) {
          const extra = row.fields.length > width ? `; extra fields: ${JSON.stringify(row.fields.slice(width)).slice(0, 200)}` : '';
          out.push(errorRow(row.fields, `line ${row.line}: expected ${width} fields, found ${row.fields.length}${extra}`));
        } else {
          out.push(finish(row.fields, decisions[next++]));
        }
      }
      batch = [];
      return out.length ? csvText(out) : '';
    };
    /** The output's last row, for an upload that broke off or was cut. */
    const lastRow = (reason: string): string => csvText([errorRow([], reason)]);
    let inputRows = 0;
    try {
      for await (const run of csv.rows) {
        for (const row of run) {
          if (maxRows > 0 && inputRows >= maxRows) {
            // Never silently short: the last row says where and why the output stops. Leaving the
            // loop ends the reader, which discards the rest of the upload.
            const rows = await flush();
            stats.truncatedAtLine = row.line;
            options.onRowLimit?.();
            yield emit(rows + lastRow(`row limit reached: at most ${maxRows} rows are processed per request; line ${row.line} and every row after it were not processed`));
            return;
          }
          inputRows++;
          batch.push(row);
          if (batch.length >= options.batchSize) yield emit(await flush());
        }
      }
    } catch (err) {
      // The upload broke off (size limit, client gone, timeout, a second file): before the answer
      // has started that is the answer (4xx); after, the output says so instead of ending short.
      if (pendingHeader !== undefined) throw toInputError(err);
      const rows = await flush();
      const e = err as Error & { code?: string };
      const reason = e.code === 'TOO_MANY_FILES' ? `${e.message} (after ${stats.rows} rows)` : `input ended early after ${stats.rows} rows: ${e.message}`;
      yield emit(rows + lastRow(reason));
      return;
    }
    const rows = await flush();
    const fault = options.inputFault?.();
    if (fault) {
      if (pendingHeader !== undefined) throw toInputError(fault);
      yield emit(rows + lastRow(`${fault.message} (after ${stats.rows} rows)`));
      return;
    }
    const last = emit(rows);
    if (last) yield last;
  }

  // After its first chunk labelled() catches its own failures and reports them as error rows,
  // so this stream ends cleanly unless the client goes away.
  const chunks = labelled();
  const first = await chunks.next();
  async function* all(): AsyncGenerator<string> {
    if (!first.done) yield first.value;
    yield* chunks;
  }
  return { output: Readable.from(all()), stats };
}

/**
 * A batch whose stages all answer synchronously (regex, lexical, cache) resolves in microtasks
 * only, so a big upload could hold the event loop for seconds. Yielding once the loop has been
 * busy for a few milliseconds keeps /healthz and other requests answered, without paying a
 * macrotask on every small request.
 */
const YIELD_AFTER_MS = 10;
let lastYield = performance.now();
async function yieldIfBusy(): Promise<void> {
  if (performance.now() - lastYield < YIELD_AFTER_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

function formatConfidence(c: number): string {
  return (Math.round(c * 10_000) / 10_000).toString();
}
