import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openCsv, recordRows, toInputError } from '../../csv/reader.js';
import { truthColumn } from '../../discovery/truth.js';
import { jsonRows } from '../../json/reader.js';
import { newRunStats, type InputRow, type RunStats } from '../../pipeline/run.js';
import { NotReady } from '../../errors.js';
import { xlsxAsCsv } from '../../xlsx/reader.js';
import { discoverRoute } from './discover.js';
import { ANSWER_TYPES, labelledStream, type LabelOptions } from '../labelled.js';
import { readUpload, registerUploadParsers } from '../upload.js';
import type { TemplateTracker } from '../../pipeline/pipeline.js';
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
  }
}

/** What labelledStream needs of the route's options. */
export function labelOptions(opts: ClassifyRouteOptions): LabelOptions {
  return {
    batchSize: opts.batchSize,
    maxRows: opts.maxRows,
    maxMessageChars: opts.maxMessageChars,
    maxRecordBytes: opts.maxRecordBytes,
    maxColumns: opts.maxColumns,
    maxUploadBytes: opts.maxUploadBytes,
    neutraliseFormulas: opts.neutraliseFormulas,
    explainMaxTemplates: opts.explainMaxTemplates,
    templates: opts.templates,
    observer: opts.observer,
  };
}

/**
 * POST /classify: a CSV (multipart field `file`, or a raw text/csv body) or an .xlsx in, the
 * labelled CSV (or .xlsx, asked with Accept) streamed out; or a JSON array of objects / NDJSON in,
 * the same objects labelled streamed out. Any body may be compressed (Content-Encoding: gzip,
 * deflate, br). Reading the upload is http/upload.ts's, labelling it http/labelled.ts's (shared
 * with POST /jobs).
 */
export async function classifyRoutes(app: FastifyInstance, opts: ClassifyRouteOptions): Promise<void> {
  // Only the upload body types are accepted here (Fastify's own JSON parser, which buffers, is
  // replaced by the streaming readers): other types get 415.
  await registerUploadParsers(app, opts);
  const label = labelOptions(opts);

  // POST /discover reads its upload the same way (same parsers, multipart limits and readers).
  await discoverRoute(app, {
    batchSize: opts.batchSize,
    maxRows: opts.maxRows,
    maxMessageChars: opts.maxMessageChars,
    maxTemplates: opts.explainMaxTemplates,
    rows: async (request, cut) => {
      const upload = await readUpload(request, opts, cut);
      const limits = { maxRecordBytes: opts.maxRecordBytes, maxColumns: opts.maxColumns };
      if (upload.format === 'json' || upload.format === 'ndjson') {
        const { messageField, defaultSource } = upload.query;
        const records = jsonRows(upload.input, { format: upload.format, ...limits, messageField, defaultSource }, cut.signal);
        return mapRows(records, (cells, row) => {
          const truth = cells?.value.target_label;
          return { message: row.record?.message ?? '', ...(typeof truth === 'string' && { truth }) };
        });
      }
      const text = upload.format === 'xlsx' ? await xlsxAsCsv(upload.input, { sheet: upload.query.sheet, maxBytes: opts.maxUploadBytes }, cut) : upload.input;
      let csv;
      try {
        csv = await openCsv(text, limits, cut.signal);
      } catch (err) {
        throw toInputError(err);
      }
      const truthAt = truthColumn(csv.header);
      return mapRows(recordRows(csv), (cells, row) => ({ message: row.record?.message ?? '', ...(truthAt >= 0 && row.record && { truth: (cells[truthAt] ?? '').trim() }) }));
    },
  });

  app.post('/classify', {
    schema: classifySchema,
    // The body is a stream, read by the handler: its schema documents it (OpenAPI), nothing validates it.
    validatorCompiler: () => () => true,
    config: { auth: 'api' },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
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
    const upload = await readUpload(request, opts, cut);
    const stats = newRunStats();
    const output = await labelledStream(upload.input, lease.built.pipeline, label, {
      format: upload.format,
      answer: upload.answer,
      query: upload.query,
      stats,
      cut,
      // A cut that came after the reader had already finished (bytes past the Content-Length).
      inputFault: () => (cut.signal.aborted ? (cut.signal.reason as Error) : undefined),
      breakReason: (err, n) =>
        (err as Error & { code?: string }).code === 'TOO_MANY_FILES' ? `${err.message} (after ${n} rows)` : `input ended early after ${n} rows: ${err.message}`,
    });
    request.classifyStats = stats;
    const { type, filename } = ANSWER_TYPES[upload.answer];
    reply.type(type);
    if (upload.answer === 'csv' || upload.answer === 'xlsx') reply.header('content-disposition', `inline; filename="${filename}"`);
    return reply.send(output);
  });
}

/** Rows with their cells replaced (what /discover keeps of a row: its message and ground truth). */
async function* mapRows<C, D>(rows: AsyncIterable<readonly InputRow<C>[]>, cells: (cells: C, row: InputRow<C>) => D): AsyncGenerator<InputRow<D>[]> {
  for await (const run of rows) yield run.map((row) => ({ ...row, cells: cells(row.cells, row) }));
}
