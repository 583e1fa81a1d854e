import type { Config } from '../config.js';
import { resolvePath } from '../config.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sentenceModelFingerprintOf } from '../models/sentence-model.js';
import { compileMasker, loadMaskRules } from '../pipeline/masking.js';
import { LexicalEmbedder } from './lexical.js';
import type { OnnxEmbedderOptions } from './onnx.js';
import type { Embedder } from './types.js';

export type EmbedderKind = 'onnx' | 'lexical';

/**
 * Builds the named embedder from configuration. `onnx` is loaded lazily: it pulls in onnxruntime.
 * With `embedder.maskInput` the embedder sees the cache-key masked form of each line (fewer
 * tokens for id-heavy lines); the fingerprint says so, so heads trained one way are refused the other.
 */
export async function createEmbedder(kind: EmbedderKind, config: Config): Promise<Embedder> {
  const base = await createBase(kind, config);
  if (!config.embedder.maskInput) return base;
  const rulesPath = resolvePath(config.pipeline.maskRulesPath);
  const mask = compileMasker(loadMaskRules(rulesPath));
  return {
    kind: base.kind,
    dimension: base.dimension,
    fingerprint: base.fingerprint + maskSuffix(config),
    embed: (texts) => base.embed(texts.map(mask)),
    close: base.close ? () => base.close!() : undefined,
  };
}

/**
 * The fingerprint createEmbedder(kind, config) would give, without loading a model (for onnx:
 * the folder's settings and the model file's SHA-256), so a head can be checked before start-up.
 */
export async function embedderFingerprint(kind: EmbedderKind, config: Config): Promise<string> {
  const base = kind === 'lexical' ? new LexicalEmbedder().fingerprint : await sentenceModelFingerprintOf(resolvePath(config.embedder.modelDir), onnxOptions(config));
  return config.embedder.maskInput ? base + maskSuffix(config) : base;
}

function maskSuffix(config: Config): string {
  const digest = createHash('sha256').update(readFileSync(resolvePath(config.pipeline.maskRulesPath))).digest('hex').slice(0, 12);
  return `+mask:${digest}`;
}

function onnxOptions(config: Config): OnnxEmbedderOptions {
  const { modelDir, modelFile, threads, maxSeqLength, batchSize, promptPrefix } = config.embedder;
  return { modelDir: resolvePath(modelDir), modelFile, threads, maxSeqLength, batchSize, promptPrefix };
}

async function createBase(kind: EmbedderKind, config: Config): Promise<Embedder> {
  if (kind === 'lexical') return new LexicalEmbedder();
  const options = onnxOptions(config);
  if (config.embedder.workerThread) return (await import('./onnx-thread.js')).createOnnxThreadEmbedder(options);
  const { createOnnxEmbedder } = await import('./onnx.js');
  return createOnnxEmbedder(options);
}
