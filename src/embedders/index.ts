import type { Config } from '../config.js';
import { resolvePath } from '../config.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileMasker, loadMaskRules } from '../pipeline/masking.js';
import { LexicalEmbedder } from './lexical.js';
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
  const digest = createHash('sha256').update(readFileSync(rulesPath)).digest('hex').slice(0, 12);
  return {
    kind: base.kind,
    dimension: base.dimension,
    fingerprint: `${base.fingerprint}+mask:${digest}`,
    embed: (texts) => base.embed(texts.map(mask)),
    close: base.close ? () => base.close!() : undefined,
  };
}

async function createBase(kind: EmbedderKind, config: Config): Promise<Embedder> {
  if (kind === 'lexical') return new LexicalEmbedder();
  const { modelDir, modelFile, threads, maxSeqLength, batchSize, workerThread } = config.embedder;
  const options = { modelDir: resolvePath(modelDir), modelFile, threads, maxSeqLength, batchSize };
  if (workerThread) return (await import('./onnx-thread.js')).createOnnxThreadEmbedder(options);
  const { createOnnxEmbedder } = await import('./onnx.js');
  return createOnnxEmbedder(options);
}
