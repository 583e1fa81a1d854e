/**
 * Per-record limits, enforced on the bytes before csv-parse sees them.
 *
 * csv-parse's own `max_record_size` cannot be used for this: with `skip_records_with_error` its
 * error returns from the middle of a chunk, losing the rest of that chunk and re-reading a stale
 * one, so one oversized record turned into dozens of invented error rows and later rows were
 * lost. And it has no limit on the number of fields at all (five million one-byte fields took
 * 2 GB as strings).
 *
 * The guard follows the record framing csv-parse applies with the reader's options (delimiter
 * `,`, quote and escape `"`, `relax_quotes`, `ltrim`, record delimiters CRLF/LF/CR) — only where
 * records start and end, not their fields' values — and counts each record's bytes and fields.
 * A record within both limits is passed on unchanged (held back only while incomplete, so at most
 * `maxRecordBytes` are held). A record over either limit is never passed on: its bytes are
 * discarded as they arrive, and once it ends, one marker record takes its place, so the reader
 * emits exactly one `error` row for it, in its place, and carries on with the next record.
 *
 * The marker is a CSV record whose first field is a per-request random nonce, so no input can
 * forge one: `<nonce>,<reason>,<bytes>,<fields>,<line breaks>,<unterminated 0|1>,<preview base64>`.
 * test/record-guard.test.ts checks the framing against csv-parse itself on random inputs.
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { cooperate } from './cooperate.js';

export interface RecordLimits {
  /** Bytes of one record's raw text (quotes and delimiters inside it included, its terminator not). */
  readonly maxRecordBytes: number;
  /** Fields of one record. */
  readonly maxColumns: number;
}

/** A record the guard dropped, as the reader learns it from the marker. */
export interface DroppedRecord {
  readonly reason: 'bytes' | 'columns';
  /** Bytes of the whole record (counted to its end, though not kept). */
  readonly bytes: number;
  readonly fields: number;
  /** Line breaks the record spans, its own terminator included. */
  readonly lineBreaks: number;
  /** The input ended inside a quoted field of this record (an unterminated quote, most likely). */
  readonly unterminated: boolean;
  /** Its first bytes, for the error message. */
  readonly preview: string;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const PREVIEW_BYTES = 60;

// What csv-parse's ltrim skips before a field (and so what may precede an opening quote): the
// ECMAScript whitespace String.prototype.trim() removes. CR and LF end records before this
// matters; the rest is one ASCII byte or a two- or three-byte UTF-8 sequence.
const ASCII_SPACE = new Uint8Array(256);
for (const b of [0x20, 0x09, 0x0b, 0x0c]) ASCII_SPACE[b] = 1;
const WIDE_SPACES: readonly Buffer[] = [0x00a0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff].map(
  (cp) => Buffer.from(String.fromCodePoint(cp), 'utf8'),
);
const WIDE_LEAD = new Uint8Array(256);
for (const s of WIDE_SPACES) WIDE_LEAD[s[0]] = 1;

/** A fresh, unguessable marker nonce. */
export function newMarkerNonce(): string {
  return `logsift-dropped-${randomBytes(16).toString('hex')}`;
}

/** Reads a marker record; undefined when the record is not one. */
export function readMarker(record: readonly string[], nonce: string): DroppedRecord | undefined {
  if (record.length !== 7 || record[0] !== nonce) return undefined;
  return {
    reason: record[1] === 'columns' ? 'columns' : 'bytes',
    bytes: Number(record[2]),
    fields: Number(record[3]),
    lineBreaks: Number(record[4]),
    unterminated: record[5] === '1',
    preview: Buffer.from(record[6], 'base64').toString('utf8'),
  };
}

export class RecordGuard extends Transform {
  // Framing state (mirrors csv-parse's).
  private inQuotes = false;
  /** Inside quotes, the last byte seen was a quote: `""` (escaped) or the closing quote, decided by the next byte. */
  private quotePending = false;
  /** Only ltrim-able whitespace since the field started: a quote here opens a quoted field. */
  private fieldEmpty = true;
  /** Bytes of a multi-byte whitespace sequence matched so far (while fieldEmpty). */
  private spacePrefix: number[] = [];
  /** The previous record ended with CR: an LF right after belongs to its delimiter. */
  private afterRecordCR = false;
  private lastRecordDropped = false;
  /** The last byte of the previous chunk (a CRLF inside quotes may be split between chunks). */
  private lastByte = -1;

  // The current record.
  private fields = 1;
  /** Line breaks of the record, counted only once it is being dropped (the reader needs them then). */
  private lineBreaks = 0;
  /** Its bytes in earlier chunks (held, or discarded while dropping). */
  private bytesBefore = 0;
  /** Its bytes from earlier chunks, held until it ends (never more than maxRecordBytes). */
  private held: Buffer[] = [];
  private dropping: 'bytes' | 'columns' | undefined;
  private preview = '';
  /** The input was cut short: the record still incomplete at its end is dropped, not passed on. */
  private isCut = false;

  constructor(
    private readonly limits: RecordLimits,
    private readonly nonce: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const n = chunk.length;
    let forwardFrom = 0; // bytes of this chunk before it are forwarded or discarded
    let recordStart = 0; // where the current record starts in this chunk (0: in an earlier one)
    for (let i = 0; i < n; i++) {
      const b = chunk[i];
      if (this.afterRecordCR) {
        this.afterRecordCR = false;
        if (b === LF) {
          // CRLF: the LF goes wherever its record went (forwarded or discarded).
          if (this.lastRecordDropped) forwardFrom = i + 1;
          recordStart = i + 1;
          continue;
        }
      }
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (b === QUOTE) continue; // "" inside quotes: a literal quote
          // Any other byte: the quote closed the field (csv-parse's relax_quotes keeps text after
          // it in the same field). This byte is read as unquoted below; the field is not empty.
          this.inQuotes = false;
          this.fieldEmpty = false;
        } else if (!this.dropping) {
          // Only a quote matters inside quotes (line breaks are counted only for a dropped record).
          const q = chunk.indexOf(QUOTE, i);
          if (q < 0) break;
          this.quotePending = true;
          i = q;
          continue;
        } else {
          if (b === QUOTE) this.quotePending = true;
          else if (b === CR || (b === LF && (i > 0 ? chunk[i - 1] : this.lastByte) !== CR)) this.lineBreaks++;
          continue;
        }
      }
      if (b === COMMA) {
        this.fields++;
        this.fieldEmpty = true;
        this.spacePrefix.length = 0;
        continue;
      }
      if (b === LF || b === CR) {
        const dropped = this.endRecord(chunk, recordStart, forwardFrom, i);
        if (dropped) forwardFrom = i + 1;
        recordStart = i + 1;
        if (b === CR) {
          this.afterRecordCR = true;
          this.lastRecordDropped = dropped;
        }
        continue;
      }
      if (!this.fieldEmpty) {
        // The rest of an unquoted field: only a delimiter ends it (a quote in it is text).
        let j = i + 1;
        while (j < n) {
          const c = chunk[j];
          if (c === COMMA || c === LF || c === CR) break;
          j++;
        }
        i = j - 1;
        continue;
      }
      if (this.spacePrefix.length > 0) {
        this.spacePrefix.push(b);
        const match = matchSpace(this.spacePrefix);
        if (match === 'whole') this.spacePrefix.length = 0;
        if (match !== 'none') continue;
        // Not whitespace after all: the bytes are the field's first content.
        this.spacePrefix.length = 0;
        this.fieldEmpty = false;
        continue;
      }
      if (ASCII_SPACE[b]) continue;
      if (WIDE_LEAD[b]) {
        this.spacePrefix.push(b);
        continue;
      }
      this.fieldEmpty = false;
      if (b === QUOTE) this.inQuotes = true;
    }
    if (n > 0) this.lastByte = chunk[n - 1];

    // Complete records of this chunk go on; the incomplete one is held (or discarded).
    if (forwardFrom < recordStart) this.push(chunk.subarray(forwardFrom, recordStart));
    const partial = n - recordStart;
    this.bytesBefore += partial;
    if (!this.dropping) {
      const over = this.overLimit(this.bytesBefore);
      if (over) this.startDropping(over, chunk.subarray(recordStart));
      else if (partial > 0) this.held.push(chunk.subarray(recordStart));
    }
    cooperate(callback);
  }

  override _flush(callback: TransformCallback): void {
    // A quote as the very last byte closes its field.
    if (this.quotePending) this.inQuotes = false;
    if (this.isCut) {
      // Whatever is left is a record the cut interrupted: neither passed on (it would be read as
      // a shorter record) nor reported (the reader says where the input stopped).
    } else if (this.dropping) this.pushMarker(this.inQuotes);
    else for (const h of this.held) this.push(h);
    this.held = [];
    callback();
  }

  /**
   * Ends the input here (the caller has stopped writing): the chunks already written are still
   * read, every complete record in them passed on, and the incomplete last one dropped.
   */
  cut(): void {
    this.isCut = true;
    if (!this.writableEnded) this.end();
  }

  private overLimit(bytes: number): 'bytes' | 'columns' | undefined {
    if (this.fields > this.limits.maxColumns) return 'columns';
    if (bytes > this.limits.maxRecordBytes) return 'bytes';
    return undefined;
  }

  /** `rest`: the record's bytes in the current chunk so far. */
  private startDropping(reason: 'bytes' | 'columns', rest: Buffer): void {
    this.dropping = reason;
    const start = Buffer.concat([...this.held, rest.subarray(0, PREVIEW_BYTES)]);
    this.preview = start.subarray(0, PREVIEW_BYTES).toString('base64');
    this.lineBreaks = countLineBreaks([...this.held, rest]);
    this.held = [];
  }

  /**
   * The record ending at `end` (its delimiter's index) is complete. Returns whether it was
   * dropped: then what came before it in this chunk has been forwarded and the marker pushed.
   */
  private endRecord(chunk: Buffer, recordStart: number, forwardFrom: number, end: number): boolean {
    if (!this.dropping) {
      const over = this.overLimit(this.bytesBefore + (end - recordStart));
      if (over) this.startDropping(over, chunk.subarray(recordStart, end));
    }
    let dropped = false;
    if (this.dropping) {
      if (forwardFrom < recordStart) this.push(chunk.subarray(forwardFrom, recordStart));
      this.bytesBefore += end - recordStart;
      this.lineBreaks++; // its terminator
      this.pushMarker(false);
      dropped = true;
    } else if (this.held.length > 0) {
      // The record began in an earlier chunk: its held start goes on before this chunk's bytes.
      for (const h of this.held) this.push(h);
    }
    this.held = [];
    this.bytesBefore = 0;
    this.fields = 1;
    this.lineBreaks = 0;
    this.fieldEmpty = true;
    this.spacePrefix.length = 0;
    this.dropping = undefined;
    return dropped;
  }

  private pushMarker(unterminated: boolean): void {
    const fields = [this.nonce, this.dropping, this.bytesBefore, this.fields, this.lineBreaks, unterminated ? 1 : 0, this.preview];
    this.push(Buffer.from(`${fields.join(',')}\n`, 'utf8'));
  }
}

/** Line breaks (CRLF, LF or CR, as the reader counts them) in consecutive pieces. */
function countLineBreaks(pieces: readonly Buffer[]): number {
  let count = 0;
  let prev = -1;
  for (const piece of pieces) {
    for (let i = 0; i < piece.length; i++) {
      const b = piece[i];
      if (b === CR || (b === LF && prev !== CR)) count++;
      prev = b;
    }
  }
  return count;
}

function matchSpace(prefix: readonly number[]): 'whole' | 'partial' | 'none' {
  let partial = false;
  for (const s of WIDE_SPACES) {
    if (s.length < prefix.length) continue;
    let same = true;
    for (let j = 0; j < prefix.length && same; j++) same = s[j] === prefix[j];
    if (!same) continue;
    if (s.length === prefix.length) return 'whole';
    partial = true;
  }
  return partial ? 'partial' : 'none';
}
