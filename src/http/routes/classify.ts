import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { charsetParameter, resolveCharset, toUtf8, type DecodeReport } from '../../csv/charset.js';
import { openCsv, recordRows, toInputError } from '../../csv/reader.js';
import { labelledCsv } from '../../csv/writer.js';
import { TemplateMiner } from '../../lines/templates.js';
import { jsonRows, type JsonFormat } from '../../json/reader.js';
import { labelledJson, labelledNdjson } from '../../json/writer.js';
import type { TemplateTracker } from '../../pipeline/pipeline.js';
import { newRunStats, runRows, type RunOptions, type RunStats } from '../../pipeline/run.js';
import { CsvEmpty, JsonInvalid, MultipartInvalid, NoFile, NotReady, QueryInvalid, TooManyFiles, UploadTooLarge, hasStatus } from '../../errors.js';
import { chain, contentCoding, decodedBody, type ContentCoding } from '../body.js';
import type { ServiceObserver } from '../plugins/metrics.js';
import { classifySchema } from './schemas.js';

export interface ClassifyRouteOptions {
  readonly maxUploadBytes: number;
  readonly batchSize: number;
  /** Rows per request (0: no limit); past it the output ends with an `error` row saying so. */
  readonly maxRows?: number;
  /** Characters of a message the models see (the output keeps the whole line). */
  readonly maxMessageChars?: number;
  /** Bytes and fields of one CSV record (server.maxRecordBytes, server.maxColumns). */
  readonly maxRecordBytes: number;
  readonly maxColumns: number;
  readonly neutraliseFormulas?: boolean;
  /** Templates an explained request's miner remembers (pipeline.explainMaxTemplates). */
  readonly explainMaxTemplates?: number;
  /** Told about every output row and a row limit reached (metrics). */
  readonly observer?: ServiceObserver;
  /** The template store's tracker (counts templates, applies users' labels); unset when the store is off. */
  readonly templates?: TemplateTracker;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Rows out, by stage (for the request's log line). */
    classifyStats?: RunStats;
    /** How the upload was decoded (for the request's log line). */
    uploadEncoding?: DecodeReport;
  }
}

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];
const JSON_TYPES = ['application/json'];
const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];

type BodyKind = 'multipart' | 'csv' | JsonFormat;

/** The body's format, from its content type (one the parsers above accepted). */
function bodyKind(request: FastifyRequest): BodyKind {
  if (request.isMultipart()) return 'multipart';
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (JSON_TYPES.includes(type)) return 'json';
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  return 'csv';
}

/** `?field=` and `?source=`: for JSON and NDJSON bodies only; each once, not empty. */
function jsonQuery(request: FastifyRequest, kind: BodyKind): { messageField?: string; defaultSource?: string } {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const out: { messageField?: string; defaultSource?: string } = {};
  for (const [param, key] of [['field', 'messageField'], ['source', 'defaultSource']] as const) {
    const value = query[param];
    if (value === undefined) continue;
    if (kind === 'csv' || kind === 'multipart') throw new QueryInvalid(`?${param}= applies to JSON and NDJSON bodies; a CSV names its columns (source, log_message or message) in its header`);
    if (typeof value !== 'string') throw new QueryInvalid(`?${param}= is given more than once`);
    if (param === 'field' && (value === '' || value.length > 200)) throw new QueryInvalid('?field= must name the field holding the line (1 to 200 characters)');
    out[key] = value;
  }
  return out;
}

/** Errors of the multipart layer (busboy, @fastify/multipart) as this service's 4xx. */
function multipartError(err: unknown): Error {
  const e = err as Error & { code?: string; statusCode?: number };
  if (e.code === 'FST_FILES_LIMIT') return new TooManyFiles('the form has more than one file: send one CSV per request, in the field "file"');
  if (hasStatus(e) && typeof e.code === 'string' && !e.code.startsWith('FST_')) return e;
  return new MultipartInvalid(`not a valid multipart/form-data body: ${e.message}`);
}

/**
 * `?explain=`: the route's validator is off (its body is a stream), so the query is read here.
 * A repeated parameter counts by its last value.
 */
function explainParameter(query: unknown): boolean {
  const raw = (query as Record<string, string | string[] | undefined> | undefined)?.explain;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new QueryInvalid(`explain must be true or false, not "${value.slice(0, 40)}"`);
}

/**
 * POST /classify: a CSV (multipart field `file`, or a raw text/csv body) in, the labelled CSV
 * streamed out; or a JSON array of objects / NDJSON in, the same objects labelled streamed out.
 * Any body may be compressed (Content-Encoding: gzip, deflate, br).
 */
export async function classifyRoutes(app: FastifyInstance, opts: ClassifyRouteOptions): Promise<void> {
  // Only the body types below are accepted here (Fastify's own JSON parser, which buffers, is
  // replaced by the streaming reader): other types get 415.
  app.removeAllContentTypeParsers();
  // Two files are let through so that the second can be named in the error; a third is a limit error.
  await app.register(multipart, { limits: { fileSize: opts.maxUploadBytes, files: 2, fields: 20, parts: 25 } });
  // Hand the raw body over as a stream: it is parsed lazily, never buffered whole.
  app.addContentTypeParser([...CSV_TYPES, ...JSON_TYPES, ...NDJSON_TYPES], (_request, payload, done) => done(null, payload));

  /**
   * The first file of a form, and a check, when it has been read, that no other file follows.
   * Fields (other than files) are ignored.
   */
  async function formFile(request: FastifyRequest, coding: ContentCoding, cut: AbortController): Promise<{ file: Readable; rest: Transform }> {
    let files: AsyncIterableIterator<MultipartFile>;
    if (coding === 'identity') files = request.files();
    else {
      // @fastify/multipart reads the form from `request.raw`: it is handed a view of the request
      // whose `raw` is the decompressed body (with the request's headers, for the boundary).
      const decoded = Object.assign(decodedBody(request.raw, coding, opts.maxUploadBytes, cut), { headers: request.raw.headers });
      files = request.files.call(Object.create(request, { raw: { value: decoded } }) as FastifyRequest);
    }
    let part: MultipartFile | undefined;
    try {
      part = (await files.next()).value as MultipartFile | undefined;
    } catch (err) {
      // A fault of the body itself (corrupt gzip, a gzip bomb) rather than of the form.
      throw cut.signal.aborted ? (cut.signal.reason as Error) : multipartError(err);
    }
    if (!part) throw new NoFile('the form has no file: send the CSV in a field named "file"');
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw new NoFile(`unexpected form field "${part.fieldname}": send the CSV in a field named "file"`);
    }
    const tooLarge = () => cut.abort(new UploadTooLarge(`upload exceeds the limit of ${opts.maxUploadBytes} bytes`));
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
    return { file: part.file, rest };
  }

  /**
   * The upload as a UTF-8 stream. Size limit: a declared Content-Length over the limit is
   * answered 413 before reading; otherwise the input is cut (`cut`) once the limit is passed. If
   * that happens before the answer has started, the answer is still 413; once the labelled CSV
   * is streaming, it ends with one `error` row whose target_label says the input ended early
   * after N rows and why. The same holds for a second file in a form, and for a connection fault
   * (timeout, bytes past the Content-Length) reported while the request is answered.
   */
  async function uploadStream(request: FastifyRequest, kind: BodyKind, cut: AbortController): Promise<Readable> {
    const report: DecodeReport = { encoding: 'utf-8' };
    request.uploadEncoding = report;
    const coding = contentCoding(request.headers['content-encoding']);
    if (kind === 'multipart') {
      // busboy does not pass a part's charset on: files are UTF-8 unless a byte-order mark says otherwise.
      const { file, rest } = await formFile(request, coding, cut);
      // Errors from busboy mid-file (a truncated form) are multipart errors.
      file.on('error', (err) => cut.abort(hasStatus(err) ? err : multipartError(err)));
      file.pipe(rest);
      return chain(rest, [toUtf8('utf-8', report)]);
    }
    const encoding = resolveCharset(charsetParameter(request.headers['content-type']));
    const declared = Number(request.headers['content-length']);
    if (declared > opts.maxUploadBytes) {
      throw new UploadTooLarge(`upload of ${declared} bytes exceeds the limit of ${opts.maxUploadBytes} bytes`);
    }
    const body = request.body as Readable | undefined;
    if (!body || declared === 0) {
      if (kind === 'csv') throw new CsvEmpty('the request body is empty');
      throw new JsonInvalid(`the request body is empty: send ${kind === 'json' ? 'a JSON array of objects' : 'one JSON object per line'}`);
    }
    return chain(decodedBody(body, coding, opts.maxUploadBytes, cut), [toUtf8(encoding, report)]);
  }

  app.post('/classify', {
    schema: classifySchema,
    // The body is a stream, read by the handler: its schema documents it (OpenAPI), nothing validates it.
    validatorCompiler: () => () => true,
    config: { auth: 'api' },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const explain = explainParameter(request.query);
    // The request keeps the pipeline it started with: a reload swaps in a new one for later
    // requests and closes this one only after the response has ended.
    const lease = app.classifier.acquire();
    if (!lease) {
      reply.header('retry-after', '5');
      throw new NotReady('models are still loading');
    }
    reply.raw.once('close', lease.release);
    // Stops the input early, keeping every complete row received: a size limit, a second file,
    // or a fault on the connection (timeout, bytes past the Content-Length).
    const cut = new AbortController();
    request.onConnectionFault((fault) => cut.abort(fault));
    const kind = bodyKind(request);
    const query = jsonQuery(request, kind);
    if (explain && kind !== 'csv') throw new QueryInvalid('explain=true is for CSV answers: the template columns have no place in JSON or NDJSON yet');
    const input = await uploadStream(request, kind, cut);
    const stats = newRunStats();
    const run: RunOptions = {
      batchSize: opts.batchSize,
      maxRows: opts.maxRows,
      maxMessageChars: opts.maxMessageChars,
      observer: opts.observer,
      stats,
      // One miner per request: a template's text is made of this request's lines only.
      explain: explain ? new TemplateMiner({ maxTemplates: opts.explainMaxTemplates }) : undefined,
      // The service's long-lived miner and store: every row, explained or not (src/templates/).
      templates: opts.templates,
      // A cut that came after the reader had already finished (bytes past the Content-Length).
      inputFault: () => (cut.signal.aborted ? (cut.signal.reason as Error) : undefined),
      breakReason: (err, n) =>
        (err as Error & { code?: string }).code === 'TOO_MANY_FILES' ? `${err.message} (after ${n} rows)` : `input ended early after ${n} rows: ${err.message}`,
    };
    if (kind === 'json' || kind === 'ndjson') {
      const records = jsonRows(input, { format: kind, maxRecordBytes: opts.maxRecordBytes, maxColumns: opts.maxColumns, ...query }, cut.signal);
      const rows = runRows(records, lease.built.pipeline, run);
      const output = await started(kind === 'json' ? labelledJson(rows) : labelledNdjson(rows));
      request.classifyStats = stats;
      return reply.type(kind === 'json' ? 'application/json; charset=utf-8' : 'application/x-ndjson; charset=utf-8').send(output);
    }
    const csv = await openCsv(input, { maxRecordBytes: opts.maxRecordBytes, maxColumns: opts.maxColumns }, cut.signal);
    const rows = runRows(recordRows(csv), lease.built.pipeline, run);
    const output = await started(labelledCsv(csv.header, rows, { neutraliseFormulas: opts.neutraliseFormulas, explain }));
    request.classifyStats = stats;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'inline; filename="labelled.csv"').send(output);
  });
}

/**
 * The answer as a stream, once its first chunk (the header with the first batch, or everything for
 * an input smaller than a batch) is ready. An upload that fails before then rejects with its 4xx
 * instead, since nothing has been sent; after, the output reports a failure in its last row.
 */
async function started(chunks: AsyncGenerator<string>): Promise<Readable> {
  let first: IteratorResult<string>;
  try {
    first = await chunks.next();
  } catch (err) {
    throw toInputError(err);
  }
  async function* all(): AsyncGenerator<string> {
    if (!first.done) yield first.value;
    yield* chunks;
  }
  return Readable.from(all());
}
