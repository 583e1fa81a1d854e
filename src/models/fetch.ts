/**
 * Installs the transformer files of a pinned manifest into a folder: each file is copied from a
 * local mirror or downloaded, written to a temporary file, checked against its SHA-256 and only
 * then renamed into place. A file whose digest does not match is never left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { MINILM_MANIFEST, isWeightsFile, type ManifestFile, type ModelManifest } from './manifest.js';
import { findModelFile } from './sentence-model.js';

export type FileStatus = 'present' | 'fetched' | 'missing' | 'error';

export interface FileResult {
  path: string;
  status: FileStatus;
  /** Where the bytes came from: the mirror file or the URL ('fetched'), or why it is 'missing'/'error'. */
  detail?: string;
  /** Size in bytes of the installed file ('present' or 'fetched'). */
  bytes?: number;
  /** Whether this file is model weights (as opposed to tokenizer/config). */
  weights: boolean;
}

export interface FetchResult {
  destDir: string;
  files: FileResult[];
  /** Every file of the manifest is installed and verified. */
  complete: boolean;
}

export interface FetchOptions {
  /** Folder the files go to (created if needed), e.g. models/transformers/all-MiniLM-L6-v2. */
  destDir: string;
  /** Local folder holding `<manifest.name>/<path>`: copy from it instead of downloading. */
  mirror?: string;
  log?: (msg: string) => void;
  fetchImpl?: typeof fetch;
  /** Defaults to the pinned all-MiniLM-L6-v2 manifest; tests inject their own. */
  manifest?: ModelManifest;
  /** Replaces the manifest URLs' base: a file is downloaded from `${urlBase}/${path}`. */
  urlBase?: string;
  /** Per-file download time limit in ms (default 10 minutes). */
  timeoutMs?: number;
}

export class ChecksumError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`SHA-256 mismatch for ${path}: expected ${expected}, got ${actual}; the file was not installed`);
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Streams `source` into a temporary file next to `target` while hashing it; renames it into
 * place only when the SHA-256 matches, otherwise deletes it and throws ChecksumError.
 */
async function installVerified(source: Readable, target: string, file: ManifestFile): Promise<number> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(temp, { flags: 'wx' }));
    const actual = hash.digest('hex');
    if (actual !== file.sha256.toLowerCase()) throw new ChecksumError(file.path, file.sha256, actual);
    await rename(temp, target);
    return bytes;
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

async function download(url: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<Readable> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${response.status} ${response.statusText} from ${url}`);
  }
  return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
}

function message(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return e?.cause?.message ? `${e.message} (${e.cause.message})` : String(e?.message ?? err);
}

/** Installs every file of the manifest into destDir; never throws for a single file's failure. */
export async function fetchTransformerModel(options: FetchOptions): Promise<FetchResult> {
  const manifest = options.manifest ?? MINILM_MANIFEST;
  const destDir = resolve(options.destDir);
  const log = options.log ?? (() => undefined);
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const mirrorDir = options.mirror ? resolve(options.mirror, manifest.name) : undefined;
  const files: FileResult[] = [];

  for (const file of manifest.files) {
    const target = join(destDir, ...file.path.split('/'));
    const weights = isWeightsFile(file.path);
    const result = (status: FileStatus, detail?: string, bytes?: number): void => {
      files.push({ path: file.path, status, detail, bytes, weights });
      log(`${file.path}: ${status}${detail ? ` (${detail})` : ''}`);
    };

    const existing = await fileSize(target);
    if (existing !== undefined) {
      if (existing === file.size && (await sha256OfFile(target)) === file.sha256.toLowerCase()) {
        result('present', undefined, existing);
        continue;
      }
      // A copy that fails its check is removed, so nothing unverified stays installed.
      log(`${file.path}: installed copy does not match the manifest (size or SHA-256); removing it`);
      await unlink(target);
    }

    try {
      if (mirrorDir) {
        const source = join(mirrorDir, ...file.path.split('/'));
        if ((await fileSize(source)) === undefined) {
          result('missing', `not in mirror: ${source}`);
          continue;
        }
        const bytes = await installVerified(createReadStream(source), target, file);
        result('fetched', source, bytes);
      } else {
        const url = options.urlBase ? `${options.urlBase.replace(/\/+$/, '')}/${file.path}` : file.url;
        log(`${file.path}: downloading ${url}`);
        const bytes = await installVerified(await download(url, fetchImpl, timeoutMs), target, file);
        result('fetched', url, bytes);
      }
    } catch (err) {
      result('error', message(err));
    }
  }

  return { destDir, files, complete: files.every((f) => f.status === 'present' || f.status === 'fetched') };
}

/**
 * Whether a transformer folder holds the tokenizer files and the model file (existence only);
 * without modelFile, any of the usual ONNX file places.
 */
export async function transformerInstalled(modelDir: string, modelFile?: string): Promise<boolean> {
  const dir = resolve(modelDir);
  const file = findModelFile(dir, modelFile);
  if (!file) return false;
  const needed = ['tokenizer.json', 'tokenizer_config.json', file];
  const sizes = await Promise.all(needed.map((p) => fileSize(resolve(dir, p))));
  return sizes.every((s) => s !== undefined && s > 0);
}

/** transformerInstalled for the configured embedder folder. */
export async function weightsInstalled(config: Config): Promise<boolean> {
  return transformerInstalled(resolvePath(config.embedder.modelDir), config.embedder.modelFile);
}
