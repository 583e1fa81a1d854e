/**
 * An upload as /classify and POST /jobs read it, in one place: which body types are accepted (the
 * content-type parsers: multipart, CSV, JSON, NDJSON, xlsx — each handed over as a stream, never
 * buffered), the query parameters that shape the reading (`?field=`, `?source=`, `?explain=`,
 * `?sheet=`), and the body itself as a stream: Content-Encoding undone (http/body.ts), the file of
 * a form picked out, text decoded to UTF-8 (an xlsx file stays bytes). What is then read from it
 * and written back is http/labelled.ts's.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { charsetParameter, resolveCharset, toUtf8, type DecodeReport } from '../csv/charset.js';
import { CsvEmpty, JsonInvalid, MultipartInvalid, NoFile, QueryInvalid, TooManyFiles, UploadTooLarge, XlsxInvalid, hasStatus } from '../errors.js';
import { chain, contentCoding, decodedBody, type ContentCoding } from './body.js';
import type { InputFormat, OutputFormat, ReadQuery } from './labelled.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the upload was decoded (for the request's log line). */
    uploadEncoding?: DecodeReport;
  }
}

export const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];
export const JSON_TYPES = ['application/json'];
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export interface UploadLimits {
  readonly maxUploadBytes: number;
}

/** What an upload is and how to read and answer it. */
export interface Upload {
  /** The body (or the form's file): UTF-8 text, or the xlsx file's bytes. */
  readonly input: Readable;
  readonly format: InputFormat;
  /** The answer's format: the input's, except xlsx, answered as CSV unless Accept asks for xlsx. */
  readonly answer: OutputFormat;
  readonly query: ReadQuery;
  /** The file's name in a form, if it had one. */
  readonly filename?: string;
}

/**
 * The content-type parsers of an upload route (call inside the route's plugin: they replace
 * Fastify's own, which buffer; other types get 415) and @fastify/multipart.
 */
export async function registerUploadParsers(app: FastifyInstance, limits: UploadLimits): Promise<void> {
  app.removeAllContentTypeParsers();
  // Two files are let through so that the second can be named in the error; a third is a limit error.
  await app.register(multipart, { limits: { fileSize: limits.maxUploadBytes, files: 2, fields: 20, parts: 25 } });
  // Hand the raw body over as a stream: it is parsed lazily, never buffered whole.
  app.addContentTypeParser([...CSV_TYPES, ...JSON_TYPES, ...NDJSON_TYPES, XLSX_TYPE], (_request, payload, done) => done(null, payload));
}

type BodyKind = 'multipart' | InputFormat;

/** The body's format, from its content type (one the parsers above accepted). */
function bodyKind(request: FastifyRequest): BodyKind {
  if (request.isMultipart()) return 'multipart';
  const type = mediaType(request.headers['content-type']);
  if (JSON_TYPES.includes(type)) return 'json';
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  if (type === XLSX_TYPE) return 'xlsx';
  return 'csv';
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/** Whether the client asks for an xlsx answer (`Accept` names the xlsx type). */
export function acceptsXlsx(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  return accept.split(',').some((t) => t.split(';')[0].trim() === XLSX_TYPE);
}

/** A query parameter given once, or undefined; QUERY_INVALID when repeated. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new QueryInvalid(`?${name}= is given more than once`);
  return value;
}

/**
 * `?field=` and `?source=` (JSON and NDJSON only), `?explain=` (CSV answers only), `?sheet=`
 * (xlsx only): the route's validator is off (its body is a stream), so the query is read here.
 */
function readQuery(request: FastifyRequest, format: InputFormat, answer: OutputFormat): ReadQuery {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const out: { messageField?: string; defaultSource?: string; explain?: boolean; sheet?: string } = {};
  for (const [param, key] of [['field', 'messageField'], ['source', 'defaultSource']] as const) {
    const value = single(query, param);
    if (value === undefined) continue;
    if (format !== 'json' && format !== 'ndjson') throw new QueryInvalid(`?${param}= applies to JSON and NDJSON bodies; a CSV or a spreadsheet names its columns (source, log_message or message) in its header`);
    if (param === 'field' && (value === '' || value.length > 200)) throw new QueryInvalid('?field= must name the field holding the line (1 to 200 characters)');
    out[key] = value;
  }
  const sheet = single(query, 'sheet');
  if (sheet !== undefined) {
    if (format !== 'xlsx') throw new QueryInvalid('?sheet= applies to xlsx uploads only');
    if (sheet === '' || sheet.length > 100) throw new QueryInvalid('?sheet= must name a worksheet (1 to 100 characters)');
    out.sheet = sheet;
  }
  out.explain = explainParameter(query);
  if (out.explain && answer !== 'csv') throw new QueryInvalid('explain=true is for CSV answers: the template columns have no place in JSON, NDJSON or xlsx yet');
  return out;
}

/** `?explain=`: a repeated parameter counts by its last value. */
function explainParameter(query: Record<string, unknown>): boolean {
  const raw = query.explain as string | string[] | undefined;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new QueryInvalid(`explain must be true or false, not "${value.slice(0, 40)}"`);
}

/** Errors of the multipart layer (busboy, @fastify/multipart) as this service's 4xx. */
function multipartError(err: unknown): Error {
  const e = err as Error & { code?: string; statusCode?: number };
  if (e.code === 'FST_FILES_LIMIT') return new TooManyFiles('the form has more than one file: send one file per request, in the field "file"');
  if (hasStatus(e) && typeof e.code === 'string' && !e.code.startsWith('FST_')) return e;
  return new MultipartInvalid(`not a valid multipart/form-data body: ${e.message}`);
}

/** A form's file is a spreadsheet when it is named `.xlsx` or typed as one. */
function isXlsxPart(part: MultipartFile): boolean {
  return /\.xlsx$/i.test(part.filename ?? '') || mediaType(part.mimetype) === XLSX_TYPE;
}

/**
 * The first file of a form, and a check, when it has been read, that no other file follows.
 * Fields (other than files) are ignored.
 */
async function formFile(request: FastifyRequest, coding: ContentCoding, cut: AbortController, limits: UploadLimits): Promise<{ part: MultipartFile; rest: Transform }> {
  let files: AsyncIterableIterator<MultipartFile>;
  if (coding === 'identity') files = request.files();
  else {
    // @fastify/multipart reads the form from `request.raw`: it is handed a view of the request
    // whose `raw` is the decompressed body (with the request's headers, for the boundary).
    const decoded = Object.assign(decodedBody(request.raw, coding, limits.maxUploadBytes, cut), { headers: request.raw.headers });
    files = request.files.call(Object.create(request, { raw: { value: decoded } }) as FastifyRequest);
  }
  let part: MultipartFile | undefined;
  try {
    part = (await files.next()).value as MultipartFile | undefined;
  } catch (err) {
    // A fault of the body itself (corrupt gzip, a gzip bomb) rather than of the form.
    throw cut.signal.aborted ? (cut.signal.reason as Error) : multipartError(err);
  }
  if (!part) throw new NoFile('the form has no file: send the CSV (or .xlsx) in a field named "file"');
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw new NoFile(`unexpected form field "${part.fieldname}": send the CSV (or .xlsx) in a field named "file"`);
  }
  const tooLarge = () => cut.abort(new UploadTooLarge(`upload exceeds the limit of ${limits.maxUploadBytes} bytes`));
  // busboy may have read the whole (small) body and emitted 'limit' before this listener
  // exists: the stream is then already truncated and would end quietly short without this.
  if ((part.file as Readable & { truncated?: boolean }).truncated) tooLarge();
  else part.file.on('limit', tooLarge);
  // At the end of the file, the rest of the form: another file is an error, not dropped.
  const rest = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      files.next().then(
        ({ value }) => {
          const extra = value as MultipartFile | undefined;
          if (extra) {
            extra.file.resume();
            const name = extra.filename ? ` ("${extra.filename}")` : '';
            cut.abort(new TooManyFiles(`the form has a second file${name} in the field "${extra.fieldname}": only one file is read per request, and that one was not read`));
          }
          callback();
        },
        (err: unknown) => {
          cut.abort(multipartError(err));
          callback();
        },
      );
    },
  });
  return { part, rest };
}

/**
 * The upload as a stream, with its format, answer format and query. Size limit: a declared
 * Content-Length over the limit is answered 413 before reading; otherwise the input is cut
 * (`cut`) once the limit is passed. If that happens before the answer has started, the answer is
 * still 413; once the labelled output is streaming, it ends with one `error` row whose
 * target_label says the input ended early after N rows and why. The same holds for a second file
 * in a form, and for a connection fault (timeout, bytes past the Content-Length) reported while
 * the request is answered.
 */
export async function readUpload(request: FastifyRequest, limits: UploadLimits, cut: AbortController): Promise<Upload> {
  const report: DecodeReport = { encoding: 'utf-8' };
  request.uploadEncoding = report;
  const kind = bodyKind(request);
  const xlsxAnswer = acceptsXlsx(request);
  // The query is checked before the body is read (a form's file type is known only later: then again).
  if (kind !== 'multipart') readQuery(request, kind, kind === 'xlsx' && xlsxAnswer ? 'xlsx' : kind === 'xlsx' ? 'csv' : kind);
  const coding = contentCoding(request.headers['content-encoding']);
  if (kind === 'multipart') {
    // busboy does not pass a part's charset on: files are UTF-8 unless a byte-order mark says otherwise.
    const { part, rest } = await formFile(request, coding, cut, limits);
    // Errors from busboy mid-file (a truncated form) are multipart errors.
    part.file.on('error', (err) => cut.abort(hasStatus(err) ? err : multipartError(err)));
    part.file.pipe(rest);
    if (isXlsxPart(part)) {
      const answer: OutputFormat = xlsxAnswer ? 'xlsx' : 'csv';
      return { input: rest, format: 'xlsx', answer, query: readQuery(request, 'xlsx', answer), filename: part.filename };
    }
    return { input: chain(rest, [toUtf8('utf-8', report)]), format: 'csv', answer: 'csv', query: readQuery(request, 'csv', 'csv'), filename: part.filename };
  }
  const declared = Number(request.headers['content-length']);
  if (declared > limits.maxUploadBytes) {
    throw new UploadTooLarge(`upload of ${declared} bytes exceeds the limit of ${limits.maxUploadBytes} bytes`);
  }
  const body = request.body as Readable | undefined;
  if (!body || declared === 0) {
    if (kind === 'csv') throw new CsvEmpty('the request body is empty');
    if (kind === 'xlsx') throw new XlsxInvalid('the request body is empty: send the .xlsx file');
    throw new JsonInvalid(`the request body is empty: send ${kind === 'json' ? 'a JSON array of objects' : 'one JSON object per line'}`);
  }
  const decoded = decodedBody(body, coding, limits.maxUploadBytes, cut);
  if (kind === 'xlsx') {
    const answer: OutputFormat = xlsxAnswer ? 'xlsx' : 'csv';
    return { input: decoded, format: 'xlsx', answer, query: readQuery(request, 'xlsx', answer) };
  }
  const encoding = resolveCharset(charsetParameter(request.headers['content-type']));
  return { input: chain(decoded, [toUtf8(encoding, report)]), format: kind, answer: kind, query: readQuery(request, kind, kind) };
}
