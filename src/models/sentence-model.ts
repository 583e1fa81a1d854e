/**
 * How a sentence-transformers model folder says to turn token states into a sentence vector.
 * An export (`SentenceTransformer.save`, plus an ONNX file) holds, besides the tokenizer files:
 *
 *   modules.json                       the module chain: Transformer → Pooling (→ Normalize)
 *   1_Pooling/config.json              pooling_mode_cls_token, pooling_mode_mean_tokens, …
 *   config_sentence_transformers.json  prompts ({"query": "query: ", …}) and default_prompt_name
 *   sentence_bert_config.json          max_seq_length, do_lower_case
 *   onnx/model.onnx, onnx/model_quantized.onnx or model.onnx
 *
 * Every file is optional; a missing one means what all-MiniLM-L6-v2 does (the pinned Xenova
 * folder has none of them): mean pooling, L2 normalisation, 256 tokens, no prompt. Missing keys
 * take sentence-transformers' own defaults.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MINILM_MANIFEST } from './manifest.js';
import { describeIssue, SentenceModelError } from '../errors.js';

/** sentence-transformers' pooling modes, in the order its Pooling module concatenates them. */
export const POOLING_MODES = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

/** Where an export keeps its ONNX file, in the order they are tried: the pinned file first. */
export const MODEL_FILE_CANDIDATES = ['onnx/model_quantized.onnx', 'onnx/model.onnx', 'model.onnx'] as const;

/** all-MiniLM-L6-v2's max_seq_length, for folders that do not say. */
export const DEFAULT_MAX_SEQ_LENGTH = 256;

/** Everything that decides which vector a text gets, besides the weights and the tokenizer. */
export interface SentenceModelSettings {
  /** The ONNX file, relative to the folder. */
  readonly modelFile: string;
  /** One or more modes; several are concatenated, as sentence-transformers does. */
  readonly pooling: readonly PoolingMode[];
  /** A Normalize module follows the pooling: vectors are scaled to length 1. */
  readonly normalize: boolean;
  /** Tokens per text, [CLS] and [SEP] included. */
  readonly maxSeqLength: number;
  /** Put before every text (E5: `query: `). */
  readonly prompt: string;
  /** Pool over the prompt's tokens too (sentence-transformers' include_prompt; false for INSTRUCTOR-style models). */
  readonly poolPrompt: boolean;
  /** Lower-case the text before tokenising (sentence_bert_config.json do_lower_case). */
  readonly lowerCase: boolean;
}

/** What configuration may set over the folder. */
export interface SentenceModelOverrides {
  readonly modelFile?: string;
  readonly maxSeqLength?: number;
  /** Replaces the folder's default prompt; '' means none. */
  readonly promptPrefix?: string;
}

export { SentenceModelError } from '../errors.js';

const modulesSchema = z.array(z.object({ path: z.string(), type: z.string() }));

// Keys and defaults as sentence-transformers' Pooling(...) constructor has them.
const poolingSchema = z.object({
  pooling_mode_cls_token: z.boolean().default(false),
  pooling_mode_max_tokens: z.boolean().default(false),
  pooling_mode_mean_tokens: z.boolean().default(true),
  pooling_mode_mean_sqrt_len_tokens: z.boolean().default(false),
  pooling_mode_weightedmean_tokens: z.boolean().default(false),
  pooling_mode_lasttoken: z.boolean().default(false),
  include_prompt: z.boolean().default(true),
});

const sentenceTransformersSchema = z.object({
  prompts: z.record(z.string(), z.string()).default({}),
  default_prompt_name: z.string().nullish(),
});

const sentenceBertSchema = z.object({
  max_seq_length: z.number().int().min(2).nullish(),
  do_lower_case: z.boolean().default(false),
});

/** Parses `dir/name` with `schema`; undefined when the file is not there. */
function readSettingsFile<T extends z.ZodType>(dir: string, name: string, schema: T): z.output<T> | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SentenceModelError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${describeIssue(i)}`).join('; ');
    throw new SentenceModelError(`${path} is not a sentence-transformers file logsift understands: ${issues}`);
  }
  return parsed.data;
}

/** The configured ONNX file, or the first of MODEL_FILE_CANDIDATES present; undefined when none is. */
export function findModelFile(dir: string, configured?: string): string | undefined {
  if (configured) return configured;
  return MODEL_FILE_CANDIDATES.find((file) => existsSync(resolve(dir, file)));
}

/** The module types of modules.json, by their class name (`…models.Pooling` → `Pooling`). */
function moduleChain(dir: string): Array<{ path: string; kind: string }> | undefined {
  const modules = readSettingsFile(dir, 'modules.json', modulesSchema);
  return modules?.map((m) => ({ path: m.path, kind: m.type.split('.').pop() ?? m.type }));
}

/**
 * Reads the folder's settings and applies the overrides. Refuses what the ONNX file cannot hold
 * (a Dense or other module after the transformer: its weights are in a separate file).
 */
export function readSentenceModel(dir: string, overrides: SentenceModelOverrides = {}): SentenceModelSettings {
  const modules = moduleChain(dir);
  const unsupported = modules?.filter((m) => !['Transformer', 'Pooling', 'Normalize'].includes(m.kind)) ?? [];
  if (unsupported.length > 0) {
    throw new SentenceModelError(
      `${join(dir, 'modules.json')} lists ${unsupported.map((m) => `${m.kind} (${m.path || '.'})`).join(', ')}: ` +
        'logsift runs Transformer → Pooling → Normalize only (other modules keep their weights outside the ONNX file)',
    );
  }
  const poolingDir = modules?.find((m) => m.kind === 'Pooling')?.path ?? '1_Pooling';
  const pooling = readSettingsFile(dir, join(poolingDir, 'config.json'), poolingSchema) ?? poolingSchema.parse({});
  const flags: Record<PoolingMode, boolean> = {
    cls: pooling.pooling_mode_cls_token,
    max: pooling.pooling_mode_max_tokens,
    mean: pooling.pooling_mode_mean_tokens,
    mean_sqrt_len_tokens: pooling.pooling_mode_mean_sqrt_len_tokens,
    weightedmean: pooling.pooling_mode_weightedmean_tokens,
    lasttoken: pooling.pooling_mode_lasttoken,
  };
  const modes = POOLING_MODES.filter((m) => flags[m]);
  if (modes.length === 0) throw new SentenceModelError(`${join(dir, poolingDir, 'config.json')} turns every pooling mode off`);

  const st = readSettingsFile(dir, 'config_sentence_transformers.json', sentenceTransformersSchema);
  const defaultName = st?.default_prompt_name;
  if (defaultName && st.prompts[defaultName] === undefined) {
    throw new SentenceModelError(`config_sentence_transformers.json: default_prompt_name "${defaultName}" is not one of its prompts`);
  }
  const bert = readSettingsFile(dir, 'sentence_bert_config.json', sentenceBertSchema);

  const modelFile = findModelFile(dir, overrides.modelFile);
  if (!modelFile) {
    throw new SentenceModelError(
      `no ONNX model in ${dir} (looked for ${MODEL_FILE_CANDIDATES.join(', ')}; run \`logsift models\` for the pinned MiniLM, or set embedder.modelFile)`,
    );
  }
  return {
    modelFile,
    pooling: modes,
    // Without modules.json nothing says; all-MiniLM-L6-v2 normalises.
    normalize: modules ? modules.some((m) => m.kind === 'Normalize') : true,
    maxSeqLength: overrides.maxSeqLength ?? bert?.max_seq_length ?? DEFAULT_MAX_SEQ_LENGTH,
    prompt: overrides.promptPrefix ?? (defaultName ? st.prompts[defaultName] : ''),
    poolPrompt: pooling.include_prompt,
    lowerCase: bert?.do_lower_case ?? false,
  };
}

/**
 * The vector space a head is trained in: the model's SHA-256 and every setting that changes a
 * vector. all-MiniLM-L6-v2's settings add nothing, so its fingerprint (and the heads trained
 * with it) stay what they were before folders could say more: `onnx:<sha256/16>:<maxSeqLength>`.
 */
export function sentenceModelFingerprint(settings: SentenceModelSettings, modelSha256: string): string {
  const parts = ['onnx', modelSha256.slice(0, 16), String(settings.maxSeqLength)];
  if (settings.pooling.join('+') !== 'mean') parts.push(`pool-${settings.pooling.join('+')}`);
  if (!settings.normalize) parts.push('unnormalised');
  if (settings.lowerCase) parts.push('lowercase');
  if (settings.prompt) {
    // A digest: prompts can be long sentences, and the fingerprint is a metrics label.
    parts.push(`prompt-${createHash('sha256').update(settings.prompt).digest('hex').slice(0, 12)}`);
    if (!settings.poolPrompt) parts.push('prompt-unpooled');
  }
  return parts.join(':');
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// Hashing hundreds of megabytes takes seconds, and set-up, the `auto` choice and every reload
// ask: remember digests while the file's size and mtime stay the same.
const digests = new Map<string, { key: string; sha256: Promise<string> }>();

/** SHA-256 of a model file (lowercase hex), computed once per process while the file is unchanged. */
export function modelDigest(path: string): Promise<string> {
  const { size, mtimeMs } = statSync(path);
  const key = `${size}:${mtimeMs}`;
  const known = digests.get(path);
  if (known?.key === key) return known.sha256;
  const sha256 = sha256OfFile(path);
  digests.set(path, { key, sha256 });
  sha256.catch(() => digests.delete(path));
  return sha256;
}

/**
 * The folder's ONNX file when it is not the pinned all-MiniLM-L6-v2 weights: the user's own
 * model, which `logsift models` must not install over. (A download lands only once verified,
 * so an unverified file in the folder was put there by someone.) Undefined when the folder holds
 * no model or the pinned one.
 */
export async function ownModelFile(dir: string, modelFile?: string): Promise<string | undefined> {
  const file = findModelFile(dir, modelFile);
  const path = file && resolve(dir, file);
  if (!path || !existsSync(path)) return undefined;
  const pinned = MINILM_MANIFEST.files.find((f) => f.path.endsWith('.onnx'))!;
  const isPinned = statSync(path).size === pinned.size && (await modelDigest(path)) === pinned.sha256;
  return isPinned ? undefined : path;
}

/** The fingerprint the onnx embedder will have for this folder, without loading the model. */
export async function sentenceModelFingerprintOf(dir: string, overrides: SentenceModelOverrides = {}): Promise<string> {
  const settings = readSentenceModel(dir, overrides);
  const modelPath = resolve(dir, settings.modelFile);
  if (!existsSync(modelPath)) throw new SentenceModelError(`ONNX model file not found: ${modelPath}`);
  return sentenceModelFingerprint(settings, await modelDigest(modelPath));
}
