import type { Readable } from 'node:stream';
import { parse, type CsvError, type Parser } from 'csv-parse';
import { CsvEmpty, CsvInvalid, CsvMissingColumn, CsvRecordTooLarge, CsvTooManyColumns, hasStatus } from '../errors.js';
import { pacer } from './cooperate.js';
import { RecordGuard, newMarkerNonce, readMarker, type DroppedRecord, type RecordLimits } from './record-guard.js';

export const MESSAGE_COLUMN_NAMES = ['log_message', 'message'] as const;
const REQUIRED_COLUMNS = ['source', 'log_message'] as const;

/** One data row, or a row the parser could not read (kept in place, with the reason). */
export type CsvRow =
  | { readonly kind: 'row'; readonly line: number; readonly fields: string[] }
  | { readonly kind: 'malformed'; readonly line: number; readonly reason: string; readonly raw: string };

export interface OpenedCsv {
  readonly header: string[];
  readonly sourceIndex: number;
  readonly messageIndex: number;
  /** Data rows in input order, in runs of up to RUN_SIZE (whatever the parser had buffered). */
  readonly rows: AsyncIterable<CsvRow[]>;
}

/** Defaults of server.maxRecordBytes and server.maxColumns (config.ts), for callers without a config. */
export const DEFAULT_LIMITS: RecordLimits = { maxRecordBytes: 16 * 1024 * 1024, maxColumns: 400 };
const RUN_SIZE = 1024;

const LINE_BREAK = /\r\n|\n|\r/g;
function lineBreaks(text: string): number {
  let n = 0;
  LINE_BREAK.lastIndex = 0;
  while (LINE_BREAK.exec(text)) n++;
  return n;
}

/** Resolves once the stream has data to read, has ended, or failed (errors are recorded elsewhere). */
function readable(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('readable', settle).off('end', settle).off('close', settle).off('error', settle);
      resolve();
    };
    stream.on('readable', settle).on('end', settle).on('close', settle).on('error', settle);
  });
}

/**
 * Parses a CSV stream lazily. Resolves once the header is read and checked, so the caller can
 * still answer 4xx; data rows are then pulled one by one (bounded memory, backpressure intact).
 * Records over the limits (RecordGuard) become one malformed row each, in place; a header over
 * them is a 400.
 *
 * `cut` stops the input early (size limit, timeout, a second file): every complete record
 * received before it is still read, the incomplete one is dropped, and then the rows (or the
 * header, if it had not been read) fail with the abort's reason.
 */
export async function openCsv(input: Readable, limits: RecordLimits = DEFAULT_LIMITS, cut?: AbortSignal): Promise<OpenedCsv> {
  // Skipped records are reported by csv-parse out of band; they are queued with the number of
  // records read before them so they are emitted in their place.
  const skipped: { after: number; line: number; reason: string; raw: string }[] = [];
  const parser: Parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    // `a, "b, c"` is common in hand-written CSVs: left-trimming lets the quoted field parse as
    // one. No rtrim: with it, csv-parse reports `"x"y` as an error and then silently drops every
    // later record of the upload; without it, relax_quotes keeps `"x"y` as a literal field.
    ltrim: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    skip_records_with_error: true,
    // No max_record_size: RecordGuard enforces the record limits before the parser (csv-parse's
    // own limit loses and re-reads input when it skips a record).
    // Line numbers are counted from each record's raw text: csv-parse's own `info` bookkeeping
    // cost about a tenth of a large upload's time.
    raw: true,
    on_skip: (err: CsvError | undefined, raw?: string) => {
      if (!err) return;
      const context = err as CsvError & { records?: number; lines?: number };
      skipped.push({
        after: context.records ?? 0,
        line: context.lines ?? 0,
        reason: describeSkip(err),
        raw: JSON.stringify((raw ?? '').slice(0, 200)),
      });
    },
  });
  // Recorded here and rethrown by the reader: an 'error' with no listener would crash the process.
  let failure: Error | undefined;
  parser.on('error', (err) => (failure ??= err));
  const nonce = newMarkerNonce();
  const guard = new RecordGuard(limits, nonce);
  // csv-parse works through whatever it is given at once: the pacer hands it one chunk per busy turn.
  const paced = pacer();
  input.on('error', (err) => guard.destroy(err));
  guard.on('error', (err) => paced.destroy(err));
  paced.on('error', (err) => parser.destroy(err));
  input.pipe(guard).pipe(paced).pipe(parser);
  let cutReason: Error | undefined;
  const onCut = () => {
    cutReason ??= cut?.reason instanceof Error ? cut.reason : new Error(String(cut?.reason));
    input.unpipe(guard);
    guard.cut();
    // The rest of the upload is read and discarded, so the client can finish and read the answer.
    if (!input.destroyed) input.resume();
  };
  if (cut?.aborted) onCut();
  else cut?.addEventListener('abort', onCut, { once: true });

  type ParsedRecord = { record: string[]; raw: string };
  // Records are pulled with read() in runs, not one promise per record: per-row awaits were a
  // large share of the cost of a big upload. A run ends when the parser has nothing buffered.
  const readRun = async (max: number): Promise<ParsedRecord[]> => {
    for (;;) {
      const run: ParsedRecord[] = [];
      let record: ParsedRecord | null;
      while (run.length < max && (record = parser.read() as ParsedRecord | null) !== null) run.push(record);
      if (run.length > 0) return run;
      if (failure) throw failure;
      if (parser.readableEnded || parser.destroyed) return run;
      await readable(parser);
    }
  };

  let first: ParsedRecord | undefined;
  try {
    [first] = await readRun(1);
  } catch (err) {
    throw toInputError(err);
  }
  if (!first && cutReason) throw toInputError(cutReason);
  const droppedHeader = first && readMarker(first.record, nonce);
  if (droppedHeader) {
    stop();
    if (droppedHeader.reason === 'columns') {
      throw new CsvTooManyColumns(
        `the header has ${droppedHeader.fields} columns; at most ${limits.maxColumns} are accepted (server.maxColumns): ${JSON.stringify(droppedHeader.preview)}…`,
      );
    }
    throw new CsvRecordTooLarge(
      `the header record is ${droppedHeader.bytes} bytes; at most ${limits.maxRecordBytes} are accepted (server.maxRecordBytes)${droppedHeader.unterminated ? '; the input ended inside one of its quoted fields (an unterminated quote?)' : ''}`,
    );
  }
  // Only a record skipped before any was read is the header's: the parser may already have
  // read (and skipped) later lines of the same chunk, and those become error rows in place.
  const headerError = skipped.find((s) => s.after === 0);
  if (headerError) {
    const where = /\bline \d+\b/.test(headerError.reason) ? '' : ` at line ${headerError.line}`;
    stop();
    throw new CsvInvalid(`not valid CSV: ${headerError.reason}${where}; expected a header row with the columns ${REQUIRED_COLUMNS.join(', ')}`);
  }
  if (!first) throw new CsvEmpty('the uploaded file is empty');
  const header = first.record;
  if (header.some((h) => h.includes('\u0000'))) {
    stop();
    throw new CsvInvalid('not valid CSV: the header contains NUL bytes (binary file?)');
  }
  const names = header.map((h) => h.trim().toLowerCase());
  const sourceIndex = names.indexOf('source');
  const messageIndex = names.findIndex((n) => (MESSAGE_COLUMN_NAMES as readonly string[]).includes(n));
  const missing = [sourceIndex < 0 ? 'source' : '', messageIndex < 0 ? 'log_message' : ''].filter(Boolean);
  if (missing.length) {
    stop();
    throw new CsvMissingColumn(
      `missing required column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (header was: ${header.slice(0, 20).join(',').slice(0, 300)})`,
    );
  }

  async function* rows(): AsyncGenerator<CsvRow[]> {
    let read = 1;
    // The header's raw text (with its delimiter) holds the line breaks before the first data row.
    let linesBefore = lineBreaks(first!.raw);
    const takeSkipped = (upTo: number, into: CsvRow[]): void => {
      while (skipped.length && skipped[0].after <= upTo) {
        const s = skipped.shift()!;
        into.push({ kind: 'malformed', line: s.line, reason: s.reason, raw: s.raw });
      }
    };
    try {
      for (;;) {
        const run = await readRun(RUN_SIZE);
        const out: CsvRow[] = [];
        for (const { record, raw } of run) {
          takeSkipped(read, out);
          read++;
          // A record's raw text holds the empty lines skipped before it and its own delimiter:
          // the record ends on the line after all but that last break.
          const breaks = lineBreaks(raw);
          const dropped = readMarker(record, nonce);
          if (dropped) {
            // The marker's raw text: the empty lines before the dropped record, then one line of
            // its own in place of the record's lines. The record starts after those empty lines.
            const line = linesBefore + breaks;
            out.push({ kind: 'malformed', line, reason: describeDropped(dropped, limits), raw: JSON.stringify(dropped.preview) + '…' });
            linesBefore += breaks - 1 + dropped.lineBreaks;
            continue;
          }
          const endsWithBreak = raw.endsWith('\n') || raw.endsWith('\r');
          out.push({ kind: 'row', line: linesBefore + breaks - (endsWithBreak ? 1 : 0) + 1, fields: record });
          linesBefore += breaks;
        }
        if (run.length === 0) {
          takeSkipped(Number.POSITIVE_INFINITY, out);
          if (out.length) yield out;
          // Cut short: what arrived whole has been read; the rest never will be.
          if (cutReason) throw cutReason;
          break;
        }
        yield out;
      }
    } finally {
      stop();
    }
  }

  return { header, sourceIndex, messageIndex, rows: rows() };

  /**
   * Stops parsing (header refused, row limit, client gone): the rest of the upload is read and
   * discarded instead of left unread, so the client can finish sending and read the whole answer.
   */
  function stop(): void {
    cut?.removeEventListener('abort', onCut);
    if (!parser.destroyed) parser.destroy();
    input.unpipe(guard);
    if (!guard.destroyed) guard.destroy();
    if (!paced.destroyed) paced.destroy();
    if (!input.destroyed) input.resume();
  }
}

function describeDropped(d: DroppedRecord, limits: RecordLimits): string {
  if (d.reason === 'columns') {
    return `record with ${d.fields} fields, over the limit of ${limits.maxColumns} fields per record (server.maxColumns); the row was not read`;
  }
  const unterminated = d.unterminated ? '; the input ended inside one of its quoted fields (an unterminated quote?)' : '';
  return `record of ${d.bytes} bytes, over the limit of ${limits.maxRecordBytes} bytes per record (server.maxRecordBytes); the row was not read${unterminated}`;
}

function describeSkip(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'unterminated quoted field; the rest of the input could not be parsed';
    default:
      return err.message;
  }
}

/** One row as the batch driver takes it (pipeline/run.ts InputRow<string[]>). */
export interface RecordRow {
  readonly line: number;
  readonly cells: string[];
  readonly record?: { readonly source: string; readonly message: string };
  readonly error?: string;
}

/**
 * The rows of an opened CSV as records: `source` and the message from their columns (trimmed),
 * or, for a row that could not be read or has the wrong number of fields, the reason in place.
 */
export async function* recordRows(csv: OpenedCsv): AsyncGenerator<RecordRow[]> {
  const width = csv.header.length;
  for await (const run of csv.rows) {
    yield run.map((row): RecordRow => {
      if (row.kind === 'malformed') return { line: row.line, cells: [], error: `line ${row.line}: ${row.reason}: ${row.raw}` };
      if (row.fields.length !== width) {
        const extra = row.fields.length > width ? `; extra fields: ${JSON.stringify(row.fields.slice(width)).slice(0, 200)}` : '';
        return { line: row.line, cells: row.fields, error: `line ${row.line}: expected ${width} fields, found ${row.fields.length}${extra}` };
      }
      return { line: row.line, cells: row.fields, record: { source: row.fields[csv.sourceIndex].trim(), message: row.fields[csv.messageIndex].trim() } };
    });
  }
}

/** An error reading the upload, as the 4xx to answer with while no output has been sent. */
export function toInputError(err: unknown): Error {
  // Errors raised by the upload stream itself (size limits, multipart, timeouts) keep their status.
  if (hasStatus(err)) return err;
  return new CsvInvalid(`not valid CSV: ${(err as Error).message}`);
}
