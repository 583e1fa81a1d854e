import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { charsetParameter, resolveCharset, toUtf8, type DecodeReport } from '../../csv/charset.js';
import { openCsv, recordRows, toInputError } from '../../csv/reader.js';
import { labelledCsv } from '../../csv/writer.js';
import { TemplateMiner } from '../../lines/templates.js';
import { newRunStats, runRows, type RunStats } from '../../pipeline/run.js';
import { CsvEmpty, MultipartInvalid, NoFile, NotReady, QueryInvalid, TooManyFiles, UploadTooLarge, hasStatus } from '../../errors.js';
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

/**
 * Counts bytes of a raw body and cuts the input past the limit (chunked uploads have no
 * Content-Length); nothing past the limit is passed on.
 */
function byteLimit(limit: number, cut: AbortController): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen <= limit) return callback(null, chunk);
      if (!cut.signal.aborted) cut.abort(new UploadTooLarge(`upload exceeds the limit of ${limit} bytes`));
      callback();
    },
  });
}

/**
 * Pipes `source` through `stages`, passing an error anywhere on to the last stage (which the CSV
 * reader listens to). The source is never destroyed: destroying a request stream would reset the
 * connection before the answer (a 4xx, or the output's closing `error` row) could be sent.
 */
function chain(source: Readable, stages: Transform[]): Transform {
  let prev: Readable = source;
  for (const stage of stages) {
    prev.on('error', (err) => stage.destroy(err));
    prev.pipe(stage);
    prev = stage;
  }
  return prev as Transform;
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

/** POST /classify: a CSV (multipart field `file`, or a raw text/csv body) in, the labelled CSV streamed out. */
export async function classifyRoutes(app: FastifyInstance, opts: ClassifyRouteOptions): Promise<void> {
  // Only CSV bodies are accepted here: without Fastify's JSON parser, other types get 415.
  app.removeAllContentTypeParsers();
  // Two files are let through so that the second can be named in the error; a third is a limit error.
  await app.register(multipart, { limits: { fileSize: opts.maxUploadBytes, files: 2, fields: 20, parts: 25 } });
  // Hand the raw body over as a stream: it is parsed lazily, never buffered whole.
  app.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));

  /**
   * The first file of a form, and a check, when it has been read, that no other file follows.
   * Fields (other than files) are ignored.
   */
  async function formFile(request: FastifyRequest, cut: AbortController): Promise<{ file: Readable; rest: Transform }> {
    const files = request.files();
    let part: MultipartFile | undefined;
    try {
      part = (await files.next()).value as MultipartFile | undefined;
    } catch (err) {
      throw multipartError(err);
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
  async function uploadStream(request: FastifyRequest, cut: AbortController): Promise<Readable> {
    const report: DecodeReport = { encoding: 'utf-8' };
    request.uploadEncoding = report;
    if (request.isMultipart()) {
      // busboy does not pass a part's charset on: files are UTF-8 unless a byte-order mark says otherwise.
      const { file, rest } = await formFile(request, cut);
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
    if (!body || declared === 0) throw new CsvEmpty('the request body is empty');
    return chain(body, [byteLimit(opts.maxUploadBytes, cut), toUtf8(encoding, report)]);
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
    const input = await uploadStream(request, cut);
    const csv = await openCsv(input, { maxRecordBytes: opts.maxRecordBytes, maxColumns: opts.maxColumns }, cut.signal);
    const stats = newRunStats();
    const rows = runRows(recordRows(csv), lease.built.pipeline, {
      batchSize: opts.batchSize,
      maxRows: opts.maxRows,
      maxMessageChars: opts.maxMessageChars,
      observer: opts.observer,
      stats,
      // One miner per request: a template's text is made of this request's lines only.
      explain: explain ? new TemplateMiner({ maxTemplates: opts.explainMaxTemplates }) : undefined,
      // A cut that came after the reader had already finished (bytes past the Content-Length).
      inputFault: () => (cut.signal.aborted ? (cut.signal.reason as Error) : undefined),
      breakReason: (err, n) =>
        (err as Error & { code?: string }).code === 'TOO_MANY_FILES' ? `${err.message} (after ${n} rows)` : `input ended early after ${n} rows: ${err.message}`,
    });
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
