/**
 * Prometheus metrics at GET /metrics (prom-client, one registry per server).
 *
 * Everything is pushed as it happens through one observer (`app.metrics.observer`, a
 * PipelineObserver): the classifier plugin gives it to every pipeline it builds, and the
 * pipeline hands it to its batch driver, stages and LLM client. Counters therefore carry over a
 * reload by themselves (a new pipeline adds to the same counters). Plus request counters and
 * durations, process metrics (event-loop delay, memory), and at scrape time what this server
 * itself holds: the loaded pipeline's info and the requests leasing it (plugins/classifier.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { CircuitState, LlmErrorKind } from '../../llm/client.js';
import type { PipelineObserver } from '../../pipeline/observer.js';
import { metricsSchema } from '../routes/schemas.js';

/** The pipeline's observer, plus what the HTTP layer reports. */
export interface ServiceObserver extends PipelineObserver {
  reload?(result: 'ok' | 'failed'): void;
  /** A request answered 503 under pressure, by cause. */
  pressure?(cause: string): void;
  /** Templates the template store had never held (written in one flush). */
  templatesNew?(count: number): void;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly observer: ServiceObserver;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics;
  }
}

export interface MetricsPluginOptions {
  /** Serve GET /metrics (config.metrics.enabled); the observer exists either way. */
  readonly expose: boolean;
  /** /metrics needs an API key (config.auth.protectMetrics). */
  readonly protect: boolean;
}

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];
const LLM_ERROR_KINDS: readonly LlmErrorKind[] = ['timeout', 'network', 'http', 'protocol', 'retryAfterTooLong', 'circuitOpen'];

/** The registry and the observer that feeds it. */
export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] });

  const rows = counter('logsift_rows_total', 'Output rows by deciding stage and label (error rows: label "error")', ['stage', 'label']);
  const stageSeconds = new Histogram({
    name: 'logsift_stage_duration_seconds',
    help: 'Time of one stage call on a batch of unique records',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const stageRecords = counter('logsift_stage_records_total', 'Records given to each stage', ['stage']);
  const stageFailures = counter('logsift_stage_failures_total', 'Stage calls that threw (their records moved on)', ['stage']);
  const rowLimit = counter('logsift_row_limit_reached_total', 'Requests cut at server.maxRows');
  const reloads = counter('logsift_reloads_total', 'Pipeline reloads by result', ['result']);
  const pressure = counter('logsift_load_shed_total', 'Requests answered 503 under pressure, by cause', ['cause']);
  const templatesNew = counter('logsift_templates_new_total', 'Templates the template store had never held (new patterns; a template renamed as it generalised is not new)');
  templatesNew.inc(0);
  const cacheHits = counter('logsift_cache_hits_total', 'Rows answered from the decision cache');
  const cacheMisses = counter('logsift_cache_misses_total', 'Rows not in the decision cache');
  const llmCalls = counter('logsift_llm_calls_total', 'LLM calls (one per distinct template, retries included in attempts)');
  const llmAttempts = counter('logsift_llm_attempts_total', 'HTTP requests sent to the LLM');
  const llmRetries = counter('logsift_llm_retries_total', 'LLM attempts beyond the first');
  const llmFailures = counter('logsift_llm_failures_total', 'LLM calls that failed after retries (the rows fell back)');
  const llmTimeouts = counter('logsift_llm_timeouts_total', 'LLM attempts that timed out');
  const llmOpened = counter('logsift_llm_circuit_opened_total', 'Times the LLM circuit breaker opened');
  const llmCacheHits = counter('logsift_llm_cache_hits_total', 'LLM answers taken from its template cache');
  const llmErrors = counter(
    'logsift_llm_errors_total',
    'Failed LLM attempts by kind (timeout, network, http, protocol; retryAfterTooLong = a call given up on a Retry-After longer than it may wait; circuitOpen = a call refused by the open breaker)',
    ['kind'],
  );
  const llmHttpErrors = counter('logsift_llm_http_errors_total', 'Failed LLM attempts by HTTP status', ['status']);
  const llmAnswers = counter(
    'logsift_llm_answers_total',
    'LLM answers: labelled (a known label), unclassified (Unclassified or outside the label set), failed (records that fell back)',
    ['result'],
  );
  for (const result of ['labelled', 'unclassified', 'failed']) llmAnswers.inc({ result }, 0);
  const llmInFlight = new Gauge({ name: 'logsift_llm_in_flight', help: 'LLM calls running (running) and waiting for a slot (queued)', labelNames: ['state'], registers: [registry] });
  // The breaker's last reported state; an open circuit reads half-open once its probe is allowed.
  let circuit: { state: CircuitState; probeAt?: number } | undefined;
  new Gauge({
    name: 'logsift_llm_circuit_state',
    help: 'LLM circuit breaker: 1 for the current state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      if (!circuit) return;
      const state = circuit.state === 'open' && circuit.probeAt !== undefined && Date.now() >= circuit.probeAt ? 'half-open' : circuit.state;
      for (const s of CIRCUIT_STATES) this.set({ state: s }, s === state ? 1 : 0);
    },
  });

  const observer: ServiceObserver = {
    stageCall(stage, records, seconds, failed) {
      stageSeconds.observe({ stage }, seconds);
      stageRecords.inc({ stage }, records);
      if (failed) stageFailures.inc({ stage });
    },
    cache(hits, misses) {
      if (hits) cacheHits.inc(hits);
      if (misses) cacheMisses.inc(misses);
    },
    decision(d, count) {
      rows.inc({ stage: d.stage, label: d.stage === 'error' ? 'error' : d.label }, count);
    },
    rowLimitReached: () => rowLimit.inc(),
    reload: (result) => reloads.inc({ result }),
    pressure: (cause) => pressure.inc({ cause }),
    templatesNew: (count) => templatesNew.inc(count),
    llmCall: () => llmCalls.inc(),
    llmCallEnded: (ok) => {
      if (!ok) llmFailures.inc();
    },
    llmAttempt: () => llmAttempts.inc(),
    llmRetry: () => llmRetries.inc(),
    llmError(kind, status) {
      llmErrors.inc({ kind });
      if (kind === 'timeout') llmTimeouts.inc();
      if (status !== undefined) llmHttpErrors.inc({ status: String(status) });
    },
    llmCircuit(state, { opened, probeAt }) {
      if (!circuit) {
        // An LLM is configured: every series exists from now on, at 0 until it happens.
        for (const kind of LLM_ERROR_KINDS) llmErrors.inc({ kind }, 0);
        llmInFlight.set({ state: 'running' }, 0);
        llmInFlight.set({ state: 'queued' }, 0);
      }
      circuit = { state, probeAt };
      if (opened) llmOpened.inc();
    },
    llmQueue(running, queued) {
      if (running) llmInFlight.inc({ state: 'running' }, running);
      if (queued) llmInFlight.inc({ state: 'queued' }, queued);
    },
    llmAnswers: (result, count) => llmAnswers.inc({ result }, count),
    llmCacheHits: (count) => llmCacheHits.inc(count),
  };
  return { registry, observer };
}

async function metrics(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const service = createMetrics();
  const { registry } = service;
  app.decorate('metrics', service);

  const requests = new Counter({ name: 'logsift_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'logsift_http_request_duration_seconds',
    help: 'Time to the end of the response (for /classify: the whole streamed CSV)',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'logsift_http_requests_in_flight', help: 'HTTP requests being handled', registers: [registry] });
  // What this server holds (the classifier plugin's state), read at scrape time.
  new Gauge({
    name: 'logsift_model_info',
    help: 'The loaded models (value 1): embedder fingerprint, head training-data hash, rule count, LLM model',
    labelNames: ['embedder', 'embedder_fingerprint', 'head', 'head_data_sha256', 'rules', 'llm_model', 'generation'],
    registers: [registry],
    collect() {
      this.reset();
      const info = app.classifier?.current?.info;
      if (!info) return;
      this.set(
        {
          embedder: info.embedder.kind,
          embedder_fingerprint: info.embedder.fingerprint,
          head: info.head.path.split(/[\\/]/).pop() ?? '',
          head_data_sha256: typeof info.head.trainedOn === 'string' ? info.head.trainedOn : 'unknown',
          rules: String(info.rules),
          llm_model: info.llm.model ?? 'none',
          generation: String(app.classifier.generation),
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
      this.set(app.classifier?.inFlight ?? 0);
    },
  });

  if (!options.expose) return;
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

  app.get(
    '/metrics',
    {
      schema: metricsSchema,
      config: { auth: options.protect ? 'api' : 'none' },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

/** Registered first (fastify-plugin): its observer is given to every pipeline the classifier plugin builds. */
export const metricsPlugin = fp(metrics, { name: 'logsift-metrics' });
