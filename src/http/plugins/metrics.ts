/**
 * Prometheus metrics at GET /metrics (prom-client, one registry per server).
 *
 * Counted as they happen: requests by route and status, request durations, in-flight
 * requests, rows by stage and label, stage call latencies. Read at scrape time from the
 * pipeline's and the LLM's own stats: cache hits/misses, LLM calls, errors by kind, timeouts,
 * circuit state. Plus process metrics (event-loop delay, memory) and the loaded model versions
 * as labels of logsift_model_info. Counters read from a pipeline carry over a reload.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Classifier } from './classifier.js';
import type { BuiltPipeline } from '../../pipeline/build.js';
import type { PipelineObserver } from '../../pipeline/pipeline.js';
import type { Decision } from '../../stages/types.js';

/** The counters other modules feed: decisions (labelled CSV) and stage calls (pipeline). */
export interface ServiceMetrics {
  readonly registry: Registry;
  readonly observer: PipelineObserver;
  decision(decision: Decision): void;
  rowLimitReached(): void;
  reload(result: 'ok' | 'failed'): void;
  pressure(type: string): void;
}

const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;

type Totals = Record<string, number>;

/** Values read from pipeline/LLM stats, summed over every pipeline this server has had. */
function snapshot(built: BuiltPipeline): Totals {
  const p = built.pipeline.stats;
  const t: Totals = { cacheHits: p.cacheHits, cacheMisses: p.cacheMisses };
  const s = built.llmStage.stats();
  t['stage.labelled'] = s.labelled;
  t['stage.unclassified'] = s.unclassified;
  t['stage.failedRecords'] = s.failedRecords;
  t['stage.cacheHits'] = s.cacheHits;
  const c = built.llmClient?.stats();
  if (c) {
    t.calls = c.calls;
    t.attempts = c.attempts;
    t.successes = c.successes;
    t.failures = c.failures;
    t.retries = c.retries;
    t.opened = c.circuit.opened;
    for (const [k, v] of Object.entries(c.errors)) t[`error.${k}`] = v;
    for (const [k, v] of Object.entries(c.httpStatus)) t[`status.${k}`] = v;
  }
  return t;
}

export function createMetrics(classifier: Classifier): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  // Totals of pipelines that were replaced by a reload, so counters never go backwards.
  const retired: Totals = {};
  let last: BuiltPipeline | undefined;
  const totals = (): Totals => {
    const current = classifier.current;
    if (last && current !== last) {
      for (const [k, v] of Object.entries(snapshot(last))) retired[k] = (retired[k] ?? 0) + v;
    }
    last = current ?? last;
    const now = current ? snapshot(current) : {};
    const out: Totals = { ...retired };
    for (const [k, v] of Object.entries(now)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  /** A counter whose value is read at scrape time. */
  const readCounter = (name: string, help: string, read: (t: Totals) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const v = read(totals());
        if (v > 0) this.inc(v);
      },
    });
  const byPrefix = (t: Totals, prefix: string) =>
    Object.entries(t)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v] as const);

  const rows = new Counter({ name: 'logsift_rows_total', help: 'Output rows by deciding stage and label (error rows: label "error")', labelNames: ['stage', 'label'], registers: [registry] });
  const stageSeconds = new Histogram({
    name: 'logsift_stage_duration_seconds',
    help: 'Time of one stage call on a batch of unique records',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const stageRecords = new Counter({ name: 'logsift_stage_records_total', help: 'Records given to each stage', labelNames: ['stage'], registers: [registry] });
  const stageFailures = new Counter({ name: 'logsift_stage_failures_total', help: 'Stage calls that threw (their records moved on)', labelNames: ['stage'], registers: [registry] });
  const rowLimit = new Counter({ name: 'logsift_row_limit_reached_total', help: 'Requests cut at server.maxRows', registers: [registry] });
  const reloads = new Counter({ name: 'logsift_reloads_total', help: 'Pipeline reloads by result', labelNames: ['result'], registers: [registry] });
  const pressure = new Counter({ name: 'logsift_load_shed_total', help: 'Requests answered 503 under pressure, by cause', labelNames: ['cause'], registers: [registry] });

  readCounter('logsift_cache_hits_total', 'Rows answered from the decision cache', (t) => t.cacheHits ?? 0);
  readCounter('logsift_cache_misses_total', 'Rows not in the decision cache', (t) => t.cacheMisses ?? 0);
  readCounter('logsift_llm_calls_total', 'LLM calls (one per distinct template, retries included in attempts)', (t) => t.calls ?? 0);
  readCounter('logsift_llm_attempts_total', 'HTTP requests sent to the LLM', (t) => t.attempts ?? 0);
  readCounter('logsift_llm_retries_total', 'LLM attempts beyond the first', (t) => t.retries ?? 0);
  readCounter('logsift_llm_failures_total', 'LLM calls that failed after retries (the rows fell back)', (t) => t.failures ?? 0);
  readCounter('logsift_llm_timeouts_total', 'LLM attempts that timed out', (t) => t['error.timeout'] ?? 0);
  readCounter('logsift_llm_circuit_opened_total', 'Times the LLM circuit breaker opened', (t) => t.opened ?? 0);
  readCounter('logsift_llm_cache_hits_total', 'LLM answers taken from its template cache', (t) => t['stage.cacheHits'] ?? 0);
  new Counter({
    name: 'logsift_llm_errors_total',
    help: 'Failed LLM attempts by kind (timeout, network, http, protocol, circuitOpen = refused by the open breaker)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, v] of byPrefix(totals(), 'error.')) this.inc({ kind }, v);
    },
  });
  new Counter({
    name: 'logsift_llm_http_errors_total',
    help: 'Failed LLM attempts by HTTP status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, v] of byPrefix(totals(), 'status.')) this.inc({ status }, v);
    },
  });
  new Counter({
    name: 'logsift_llm_answers_total',
    help: 'LLM answers: labelled (a known label), unclassified (Unclassified or outside the label set), failed (records that fell back)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const t = totals();
      this.inc({ result: 'labelled' }, t['stage.labelled'] ?? 0);
      this.inc({ result: 'unclassified' }, t['stage.unclassified'] ?? 0);
      this.inc({ result: 'failed' }, t['stage.failedRecords'] ?? 0);
    },
  });
  new Gauge({
    name: 'logsift_llm_circuit_state',
    help: 'LLM circuit breaker: 1 for the current state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const client = classifier.current?.llmClient;
      if (!client) return;
      const state = client.circuitState;
      for (const s of CIRCUIT_STATES) this.set({ state: s }, s === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'logsift_llm_in_flight',
    help: 'LLM calls running (running) and waiting for a slot (queued)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const s = classifier.current?.llmClient?.stats();
      if (!s) return;
      this.set({ state: 'running' }, s.inFlight);
      this.set({ state: 'queued' }, s.queued);
    },
  });
  new Gauge({
    name: 'logsift_model_info',
    help: 'The loaded models (value 1): embedder fingerprint, head training-data hash, rule count, LLM model',
    labelNames: ['embedder', 'embedder_fingerprint', 'head', 'head_data_sha256', 'rules', 'llm_model', 'generation'],
    registers: [registry],
    collect() {
      this.reset();
      const built = classifier.current;
      if (!built) return;
      const { info } = built;
      this.set(
        {
          embedder: info.embedder.kind,
          embedder_fingerprint: info.embedder.fingerprint,
          head: info.head.path.split(/[\\/]/).pop() ?? '',
          head_data_sha256: typeof info.head.trainedOn === 'string' ? info.head.trainedOn : 'unknown',
          rules: String(info.rules),
          llm_model: info.llm.model ?? 'none',
          generation: String(classifier.generation),
        },
        1,
      );
    },
  });
  new Gauge({
    name: 'logsift_pipeline_leases',
    help: 'Requests holding a pipeline (in-flight /classify requests)',
    registers: [registry],
    collect() {
      this.set(classifier.inFlight);
    },
  });

  return {
    registry,
    observer: {
      stageCall(stage, records, seconds, failed) {
        stageSeconds.observe({ stage }, seconds);
        stageRecords.inc({ stage }, records);
        if (failed) stageFailures.inc({ stage });
      },
    },
    decision(d) {
      rows.inc({ stage: d.stage, label: d.stage === 'error' ? 'error' : d.label });
    },
    rowLimitReached: () => rowLimit.inc(),
    reload: (result) => reloads.inc({ result }),
    pressure: (cause) => pressure.inc({ cause }),
  };
}

/** Request counters and the /metrics route. */
export function installMetrics(app: FastifyInstance, metrics: ServiceMetrics, options: { protect: boolean }): void {
  const { registry } = metrics;
  const requests = new Counter({ name: 'logsift_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'logsift_http_request_duration_seconds',
    help: 'Time to the end of the response (for /classify: the whole streamed CSV)',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'logsift_http_requests_in_flight', help: 'HTTP requests being handled', registers: [registry] });

  app.addHook('onRequest', async (request, reply) => {
    inFlight.inc();
    // 'close' fires exactly once per response, finished or aborted.
    reply.raw.once('close', () => {
      inFlight.dec();
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route };
      requests.inc({ ...labels, status: String(reply.raw.writableFinished ? reply.statusCode : 499) });
      duration.observe(labels, reply.elapsedTime / 1000);
    });
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: options.protect ? 'api' : 'none' } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
