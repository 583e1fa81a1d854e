import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../routes/openapi.js';

/** Swagger UI at /docs for the hand-written OpenAPI document (route schemas cannot describe a CSV stream). */
export async function docsRoutes(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument(opts.version) as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
