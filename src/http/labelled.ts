/**
 * An upload's stream → the labelled answer's stream, for every format: the reader of the input's
 * format (csv/reader.ts, json/reader.ts, xlsx/reader.ts), the batch driver (pipeline/run.ts) and
 * the writer of the answer's format (csv/writer.ts, json/writer.ts, xlsx/writer.ts). /classify
 * runs it on the request's body, a job (http/jobs/) on its spooled input file.
 */
import type { TemplateTracker } from '../pipeline/pipeline.js';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { openCsv, recordRows, toInputError } from '../csv/reader.js';
import { labelledCsv } from '../csv/writer.js';
import { jsonRows } from '../json/reader.js';
import { labelledJson, labelledNdjson } from '../json/writer.js';
import { TemplateMiner } from '../lines/templates.js';
import type { PipelineObserver } from '../pipeline/observer.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { runRows, type RunOptions, type RunStats } from '../pipeline/run.js';
import { xlsxAsCsv } from '../xlsx/reader.js';
import { labelledXlsx } from '../xlsx/writer.js';

export type InputFormat = 'csv' | 'json' | 'ndjson' | 'xlsx';
export type OutputFormat = InputFormat;

/** How the input is read, from the request's query. */
export interface ReadQuery {
  readonly messageField?: string;
  readonly defaultSource?: string;
  readonly explain?: boolean;
  /** The worksheet of an xlsx upload; default the first. */
  readonly sheet?: string;
}

/** The answer's Content-Type and file name, by format. */
export const ANSWER_TYPES: Readonly<Record<OutputFormat, { type: string; filename: string }>> = {
  csv: { type: 'text/csv; charset=utf-8', filename: 'labelled.csv' },
  json: { type: 'application/json; charset=utf-8', filename: 'labelled.json' },
  ndjson: { type: 'application/x-ndjson; charset=utf-8', filename: 'labelled.ndjson' },
  xlsx: { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', filename: 'labelled.xlsx' },
};

export interface LabelOptions {
  readonly batchSize: number;
  readonly maxRows?: number;
  readonly maxMessageChars?: number;
  readonly maxRecordBytes: number;
  readonly maxColumns: number;
  /** Bytes an xlsx file may decompress to (server.maxUploadBytes). */
  readonly maxUploadBytes: number;
  readonly neutraliseFormulas?: boolean;
  readonly explainMaxTemplates?: number;
  /** The service's long-lived miner and store: every row, explained or not (src/templates/). */
  readonly templates?: TemplateTracker;
  readonly observer?: PipelineObserver;
}

export interface LabelRun {
  readonly format: InputFormat;
  readonly answer: OutputFormat;
  readonly query: ReadQuery;
  readonly stats: RunStats;
  /** Stops the input early (limits, faults, a cancelled job). */
  readonly cut: AbortController;
  readonly inputFault?: RunOptions['inputFault'];
  readonly breakReason?: RunOptions['breakReason'];
  /** Where an xlsx upload that is not a file yet is spooled while it is read (default the OS's). */
  readonly spoolDir?: string;
}

/**
 * The labelled answer as a stream, once its first chunk is ready. An input that fails before then
 * rejects with its 4xx instead, since nothing has been sent; after, the output reports a failure in
 * its last row.
 */
export async function labelledStream(input: Readable | string, pipeline: Pipeline, options: LabelOptions, run: LabelRun): Promise<Readable> {
  const { cut, query } = run;
  const runOptions: RunOptions = {
    batchSize: options.batchSize,
    maxRows: options.maxRows,
    maxMessageChars: options.maxMessageChars,
    observer: options.observer,
    stats: run.stats,
    // One miner per request: a template's text is made of this request's lines only.
    explain: query.explain ? new TemplateMiner({ maxTemplates: options.explainMaxTemplates }) : undefined,
    templates: options.templates,
    inputFault: run.inputFault,
    breakReason: run.breakReason,
  };
  const limits = { maxRecordBytes: options.maxRecordBytes, maxColumns: options.maxColumns };
  if (run.format === 'json' || run.format === 'ndjson') {
    const stream = typeof input === 'string' ? createReadStream(input) : input;
    const records = jsonRows(stream, { format: run.format, ...limits, messageField: query.messageField, defaultSource: query.defaultSource }, cut.signal);
    const rows = runRows(records, pipeline, runOptions);
    return started(run.format === 'json' ? labelledJson(rows) : labelledNdjson(rows));
  }
  let text: Readable;
  if (run.format === 'xlsx') {
    text = await xlsxAsCsv(input, { sheet: query.sheet, maxBytes: options.maxUploadBytes, spoolDir: run.spoolDir }, cut);
  } else text = typeof input === 'string' ? createReadStream(input) : input;
  const csv = await openCsv(text, limits, cut.signal);
  const rows = runRows(recordRows(csv), pipeline, runOptions);
  if (run.answer === 'xlsx') return started(labelledXlsx(csv.header, rows));
  return started(labelledCsv(csv.header, rows, { neutraliseFormulas: options.neutraliseFormulas, explain: query.explain }));
}

async function started(chunks: AsyncGenerator<string | Buffer>): Promise<Readable> {
  let first: IteratorResult<string | Buffer>;
  try {
    first = await chunks.next();
  } catch (err) {
    throw toInputError(err);
  }
  async function* all(): AsyncGenerator<string | Buffer> {
    if (!first.done) yield first.value;
    yield* chunks;
  }
  return Readable.from(all());
}
