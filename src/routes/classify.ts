import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { CsvInputError, openCsv } from '../csv/csv-reader.js';
import { labelCsv } from '../csv/labelled-csv.js';
import type { ServiceMetrics } from '../plugins/metrics.js';

export interface ClassifyRouteOptions {
  readonly maxUploadBytes: number;
  readonly batchSize: number;
  /** Rows per request (0: no limit); past it the output ends with an `error` row saying so. */
  readonly maxRows?: number;
  /** Characters of a message the models see (the output keeps the whole line). */
  readonly maxMessageChars?: number;
  readonly neutraliseFormulas?: boolean;
  readonly metrics?: ServiceMetrics;
}

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];

/** Counts bytes of a raw body and fails the stream past the limit (chunked uploads have no Content-Length). */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(new CsvInputError(413, 'UPLOAD_TOO_LARGE', `upload exceeds the limit of ${limit} bytes`));
      else callback(null, chunk);
    },
  });
}

/** POST /classify: a CSV (multipart field `file`, or a raw text/csv body) in, the labelled CSV streamed out. */
export async function classifyRoutes(app: FastifyInstance, opts: ClassifyRouteOptions): Promise<void> {
  // Only CSV bodies are accepted here: without Fastify's JSON parser, other types get 415.
  app.removeAllContentTypeParsers();
  await app.register(multipart, { limits: { fileSize: opts.maxUploadBytes, files: 1, fields: 20, parts: 25 } });
  // Hand the raw body over as a stream: it is parsed lazily, never buffered whole.
  app.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));

  /**
   * The upload as a stream. Size limit: a declared Content-Length over the limit is answered 413
   * before reading; otherwise the stream fails once the limit is passed. If that happens before
   * the header was read, the answer is still 413; if the labelled CSV has already started
   * streaming (chunked or multipart uploads), the 200 response ends with one `error` row whose
   * target_label says the input ended early after N rows and why.
   */
  async function uploadStream(request: FastifyRequest): Promise<Readable> {
    if (request.isMultipart()) {
      const part = await request.file();
      if (!part) throw new CsvInputError(400, 'NO_FILE', 'the form has no file: send the CSV in a field named "file"');
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw new CsvInputError(400, 'NO_FILE', `unexpected form field "${part.fieldname}": send the CSV in a field named "file"`);
      }
      const tooLarge = () => part.file.destroy(new CsvInputError(413, 'UPLOAD_TOO_LARGE', `upload exceeds the limit of ${opts.maxUploadBytes} bytes`));
      // busboy may have read the whole (small) body and emitted 'limit' before this listener
      // exists: the stream is then already truncated and would end quietly short without this.
      if ((part.file as Readable & { truncated?: boolean }).truncated) tooLarge();
      else part.file.on('limit', tooLarge);
      return part.file;
    }
    const declared = Number(request.headers['content-length']);
    if (declared > opts.maxUploadBytes) {
      throw new CsvInputError(413, 'UPLOAD_TOO_LARGE', `upload of ${declared} bytes exceeds the limit of ${opts.maxUploadBytes} bytes`);
    }
    const body = request.body as Readable | undefined;
    if (!body || declared === 0) throw new CsvInputError(400, 'CSV_EMPTY', 'the request body is empty');
    return body.pipe(byteLimit(opts.maxUploadBytes));
  }

  app.setErrorHandler((error: Error & { code?: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'] ?? '(none)';
      return reply.code(415).send({
        statusCode: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        error: 'Unsupported Media Type',
        message: `content type ${type} is not accepted: send multipart/form-data with a "file" field, or a text/csv body`,
      });
    }
    // Plugins may throw plain objects carrying a status (the rate limiter's 429 body).
    if (!(error instanceof Error) && typeof (error as { statusCode?: unknown }).statusCode === 'number') {
      return reply.code((error as { statusCode: number }).statusCode).send(error);
    }
    return reply.send(error);
  });

  app.post('/classify', { schema: { hide: true }, config: { auth: 'api' } }, async (request: FastifyRequest, reply: FastifyReply) => {
    // The request keeps the pipeline it started with: a reload swaps in a new one for later
    // requests and closes this one only after the response has ended.
    const lease = app.classifier.acquire();
    if (!lease) {
      return reply.code(503).header('retry-after', '5').send({ statusCode: 503, code: 'NOT_READY', error: 'Service Unavailable', message: 'models are still loading' });
    }
    reply.raw.once('close', lease.release);
    const csv = await openCsv(await uploadStream(request));
    const { metrics } = opts;
    const { output, stats } = labelCsv(csv, lease.built.pipeline, {
      batchSize: opts.batchSize,
      maxRows: opts.maxRows,
      maxMessageChars: opts.maxMessageChars,
      neutraliseFormulas: opts.neutraliseFormulas,
      onDecision: metrics && ((d) => metrics.decision(d)),
      onRowLimit: metrics && (() => metrics.rowLimitReached()),
    });
    request.classifyStats = stats;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'inline; filename="labelled.csv"').send(output);
  });
}
