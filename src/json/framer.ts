/**
 * Where the records of a JSON or NDJSON body start and end, byte by byte, holding at most one
 * record of `maxRecordBytes` — the JSON counterpart of csv/record-guard.ts. Each record's text is
 * then read by JSON.parse (json/reader.ts).
 *
 * - `ndjson`: one record per line (LF; a CR before it is dropped; the last line needs no LF,
 *   as Vector sends it). Blank lines are skipped but counted.
 * - `json`: a top-level array's items (`[{…},{…}]`, Fluent Bit `format json`, Vector's default
 *   json framing), or values one after another (`{…}{…}` or `{…}\n{…}`: Fluent Bit `json_stream`,
 *   or NDJSON sent as application/json). Framing follows strings (with escapes) and bracket depth
 *   only; whether an item is valid JSON is JSON.parse's to say.
 *
 * A record over the limit is never held: its bytes are counted and dropped as they arrive, and it
 * becomes one `oversize` frame in its place. Hand-written rather than node:readline or split2:
 * readline holds a line of any length, and split2's maxLength drops an over-long line without
 * saying so (or fails the stream) — a record must become one error row in place, named by its line.
 */
import { JsonInvalid } from '../errors.js';

export type JsonFormat = 'json' | 'ndjson';

/** One record of the body: its text, or its size when over the limit. */
export type Frame =
  | { readonly kind: 'record'; readonly index: number; readonly line: number; readonly text: string }
  | { readonly kind: 'oversize'; readonly index: number; readonly line: number; readonly bytes: number; readonly preview: string };

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const PREVIEW_BYTES = 60;
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === LF || b === CR;
}

export class JsonFramer {
  /** Records started so far (1-based index of the current one). */
  private index = 0;
  /** Line of the byte being read (1-based). */
  private line = 1;
  /** The current record: its pieces (while within the limit), size, first line. */
  private pieces: Buffer[] = [];
  private bytes = 0;
  private startLine = 0;
  private preview = '';
  private inRecord = false;
  // JSON framing state.
  private state: 'start' | 'array' | 'stream' | 'done' = 'start';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private bomChecked = false;
  /** Set once the body is found not to be JSON records (JSON_INVALID): nothing is framed after it. */
  failure: Error | undefined;

  constructor(
    private readonly format: JsonFormat,
    private readonly maxRecordBytes: number,
  ) {}

  /**
   * The frames completed by `chunk`. A body found not to be JSON records sets `failure` (the frames
   * completed before that point are still returned) and frames nothing more.
   */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    if (this.failure) return out;
    let from = 0;
    if (!this.bomChecked && this.index === 0 && !this.inRecord) {
      // A UTF-8 byte-order mark before the first record (toUtf8 keeps it for UTF-8 bodies).
      let i = 0;
      while (i < chunk.length && i < 3 && chunk[i] === BOM[i]) i++;
      if (i === chunk.length && i < 3) return out; // too short to tell: wait (rare; a BOM split across chunks)
      this.bomChecked = true;
      if (i === 3) from = 3;
    }
    if (this.format === 'ndjson') this.lines(chunk, from, out);
    else {
      try {
        this.values(chunk, from, out);
      } catch (err) {
        this.failure = err as Error;
      }
    }
    return out;
  }

  /** The frames left at the end of the body. Throws JSON_INVALID when the body ends inside its JSON (or `failure`). */
  end(): Frame[] {
    const out: Frame[] = [];
    if (this.failure) throw this.failure;
    if (this.format === 'ndjson') {
      if (this.inRecord) this.finish(out);
      return out;
    }
    if (this.state === 'start') throw new JsonInvalid('the body is empty: send a JSON array of objects');
    if (this.state === 'array') {
      const where = this.inRecord ? ` inside item ${this.index} (starting at line ${this.startLine})` : '';
      throw new JsonInvalid(`not valid JSON: the body ended${where} before the array's closing ]`);
    }
    if (this.state === 'stream' && this.inRecord) {
      if (this.depth > 0 || this.inString) {
        throw new JsonInvalid(`not valid JSON: the body ended inside item ${this.index} (starting at line ${this.startLine}): an unclosed ${this.inString ? 'string' : 'bracket'}`);
      }
      this.finish(out);
    }
    return out;
  }

  private begin(): void {
    this.inRecord = true;
    this.index++;
    this.startLine = this.line;
    this.pieces = [];
    this.bytes = 0;
    this.preview = '';
  }

  /** Adds bytes [from, to) of `chunk` to the current record, or counts them once it is over the limit. */
  private take(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const n = to - from;
    if (this.bytes + n <= this.maxRecordBytes) this.pieces.push(chunk.subarray(from, to));
    else if (this.pieces.length) {
      // Over the limit: keep only a preview, drop what was held.
      this.preview = Buffer.concat(this.pieces).subarray(0, PREVIEW_BYTES).toString('utf8');
      this.pieces = [];
    } else if (this.bytes === 0) this.preview = chunk.subarray(from, Math.min(to, from + PREVIEW_BYTES)).toString('utf8');
    this.bytes += n;
  }

  private finish(out: Frame[]): void {
    this.inRecord = false;
    if (this.bytes > this.maxRecordBytes) {
      out.push({ kind: 'oversize', index: this.index, line: this.startLine, bytes: this.bytes, preview: this.preview });
    } else {
      let text = Buffer.concat(this.pieces).toString('utf8');
      if (this.format === 'ndjson' && text.endsWith('\r')) text = text.slice(0, -1);
      // A blank line is no record (counted as a line only).
      if (this.format === 'ndjson' && text.trim() === '') this.index--;
      else out.push({ kind: 'record', index: this.index, line: this.startLine, text });
    }
    this.pieces = [];
    this.bytes = 0;
  }

  private lines(chunk: Buffer, from: number, out: Frame[]): void {
    let start = from;
    for (;;) {
      const lf = chunk.indexOf(LF, start);
      if (!this.inRecord && (lf < 0 ? start < chunk.length : true)) this.begin();
      if (lf < 0) {
        this.take(chunk, start, chunk.length);
        return;
      }
      this.take(chunk, start, lf);
      this.finish(out);
      this.line++;
      start = lf + 1;
      if (start >= chunk.length) return;
    }
  }

  private values(chunk: Buffer, from: number, out: Frame[]): void {
    let start = from; // where the current record's untaken bytes start in this chunk
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.inRecord) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) this.inString = false;
          else if (b === LF) this.line++;
          continue;
        }
        if (b === QUOTE) this.inString = true;
        else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
        else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && this.depth > 0) {
          this.depth--;
          if (this.depth === 0 && this.state === 'stream') {
            this.take(chunk, start, i + 1);
            this.finish(out);
            continue;
          }
        } else if (this.state === 'array' && this.depth === 0 && (b === COMMA || b === CLOSE_BRACKET)) {
          this.take(chunk, start, i);
          this.finish(out);
          if (b === CLOSE_BRACKET) this.state = 'done';
          continue;
        } else if (b === LF) this.line++;
        continue;
      }
      // Between records.
      if (b === LF) this.line++;
      if (isSpace(b)) continue;
      if (this.state === 'start') {
        if (b === OPEN_BRACKET) {
          this.state = 'array';
          continue;
        }
        if (b !== OPEN_BRACE) {
          const text = chunk.subarray(i, i + 40).toString('utf8');
          throw new JsonInvalid(`expected a JSON array of objects (or objects one after another); the body starts with ${JSON.stringify(text)}`);
        }
        this.state = 'stream';
      } else if (this.state === 'array') {
        if (b === CLOSE_BRACKET && this.index === 0) {
          this.state = 'done'; // []
          continue;
        }
        // Only `,` (then a value is expected) or `]` end an item: here one is missing.
        if (b === COMMA || b === CLOSE_BRACKET) throw new JsonInvalid(`not valid JSON at line ${this.line}: a missing item before ${String.fromCharCode(b)} (after item ${this.index})`);
      } else if (this.state === 'done') {
        const text = chunk.subarray(i, i + 40).toString('utf8');
        throw new JsonInvalid(`not valid JSON at line ${this.line}: text after the array's closing ]: ${JSON.stringify(text)}`);
      }
      // A record starts here (the stream's next value, or the array's next item).
      this.begin();
      this.depth = 0;
      this.inString = false;
      this.escaped = false;
      start = i;
      i--; // re-read this byte as part of the record
    }
    if (this.inRecord) this.take(chunk, start, chunk.length);
  }
}
