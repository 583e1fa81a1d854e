/**
 * A JSON or NDJSON body → rows for the batch driver (pipeline/run.ts), beside csv/reader.ts:
 * bytes only in, one row per record out, in order, pulled as the driver asks (bounded memory:
 * at most one record of server.maxRecordBytes is held, json/framer.ts; backpressure intact).
 *
 * A record is an object with the line in `log_message` or `message` (or the field the request
 * names) and optionally `source` (else the request's default source, else empty). A record that
 * cannot be used becomes a row with the reason, in its place, never dropped: in NDJSON a line that
 * is not JSON; in both, a record that is not an object, lacks the field or holds no string there,
 * has more fields than server.maxColumns or more bytes than server.maxRecordBytes. In an
 * application/json body, text that is not JSON is the body's fault: JSON_INVALID (a 400 before the
 * answer has started; after, the output's closing `error` row says where).
 */
import type { Readable } from 'node:stream';
import { JsonInvalid } from '../errors.js';
import { JsonFramer, type Frame, type JsonFormat } from './framer.js';

export type { JsonFormat } from './framer.js';

/** The fields holding the line when the request names none, in order of preference (as CSV's columns). */
export const MESSAGE_FIELDS = ['log_message', 'message'] as const;

/** What the output keeps of a record: its text as sent, and its parsed value. */
export interface JsonCells {
  readonly text: string;
  readonly value: Readonly<Record<string, unknown>>;
}

/** One row as the batch driver takes it (pipeline/run.ts InputRow<JsonCells | undefined>). */
export interface JsonRow {
  readonly line: number;
  readonly cells: JsonCells | undefined;
  readonly record?: { readonly source: string; readonly message: string };
  readonly error?: string;
}

export interface JsonReadOptions {
  readonly format: JsonFormat;
  /** Bytes of one record, fields of one object (server.maxRecordBytes, server.maxColumns). */
  readonly maxRecordBytes: number;
  readonly maxColumns: number;
  /** The field holding the line (`?field=`); default the first of MESSAGE_FIELDS present. */
  readonly messageField?: string;
  /** The source of records without a `source` field (`?source=`); default empty. */
  readonly defaultSource?: string;
}

/** Resolves once the stream has data to read, has ended, failed, or `cut` fired. */
function readable(stream: Readable, cut?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('readable', settle).off('end', settle).off('close', settle).off('error', settle);
      cut?.removeEventListener('abort', settle);
      resolve();
    };
    stream.on('readable', settle).on('end', settle).on('close', settle).on('error', settle);
    cut?.addEventListener('abort', settle, { once: true });
  });
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export interface ObjectRowOptions extends Pick<JsonReadOptions, 'maxColumns' | 'messageField' | 'defaultSource'> {
  /** How the reader names the message field, for the error that says to (default `?field=…`). */
  readonly fieldSetting?: string;
}

/**
 * One parsed record as a row: the line from its message field and its source, or the reason it
 * cannot be used (in place, its fields kept where it is an object). `at` names it in the reason
 * (`line 3`, `item 2 (line 3)`, `frame 7`). For every reader of JSON records (also the WebSocket stream's frames).
 */
export function objectRow(value: unknown, text: string, line: number, at: string, options: ObjectRowOptions): JsonRow {
  const { maxColumns, messageField, defaultSource = '', fieldSetting = '?field=…' } = options;
  const fail = (reason: string, cells?: JsonCells): JsonRow => ({ line, cells, error: `${at}: ${reason}` });
  const preview = (t: string) => JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}…` : t);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`not a JSON object but ${describeValue(value)}: ${preview(text)}`);
  const object = value as Record<string, unknown>;
  const fields = Object.keys(object).length;
  if (fields > maxColumns) return fail(`object with ${fields} fields, over the limit of ${maxColumns} fields per record (server.maxColumns); not read`);
  const cells: JsonCells = { text, value: object };
  const name = messageField ?? MESSAGE_FIELDS.find((n) => Object.hasOwn(object, n));
  if (name === undefined || !Object.hasOwn(object, name)) {
    return fail(messageField ? `no "${messageField}" field (named by ${fieldSetting.replace(/…$/, '')})` : `no "log_message" or "message" field (name the field holding the line with ${fieldSetting})`, cells);
  }
  const message = object[name];
  if (typeof message !== 'string') return fail(`the "${name}" field is ${describeValue(message)}, not a string`, cells);
  let source = defaultSource;
  if (Object.hasOwn(object, 'source')) {
    if (typeof object.source !== 'string') return fail(`the "source" field is ${describeValue(object.source)}, not a string`, cells);
    source = object.source;
  }
  return { line, cells, record: { source: source.trim(), message: message.trim() } };
}

/**
 * One message of a stream (a WebSocket frame, a NATS message) as a row: a JSON object as on
 * /classify (objectRow), or else a plain log line, which the output shows as `log_message` (with
 * `source` when there is a default source). A line that merely starts with `{` but is not JSON is
 * a log line like any other.
 */
export function textRow(text: string, line: number, at: string, options: ObjectRowOptions): JsonRow {
  if (text.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined) return objectRow(value, text.trim(), line, at, options);
  }
  const { defaultSource } = options;
  const message = text.replace(/\r?\n$/, '');
  const value: Record<string, string> = defaultSource !== undefined ? { source: defaultSource, log_message: message } : { log_message: message };
  return { line, cells: { text: JSON.stringify(value), value }, record: { source: (defaultSource ?? '').trim(), message: message.trim() } };
}

/**
 * The rows of a JSON or NDJSON body, in runs (the records completed by each chunk read).
 *
 * `cut` stops the input early (size limit, timeout, a corrupt gzip stream): every complete record
 * received before it is still read, the incomplete one is dropped, and the rows then fail with the
 * abort's reason.
 */
export async function* jsonRows(input: Readable, options: JsonReadOptions, cut?: AbortSignal): AsyncGenerator<JsonRow[]> {
  const { format, maxRecordBytes } = options;
  const framer = new JsonFramer(format, maxRecordBytes);
  let failure: Error | undefined;
  const onError = (err: Error) => (failure ??= err);
  input.on('error', onError);

  const where = (f: Frame) => (format === 'ndjson' ? `line ${f.line}` : `item ${f.index} (line ${f.line})`);
  const preview = (text: string) => JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  const toRow = (f: Frame): JsonRow => {
    const at = where(f);
    const fail = (reason: string, cells?: JsonCells): JsonRow => ({ line: f.line, cells, error: `${at}: ${reason}` });
    if (f.kind === 'oversize') {
      return fail(`record of ${f.bytes} bytes, over the limit of ${maxRecordBytes} bytes per record (server.maxRecordBytes); not read: ${JSON.stringify(f.preview)}…`);
    }
    let value: unknown;
    try {
      value = JSON.parse(f.text);
    } catch (err) {
      // One NDJSON line stands alone; in a JSON document the whole body is malformed.
      if (format === 'json') throw new JsonInvalid(`not valid JSON at ${at}: ${(err as Error).message}`);
      return fail(`not valid JSON (${(err as Error).message}): ${preview(f.text)}`);
    }
    return objectRow(value, f.text, f.line, at, options);
  };

  try {
    for (;;) {
      const chunk = input.read() as Buffer | null;
      if (chunk !== null) {
        const rows: JsonRow[] = [];
        try {
          for (const frame of framer.push(chunk)) rows.push(toRow(frame));
          if (framer.failure) throw framer.failure;
        } catch (err) {
          // The records before the fault go out first: nothing received whole is lost.
          if (rows.length) yield rows;
          throw err;
        }
        if (rows.length) yield rows;
        continue;
      }
      // What had arrived before a cut has been read (above): the rest never will be.
      if (cut?.aborted) throw cut.reason instanceof Error ? cut.reason : new Error(String(cut.reason));
      if (failure) throw failure;
      if (input.readableEnded || (input.destroyed && !input.readable)) break;
      await readable(input, cut);
    }
    const rows: JsonRow[] = [];
    try {
      for (const frame of framer.end()) rows.push(toRow(frame));
    } catch (err) {
      if (rows.length) yield rows;
      throw err;
    }
    if (rows.length) yield rows;
  } finally {
    input.off('error', onError);
    // Stopped early (a refused body, the row limit, the client gone, a cut): the rest of the
    // upload is read and discarded, so the client can finish sending and read the answer.
    if (!input.destroyed && !input.readableEnded) {
      input.on('error', () => undefined);
      input.resume();
    }
  }
}
