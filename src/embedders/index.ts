import type { Config } from '../config.js';
import { resolvePath } from '../config.js';
import { LexicalEmbedder } from './lexical.js';
import type { Embedder } from './types.js';

export type EmbedderKind = 'onnx' | 'lexical';

/** Builds the named embedder from configuration. `onnx` is loaded lazily: it pulls in onnxruntime. */
export async function createEmbedder(kind: EmbedderKind, config: Config): Promise<Embedder> {
  return createBase(kind, config);
}

async function createBase(kind: EmbedderKind, config: Config): Promise<Embedder> {
  if (kind === 'lexical') return new LexicalEmbedder();
  const { modelDir, modelFile, threads, maxSeqLength, batchSize, workerThread } = config.embedder;
  const options = { modelDir: resolvePath(modelDir), modelFile, threads, maxSeqLength, batchSize };
  if (workerThread) return (await import('./onnx-thread.js')).createOnnxThreadEmbedder(options);
  const { createOnnxEmbedder } = await import('./onnx.js');
  return createOnnxEmbedder(options);
}
