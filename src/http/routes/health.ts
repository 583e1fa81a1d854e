import type { FastifyInstance } from 'fastify';
import { withPublicPaths } from '../public-paths.js';
import { healthzSchema, readyzSchema } from './schemas.js';

/** Liveness and readiness: readiness waits for the models. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: healthzSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: readyzSchema }, async (_request, reply) => {
    const { classifier } = app;
    if (!classifier.current) {
      return reply.code(503).send({ status: classifier.failure ? 'failed' : 'loading', error: classifier.failure && withPublicPaths(classifier.failure) });
    }
    return { status: 'ready', ...withPublicPaths(classifier.current.info) };
  });
}
