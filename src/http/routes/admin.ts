import type { FastifyInstance } from 'fastify';
import type { Classifier } from '../plugins/classifier.js';
import { ReloadError } from '../plugins/classifier.js';
import type { BuiltPipeline } from '../../pipeline/build.js';
import { ReloadFailed, ReloadInvalid } from '../../errors.js';
import { withPublicPaths } from './health.js';

export interface AdminRouteOptions {
  readonly classifier: Classifier;
  /** Builds a pipeline from the files on disk (the same configuration as at start-up). */
  readonly build: () => Promise<BuiltPipeline>;
  readonly onReload?: (result: 'ok' | 'failed') => void;
}

/**
 * POST /admin/reload: re-reads the regex rules and the model head, checks them, swaps them in.
 * Always needs an admin key (auth.adminKeys); with none configured the route answers 404.
 * 200 with what is now loaded; 422 when the new files are invalid (the old pipeline stays);
 * 500 when building failed otherwise; the reason is in the body and the log.
 */
export async function adminRoutes(app: FastifyInstance, opts: AdminRouteOptions): Promise<void> {
  app.post('/admin/reload', { schema: { hide: true }, config: { auth: 'admin' } }, async (request) => {
    try {
      const result = await opts.classifier.reload(opts.build);
      opts.onReload?.('ok');
      request.log.info({ reload: { generation: result.generation, ms: result.ms, head: result.current.head.path, rules: result.current.rules } }, 'pipeline reloaded');
      return { status: 'reloaded', ...withPublicPaths(result) };
    } catch (err) {
      opts.onReload?.('failed');
      const status = err instanceof ReloadError ? err.statusCode : 500;
      const message = (err as Error).message;
      request.log.error({ reloadError: message }, 'pipeline reload failed');
      throw status === 422 ? new ReloadInvalid(withPublicPaths(message)) : new ReloadFailed(withPublicPaths(message));
    }
  });
}
