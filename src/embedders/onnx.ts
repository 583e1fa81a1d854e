/**
 * `onnx` embedder: all-MiniLM-L6-v2 (or any BERT-shaped sentence-transformers export) run with
 * onnxruntime-node. Same arithmetic as sentence-transformers' Transformer → Pooling(mean) →
 * Normalize: tokenise (truncate to maxSeqLength keeping [CLS]/[SEP]), run the model, mean-pool
 * last_hidden_state over the attention mask, L2-normalise.
 *
 * The tokenizer comes from @xenova/transformers, loaded from local files only: this module never
 * touches the network.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { PreTrainedTokenizer } from '@xenova/transformers';
import type { Embedder, Vector } from './types.js';

export interface OnnxEmbedderOptions {
  /** Folder with tokenizer.json, tokenizer_config.json (and config.json) and the model file. */
  modelDir: string;
  /** Model file relative to modelDir, e.g. onnx/model_quantized.onnx. */
  modelFile: string;
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
  /** Tokens per text including [CLS] and [SEP]; longer texts are truncated. */
  maxSeqLength: number;
  /** Texts per model run. */
  batchSize: number;
}

/** Files the tokenizer needs, relative to modelDir. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

/**
 * Texts longer than this many characters per allowed token are clipped before tokenising, so a
 * pathological multi-megabyte line costs no more than a long one. WordPiece gives at least one
 * token per word of up to 100 characters, so the clip changes the result only for texts that
 * have fewer than maxSeqLength tokens in their first maxSeqLength × 256 characters.
 */
const MAX_CHARS_PER_TOKEN = 256;

export class OnnxEmbedderError extends Error {}

interface Encoded {
  ids: number[];
}

/** Tokenised texts as the model wants them, padded to the longest sequence of the batch. */
interface Batch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  seqLen: number;
  lengths: number[];
}

export class OnnxEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  private closed = false;

  /** Use createOnnxEmbedder(): it checks the files, loads tokenizer and session, and sets dimension. */
  constructor(
    private readonly ort: typeof OrtModule,
    private readonly session: OrtModule.InferenceSession,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly options: OnnxEmbedderOptions,
    readonly fingerprint: string,
    readonly dimension: number,
    private readonly outputName: string,
  ) {}

  /** Token ids (with [CLS]/[SEP], truncated to maxSeqLength), as fed to the model. */
  tokenize(texts: readonly string[]): number[][] {
    return texts.map((t) => this.encode(t).ids);
  }

  async embed(texts: readonly string[]): Promise<Vector[]> {
    if (this.closed) throw new OnnxEmbedderError('embedder is closed');
    if (texts.length === 0) return [];
    const encoded = texts.map((t) => this.encode(t));
    // Longest first, so each batch holds texts of similar length and padding stays small.
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[b].ids.length - encoded[a].ids.length || a - b);
    const out: Float32Array[] = new Array(texts.length);
    const { batchSize } = this.options;
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const vectors = await this.runBatch(idx.map((i) => encoded[i]));
      idx.forEach((orig, k) => (out[orig] = vectors[k]));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private encode(text: string): Encoded {
    const { maxSeqLength } = this.options;
    const clipped = text.length > maxSeqLength * MAX_CHARS_PER_TOKEN ? text.slice(0, maxSeqLength * MAX_CHARS_PER_TOKEN) : text;
    const ids = this.tokenizer.encode(clipped) as number[];
    if (ids.length > maxSeqLength) {
      // Like the Python tokenizers: truncate the content, keep the closing [SEP].
      const sep = ids[ids.length - 1];
      ids.length = maxSeqLength - 1;
      ids.push(sep);
    }
    return { ids };
  }

  private pack(items: readonly Encoded[]): Batch {
    const seqLen = Math.max(...items.map((e) => e.ids.length));
    const n = items.length * seqLen;
    const inputIds = new BigInt64Array(n); // [PAD] is id 0 in BERT vocabularies; set explicitly below
    const attentionMask = new BigInt64Array(n);
    const tokenTypeIds = new BigInt64Array(n);
    const pad = BigInt(this.tokenizer.pad_token_id ?? 0);
    items.forEach((e, row) => {
      const base = row * seqLen;
      for (let j = 0; j < seqLen; j++) {
        if (j < e.ids.length) {
          inputIds[base + j] = BigInt(e.ids[j]);
          attentionMask[base + j] = 1n;
        } else {
          inputIds[base + j] = pad;
        }
      }
    });
    return { inputIds, attentionMask, tokenTypeIds, seqLen, lengths: items.map((e) => e.ids.length) };
  }

  private async runBatch(items: readonly Encoded[]): Promise<Float32Array[]> {
    const { ort, session } = this;
    const batch = this.pack(items);
    const dims = [items.length, batch.seqLen];
    const available: Record<string, BigInt64Array> = {
      input_ids: batch.inputIds,
      attention_mask: batch.attentionMask,
      token_type_ids: batch.tokenTypeIds,
    };
    const feeds: Record<string, OrtModule.Tensor> = {};
    for (const name of session.inputNames) {
      const data = available[name];
      if (!data) throw new OnnxEmbedderError(`model wants an input named "${name}", which this embedder does not provide`);
      feeds[name] = new ort.Tensor('int64', data, dims);
    }
    const result = await session.run(feeds);
    const hidden = result[this.outputName];
    try {
      return meanPoolNormalize(hidden.data as Float32Array, hidden.dims as readonly number[], batch.lengths);
    } finally {
      for (const t of Object.values(result)) t.dispose?.();
    }
  }
}

/**
 * Mean over the first `lengths[b]` positions (the attention mask is a prefix of ones), then L2
 * normalisation; sentence-transformers' clamps (1e-9 for the token count, 1e-12 for the norm).
 */
export function meanPoolNormalize(data: Float32Array, dims: readonly number[], lengths: readonly number[]): Float32Array[] {
  const [batch, seqLen, dim] = dims;
  if (dims.length !== 3 || batch !== lengths.length) {
    throw new OnnxEmbedderError(`unexpected model output shape [${dims.join(', ')}] for a batch of ${lengths.length}`);
  }
  const out: Float32Array[] = [];
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    const count = lengths[b];
    for (let t = 0; t < count; t++) {
      const base = (b * seqLen + t) * dim;
      for (let d = 0; d < dim; d++) acc[d] += data[base + d];
    }
    const denom = Math.max(count, 1e-9);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      acc[d] /= denom;
      norm += acc[d] * acc[d];
    }
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = acc[d] * scale;
    out.push(v);
  }
  return out;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new OnnxEmbedderError(`${what} not found: ${path} (run \`logsift models\` to fetch the transformer files)`);
  }
}

/**
 * Loads the tokenizer from local files only, silencing transformers.js' console output (it warns
 * through console.warn on some paths, e.g. a failed local read).
 */
async function loadTokenizer(dir: string): Promise<PreTrainedTokenizer> {
  const { AutoTokenizer, env } = await import('@xenova/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  // transformers.js joins localModelPath with the model id; with '/' an absolute folder path is
  // used as it is (and no other call can race us by changing a shared prefix).
  env.localModelPath = '/';
  const saved = { warn: console.warn, log: console.log, info: console.info };
  const messages: string[] = [];
  console.warn = console.log = console.info = (...args: unknown[]) => void messages.push(args.map(String).join(' '));
  try {
    return (await AutoTokenizer.from_pretrained(dir, { local_files_only: true })) as PreTrainedTokenizer;
  } catch (err) {
    const detail = messages.length ? ` (${messages.join('; ')})` : '';
    throw new OnnxEmbedderError(`could not load the tokenizer from ${dir}: ${(err as Error).message}${detail}`);
  } finally {
    Object.assign(console, saved);
  }
}

export async function createOnnxEmbedder(options: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  const { threads, maxSeqLength, batchSize } = options;
  if (!Number.isInteger(threads) || threads < 0) throw new OnnxEmbedderError(`threads must be an integer >= 0, got ${threads}`);
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2) throw new OnnxEmbedderError(`maxSeqLength must be an integer >= 2, got ${maxSeqLength}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OnnxEmbedderError(`batchSize must be an integer >= 1, got ${batchSize}`);

  const dir = resolve(options.modelDir);
  if (!existsSync(dir)) throw new OnnxEmbedderError(`model folder not found: ${dir} (run \`logsift models\` to fetch it)`);
  for (const f of TOKENIZER_FILES) requireFile(join(dir, f), 'tokenizer file');
  const modelPath = resolve(dir, options.modelFile);
  requireFile(modelPath, 'ONNX model file');

  const [ort, tokenizer, digest] = await Promise.all([
    import('onnxruntime-node'),
    loadTokenizer(dir),
    sha256File(modelPath),
  ]);
  let session: OrtModule.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new OnnxEmbedderError(`could not load the ONNX model ${modelPath}: ${(err as Error).message}`);
  }
  const outputName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  const fingerprint = `onnx:${digest.slice(0, 16)}:${maxSeqLength}`;

  // One tiny run tells the output dimension (and warms the session up).
  const probe = new OnnxEmbedder(ort, session, tokenizer, options, fingerprint, 0, outputName);
  let dimension: number;
  try {
    const [v] = await probe.embed(['']);
    dimension = (v as Float32Array).length;
  } catch (err) {
    await session.release();
    throw new OnnxEmbedderError(`ONNX model ${modelPath} failed on a probe input: ${(err as Error).message}`);
  }
  return new OnnxEmbedder(ort, session, tokenizer, options, fingerprint, dimension, outputName);
}
