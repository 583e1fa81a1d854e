/**
 * A request body as bytes: its Content-Encoding undone (node:zlib, streaming) and the upload
 * limit applied. For every body type of /classify — a raw CSV, JSON or NDJSON body, and a
 * multipart form (http/routes/classify.ts hands @fastify/multipart the decoded stream).
 *
 * server.maxUploadBytes bounds both the bytes received and, for a compressed body, the bytes
 * decompressed: a gzip bomb stops decompressing at the limit (the rest of what the client sends is
 * read and discarded, not inflated), and the upload is cut with UPLOAD_TOO_LARGE — a 413 before
 * the answer has started, the closing `error` row after. A body that is not the encoding it
 * claims (corrupt, truncated) cuts it with CONTENT_ENCODING_INVALID (400) the same way.
 */
import { Transform, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ContentEncodingInvalid, UnsupportedContentEncoding, UploadTooLarge } from '../errors.js';

/** The content codings /classify decodes (RFC 9110 names; `x-gzip` is gzip). */
export const CONTENT_CODINGS = ['gzip', 'x-gzip', 'deflate', 'br'] as const;
export type ContentCoding = 'identity' | 'gzip' | 'deflate' | 'br';

/**
 * The coding of a Content-Encoding header: `identity` without one. One coding only (a body
 * encoded twice is refused); unknown ones are 415 UNSUPPORTED_CONTENT_ENCODING.
 */
export function contentCoding(header: string | string[] | undefined): ContentCoding {
  const value = (Array.isArray(header) ? header.join(',') : header ?? '').trim().toLowerCase();
  const codings = value.split(',').map((c) => c.trim()).filter((c) => c && c !== 'identity');
  if (codings.length === 0) return 'identity';
  const supported = `supported: ${CONTENT_CODINGS.join(', ')}, or none`;
  if (codings.length > 1) throw new UnsupportedContentEncoding(`Content-Encoding ${JSON.stringify(value)} applies more than one coding; send one (${supported})`);
  const [coding] = codings;
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  if (coding === 'deflate' || coding === 'br') return coding;
  throw new UnsupportedContentEncoding(`Content-Encoding ${JSON.stringify(coding)} is not supported (${supported})`);
}

/**
 * Counts the bytes passing through and cuts the input past `limit` (chunked uploads have no
 * Content-Length); nothing past the limit is passed on. `exceeded` runs once, when it is passed.
 */
export function byteLimit(limit: number, cut: AbortController, message = `upload exceeds the limit of ${limit} bytes`, exceeded?: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const before = seen;
      seen += chunk.length;
      if (seen <= limit) return callback(null, chunk);
      if (before <= limit) {
        if (!cut.signal.aborted) cut.abort(new UploadTooLarge(message));
        exceeded?.();
      }
      callback();
    },
  });
}

/**
 * Pipes `source` through `stages`, passing an error anywhere on to the last stage (which the
 * readers listen to). The source is never destroyed: destroying a request stream would reset the
 * connection before the answer (a 4xx, or the output's closing `error` row) could be sent.
 */
export function chain(source: Readable, stages: Transform[]): Transform {
  let prev: Readable = source;
  for (const stage of stages) {
    prev.on('error', (err) => stage.destroy(err));
    prev.pipe(stage);
    prev = stage;
  }
  return prev as Transform;
}

function decompressor(coding: Exclude<ContentCoding, 'identity'>): Transform {
  if (coding === 'gzip') return createGunzip();
  if (coding === 'deflate') return createInflate();
  return createBrotliDecompress();
}

/**
 * The decoded body of `raw`, at most `limit` bytes of it (before and after decompression).
 * Limits and faults cut the input through `cut`; the stream returned then just stops (it is
 * destroyed without an error), so readers must watch `cut`, as the CSV and JSON readers do.
 */
export function decodedBody(raw: Readable, coding: ContentCoding, limit: number, cut: AbortController): Readable {
  if (coding === 'identity') return chain(raw, [byteLimit(limit, cut)]);
  const received = byteLimit(limit, cut);
  const zlib = decompressor(coding);
  let output: Transform | undefined = undefined;
  /** Stops decompressing; what the client still sends is read and discarded. */
  const stop = (): void => {
    received.unpipe(zlib);
    received.resume();
    if (!zlib.destroyed) zlib.destroy();
    // Ends a multipart parser waiting on the form (the readers have stopped at the cut already).
    setImmediate(() => output?.destroy());
  };
  output = byteLimit(limit, cut, `the decompressed upload exceeds the limit of ${limit} bytes (server.maxUploadBytes; Content-Encoding: ${coding})`, stop);
  raw.on('error', (err) => received.destroy(err));
  received.on('error', (err) => output!.destroy(err));
  zlib.on('error', (err: Error) => {
    if (!cut.signal.aborted) cut.abort(new ContentEncodingInvalid(`the body is not valid ${coding} (Content-Encoding: ${coding}): ${err.message}`));
    stop();
  });
  raw.pipe(received).pipe(zlib).pipe(output);
  return output;
}
