/**
 * Builds the web console (web/src → dist/web): one esbuild bundle of the TypeScript/Preact app
 * with its CSS, file names carrying a content hash (cached for good), and index.html pointing at
 * them with plain <script src> and <link> tags (the CSP allows no inline script), and gzip and
 * brotli copies of both. `--dev`: not minified, with source maps.
 *
 *   node web/build.mjs [--out DIR] [--dev]
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const WEB = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT = resolve(WEB, '..', 'dist', 'web');

/** @param {{ outDir?: string, minify?: boolean }} [options] */
export async function buildWeb({ outDir: finalDir = DEFAULT_OUT, minify = true } = {}) {
  // Built beside the target, then swapped in: a server starting meanwhile (tests run in
  // parallel) sees the old files or the new ones, never a half-written folder.
  const outDir = `${finalDir}.building-${process.pid}-${Date.now()}`;
  await rm(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    absWorkingDir: WEB,
    entryPoints: { app: 'src/main.tsx' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'edge109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: minify ? false : 'linked',
    legalComments: 'linked',
    outdir: assets,
    entryNames: '[name]-[hash]',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(WEB, p));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js) throw new Error('web build: no JavaScript output');
  const href = (p) => `/assets/${basename(p)}`;
  const tags = [css && `<link rel="stylesheet" href="${href(css)}" />`, `<script type="module" src="${href(js)}"></script>`].filter(Boolean).join('\n    ');
  const html = (await readFile(join(WEB, 'index.html'), 'utf8')).replace('<!--assets-->', tags);
  await writeFile(join(outDir, 'index.html'), html);
  // Compressed copies beside the files: @fastify/static sends them to clients that accept them.
  for (const file of [js, css, join(outDir, 'index.html')].filter(Boolean)) {
    const data = await readFile(file);
    await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }));
    await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  const sizes = Object.fromEntries(
    Object.entries(result.metafile.outputs)
      .filter(([p]) => !p.endsWith('.map'))
      .map(([p, o]) => [relative(outDir, resolve(WEB, p)), o.bytes]),
  );
  await rm(finalDir, { recursive: true, force: true });
  await rename(outDir, finalDir);
  return { outDir: finalDir, sizes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]) : DEFAULT_OUT;
  const { sizes } = await buildWeb({ outDir: out, minify: !args.includes('--dev') });
  for (const [file, size] of Object.entries(sizes)) console.log(`web: ${relative(process.cwd(), join(out, file))} ${(size / 1024).toFixed(1)} KiB`);
}
