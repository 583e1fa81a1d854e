import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { LabelStats } from './csv/labelled-csv.js';
import { Classifier, type ReloadResult } from './classifier.js';
import { buildPipeline, type BuiltPipeline } from './pipeline/build.js';
import { authPlugin } from './plugins/auth.js';
import { consolePlugin } from './plugins/console.js';
import { clientErrorHandler, connectionFaultsPlugin } from './plugins/connection-faults.js';
import { createMetrics, installMetrics, type ServiceMetrics } from './plugins/metrics.js';
import { protectionPlugin } from './plugins/protection.js';
import { adminRoutes } from './routes/admin.js';
import { classifyRoutes } from './routes/classify.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { RequestLogController, redactUrl } from './request-log.js';

/** The loaded pipeline, swapped in once models are ready (and on reload). */
export type ClassifierHolder = Classifier;

declare module 'fastify' {
  interface FastifyInstance {
    classifier: Classifier;
    metrics: ServiceMetrics;
    /** Builds a pipeline from the configured files, with this server's metrics attached. */
    buildPipeline(): Promise<BuiltPipeline>;
    /** Rebuilds from the files on disk and swaps atomically (SIGHUP, POST /admin/reload). */
    reloadPipeline(): Promise<ReloadResult>;
  }
  interface FastifyRequest {
    classifyStats?: LabelStats;
    /** The message of a 4xx answer, for the request's log line. */
    clientError?: string;
  }
}

export interface ServerOptions {
  readonly config: Config;
  readonly version?: string;
  /** A pipeline already loaded (tests); otherwise the caller sets `app.classifier.current`. */
  readonly pipeline?: BuiltPipeline;
  /** Where logs go (tests capture them); default stdout at config.server.logLevel. */
  readonly log?: { stream: NodeJS.WritableStream; level?: Config['server']['logLevel'] };
}

/** An incoming x-request-id is kept when it is short and plain (no log injection); else a UUID. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

export async function buildServer({ config, version = '0.0.0', pipeline, log }: ServerOptions): Promise<FastifyInstance> {
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
  const classifier = new Classifier(pipeline);
  const metrics = createMetrics(classifier);
  app.decorate('classifier', classifier);
  app.decorate('metrics', metrics);
  app.decorate('buildPipeline', () => buildPipeline(config, { observer: metrics.observer }));
  app.decorate('reloadPipeline', async () => {
    try {
      const result = await classifier.reload(() => app.buildPipeline());
      metrics.reload('ok');
      return result;
    } catch (err) {
      metrics.reload('failed');
      throw err;
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (config.metrics.enabled) installMetrics(app, metrics, { protect: config.auth.protectMetrics });
  await app.register(connectionFaultsPlugin);
  await app.register(protectionPlugin, { config, metrics });
  await app.register(authPlugin, config.auth);

  await app.register(docsRoutes, { version });
  await app.register(consolePlugin);
  await app.register(healthRoutes);
  await app.register(adminRoutes, { classifier, build: () => app.buildPipeline(), onReload: (r) => metrics.reload(r) });
  await app.register(classifyRoutes, {
    batchSize: config.pipeline.batchSize,
    maxUploadBytes: server.maxUploadBytes,
    maxRows: server.maxRows,
    maxMessageChars: server.maxMessageChars,
    maxRecordBytes: server.maxRecordBytes,
    maxColumns: server.maxColumns,
    neutraliseFormulas: server.neutraliseFormulas,
    metrics,
  });
  return app;
}
