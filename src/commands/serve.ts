import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { PROJECT_ROOT } from '../config.js';
import { buildPipeline } from '../pipeline/build.js';
import { buildServer } from '../server.js';

export async function serveCommand(_argv: string[], config: Config): Promise<number> {
  const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  const app = await buildServer({ config, version });
  await app.listen({ host: config.server.host, port: config.server.port });
  try {
    app.classifier.current = await buildPipeline(config);
  } catch (err) {
    // Bad rules, a missing or mismatched head: refuse to serve, saying exactly why.
    app.log.fatal(`start-up failed: ${(err as Error).message}`);
    await app.close();
    return 1;
  }
  app.log.info({ pipeline: app.classifier.current.info }, 'ready');

  const shutdown = async (signal: string) => {
    app.log.info(`${signal}: closing (in-flight requests finish first)`);
    await app.close();
    await app.classifier.current?.pipeline.close();
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return 0;
}
