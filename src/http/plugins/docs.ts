/**
 * The OpenAPI document, generated from the route schemas (@fastify/swagger, dynamic mode), at
 * /docs/json, and Swagger UI at /docs. Registered before the routes so that it sees them all.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function docs(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'logsift',
        version: opts.version,
        description:
          'Classifies log lines. Each row is decided by regex rules, then a sentence-embedding + ' +
          'logistic-regression head, then (for rare or ambiguous lines) an LLM.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key (auth.apiKeys) or, for /admin, an admin key (auth.adminKeys)' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

export const docsPlugin = fp(docs, { name: 'logsift-docs' });
