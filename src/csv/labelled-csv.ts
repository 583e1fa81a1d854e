import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Pipeline as ClassifierPipeline } from '../pipeline/pipeline.js';
import type { Decision, LogRecord, StageName } from '../pipeline/types.js';
import type { CsvRow, OpenedCsv } from './csv-reader.js';

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
 */
export function labelCsv(csv: OpenedCsv, classifier: ClassifierPipeline, options: LabelOptions): { output: Readable; stats: LabelStats } {
  const stats: LabelStats = { rows: 0, byStage: { regex: 0, embedding: 0, llm: 0, fallback: 0, error: 0 } };
  const width = csv.header.length;
  const maxChars = options.maxMessageChars ?? 10_000;
  const maxRows = options.maxRows ?? 0;
  const neutralise = options.neutraliseFormulas ?? true;
  const safe = (cell: string) => (neutralise && FORMULA_START.test(cell) ? `'${cell}` : cell);

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
    yield csvText([outputHeader(csv.header)]);
    let batch: CsvRow[] = [];
    const flush = async function* (): AsyncGenerator<string> {
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
      if (out.length) yield csvText(out);
    };
    let inputRows = 0;
    try {
      for await (const run of csv.rows) {
        for (const row of run) {
          if (maxRows > 0 && inputRows >= maxRows) {
            // Never silently short: the last row says where and why the output stops. Leaving the
            // loop ends the reader, which discards the rest of the upload.
            yield* flush();
            stats.truncatedAtLine = row.line;
            options.onRowLimit?.();
            yield csvText([errorRow([], `row limit reached: at most ${maxRows} rows are processed per request; line ${row.line} and every row after it were not processed`)]);
            return;
          }
          inputRows++;
          batch.push(row);
          if (batch.length >= options.batchSize) yield* flush();
        }
      }
    } catch (err) {
      // The upload broke off (size limit, client gone): say so in the output instead of
      // ending it silently short.
      yield* flush();
      yield csvText([errorRow([], `input ended early after ${stats.rows} rows: ${(err as Error).message}`)]);
      return;
    }
    yield* flush();
  }

  // labelled() catches its own failures and reports them as error rows, so this stream ends
  // cleanly unless the client goes away.
  const output = Readable.from(labelled());
  return { output, stats };
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
