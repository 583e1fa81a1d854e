import { writeFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { readJsonFile } from '../config/json-file.js';
import type { Embedder, Vector } from '../embedding/types.js';
import { MlpModel } from './mlp-model.js';
import { NaiveBayesModel } from './naive-bayes-model.js';
import { SoftmaxRegressionModel, transpose } from './softmax-model.js';
import { softmax, type Head, type HeadKind, type TemperatureScaledHead } from './head-model.js';
import { describeIssue, HeadError } from '../errors.js';

/**
 * Head files and the loaded head the service uses. Two formats load:
 * - `logsift-head/v1`: softmax regression (the original format, still read);
 * - `logsift-head/v2`: any head kind logsift trains (`kind`: softmax | naive-bayes | mlp), written
 *   by `logsift train`.
 * Every head records the embedder it was trained with and refuses another.
 */
const base64Matrix = z.object({
  encoding: z.literal('float32-base64'),
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  data: z.string(),
});

const labelsSchema = z.array(z.string().min(1)).min(2);
const embedderSchema = z.object({
  kind: z.enum(['onnx', 'lexical']),
  fingerprint: z.string().min(1),
  dimension: z.number().int().positive(),
});
const trainingSchema = z.record(z.string(), z.unknown()).optional();

export const headFileV1Schema = z.object({
  format: z.literal('logsift-head/v1'),
  labels: labelsSchema,
  embedder: embedderSchema,
  /** labels × dimension, row-major: as nested arrays or packed float32. */
  weights: z.union([z.array(z.array(z.number())), base64Matrix]),
  bias: z.array(z.number()),
  temperature: z.number().positive().default(1),
  training: trainingSchema,
});

const v2Common = {
  format: z.literal('logsift-head/v2'),
  labels: labelsSchema,
  embedder: embedderSchema,
  temperature: z.number().positive(),
  training: trainingSchema,
};
const softmaxV2 = z.object({
  ...v2Common,
  kind: z.literal('softmax'),
  /** labels × dimension. */
  weights: base64Matrix,
  bias: z.array(z.number()),
});
const naiveBayesV2 = z.object({
  ...v2Common,
  kind: z.literal('naive-bayes'),
  /** Multinomial NB counts |x| of each feature (see src/training/naive-bayes.ts). */
  featureValues: z.literal('abs'),
  logPrior: z.array(z.number()),
  /** dimension × labels: log P(feature | label). */
  featureLogProb: base64Matrix,
});
const mlpV2 = z.object({
  ...v2Common,
  kind: z.literal('mlp'),
  activation: z.literal('relu'),
  /** dimension × hidden. */
  inputWeights: base64Matrix,
  inputBias: z.array(z.number()),
  /** hidden × labels. */
  outputWeights: base64Matrix,
  outputBias: z.array(z.number()),
});
export const headFileV2Schema = z.discriminatedUnion('kind', [softmaxV2, naiveBayesV2, mlpV2]);

export type HeadFileV1 = z.infer<typeof headFileV1Schema>;
export type HeadFileV2 = z.infer<typeof headFileV2Schema>;
export type HeadFile = HeadFileV1 | HeadFileV2;
export type EmbedderBinding = HeadFileV1['embedder'];

export { HeadError } from '../errors.js';

/** A trained model with the kind that names it in a head file. */
export type TrainedHeadModel =
  | { readonly kind: 'softmax'; readonly model: SoftmaxRegressionModel }
  | { readonly kind: 'naive-bayes'; readonly model: NaiveBayesModel }
  | { readonly kind: 'mlp'; readonly model: MlpModel };

/** A head as the service holds it: a model bound to the embedder vector space it was trained in. */
export class LoadedHead implements Head {
  readonly labels: readonly string[];
  readonly kind: HeadKind;
  readonly dimension: number;
  readonly embedderFingerprint: string;
  readonly embedderKind: 'onnx' | 'lexical';
  /** The head file's `training` record (data name, dataSha256, ...), when it has one. */
  readonly training?: Readonly<Record<string, unknown>>;
  readonly model: TemperatureScaledHead;

  constructor(trained: TrainedHeadModel, embedder: EmbedderBinding, training?: Readonly<Record<string, unknown>>) {
    const { model } = trained;
    if (new Set(model.labels).size !== model.labels.length) throw new HeadError('head labels must be unique');
    if (model.dimension !== embedder.dimension) throw new HeadError(`head model has dimension ${model.dimension} but its embedder ${embedder.dimension}`);
    this.kind = trained.kind;
    this.model = model;
    this.labels = model.labels;
    this.dimension = embedder.dimension;
    this.embedderFingerprint = embedder.fingerprint;
    this.embedderKind = embedder.kind;
    this.training = training;
  }

  get temperature(): number {
    return this.model.temperature;
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
  logits(vector: Vector): ArrayLike<number> {
    return this.model.logits(vector);
  }

  /** Calibrated class probabilities. */
  predictProba(vector: Vector): Float32Array {
    return this.model.predictProba(vector);
  }
}

/** The softmax-regression head of a logsift-head/v1 file (or a v2 file of kind softmax). */
export class LogisticHead extends LoadedHead {
  constructor(file: HeadFileV1 | Extract<HeadFileV2, { kind: 'softmax' }>) {
    const L = file.labels.length;
    const D = file.embedder.dimension;
    if (new Set(file.labels).size !== L) throw new HeadError('head labels must be unique');
    if (file.bias.length !== L) throw new HeadError(`head bias has ${file.bias.length} entries for ${L} labels`);
    const byClass = decodeMatrix(file.weights, L, D);
    const model = new SoftmaxRegressionModel(file.labels, D, transpose(byClass, L, D), Float32Array.from(file.bias), file.temperature);
    super({ kind: 'softmax', model }, file.embedder, file.training);
  }
}

export { softmax };

function decodeMatrix(weights: HeadFileV1['weights'], rows: number, cols: number, name = 'weights'): Float32Array {
  if (Array.isArray(weights)) {
    if (weights.length !== rows || weights.some((r) => r.length !== cols)) {
      throw new HeadError(`head ${name} must be ${rows}×${cols}`);
    }
    return Float32Array.from(weights.flat());
  }
  if (weights.rows !== rows || weights.cols !== cols) {
    throw new HeadError(`head ${name} are ${weights.rows}×${weights.cols}, expected ${rows}×${cols}`);
  }
  const bytes = Buffer.from(weights.data, 'base64');
  if (bytes.length !== rows * cols * 4) throw new HeadError(`head ${name} hold ${bytes.length} bytes, expected ${rows * cols * 4}`);
  // Copy into an aligned buffer: Buffer slices may not be 4-byte aligned.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function encodeMatrix(data: Float32Array, rows: number, cols: number): z.infer<typeof base64Matrix> {
  return { encoding: 'float32-base64', rows, cols, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

const FORMATS = ['logsift-head/v1', 'logsift-head/v2'];

export function parseHead(json: unknown, source = 'head'): LoadedHead {
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof json === 'object' && json !== null && !FORMATS.includes(format as string)) {
    throw new HeadError(`${source} is not a valid logsift head: format: expected ${FORMATS.join(' or ')}, got ${JSON.stringify(format)}`);
  }
  const parsed = format === 'logsift-head/v2' ? headFileV2Schema.safeParse(json) : headFileV1Schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${describeIssue(i)}`).join('; ');
    throw new HeadError(`${source} is not a valid logsift head: ${issues}`);
  }
  return headFromFile(parsed.data);
}

/** The loaded head of a validated file; throws HeadError when its arrays do not fit together. */
export function headFromFile(file: HeadFile): LoadedHead {
  if (file.format === 'logsift-head/v1' || file.kind === 'softmax') return new LogisticHead(file);
  const L = file.labels.length;
  const D = file.embedder.dimension;
  // The model constructors check the shapes; their messages become head errors.
  try {
    if (file.kind === 'naive-bayes') {
      if (file.logPrior.length !== L) throw new HeadError(`head logPrior has ${file.logPrior.length} entries for ${L} labels`);
      const model = new NaiveBayesModel(file.labels, D, decodeMatrix(file.featureLogProb, D, L, 'featureLogProb'), Float32Array.from(file.logPrior), file.temperature);
      return new LoadedHead({ kind: 'naive-bayes', model }, file.embedder, file.training);
    }
    const H = file.inputBias.length;
    const model = new MlpModel(
      file.labels,
      D,
      {
        inputWeights: decodeMatrix(file.inputWeights, D, H, 'inputWeights'),
        inputBias: Float32Array.from(file.inputBias),
        outputWeights: decodeMatrix(file.outputWeights, H, L, 'outputWeights'),
        outputBias: Float32Array.from(file.outputBias),
      },
      file.temperature,
    );
    return new LoadedHead({ kind: 'mlp', model }, file.embedder, file.training);
  } catch (err) {
    throw err instanceof HeadError ? err : new HeadError((err as Error).message);
  }
}

/** The logsift-head/v2 file of a trained model. */
export function headFileFor(trained: TrainedHeadModel, embedder: EmbedderBinding, training?: Record<string, unknown>): HeadFileV2 {
  const { labels, temperature } = trained.model;
  const common = { format: 'logsift-head/v2' as const, labels: [...labels], embedder, temperature, ...(training && { training }) };
  const L = labels.length;
  const D = embedder.dimension;
  switch (trained.kind) {
    case 'softmax':
      return { ...common, kind: 'softmax', weights: encodeMatrix(trained.model.weightsByClass(), L, D), bias: [...trained.model.bias] };
    case 'naive-bayes':
      return {
        ...common,
        kind: 'naive-bayes',
        featureValues: 'abs',
        logPrior: [...trained.model.logPrior],
        featureLogProb: encodeMatrix(trained.model.featureLogProb, D, L),
      };
    case 'mlp': {
      const p = trained.model.parameters;
      const H = trained.model.hidden;
      return {
        ...common,
        kind: 'mlp',
        activation: 'relu',
        inputWeights: encodeMatrix(p.inputWeights, D, H),
        inputBias: [...p.inputBias],
        outputWeights: encodeMatrix(p.outputWeights, H, L),
        outputBias: [...p.outputBias],
      };
    }
  }
}

export async function loadHead(path: string): Promise<LoadedHead> {
  const json = await readJsonFile(path, (m) => new HeadError(m), `no classifier head at ${path}; train one with \`logsift train --data FILE.csv\``);
  return parseHead(json, path);
}

export async function saveHead(path: string, file: HeadFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(file) + '\n');
  await rename(tmp, path);
}
