import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { buildPipeline, type BuiltPipeline } from '../pipeline/build.js';
import { errorsPlugin } from './errors.js';
import { authPlugin } from './plugins/auth.js';
import { consolePlugin } from './plugins/console.js';
import { classifierPlugin } from './plugins/classifier.js';
import { clientErrorHandler, connectionFaultsPlugin } from './plugins/connection-faults.js';
import { docsPlugin } from './plugins/docs.js';
import { metricsPlugin } from './plugins/metrics.js';
import { protectionPlugin } from './plugins/protection.js';
import { templatesPlugin } from './plugins/templates.js';
import { RequestLogController, redactUrl } from './plugins/request-log.js';
import { adminRoutes } from './routes/admin.js';
import { classifyRoutes } from './routes/classify.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { liveRoutes, newLiveStats, type LiveStats } from './routes/live.js';
import { JobManager } from './jobs/manager.js';
import { join } from 'node:path';
import { resolvePath } from '../config/index.js';
import { labelOptions, type ClassifyRouteOptions } from './routes/classify.js';
import { templateRoutes } from './routes/templates.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The jobs of POST /jobs (http/jobs/manager.ts). */
    jobs: JobManager;
    /** What the WebSocket streams (GET /ws/logs) are doing. */
    liveStats: LiveStats;
  }
  interface FastifyRequest {
    /** The message of a 4xx answer, for the request's log line. */
    clientError?: string;
  }
}

export interface ServerOptions {
  readonly config: Config;
  readonly version?: string;
  /** A pipeline already loaded (tests share one between servers; it stays theirs to close); otherwise `app.classifier.load()`. */
  readonly pipeline?: BuiltPipeline;
  /** Reload on SIGHUP (the served process). */
  readonly reloadOnSighup?: boolean;
  /** Where logs go (tests capture them); default stdout at config.server.logLevel. */
  readonly log?: { stream: NodeJS.WritableStream; level?: Config['server']['logLevel'] };
}

/** An incoming x-request-id is kept when it is short and plain (no log injection); else a UUID. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** The service: Fastify with its plugins and routes, nothing else. */
export async function buildServer({ config, version = '0.0.0', pipeline, log, reloadOnSighup = false }: ServerOptions): Promise<FastifyInstance> {
  const { server } = config;
  const headersTimeout = server.requestTimeoutMs > 0 ? Math.min(server.headersTimeoutMs, server.requestTimeoutMs) : server.headersTimeoutMs;
  const app = Fastify({
    logger: {
      level: log?.level ?? server.logLevel,
      ...(log && { stream: log.stream }),
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization'], censor: '[redacted]' },
      // A key sent in the query string (`?api_key=…`) is never logged: query values are redacted.
      serializers: {
        req: (req: { method?: string; url?: string; hostname?: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url ?? ''), host: req.hostname, remoteAddress: req.ip }),
      },
    },
    logController: new RequestLogController(),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Slow clients: headers must arrive within headersTimeout, the whole body within
    // requestTimeout; a connection silent both ways for connectionTimeout is closed.
    requestTimeout: server.requestTimeoutMs,
    connectionTimeout: server.connectionTimeoutMs,
    http: { headersTimeout, requestTimeout: server.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    // Uploads are streamed; this limit only guards the small JSON bodies Fastify buffers itself.
    bodyLimit: 1024 * 1024,
    // A timeout or unreadable bytes while an answer is streaming must not write a raw status
    // line into it: the answer reports the fault, then the connection closes.
    clientErrorHandler: clientErrorHandler({ headersTimeoutMs: headersTimeout, requestTimeoutMs: server.requestTimeoutMs }),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(errorsPlugin);
  // First: @fastify/swagger documents the routes registered after it (every one, /metrics too).
  await app.register(docsPlugin, { version });
  await app.register(metricsPlugin, { expose: config.metrics.enabled, protect: config.auth.protectMetrics });
  const observer = app.metrics.observer;
  await app.register(classifierPlugin, { build: () => buildPipeline(config, { observer }), observer, initial: pipeline, reloadOnSighup });
  await app.register(connectionFaultsPlugin);
  await app.register(protectionPlugin, { config, observer });
  // @fastify/websocket at the root and before auth: its onRequest hook marks an upgrade request so
  // that a refused one (401, 403, 429, or an upgrade to an HTTP-only path) has its socket closed
  // after the answer; registered inside the route's plugin, auth's hook would run first and the
  // refused sockets stay open.
  await app.register(websocket, { options: { maxPayload: server.maxRecordBytes } });
  await app.register(authPlugin, config.auth);
  await app.register(templatesPlugin, { config, observer });

  await app.register(consolePlugin);
  await app.register(healthRoutes);
  await app.register(adminRoutes);
  const classifyOptions: ClassifyRouteOptions = {
    batchSize: config.pipeline.batchSize,
    maxUploadBytes: server.maxUploadBytes,
    maxRows: server.maxRows,
    maxMessageChars: server.maxMessageChars,
    maxRecordBytes: server.maxRecordBytes,
    maxColumns: server.maxColumns,
    neutraliseFormulas: server.neutraliseFormulas,
    explainMaxTemplates: config.pipeline.explainMaxTemplates,
    observer,
    templates: app.templates?.tracker,
  };
  await app.register(classifyRoutes, classifyOptions);

  const jobs = new JobManager({
    root: join(resolvePath(config.data.dir), 'jobs'),
    concurrency: config.jobs.concurrency,
    ttlMs: config.jobs.ttlHours * 3_600_000,
    label: labelOptions(classifyOptions),
    acquire: () => app.classifier.acquire(),
    log: app.log,
  });
  app.decorate('jobs', jobs);
  await jobs.start();
  app.addHook('onClose', async () => jobs.close());
  await app.register(jobRoutes, { jobs, maxUploadBytes: server.maxUploadBytes });

  const liveStats = newLiveStats();
  app.decorate('liveStats', liveStats);
  await app.register(liveRoutes, {
    batchSize: config.pipeline.batchSize,
    maxInFlight: config.live.maxInFlight,
    maxColumns: server.maxColumns,
    maxMessageChars: server.maxMessageChars,
    observer,
    stats: liveStats,
  });
  await app.register(templateRoutes);
  return app;
}
