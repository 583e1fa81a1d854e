import type { FastifyInstance } from 'fastify';

/** Liveness and readiness: readiness waits for the models. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const { classifier } = app;
    if (!classifier.current) {
      return reply.code(503).send({ status: classifier.failure ? 'failed' : 'loading', error: classifier.failure });
    }
    return { status: 'ready', ...classifier.current.info };
  });
}
