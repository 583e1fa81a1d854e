import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import closeWithGrace from 'close-with-grace';
import type { Config } from '../config/index.js';
import { PROJECT_ROOT } from '../config/index.js';
import { buildServer } from '../http/app.js';

/**
 * Runs the service. SIGTERM/SIGINT: stop accepting connections, let in-flight requests (whole
 * CSV streams) finish, close the pipeline, exit 0 — or exit 1 after server.shutdownTimeoutMs.
 * SIGHUP: reload the regex rules and the model head (http/plugins/classifier.ts: validated, swapped
 * atomically; a bad file keeps the old pipeline and logs why).
 */
export async function serveCommand(_argv: string[], config: Config): Promise<number> {
  const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  const app = await buildServer({ config, version, reloadOnSighup: true });
  await app.listen({ host: config.server.host, port: config.server.port });
  let loaded;
  try {
    loaded = await app.classifier.load();
  } catch (err) {
    // Bad rules, a missing or mismatched head: refuse to serve, saying exactly why.
    app.log.fatal(`start-up failed: ${(err as Error).message}`);
    await app.close();
    return 1;
  }
  app.log.info({ pipeline: loaded.info }, 'ready');

  closeWithGrace(
    {
      delay: config.server.shutdownTimeoutMs,
      logger: { error: (message: unknown) => app.log.error(String(message)) },
      // SIGHUP reloads instead (below).
      skip: ['SIGHUP'],
    },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'closing after an uncaught error');
      app.log.info(`${signal ?? 'shutdown'}: closing (no new connections; in-flight requests finish first)`);
      // Stop accepting connections now (app.close() reaches the listener only after the
      // plugins' close hooks), and close keep-alive connections as soon as they fall idle, so
      // the last response to finish lets the process go.
      app.server.close();
      const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(reaper);
      }
      // The classifier plugin's close hook has closed the pipeline once its last request ended.
      app.log.info('closed');
    },
  );
  // SIGHUP reloads: the classifier plugin listens (reloadOnSighup).
  return 0;
}
