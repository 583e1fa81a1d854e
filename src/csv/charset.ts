/**
 * The upload's character encoding. The parser and the record guard read UTF-8; anything else is
 * decoded to UTF-8 first (WHATWG TextDecoder, streaming): the encoding named by a byte-order mark
 * (UTF-16LE/BE; a UTF-8 BOM is left for the parser to strip), else the content type's `charset`
 * parameter, else UTF-8. An undeclared upload that is not valid UTF-8 is still read (invalid bytes
 * become U+FFFD) and the request's log line says so.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { UnsupportedCharset } from '../errors.js';

/** The `charset` parameter of a content type, lower-cased; undefined when there is none. */
export function charsetParameter(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/**
 * The WHATWG name of a charset label (`latin1`, `iso-8859-1` → `windows-1252`; `utf8` → `utf-8`).
 * Throws UNSUPPORTED_CHARSET (415) for a label TextDecoder does not know.
 */
export function resolveCharset(label: string | undefined): string {
  if (label === undefined) return 'utf-8';
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw new UnsupportedCharset(
      `charset ${JSON.stringify(label)} is not supported: send UTF-8, or name an encoding such as utf-8, utf-16le, iso-8859-1, windows-1252 or shift_jis`,
    );
  }
}

export interface DecodeReport {
  /** The encoding the upload was read as. */
  encoding: string;
  /** Set when an upload read as UTF-8 (declared or not) had bytes that are not UTF-8. */
  invalidUtf8?: boolean;
}

const BOMS: readonly [Buffer, string][] = [
  [Buffer.from([0xef, 0xbb, 0xbf]), 'utf-8'],
  [Buffer.from([0xff, 0xfe]), 'utf-16le'],
  [Buffer.from([0xfe, 0xff]), 'utf-16be'],
];

/**
 * Turns the upload into UTF-8. `encoding` is a resolved name (resolveCharset); a byte-order mark
 * overrides it. UTF-8 passes through untouched (only checked, for the report).
 */
export function toUtf8(encoding: string, report: DecodeReport): Transform {
  let decoder: TextDecoder | undefined;
  let head: Buffer | undefined = Buffer.alloc(0) as Buffer;
  /** The last bytes of the previous chunk that may start a UTF-8 sequence completed by the next. */
  let tail: Buffer = Buffer.alloc(0);
  report.encoding = encoding;

  const checkUtf8 = (chunk: Buffer, final: boolean): void => {
    if (report.invalidUtf8) return;
    const bytes = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    const cut = final ? bytes.length : completeUpTo(bytes);
    tail = bytes.subarray(cut);
    if (!isUtf8(bytes.subarray(0, cut))) report.invalidUtf8 = true;
  };

  const start = (bytes: Buffer): void => {
    const bom = BOMS.find(([mark]) => bytes.subarray(0, mark.length).equals(mark));
    const chosen = bom ? bom[1] : encoding;
    report.encoding = chosen;
    if (chosen !== 'utf-8') decoder = new TextDecoder(chosen); // strips its BOM
  };

  const pass = (stream: Transform, chunk: Buffer): void => {
    if (decoder) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) stream.push(Buffer.from(text, 'utf8'));
    } else {
      checkUtf8(chunk, false);
      stream.push(chunk);
    }
  };

  return new Transform({
    transform(this: Transform, chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      if (head) {
        // Wait for three bytes to see a byte-order mark (or its absence).
        head = Buffer.concat([head, chunk]);
        if (head.length < 3) return callback();
        start(head);
        chunk = head;
        head = undefined;
      }
      pass(this, chunk);
      callback();
    },
    flush(this: Transform, callback: TransformCallback) {
      if (head) {
        start(head);
        if (head.length) pass(this, head);
        head = undefined;
      }
      if (decoder) {
        const text = decoder.decode();
        if (text) this.push(Buffer.from(text, 'utf8'));
      } else {
        checkUtf8(Buffer.alloc(0), true);
      }
      callback();
    },
  });
}

/** Bytes of `b` up to the start of a UTF-8 sequence its end may have cut (at most 3 bytes held back). */
function completeUpTo(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (byte < 0x80) return b.length; // ASCII: nothing cut
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return back < need ? b.length - back : b.length;
  }
  return b.length;
}
