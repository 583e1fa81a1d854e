import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { LabelStats } from './csv/labelled-csv.js';
import type { BuiltPipeline } from './pipeline/build.js';
import { classifyRoutes } from './routes/classify.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { RequestLogController } from './request-log.js';

/** The loaded pipeline, swapped in once models are ready (and on reload). */
export interface ClassifierHolder {
  current?: BuiltPipeline;
  failure?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    classifier: ClassifierHolder;
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
}

export async function buildServer({ config, version = '0.0.0', pipeline }: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.server.logLevel,
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    },
    logController: new RequestLogController(),
    requestIdHeader: 'x-request-id',
    // Uploads are streamed; this limit only guards the small JSON bodies Fastify buffers itself.
    bodyLimit: 1024 * 1024,
  });
  app.decorate('classifier', { current: pipeline } satisfies ClassifierHolder);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(docsRoutes, { version });
  await app.register(healthRoutes);
  await app.register(classifyRoutes, { maxUploadBytes: config.server.maxUploadBytes, batchSize: config.pipeline.batchSize });
  return app;
}
