import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { sentenceModelFingerprintOf } from '../models/sentence-model.js';
import { ensureWordVectors, type WordVectors } from '../models/word-vectors.js';
import { LexicalEmbedder } from './lexical.js';
import type { OnnxEmbedderOptions } from './onnx.js';
import type { Embedder } from './types.js';

export type EmbedderKind = 'onnx' | 'lexical';

/** Builds the named embedder from configuration. `onnx` is loaded lazily: it pulls in onnxruntime. */
export async function createEmbedder(kind: EmbedderKind, config: Config): Promise<Embedder> {
  return createBase(kind, config);
}

/**
 * The fingerprint createEmbedder(kind, config) would give, without loading a model (for onnx:
 * the folder's settings and the model file's SHA-256), so a head can be checked before start-up.
 */
export async function embedderFingerprint(kind: EmbedderKind, config: Config): Promise<string> {
  return kind === 'lexical' ? (await lexicalEmbedder(config)).fingerprint : sentenceModelFingerprintOf(resolvePath(config.embedder.modelDir), onnxOptions(config));
}

/** Loaded once per file: every pipeline (re)load and head check of a process shares them. */
const loadedWordVectors = new Map<string, Promise<WordVectors>>();

async function lexicalEmbedder(config: Config): Promise<LexicalEmbedder> {
  const file = config.embedder.wordVectors;
  if (file === '') return new LexicalEmbedder();
  const path = resolvePath(file);
  let loading = loadedWordVectors.get(path);
  if (!loading) {
    loading = ensureWordVectors(path);
    loadedWordVectors.set(path, loading);
    loading.catch(() => loadedWordVectors.delete(path));
  }
  return new LexicalEmbedder({ wordVectors: await loading });
}

function onnxOptions(config: Config): OnnxEmbedderOptions {
  const { modelDir, modelFile, threads, maxSeqLength, batchSize, batchTokens, promptPrefix } = config.embedder;
  return { modelDir: resolvePath(modelDir), modelFile, threads, maxSeqLength, batchSize, batchTokens, promptPrefix };
}

async function createBase(kind: EmbedderKind, config: Config): Promise<Embedder> {
  if (kind === 'lexical') return lexicalEmbedder(config);
  const options = onnxOptions(config);
  if (config.embedder.workerThread) return (await import('./onnx-thread.js')).createOnnxThreadEmbedder(options);
  const { createOnnxEmbedder } = await import('./onnx.js');
  return createOnnxEmbedder(options);
}
