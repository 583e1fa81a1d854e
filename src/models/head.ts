import { writeFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { readJsonFile } from '../json-file.js';
import type { Embedder, Vector } from '../embedders/types.js';
import { isSparse } from '../embedders/types.js';

/**
 * The classifier head: multinomial logistic regression over an embedder's vectors,
 * with a temperature fitted on held-out data so that its probabilities are calibrated.
 */
const base64Matrix = z.object({
  encoding: z.literal('float32-base64'),
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  data: z.string(),
});

export const headFileSchema = z.object({
  format: z.literal('logsift-head/v1'),
  labels: z.array(z.string().min(1)).min(2),
  embedder: z.object({
    kind: z.enum(['onnx', 'lexical']),
    fingerprint: z.string().min(1),
    dimension: z.number().int().positive(),
  }),
  /** labels × dimension, row-major: as nested arrays or packed float32. */
  weights: z.union([z.array(z.array(z.number())), base64Matrix]),
  bias: z.array(z.number()),
  temperature: z.number().positive().default(1),
  training: z.record(z.string(), z.unknown()).optional(),
});

export type HeadFile = z.infer<typeof headFileSchema>;

export class HeadError extends Error {}

export class LogisticHead {
  readonly labels: readonly string[];
  readonly dimension: number;
  readonly embedderFingerprint: string;
  readonly embedderKind: 'onnx' | 'lexical';
  readonly temperature: number;
  /** The head file's `training` record (data name, dataSha256, ...), when it has one. */
  readonly training?: Readonly<Record<string, unknown>>;
  /** dimension × labels: one contiguous row per feature, the cheap access for sparse input. */
  private readonly weightsByFeature: Float32Array;
  private readonly bias: Float32Array;

  constructor(file: HeadFile) {
    const L = file.labels.length;
    const D = file.embedder.dimension;
    if (new Set(file.labels).size !== L) throw new HeadError('head labels must be unique');
    if (file.bias.length !== L) throw new HeadError(`head bias has ${file.bias.length} entries for ${L} labels`);
    this.labels = file.labels;
    this.dimension = D;
    this.embedderFingerprint = file.embedder.fingerprint;
    this.embedderKind = file.embedder.kind;
    this.temperature = file.temperature;
    this.training = file.training;
    this.bias = Float32Array.from(file.bias);
    this.weightsByFeature = new Float32Array(D * L);
    const rows = decodeMatrix(file.weights, L, D);
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) this.weightsByFeature[d * L + l] = rows[l * D + d];
    }
  }

  /** Refuses an embedder whose vector space differs from the one the head was trained in. */
  assertCompatible(embedder: Pick<Embedder, 'fingerprint' | 'dimension' | 'kind'>): void {
    if (embedder.fingerprint !== this.embedderFingerprint || embedder.dimension !== this.dimension) {
      throw new HeadError(
        `head was trained with embedder ${this.embedderFingerprint} (dim ${this.dimension}) ` +
          `but the configured embedder is ${embedder.fingerprint} (dim ${embedder.dimension}); ` +
          `retrain it with \`logsift train --embedder ${embedder.kind}\``,
      );
    }
  }

  /** Raw scores (before temperature and softmax). */
  logits(vector: Vector): Float32Array {
    const L = this.labels.length;
    const out = Float32Array.from(this.bias);
    const W = this.weightsByFeature;
    if (isSparse(vector)) {
      const { indices, values } = vector;
      for (let i = 0; i < indices.length; i++) {
        const offset = indices[i] * L;
        const v = values[i];
        for (let l = 0; l < L; l++) out[l] += W[offset + l] * v;
      }
    } else {
      for (let d = 0; d < vector.length; d++) {
        const v = vector[d];
        if (v === 0) continue;
        const offset = d * L;
        for (let l = 0; l < L; l++) out[l] += W[offset + l] * v;
      }
    }
    return out;
  }

  /** Calibrated class probabilities. */
  predictProba(vector: Vector): Float32Array {
    return softmax(this.logits(vector), this.temperature);
  }
}

export function softmax(logits: ArrayLike<number>, temperature = 1): Float32Array {
  const out = new Float32Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] / temperature - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function decodeMatrix(weights: HeadFile['weights'], rows: number, cols: number): Float32Array {
  if (Array.isArray(weights)) {
    if (weights.length !== rows || weights.some((r) => r.length !== cols)) {
      throw new HeadError(`head weights must be ${rows}×${cols}`);
    }
    return Float32Array.from(weights.flat());
  }
  if (weights.rows !== rows || weights.cols !== cols) {
    throw new HeadError(`head weights are ${weights.rows}×${weights.cols}, expected ${rows}×${cols}`);
  }
  const bytes = Buffer.from(weights.data, 'base64');
  if (bytes.length !== rows * cols * 4) throw new HeadError(`head weights hold ${bytes.length} bytes, expected ${rows * cols * 4}`);
  // Copy into an aligned buffer: Buffer slices may not be 4-byte aligned.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function encodeMatrix(data: Float32Array, rows: number, cols: number): z.infer<typeof base64Matrix> {
  return { encoding: 'float32-base64', rows, cols, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

export function parseHead(json: unknown, source = 'head'): LogisticHead {
  const parsed = headFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new HeadError(`${source} is not a valid logsift head: ${issues}`);
  }
  return new LogisticHead(parsed.data);
}

export async function loadHead(path: string): Promise<LogisticHead> {
  const json = await readJsonFile(path, (m) => new HeadError(m), `no classifier head at ${path}; train one with \`logsift train --data FILE.csv\``);
  return parseHead(json, path);
}

export async function saveHead(path: string, file: HeadFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(file) + '\n');
  await rename(tmp, path);
}
