/**
 * Builds the real service (real config, real pipeline, real Fastify) and listens on an
 * ephemeral port, for tests that need real HTTP (streaming, chunked uploads, Content-Length).
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config, type ConfigInput } from '../../src/config/index.js';
import { buildPipeline, type BuiltPipeline } from '../../src/pipeline/build.js';
import { buildServer } from '../../src/http/app.js';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Writable, type Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';

export interface TestServer {
  readonly app: FastifyInstance;
  readonly config: Config;
  /** Base URL, e.g. http://127.0.0.1:54321 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Config overrides merged over the defaults (the logger is always silenced). */
  readonly overrides?: ConfigInput;
  /** false: start without a pipeline (models "still loading"). Default: build the real one. */
  readonly withPipeline?: boolean;
  /** Build a fresh pipeline for this server (own LLM client, breaker and stats; stage metrics). */
  readonly ownPipeline?: boolean;
  /** Capture the server's logs (see captureLogs). */
  readonly log?: { stream: NodeJS.WritableStream; level?: 'info' | 'debug' | 'warn' | 'error' };
}

/** A log sink for a test server: every pino line, raw and parsed. */
export function captureLogs(): { stream: NodeJS.WritableStream; text(): string; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const text = () => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The config every test server uses: defaults, no environment, silent logs, plus overrides. */
export function testConfig(overrides: ConfigInput = {}): Config {
  const base = loadConfig({}, { server: { logLevel: 'silent' } });
  return loadConfig({}, {
    ...overrides,
    server: { ...base.server, ...overrides.server, logLevel: 'silent' },
    // Load shedding on event-loop delay is off unless a test turns it on: a busy test machine
    // (other suites compiling in parallel) would otherwise shed the requests under test.
    pressure: { maxEventLoopDelayMs: 0, ...overrides.pressure },
    // The template store writes a SQLite file: off unless a test turns it on (with its own data.dir).
    templates: { enabled: false, ...overrides.templates },
  } as ConfigInput);
}

// Loading the head and rules is the same for every default-config server: do it once per file.
const pipelines = new Map<string, Promise<BuiltPipeline>>();

export function pipelineFor(config: Config): Promise<BuiltPipeline> {
  // Only the sections that shape the pipeline: servers differing in limits or keys share one.
  const key = JSON.stringify({ ...config, server: undefined, pressure: undefined, auth: undefined, rateLimit: undefined, cors: undefined, metrics: undefined, data: undefined, templates: undefined });
  let built = pipelines.get(key);
  if (!built) {
    built = buildPipeline(config);
    pipelines.set(key, built);
  }
  return built;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const config = testConfig(options.overrides);
  const pipeline = options.withPipeline === false || options.ownPipeline ? undefined : await pipelineFor(config);
  const app = await buildServer({ config, pipeline, log: options.log });
  // A pipeline of its own, built by the server: its stage timings feed this server's metrics.
  if (options.ownPipeline && options.withPipeline !== false) await app.classifier.load();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app,
    config,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => app.close(),
  };
}

// ---- HTTP helpers shared by the /classify suites (real HTTP against a TestServer) ----

export const OUT_COLUMNS = ['target_label', 'label_stage', 'confidence'] as const;
export const STAGES = new Set(['override', 'regex', 'embedding', 'llm', 'fallback', 'error']);

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** The JSON body, when the answer is JSON. */
  readonly json?: { statusCode?: number; code?: string; error?: string; message?: string; [k: string]: unknown };
}

/**
 * One request over node:http, so that Content-Length and chunked framing are exactly what the
 * test says (fetch would compute its own). `body` may be a Buffer/string (sent with a
 * Content-Length unless `chunked`) or a Readable (always chunked).
 */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string | Readable; chunked?: boolean } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    const body = opts.body;
    const isBuffer = typeof body === 'string' || Buffer.isBuffer(body);
    if (isBuffer && !opts.chunked && headers['content-length'] === undefined) headers['content-length'] = Buffer.byteLength(body);
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json: HttpAnswer['json'];
        if (String(res.headers['content-type'] ?? '').includes('application/json')) json = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text, json });
      });
    });
    // The server may answer (4xx) and close before the whole upload is written: that is fine.
    req.on('error', (err: NodeJS.ErrnoException) => reject(err));
    if (body === undefined) req.end();
    else if (isBuffer) req.end(body);
    else {
      (body as Readable).on('error', (err) => req.destroy(err));
      (body as Readable).pipe(req);
    }
  });
}

/** POSTs a CSV as a raw text/csv body. */
export function postCsv(baseUrl: string, csv: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return send(`${baseUrl}/classify`, { headers: { 'content-type': 'text/csv', ...headers }, body: csv });
}

/** POSTs a CSV as multipart/form-data with fetch + FormData (field `file` unless told). */
export async function postMultipart(
  baseUrl: string,
  csv: string | Buffer,
  field = 'file',
): Promise<{ status: number; headers: Headers; text: string; json?: HttpAnswer['json'] }> {
  const form = new FormData();
  form.append(field, new Blob([typeof csv === 'string' ? csv : new Uint8Array(csv)], { type: 'text/csv' }), 'logs.csv');
  const res = await fetch(`${baseUrl}/classify`, { method: 'POST', body: form });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('application/json') ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

/** Parses the service's CSV output strictly (every record must have the header's width). */
export function parseOutput(text: string): { header: string[]; rows: string[][] } {
  const records = parse(text, { bom: false, relax_column_count: false }) as string[][];
  const [header, ...rows] = records;
  return { header: header ?? [], rows };
}

/** Rows as objects keyed by the output header. */
export function outputObjects(text: string): Record<string, string>[] {
  const { header, rows } = parseOutput(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}
