/**
 * `onnx` embedder: all-MiniLM-L6-v2, or any sentence-transformers model exported to ONNX (E5,
 * BGE, GTE…), run with onnxruntime-node. The same steps as sentence-transformers' Transformer →
 * Pooling (→ Normalize), each as the model folder configures it (models/sentence-model.ts):
 * put the prompt before the text, tokenise (truncate to maxSeqLength keeping the closing special
 * token), run the model, pool the token states over the attention mask, L2-normalise.
 *
 * The tokenizer comes from @xenova/transformers, loaded from local files only: this module never
 * touches the network.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { PreTrainedTokenizer } from '@xenova/transformers';
import {
  modelDigest,
  readSentenceModel,
  sentenceModelFingerprint,
  type PoolingMode,
  type SentenceModelSettings,
} from '../models/sentence-model.js';
import type { Embedder, Vector } from './types.js';
import { EmbedderError as OnnxEmbedderError } from '../errors.js';

export interface OnnxEmbedderOptions {
  /** Folder with tokenizer.json, tokenizer_config.json, the model file and the sentence-transformers settings. */
  modelDir: string;
  /** Model file relative to modelDir; unset: the first of onnx/model_quantized.onnx, onnx/model.onnx, model.onnx. */
  modelFile?: string;
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
  /** Tokens per text including [CLS] and [SEP]; unset: the folder's max_seq_length, else 256. */
  maxSeqLength?: number;
  /** Texts per model run, at most. */
  batchSize: number;
  /** Tokens per model run, padding included, at most (a longer text runs alone). Default 4096. */
  batchTokens?: number;
  /** Put before every text instead of the folder's default prompt ('' for none). */
  promptPrefix?: string;
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

export { EmbedderError as OnnxEmbedderError } from '../errors.js';

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

/** What the model has run: tokens the texts have, tokens sent with padding, model runs. */
export interface OnnxRunStats {
  runs: number;
  texts: number;
  tokens: number;
  paddedTokens: number;
}

export class OnnxEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  readonly stats: OnnxRunStats = { runs: 0, texts: 0, tokens: 0, paddedTokens: 0 };
  private closed = false;

  /** Prompt tokens left out of pooling (sentence-transformers' include_prompt = false); 0 otherwise. */
  private readonly unpooledPromptTokens: number;

  /** Use createOnnxEmbedder(): it checks the files, loads tokenizer and session, and sets dimension. */
  constructor(
    private readonly ort: typeof OrtModule,
    private readonly session: OrtModule.InferenceSession,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly batchSize: number,
    private readonly batchTokens: number,
    /** How texts become vectors, as read from the model folder and configuration. */
    readonly settings: SentenceModelSettings,
    readonly fingerprint: string,
    readonly dimension: number,
    private readonly outputName: string,
  ) {
    // As sentence-transformers counts it: the prompt's tokens with [CLS], without the closing [SEP].
    this.unpooledPromptTokens = settings.prompt && !settings.poolPrompt ? (tokenizer.encode(settings.prompt) as number[]).length - 1 : 0;
  }

  /** Token ids (prompt included, with [CLS]/[SEP], truncated to maxSeqLength), as fed to the model. */
  tokenize(texts: readonly string[]): number[][] {
    return texts.map((t) => this.encode(t).ids);
  }

  async embed(texts: readonly string[]): Promise<Vector[]> {
    if (this.closed) throw new OnnxEmbedderError('embedder is closed');
    if (texts.length === 0) return [];
    const encoded = texts.map((t) => this.encode(t));
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[b].ids.length - encoded[a].ids.length || a - b);
    const out: Float32Array[] = new Array(texts.length);
    let start = 0;
    for (const size of planBatches(order.map((i) => encoded[i].ids.length), this.batchSize, this.batchTokens)) {
      const idx = order.slice(start, start + size);
      start += size;
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
    const { maxSeqLength, prompt, lowerCase } = this.settings;
    const clipped = text.length > maxSeqLength * MAX_CHARS_PER_TOKEN ? text.slice(0, maxSeqLength * MAX_CHARS_PER_TOKEN) : text;
    const input = lowerCase ? (prompt + clipped).toLowerCase() : prompt + clipped;
    const ids = this.tokenizer.encode(input) as number[];
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
    this.stats.runs++;
    this.stats.texts += items.length;
    this.stats.paddedTokens += items.length * batch.seqLen;
    for (const n of batch.lengths) this.stats.tokens += n;
    const hidden = result[this.outputName];
    try {
      const { pooling, normalize } = this.settings;
      const pooled = poolTokens(hidden.data as Float32Array, hidden.dims as readonly number[], batch.lengths, pooling, this.unpooledPromptTokens);
      return pooled.map(normalize ? l2Normalize : (v) => Float32Array.from(v));
    } finally {
      for (const t of Object.values(result)) t.dispose?.();
    }
  }
}

const DEFAULT_BATCH_TOKENS = 4096;

/**
 * What a model run costs beyond its tokens, in tokens. MiniLM-L6 on onnxruntime, 2 cores: one
 * 16-token line takes 2.9 ms, a token in a large batch ~0.1 ms, so a run's set-up is ~13 tokens.
 */
const RUN_COST_TOKENS = 13;

/**
 * Splits texts, sorted longest first, into consecutive model runs so that the work is least:
 * every run pays RUN_COST_TOKENS plus its padded size (texts × its longest text), has at most
 * `maxTexts` texts and at most `maxTokens` padded tokens (or one text). Fixed-size runs of
 * mixed lengths padded a Codebasics batch to 3× its tokens; this pads little and still batches.
 * Exact dynamic programming over the split points: O(texts × maxTexts). Returns run sizes.
 */
export function planBatches(lengthsDescending: readonly number[], maxTexts: number, maxTokens: number): number[] {
  const n = lengthsDescending.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let end = 1; end <= n; end++) {
    for (let start = end - 1; start >= 0 && end - start <= maxTexts; start--) {
      const padded = (end - start) * lengthsDescending[start];
      if (padded > maxTokens && end - start > 1) break;
      const cost = best[start] + RUN_COST_TOKENS + padded;
      if (cost < best[end]) {
        best[end] = cost;
        cut[end] = start;
      }
    }
  }
  const sizes: number[] = [];
  for (let end = n; end > 0; end = cut[end]) sizes.push(end - cut[end]);
  return sizes.reverse();
}

/**
 * sentence-transformers' Pooling: one vector per text from the model's token states
 * (`dims` = [batch, seqLen, dim]). Text b has `lengths[b]` real tokens (its attention mask is a
 * prefix of ones); the first `skip` of them (an excluded prompt) count for no mode but cls.
 * Several modes are concatenated in the order given. Sums are kept in float64.
 */
export function poolTokens(
  data: Float32Array,
  dims: readonly number[],
  lengths: readonly number[],
  modes: readonly PoolingMode[],
  skip = 0,
): Float64Array[] {
  const [batch, seqLen, dim] = dims;
  if (dims.length !== 3 || batch !== lengths.length) {
    throw new OnnxEmbedderError(`unexpected model output shape [${dims.join(', ')}] for a batch of ${lengths.length}`);
  }
  const out: Float64Array[] = [];
  for (let b = 0; b < batch; b++) {
    const tokens = data.subarray(b * seqLen * dim, (b + 1) * seqLen * dim);
    const pooled = new Float64Array(modes.length * dim);
    modes.forEach((mode, k) => poolOne(mode, tokens, dim, skip, lengths[b], pooled.subarray(k * dim, (k + 1) * dim)));
    out.push(pooled);
  }
  return out;
}

/** One mode over tokens [from, to) of one text (`tokens` is its [seqLen, dim] slice); writes `into`. */
function poolOne(mode: PoolingMode, tokens: Float32Array, dim: number, from: number, to: number, into: Float64Array): void {
  const token = (t: number) => tokens.subarray(t * dim, (t + 1) * dim);
  const addWeighted = (weightOf: (t: number) => number): number => {
    let total = 0;
    for (let t = from; t < to; t++) {
      const w = weightOf(t);
      const h = token(t);
      for (let d = 0; d < dim; d++) into[d] += w * h[d];
      total += w;
    }
    return total;
  };
  const scale = (by: number) => {
    for (let d = 0; d < dim; d++) into[d] /= by;
  };
  switch (mode) {
    case 'cls':
      into.set(token(0));
      return;
    case 'lasttoken':
      if (to - 1 >= from) into.set(token(to - 1));
      return;
    case 'max':
      // Masked positions count as -1e9, as in sentence-transformers.
      into.fill(-1e9);
      for (let t = from; t < to; t++) {
        const h = token(t);
        for (let d = 0; d < dim; d++) if (h[d] > into[d]) into[d] = h[d];
      }
      return;
    case 'mean':
      scale(Math.max(addWeighted(() => 1), 1e-9));
      return;
    case 'mean_sqrt_len_tokens':
      scale(Math.sqrt(Math.max(addWeighted(() => 1), 1e-9)));
      return;
    case 'weightedmean':
      // Position-weighted (SGPT): token t weighs t + 1.
      scale(Math.max(addWeighted((t) => t + 1), 1e-9));
      return;
  }
}

/** Scales to unit length (torch's F.normalize clamp: 1e-12 for the norm). */
export function l2Normalize(v: Float64Array): Float32Array {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  return Float32Array.from(v, (x) => x * scale);
}

/** Mean pooling then L2 normalisation: all-MiniLM-L6-v2's sentence vector. */
export function meanPoolNormalize(data: Float32Array, dims: readonly number[], lengths: readonly number[]): Float32Array[] {
  return poolTokens(data, dims, lengths, ['mean']).map(l2Normalize);
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

/** The model folder's settings with the options' overrides, as the embedder will use them. */
export function onnxEmbedderSettings(options: OnnxEmbedderOptions): SentenceModelSettings {
  try {
    return readSentenceModel(resolve(options.modelDir), {
      modelFile: options.modelFile,
      maxSeqLength: options.maxSeqLength,
      promptPrefix: options.promptPrefix,
    });
  } catch (err) {
    throw new OnnxEmbedderError((err as Error).message);
  }
}

export async function createOnnxEmbedder(options: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  const { threads, batchSize } = options;
  if (!Number.isInteger(threads) || threads < 0) throw new OnnxEmbedderError(`threads must be an integer >= 0, got ${threads}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OnnxEmbedderError(`batchSize must be an integer >= 1, got ${batchSize}`);
  if (options.batchTokens !== undefined && (!Number.isInteger(options.batchTokens) || options.batchTokens < 1)) {
    throw new OnnxEmbedderError(`batchTokens must be an integer >= 1, got ${options.batchTokens}`);
  }

  const dir = resolve(options.modelDir);
  if (!existsSync(dir)) throw new OnnxEmbedderError(`model folder not found: ${dir} (run \`logsift models\` to fetch it)`);
  for (const f of TOKENIZER_FILES) requireFile(join(dir, f), 'tokenizer file');
  const settings = onnxEmbedderSettings(options);
  const { maxSeqLength } = settings;
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2) throw new OnnxEmbedderError(`maxSeqLength must be an integer >= 2, got ${maxSeqLength}`);
  const modelPath = resolve(dir, settings.modelFile);
  requireFile(modelPath, 'ONNX model file');

  const [ort, tokenizer, digest] = await Promise.all([
    import('onnxruntime-node'),
    loadTokenizer(dir),
    modelDigest(modelPath),
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
  // The token states: transformers' name, or sentence-transformers' ONNX export's.
  const outputName = ['last_hidden_state', 'token_embeddings'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];
  const fingerprint = sentenceModelFingerprint(settings, digest);

  // One tiny run tells the output dimension (and warms the session up).
  const batchTokens = options.batchTokens ?? DEFAULT_BATCH_TOKENS;
  const probe = new OnnxEmbedder(ort, session, tokenizer, batchSize, batchTokens, settings, fingerprint, 0, outputName);
  let dimension: number;
  try {
    const [v] = await probe.embed(['']);
    dimension = (v as Float32Array).length;
  } catch (err) {
    await session.release();
    throw new OnnxEmbedderError(`ONNX model ${modelPath} failed on a probe input: ${(err as Error).message}`);
  }
  return new OnnxEmbedder(ort, session, tokenizer, batchSize, batchTokens, settings, fingerprint, dimension, outputName);
}
