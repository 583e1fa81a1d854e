/**
 * The web console at `/`: the assets `npm run build` writes to dist/web (from web/, see
 * web/build.mjs), served by @fastify/static under the service's CSP (the page has no inline
 * script; its one module script and stylesheet are files). A route per built file (no wildcard),
 * so unknown paths stay plain 404s. Hashed asset names are cached for good, index.html is
 * revalidated. Without a build (running from the sources) `/` says how to build it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../../config/index.js';

export const CONSOLE_DIR = resolve(PROJECT_ROOT, 'dist', 'web');

export async function consolePlugin(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const root = opts.dir ?? CONSOLE_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(404).type('text/plain; charset=utf-8').send('The web console is not built: run `npm run build` (it writes dist/web).\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    // `/` is the route below: this version of @fastify/static answers 404 to `/` from its own
    // index handling when preCompressed is on and the client accepts an encoding.
    index: false,
    schemaHide: true,
    // gzip and brotli copies written by the build.
    preCompressed: true,
    globIgnore: ['**/*.gz', '**/*.br'],
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.startsWith(join(root, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
}
