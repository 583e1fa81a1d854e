import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** The project root (where configs/ and models/ live), resolved from this file's location. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const positiveInt = z.coerce.number().int().positive();
const probability = z.coerce.number().min(0).max(1);
/** A boolean that also reads `true`/`false`/`1`/`0`/`yes`/`no` from the environment. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const millis = z.coerce.number().int().min(0);
/** API keys: long random strings (at least 16 characters). */
const keyList = z.array(z.string().min(16, 'API keys must be at least 16 characters'));

const serverSchema = z.object({
  host: z.string().default('0.0.0.0'),
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted upload, in bytes (413 above it). */
  maxUploadBytes: positiveInt.default(1024 * 1024 * 1024),
  /** Rows per request; 0 means no limit. Past it the output ends with one `error` row saying so. */
  maxRows: z.coerce.number().int().min(0).default(0),
  /** Characters of a log message the models see; the output always keeps the whole line. */
  maxMessageChars: positiveInt.default(10_000),
  /**
   * Bytes of one CSV record (its raw text, quotes and delimiters included). A data record over it
   * becomes one `error` row naming its line; a header over it is answered 400. Bounds the memory
   * one record can take.
   */
  maxRecordBytes: positiveInt.default(16 * 1024 * 1024),
  /** Fields of one CSV record: a data record with more is one `error` row, a header with more is 400. */
  maxColumns: positiveInt.default(400),
  /** Prefix cells starting with = + - @ tab CR with ' (OWASP CSV injection). */
  neutraliseFormulas: flag.default(true),
  /** Time a client has to send the request headers (slowloris). */
  headersTimeoutMs: positiveInt.default(30_000),
  /** Time a client has to send the whole request body; 0 = no limit. */
  requestTimeoutMs: millis.default(600_000),
  /** A socket with no traffic either way for this long is closed; 0 = never. Must exceed the slowest LLM batch. */
  connectionTimeoutMs: millis.default(300_000),
  /** On SIGTERM/SIGINT, in-flight requests get this long to finish before the process exits anyway. */
  shutdownTimeoutMs: positiveInt.default(60_000),
});

const pressureSchema = z.object({
  /** New requests get 503 + Retry-After while the event loop lags more than this (ms); 0 = off. */
  maxEventLoopDelayMs: millis.default(1000),
  /** ... while the V8 heap is larger than this; 0 = off. */
  maxHeapUsedBytes: z.coerce.number().int().min(0).default(0),
  /** ... while the resident set is larger than this; 0 = off. */
  maxRssBytes: z.coerce.number().int().min(0).default(0),
  retryAfterSeconds: positiveInt.default(10),
});

const authSchema = z.object({
  /** Keys accepted as `Authorization: Bearer <key>` on /classify; empty = /classify is open. */
  apiKeys: keyList.default([]),
  /** Keys for /admin/* (also accepted on /classify); empty = admin endpoints are disabled. */
  adminKeys: keyList.default([]),
  /** Also require an API key (when any is configured) on /metrics. */
  protectMetrics: flag.default(false),
  /**
   * Failed authentications (401/403) per client IP per window; past it every request from that
   * IP to a key-protected route is answered 429 until the window ends. 0 = no limit.
   */
  maxFailures: z.coerce.number().int().min(0).default(10),
  failureWindowMs: positiveInt.default(60_000),
});

const rateLimitSchema = z.object({
  /** Requests per window per API key (or client IP without a key); 0 = no rate limit. */
  max: z.coerce.number().int().min(0).default(0),
  windowMs: positiveInt.default(60_000),
});

const corsSchema = z.object({
  /** Origins allowed to call the API from a browser; empty = CORS off (no CORS headers). */
  origins: z.array(z.string().min(1)).default([]),
});

const metricsSchema = z.object({
  /** Serve Prometheus metrics at GET /metrics. */
  enabled: flag.default(true),
});

const pipelineSchema = z.object({
  /** Sources whose lines skip regex and embedding and go straight to the LLM stage. */
  llmSources: z.array(z.string()).default(['LegacyCRM']),
  /**
   * Embedding verdicts below this probability are passed on to the LLM. 0.7 is read off the
   * held-out coverage/accuracy curves in docs/EVALUATION.md: it keeps 99 % of in-distribution
   * lines (accuracy 0.996) and sends a fifth of unfamiliar ones (accuracy about 0.5) onwards.
   */
  confidenceThreshold: probability.default(0.7),
  /** Rows classified together in one pipeline call. */
  batchSize: positiveInt.default(256),
  /** Decisions remembered per masked message (LRU); 0 turns the cache off. */
  cacheSize: z.coerce.number().int().min(0).default(100_000),
  /** Ordered masking rules for cache keys (numbers, ids, IPs, paths, quoted values). */
  maskRulesPath: z.string().default('configs/mask_rules.json'),
  /** Ordered header formats that split a line into level, component and message. */
  headerPatternsPath: z.string().default('configs/header_patterns.json'),
  /** One-line label definitions and the precedence order, sent in the LLM prompt. */
  labelsPath: z.string().default('configs/labels.json'),
  /** Label given when no stage decides and no earlier stage had a guess. */
  unclassifiedLabel: z.string().min(1).default('Unclassified'),
});

const regexSchema = z.object({
  rulesPath: z.string().default('configs/regex_rules.json'),
});

const embedderSchema = z.object({
  /** `auto` uses `onnx` when its weights and head are installed, otherwise `lexical`. */
  kind: z.enum(['auto', 'onnx', 'lexical']).default('auto'),
  /**
   * Transformer folder: the pinned all-MiniLM-L6-v2 (`logsift models`), or any sentence-transformers
   * ONNX export, whose pooling, normalisation, prompts and max_seq_length are read from its files.
   */
  modelDir: z.string().default('models/transformers/all-MiniLM-L6-v2'),
  /** ONNX file inside modelDir; unset: onnx/model_quantized.onnx, onnx/model.onnx or model.onnx, the first present. */
  modelFile: z.string().min(1).optional(),
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
  threads: z.coerce.number().int().min(0).default(0),
  /** Tokens per line; unset: the folder's sentence_bert_config.json max_seq_length, else 256. */
  maxSeqLength: positiveInt.min(2).max(512).optional(),
  /**
   * Text put before every line (E5: `query: `); unset: the folder's default prompt
   * (config_sentence_transformers.json default_prompt_name). '' (config file) for none.
   */
  promptPrefix: z.string().optional(),
  batchSize: positiveInt.default(32),
  /**
   * onnx only: texts to embed from concurrent batches and requests are gathered for this many
   * milliseconds (or until batchSize × 8 are waiting) and run together, sorted by length; 0 off.
   */
  batchWindowMs: z.coerce.number().min(0).max(1000).default(2),
  /**
   * Run the onnx model in a worker thread. onnxruntime-node blocks the calling thread while the
   * model runs; on the main thread a batch stalls every request and health check meanwhile.
   */
  workerThread: flag.default(true),
});

const headSchema = z.object({
  /** Folder holding head-<embedder>.json files. */
  dir: z.string().default('models'),
});

const llmSchema = z.object({
  /** OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama). Unset: no LLM stage. */
  baseUrl: z.string().url().optional(),
  model: z.string().default('gpt-4o-mini'),
  apiKey: z.string().optional(),
  timeoutMs: positiveInt.default(15000),
  /**
   * The most one call may take, its attempts, back-off and Retry-After waits together; a retry
   * that could not start before it is not made. Unset: the longest a call takes without
   * Retry-After (every attempt timing out, plus the back-off between them).
   */
  callBudgetMs: positiveInt.optional(),
  retries: z.coerce.number().int().min(0).max(10).default(2),
  concurrency: positiveInt.default(4),
  /** Consecutive failed attempts that open the circuit breaker (no calls until the cool-down ends). */
  breakerThreshold: positiveInt.default(5),
  breakerCooldownMs: positiveInt.default(30_000),
  /**
   * Longest Retry-After (429/503) a call waits before retrying. A server asking for more gets no
   * retry: the call falls back at once and the circuit opens (probed again after the cool-down).
   */
  maxRetryAfterMs: millis.default(10_000),
  /** Largest response body read from the LLM (a label is a few bytes); past it the attempt fails. */
  maxResponseBytes: positiveInt.default(64 * 1024),
  cacheSize: positiveInt.default(10000),
  /** Confidence reported for a label the LLM chose (it gives no probability of its own). */
  confidence: probability.default(0.8),
});

const modelsSchema = z.object({
  /** Local folder replacing the download (offline machines), e.g. ../shared/models. */
  mirror: z.string().optional(),
});

export const configSchema = z.object({
  server: serverSchema.default(serverSchema.parse({})),
  pipeline: pipelineSchema.default(pipelineSchema.parse({})),
  regex: regexSchema.default(regexSchema.parse({})),
  embedder: embedderSchema.default(embedderSchema.parse({})),
  head: headSchema.default(headSchema.parse({})),
  llm: llmSchema.default(llmSchema.parse({})),
  models: modelsSchema.default(modelsSchema.parse({})),
  pressure: pressureSchema.default(pressureSchema.parse({})),
  auth: authSchema.default(authSchema.parse({})),
  rateLimit: rateLimitSchema.default(rateLimitSchema.parse({})),
  cors: corsSchema.default(corsSchema.parse({})),
  metrics: metricsSchema.default(metricsSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable → config path. Documented in README's configuration table. */
export const ENV_VARS: Record<string, string> = {
  HOST: 'server.host',
  PORT: 'server.port',
  LOG_LEVEL: 'server.logLevel',
  LOGSIFT_MAX_UPLOAD_BYTES: 'server.maxUploadBytes',
  LOGSIFT_MAX_ROWS: 'server.maxRows',
  LOGSIFT_MAX_MESSAGE_CHARS: 'server.maxMessageChars',
  LOGSIFT_MAX_RECORD_BYTES: 'server.maxRecordBytes',
  LOGSIFT_MAX_COLUMNS: 'server.maxColumns',
  LOGSIFT_NEUTRALISE_FORMULAS: 'server.neutraliseFormulas',
  LOGSIFT_HEADERS_TIMEOUT_MS: 'server.headersTimeoutMs',
  LOGSIFT_REQUEST_TIMEOUT_MS: 'server.requestTimeoutMs',
  LOGSIFT_CONNECTION_TIMEOUT_MS: 'server.connectionTimeoutMs',
  LOGSIFT_SHUTDOWN_TIMEOUT_MS: 'server.shutdownTimeoutMs',
  LOGSIFT_MAX_EVENT_LOOP_DELAY_MS: 'pressure.maxEventLoopDelayMs',
  LOGSIFT_MAX_HEAP_BYTES: 'pressure.maxHeapUsedBytes',
  LOGSIFT_MAX_RSS_BYTES: 'pressure.maxRssBytes',
  LOGSIFT_API_KEYS: 'auth.apiKeys',
  LOGSIFT_ADMIN_KEYS: 'auth.adminKeys',
  LOGSIFT_METRICS_REQUIRE_KEY: 'auth.protectMetrics',
  LOGSIFT_AUTH_MAX_FAILURES: 'auth.maxFailures',
  LOGSIFT_AUTH_FAILURE_WINDOW_MS: 'auth.failureWindowMs',
  LOGSIFT_RATE_LIMIT_MAX: 'rateLimit.max',
  LOGSIFT_RATE_LIMIT_WINDOW_MS: 'rateLimit.windowMs',
  LOGSIFT_CORS_ORIGINS: 'cors.origins',
  LOGSIFT_METRICS: 'metrics.enabled',
  LOGSIFT_LLM_SOURCES: 'pipeline.llmSources',
  LOGSIFT_CONFIDENCE_THRESHOLD: 'pipeline.confidenceThreshold',
  LOGSIFT_BATCH_SIZE: 'pipeline.batchSize',
  LOGSIFT_CACHE_SIZE: 'pipeline.cacheSize',
  LOGSIFT_MASK_RULES: 'pipeline.maskRulesPath',
  LOGSIFT_HEADER_PATTERNS: 'pipeline.headerPatternsPath',
  LOGSIFT_LABELS: 'pipeline.labelsPath',
  LOGSIFT_REGEX_RULES: 'regex.rulesPath',
  LOGSIFT_EMBEDDER: 'embedder.kind',
  LOGSIFT_MODEL_DIR: 'embedder.modelDir',
  LOGSIFT_MODEL_FILE: 'embedder.modelFile',
  LOGSIFT_EMBED_PREFIX: 'embedder.promptPrefix',
  LOGSIFT_ONNX_THREADS: 'embedder.threads',
  LOGSIFT_MAX_SEQ_LENGTH: 'embedder.maxSeqLength',
  LOGSIFT_EMBED_BATCH_SIZE: 'embedder.batchSize',
  LOGSIFT_EMBED_BATCH_WINDOW_MS: 'embedder.batchWindowMs',
  LOGSIFT_ONNX_WORKER: 'embedder.workerThread',
  LOGSIFT_HEAD_DIR: 'head.dir',
  LOGSIFT_LLM_BASE_URL: 'llm.baseUrl',
  LOGSIFT_LLM_MODEL: 'llm.model',
  LOGSIFT_LLM_API_KEY: 'llm.apiKey',
  LOGSIFT_LLM_TIMEOUT_MS: 'llm.timeoutMs',
  LOGSIFT_LLM_RETRIES: 'llm.retries',
  LOGSIFT_LLM_CONCURRENCY: 'llm.concurrency',
  LOGSIFT_LLM_BREAKER_THRESHOLD: 'llm.breakerThreshold',
  LOGSIFT_LLM_BREAKER_COOLDOWN_MS: 'llm.breakerCooldownMs',
  LOGSIFT_LLM_CALL_BUDGET_MS: 'llm.callBudgetMs',
  LOGSIFT_LLM_MAX_RETRY_AFTER_MS: 'llm.maxRetryAfterMs',
  LOGSIFT_LLM_MAX_RESPONSE_BYTES: 'llm.maxResponseBytes',
  LOGSIFT_MODEL_MIRROR: 'models.mirror',
};

const LIST_PATHS = new Set(['pipeline.llmSources', 'auth.apiKeys', 'auth.adminKeys', 'cors.origins']);

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    node[key] = typeof node[key] === 'object' && node[key] !== null ? { ...(node[key] as Tree) } : {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

function mergeDeep(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
        ? mergeDeep(prev as Tree, value as Tree)
        : value;
  }
  return out;
}

export { ConfigError } from '../errors.js';

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

/** Relative paths in the config are relative to the project root, so the service runs from anywhere. */
export function resolvePath(path: string): string {
  return resolve(PROJECT_ROOT, path);
}

/**
 * Builds the one validated Config: defaults ← JSON file (LOGSIFT_CONFIG or `configFile`)
 * ← environment ← explicit overrides. Throws ConfigError naming each bad field.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = {},
  overrides: ConfigInput = {},
  configFile: string | undefined = env.LOGSIFT_CONFIG,
): Config {
  let tree: Tree = {};
  if (configFile) {
    const path = resolvePath(configFile);
    if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`);
    try {
      tree = JSON.parse(readFileSync(path, 'utf8')) as Tree;
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = LIST_PATHS.has(path) ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    setPath(tree, path, value);
  }
  tree = mergeDeep(tree, overrides as Tree);
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** The head file for an embedder kind. */
export function headPath(config: Config, kind: 'onnx' | 'lexical'): string {
  return join(resolvePath(config.head.dir), `head-${kind}.json`);
}
