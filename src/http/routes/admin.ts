import type { FastifyInstance } from 'fastify';
import { withPublicPaths } from '../public-paths.js';
import { reloadSchema } from './schemas.js';

/**
 * POST /admin/reload: the classifier plugin's reload (the same one SIGHUP runs). Always needs an
 * admin key (auth.adminKeys); with none configured the route answers 404. 200 with what is now
 * loaded; 422 RELOAD_INVALID when the new files are invalid (the old pipeline stays); 500
 * RELOAD_FAILED when building failed otherwise; the reason is in the body and the log.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.post('/admin/reload', { schema: reloadSchema, config: { auth: 'admin' } }, async (request) => {
    const result = await app.classifier.reload(request.log);
    return { status: 'reloaded', ...withPublicPaths(result) };
  });
}
