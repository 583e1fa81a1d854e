/**
 * What `logsift consume` answers over HTTP, on the service's own address (server.host,
 * server.port): GET /healthz, GET /readyz (200 once the pipeline is loaded and NATS connected, so
 * the image's HEALTHCHECK works for consumers too) and GET /metrics (Prometheus: the pipeline's
 * metrics as the service has them, plus logsift_consume_*). A bare node:http server: three
 * read-only paths need no framework.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';
import { createMetrics } from '../http/plugins/metrics.js';
import type { ConsumeObserver } from './worker.js';

/** The service's registry and pipeline observer (http/plugins/metrics.ts), with the consumer's own counters. */
export function consumeMetrics(): { registry: Registry; observer: ConsumeObserver } {
  const { registry, observer } = createMetrics();
  const messages = new Counter({ name: 'logsift_consume_messages_total', help: 'Input messages handled (published and acknowledged, or retried)', registers: [registry] });
  const redelivered = new Counter({ name: 'logsift_consume_redelivered_total', help: 'Input messages that had been delivered before (a worker died or a publish failed)', registers: [registry] });
  const published = new Counter({ name: 'logsift_consume_published_total', help: 'Labelled records stored by the output stream (PubAck)', registers: [registry] });
  const duplicates = new Counter({ name: 'logsift_consume_duplicates_total', help: 'Labelled records the output stream already had (a redelivery, de-duplicated by message id)', registers: [registry] });
  const failures = new Counter({ name: 'logsift_consume_publish_failures_total', help: 'Publishes that failed (the input was not acknowledged and comes back)', registers: [registry] });
  const batchSeconds = new Histogram({
    name: 'logsift_consume_batch_duration_seconds',
    help: 'One batch: classification, publishing and acknowledgement',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  for (const c of [messages, redelivered, published, duplicates, failures]) c.inc(0);
  return {
    registry,
    observer: {
      ...observer,
      consumeBatch(count, again, seconds) {
        messages.inc(count);
        if (again) redelivered.inc(again);
        batchSeconds.observe(seconds);
      },
      consumePublished(stored, dup) {
        if (stored) published.inc(stored);
        if (dup) duplicates.inc(dup);
      },
      consumePublishFailed: (count) => failures.inc(count),
    },
  };
}

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** Why the consumer is not ready; undefined when it is. */
  readonly notReady: () => string | undefined;
  /** Serve /metrics from this registry (metrics.enabled); unset: 404. */
  readonly registry?: Registry;
  /** Keys one of which /metrics needs (auth.protectMetrics with keys configured); empty: open. */
  readonly metricsKeys?: readonly string[];
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export async function startHealthServer(options: HealthServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const keys = (options.metricsKeys ?? []).map(digest);
  const keyAccepted = (header: string | undefined): boolean => {
    const given = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    if (!given) return false;
    const candidate = digest(given);
    let found = false;
    for (const k of keys) found = timingSafeEqual(candidate, k) || found;
    return found;
  };
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { statusCode: 405, error: 'Method Not Allowed' });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      const reason = options.notReady();
      return reason ? send(503, { status: 'not ready', reason }) : send(200, { status: 'ready' });
    }
    if (path === '/metrics' && options.registry) {
      if (keys.length && !keyAccepted(req.headers.authorization)) return send(401, { statusCode: 401, error: 'Unauthorized', message: 'send Authorization: Bearer <key>' });
      const registry = options.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => send(500, { statusCode: 500, error: 'Internal Server Error' }),
      );
      return;
    }
    send(404, { statusCode: 404, error: 'Not Found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`cannot listen on ${options.host}:${options.port} for /healthz, /readyz and /metrics (server.host, server.port: set PORT to a free port, 0 for any): ${err.message}`)));
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
