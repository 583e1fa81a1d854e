/**
 * The LLM client for any OpenAI-compatible Chat Completions server (OpenAI, Groq, vLLM, llama.cpp
 * server, Ollama's /v1 endpoint): `POST {baseUrl}/chat/completions`, plain (non-streaming) JSON,
 * answer in `choices[0].message.content`.
 *
 * Transport is the official `openai` package (request building, auth header, URL joining, HTTP
 * and connection errors, with an injectable `fetch`), each attempt sent with its own retries off.
 * Around it, what the service needs and the package does not do: a concurrency limit (p-limit);
 * retries (p-retry) with exponential back-off and jitter for network errors, timeouts, 5xx and
 * 429, once for a malformed answer, honouring Retry-After only up to a limit and within a time
 * budget for the call; a per-attempt timeout that covers reading the body; a cap on the response
 * body; a circuit breaker that stops calling a dead endpoint for a while; and the counters,
 * pushed to an observer.
 */
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import type { Config } from '../config/index.js';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

// ---------------------------------------------------------------------------------------------
// Errors

export type LlmErrorKind = 'timeout' | 'network' | 'http' | 'protocol' | 'retryAfterTooLong' | 'circuitOpen';

export abstract class LlmError extends Error {
  abstract readonly kind: LlmErrorKind;
  /** Whether another attempt may succeed (network trouble, timeout, 5xx, 429, a garbled answer). */
  abstract readonly retryable: boolean;
}

/** One attempt ran past `timeoutMs` (connecting, waiting or reading the body). */
export class LlmTimeoutError extends LlmError {
  readonly kind = 'timeout' as const;
  readonly retryable = true;
  constructor(readonly timeoutMs: number) {
    super(`LLM request timed out after ${timeoutMs} ms`);
    this.name = 'LlmTimeoutError';
  }
}

/** The request never got an HTTP answer: connection refused/reset, DNS failure, ... */
export class LlmNetworkError extends LlmError {
  readonly kind = 'network' as const;
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmNetworkError';
  }
}

/** A non-2xx answer. 5xx and 429 are retried; other 4xx are not. */
export class LlmHttpError extends LlmError {
  readonly kind = 'http' as const;
  readonly retryable: boolean;
  constructor(
    readonly status: number,
    /** Start of the response body, for diagnostics. */
    readonly body: string,
    /** Parsed Retry-After, in ms, when the server sent one (429 and 503). */
    readonly retryAfterMs?: number,
  ) {
    super(`LLM endpoint answered HTTP ${status}${body ? `: ${body}` : ''}`);
    this.name = 'LlmHttpError';
    this.retryable = status >= 500 || status === 429;
  }
}

/**
 * A 2xx answer that is not a Chat Completions object: bad JSON or missing choices/content
 * (retried once: a flaky proxy may garble one answer), or a body over the size limit (not
 * retried: the server would send it again).
 */
export class LlmProtocolError extends LlmError {
  readonly kind = 'protocol' as const;
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'LlmProtocolError';
  }
}

/**
 * The server asked to wait (Retry-After) longer than `maxRetryAfterMs` or than the call has
 * left of its budget: the call gives up at once instead of waiting.
 */
export class LlmRetryAfterTooLongError extends LlmError {
  readonly kind = 'retryAfterTooLong' as const;
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly retryAfterMs: number,
    /** The longest wait the call could take. */
    readonly limitMs: number,
  ) {
    super(`LLM endpoint answered HTTP ${status} with Retry-After ${Math.round(retryAfterMs)} ms; the call can wait at most ${Math.max(0, Math.round(limitMs))} ms`);
    this.name = 'LlmRetryAfterTooLongError';
  }
}

/** The circuit breaker is open: the call was refused without contacting the endpoint. */
export class LlmCircuitOpenError extends LlmError {
  readonly kind = 'circuitOpen' as const;
  readonly retryable = false;
  constructor(readonly retryInMs: number) {
    super(`LLM circuit breaker is open (next probe in ${Math.max(0, Math.round(retryInMs))} ms)`);
    this.name = 'LlmCircuitOpenError';
  }
}

// ---------------------------------------------------------------------------------------------
// Options and stats

export interface LlmClientOptions {
  /** e.g. http://localhost:11434/v1; a trailing slash is fine. */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer <apiKey>` only when set and non-empty. */
  readonly apiKey?: string;
  /** Per attempt (not per call with its retries). */
  readonly timeoutMs: number;
  /**
   * The most one call may take, attempts and waits together: a retry whose wait would end past
   * it is not made, and an attempt is cut at it. Default: the longest a call takes without
   * Retry-After (every attempt timing out, with the longest back-off between them).
   */
  readonly callBudgetMs?: number;
  /** Extra attempts after the first one. */
  readonly retries: number;
  /** Calls in flight at once (queued beyond that). */
  readonly concurrency: number;
  /** `max_tokens` of each request. Default 24: a label is a few tokens. */
  readonly maxTokens?: number;
  /** Consecutive failed attempts that open the circuit. Default 5. */
  readonly breakerThreshold?: number;
  /** How long the circuit stays open before a half-open probe. Default 30 000 ms. */
  readonly breakerCooldownMs?: number;
  /** First back-off delay; doubles per retry, with jitter. Default 500 ms. */
  readonly backoffBaseMs?: number;
  /** Largest back-off delay. Default 8 000 ms. */
  readonly backoffMaxMs?: number;
  /**
   * Longest Retry-After the call waits for; a server asking for more is not called again by
   * this call, and the circuit opens. Default 10 000 ms.
   */
  readonly maxRetryAfterMs?: number;
  /** Largest response body read; past it the attempt fails as a protocol error. Default 64 KiB. */
  readonly maxResponseBytes?: number;
  /** Told about every call, attempt, retry, failure and circuit change (metrics); must not throw. */
  readonly observer?: LlmObserver;
  /** Test hooks. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * What the client reports as it happens (the service's metrics observer implements it): the
 * client keeps no counters for anyone else to read.
 */
export interface LlmObserver {
  /** A complete() call began. */
  llmCall?(): void;
  /** A complete() call ended: with an answer, or with an error (after its retries). */
  llmCallEnded?(ok: boolean): void;
  /** An HTTP request was sent (a first attempt or a retry). */
  llmAttempt?(): void;
  /** An attempt beyond the first is about to be sent. */
  llmRetry?(): void;
  /** A failed attempt by kind (circuitOpen: a call refused; retryAfterTooLong: a call given up), with its HTTP status. */
  llmError?(kind: LlmErrorKind, httpStatus?: number): void;
  /** The breaker changed state; `opened` when it went to open, `probeAt` when the next probe is allowed (epoch ms). */
  llmCircuit?(state: CircuitState, change: { opened: boolean; probeAt?: number }): void;
  /** Calls waiting for a slot / running changed by these amounts. */
  llmQueue?(runningDelta: number, queuedDelta: number): void;
}

export interface LlmClientStats {
  /** complete() calls. */
  calls: number;
  /** HTTP requests sent (first attempts and retries). */
  attempts: number;
  /** Calls that returned an answer. */
  successes: number;
  /** Calls that threw (after retries, or refused by the open circuit). */
  failures: number;
  /** Retries performed (attempts beyond the first). */
  retries: number;
  /** Failed attempts that were timeouts (same as errors.timeout). */
  timeouts: number;
  /** Failed attempts by kind; circuitOpen counts refused calls, retryAfterTooLong calls given up. */
  errors: Record<LlmErrorKind, number>;
  /** Failed attempts by HTTP status. */
  httpStatus: Record<string, number>;
  inFlight: number;
  queued: number;
  circuit: {
    state: CircuitState;
    consecutiveFailures: number;
    /** Times the circuit went from closed/half-open to open. */
    opened: number;
    /** ms until the next half-open probe is allowed (0 unless open). */
    retryInMs: number;
  };
}

export interface CompleteOptions {
  /** Aborts the call (and its retries); rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Builds client options from the config's `llm` section; null when no baseUrl is set. */
export function llmClientOptionsFromConfig(
  llm: Config['llm'],
  extra: Partial<LlmClientOptions> = {},
): LlmClientOptions | null {
  if (!llm.baseUrl) return null;
  return {
    baseUrl: llm.baseUrl,
    model: llm.model,
    apiKey: llm.apiKey,
    timeoutMs: llm.timeoutMs,
    callBudgetMs: llm.callBudgetMs,
    retries: llm.retries,
    concurrency: llm.concurrency,
    breakerThreshold: llm.breakerThreshold,
    breakerCooldownMs: llm.breakerCooldownMs,
    maxRetryAfterMs: llm.maxRetryAfterMs,
    maxResponseBytes: llm.maxResponseBytes,
    ...extra,
  };
}

/** The client for a config's `llm` section, or null when no baseUrl is configured. */
export function createLlmClient(llm: Config['llm'], extra: Partial<LlmClientOptions> = {}): LlmClient | null {
  const options = llmClientOptionsFromConfig(llm, extra);
  return options ? new LlmClient(options) : null;
}

/** Parses Retry-After (delta-seconds or HTTP-date) into ms; undefined when absent/invalid. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.max(0, ms);
}

const BODY_EXCERPT = 300;

/**
 * Reads a response body up to `maxBytes` and stops there (a server or proxy may send anything:
 * 100 MB must not be buffered for a one-word answer). `complete` is false when it was cut.
 */
async function readBodyCapped(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  const declared = Number(response.headers.get('content-length'));
  if (!response.body || declared > maxBytes) {
    await response.body?.cancel();
    return { text: '', complete: !response.body };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      await reader.cancel();
      return { text: Buffer.concat(chunks).toString('utf8'), complete: false };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Every attempt timing out, with the longest back-off between them: the default call budget. */
function longestCallWithoutRetryAfter(timeoutMs: number, retries: number, backoffBaseMs: number, backoffMaxMs: number): number {
  let backoff = 0;
  for (let n = 0; n < retries; n++) backoff += Math.min(backoffMaxMs, backoffBaseMs * 2 ** n);
  return timeoutMs * (retries + 1) + backoff;
}

/**
 * The `openai` client one LlmClient sends its attempts through. Its fetch is the caller's (tests)
 * or the global one, wrapped so that an error answer's body is read only up to `maxBytes` (the
 * package would buffer all of it) and no `Authorization` is sent when no key is configured.
 */
function transport(options: LlmClientOptions, maxBytes: number): OpenAI {
  const base = options.fetch ?? fetch;
  const apiKey = options.apiKey || undefined;
  const capped = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let request = init;
    if (!apiKey && init?.headers) {
      const headers = new Headers(init.headers);
      headers.delete('authorization');
      request = { ...init, headers };
    }
    const response = await base(url, request);
    if (response.ok) return response;
    const { text } = await readBodyCapped(response, maxBytes);
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return new OpenAI({
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    apiKey: apiKey ?? 'unused',
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: options.timeoutMs,
    logLevel: 'off',
    fetch: capped as typeof fetch,
  });
}

// ---------------------------------------------------------------------------------------------
// Client

export class LlmClient {
  private readonly url: string;
  private readonly opts: Required<Omit<LlmClientOptions, 'apiKey' | 'fetch' | 'observer'>> & { apiKey?: string };
  private readonly openai: OpenAI;
  private readonly limit: LimitFunction;
  private readonly observer: LlmObserver;

  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;

  private readonly counters = {
    calls: 0,
    attempts: 0,
    successes: 0,
    failures: 0,
    retries: 0,
    opened: 0,
    errors: { timeout: 0, network: 0, http: 0, protocol: 0, retryAfterTooLong: 0, circuitOpen: 0 } as Record<LlmErrorKind, number>,
    httpStatus: {} as Record<string, number>,
  };

  constructor(options: LlmClientOptions) {
    if (!options.baseUrl) throw new TypeError('LlmClient: baseUrl is required');
    if (!(options.timeoutMs > 0)) throw new TypeError('LlmClient: timeoutMs must be > 0');
    if (!(options.retries >= 0)) throw new TypeError('LlmClient: retries must be >= 0');
    if (!(options.concurrency >= 1)) throw new TypeError('LlmClient: concurrency must be >= 1');
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const backoffBaseMs = options.backoffBaseMs ?? 500;
    const backoffMaxMs = options.backoffMaxMs ?? 8_000;
    this.opts = {
      baseUrl: options.baseUrl,
      model: options.model,
      apiKey: options.apiKey || undefined,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      concurrency: options.concurrency,
      maxTokens: options.maxTokens ?? 24,
      breakerThreshold: Math.max(1, options.breakerThreshold ?? 5),
      breakerCooldownMs: options.breakerCooldownMs ?? 30_000,
      backoffBaseMs,
      backoffMaxMs,
      callBudgetMs: options.callBudgetMs ?? longestCallWithoutRetryAfter(options.timeoutMs, options.retries, backoffBaseMs, backoffMaxMs),
      maxRetryAfterMs: options.maxRetryAfterMs ?? 10_000,
      maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    };
    this.openai = transport(options, this.opts.maxResponseBytes);
    this.limit = pLimit(options.concurrency);
    this.observer = options.observer ?? {};
    this.observer.llmCircuit?.('closed', { opened: false });
  }

  get model(): string {
    return this.opts.model;
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  /** The breaker's state now (an open circuit whose cool-down has passed reads half-open). */
  get circuitState(): CircuitState {
    if (this.state === 'open' && this.opts.now() - this.openedAt >= this.opts.breakerCooldownMs) return 'half-open';
    return this.state;
  }

  /**
   * Sends one chat completion and returns `choices[0].message.content`.
   * Throws an LlmError subclass (or the signal's reason when aborted by the caller).
   */
  async complete(messages: readonly ChatMessage[], options: CompleteOptions = {}): Promise<string> {
    this.counters.calls++;
    this.observer.llmCall?.();
    this.observer.llmQueue?.(0, 1);
    try {
      const content = await this.limit(async () => {
        this.observer.llmQueue?.(1, -1);
        try {
          return await this.withRetries(messages, options.signal);
        } finally {
          this.observer.llmQueue?.(-1, 0);
        }
      });
      this.counters.successes++;
      this.observer.llmCallEnded?.(true);
      return content;
    } catch (err) {
      this.counters.failures++;
      this.observer.llmCallEnded?.(false);
      throw err;
    }
  }

  private withRetries(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<string> {
    const deadline = this.opts.now() + this.opts.callBudgetMs;
    let protocolRetried = false;
    return pRetry(() => this.attempt(messages, deadline, signal), {
      retries: this.opts.retries,
      // Back-off is computed and slept in shouldRetry (so Retry-After can replace it).
      minTimeout: 0,
      signal,
      shouldRetry: async ({ error, retriesConsumed }) => {
        if (!(error instanceof LlmError) || !error.retryable) return false;
        if (error instanceof LlmProtocolError) {
          if (protocolRetried) return false;
          protocolRetried = true;
        }
        const left = deadline - this.opts.now();
        if (error instanceof LlmHttpError && error.retryAfterMs !== undefined) {
          if (error.retryAfterMs > this.opts.maxRetryAfterMs || error.retryAfterMs >= left) {
            const limit = Math.min(this.opts.maxRetryAfterMs, left);
            // Waiting is pointless for this call. A server asking for more than we ever wait
            // will refuse the other calls too: open the circuit rather than let each one ask.
            if (error.retryAfterMs > this.opts.maxRetryAfterMs) this.openCircuit();
            this.counters.errors.retryAfterTooLong++;
            this.observer.llmError?.('retryAfterTooLong');
            throw new LlmRetryAfterTooLongError(error.status, error.retryAfterMs, limit);
          }
        }
        const delay =
          error instanceof LlmHttpError && error.retryAfterMs !== undefined
            ? error.retryAfterMs
            : this.backoffDelay(retriesConsumed);
        // No time left for an attempt after the wait: give up now with the error we have.
        if (delay >= left) return false;
        await sleep(delay, signal);
        // The circuit may have opened while we waited: do not wait in vain for a refusal.
        if (this.circuitState === 'open') return false;
        this.counters.retries++;
        this.observer.llmRetry?.();
        return true;
      },
    });
  }

  /** Exponential back-off with jitter: base·2^n, capped, scaled by a random factor in [0.5, 1). */
  private backoffDelay(retriesConsumed: number): number {
    const exp = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** retriesConsumed);
    return Math.round(exp * (0.5 + this.opts.random() * 0.5));
  }

  /** Circuit gate before an attempt; returns whether this attempt is the half-open probe. */
  private admit(): boolean {
    const state = this.circuitState;
    if (state === 'closed') return false;
    if (state === 'half-open' && !this.probeInFlight) {
      this.state = 'half-open';
      this.probeInFlight = true;
      this.observer.llmCircuit?.('half-open', { opened: false });
      return true;
    }
    this.counters.errors.circuitOpen++;
    this.observer.llmError?.('circuitOpen');
    const retryIn = this.state === 'open' ? this.openedAt + this.opts.breakerCooldownMs - this.opts.now() : 0;
    throw new LlmCircuitOpenError(retryIn);
  }

  private recordSuccess(probe: boolean): void {
    if (probe) this.probeInFlight = false;
    this.consecutiveFailures = 0;
    if (this.state !== 'closed') this.observer.llmCircuit?.('closed', { opened: false });
    this.state = 'closed';
  }

  private recordFailure(probe: boolean, error: LlmError): void {
    this.counters.errors[error.kind]++;
    if (error instanceof LlmHttpError) {
      this.counters.httpStatus[error.status] = (this.counters.httpStatus[error.status] ?? 0) + 1;
    }
    this.observer.llmError?.(error.kind, error instanceof LlmHttpError ? error.status : undefined);
    if (probe) this.probeInFlight = false;
    this.consecutiveFailures++;
    if (probe || (this.state === 'closed' && this.consecutiveFailures >= this.opts.breakerThreshold)) this.openCircuit();
  }

  private openCircuit(): void {
    if (this.state === 'open') return;
    this.state = 'open';
    this.openedAt = this.opts.now();
    this.counters.opened++;
    this.observer.llmCircuit?.('open', { opened: true, probeAt: this.openedAt + this.opts.breakerCooldownMs });
  }

  private async attempt(messages: readonly ChatMessage[], deadline: number, callerSignal?: AbortSignal): Promise<string> {
    const probe = this.admit();
    this.counters.attempts++;
    this.observer.llmAttempt?.();
    try {
      const content = await this.send(messages, Math.min(this.opts.timeoutMs, deadline - this.opts.now()), callerSignal);
      this.recordSuccess(probe);
      return content;
    } catch (err) {
      if (err instanceof LlmError) {
        this.recordFailure(probe, err);
      } else if (probe) {
        // Aborted by the caller: no verdict on the endpoint; let the next call probe.
        this.probeInFlight = false;
      }
      throw err;
    }
  }

  private async send(messages: readonly ChatMessage[], timeoutMs: number, callerSignal?: AbortSignal): Promise<string> {
    // One signal for the whole attempt, reading the body included (the package's own timeout
    // ends when the headers arrive).
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
    let text: string;
    let complete: boolean;
    try {
      const response = await this.openai.chat.completions
        .create(
          { model: this.opts.model, messages: messages.map((m) => ({ role: m.role, content: m.content })), temperature: 0, max_tokens: this.opts.maxTokens, stream: false },
          { signal, timeout: Math.max(1, timeoutMs), maxRetries: 0 },
        )
        .asResponse();
      ({ text, complete } = await readBodyCapped(response, this.opts.maxResponseBytes));
    } catch (err) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeout.aborted || err instanceof APIConnectionTimeoutError || err instanceof APIUserAbortError) throw new LlmTimeoutError(Math.round(timeoutMs));
      if (err instanceof APIError && err.status !== undefined) {
        const retryAfterMs = err.status === 429 || err.status === 503 ? parseRetryAfter(err.headers?.get('retry-after') ?? null, this.opts.now()) : undefined;
        const body = err.error !== undefined ? JSON.stringify(err.error) : err.message.replace(/^\d+\s*/, '');
        throw new LlmHttpError(err.status, body.slice(0, BODY_EXCERPT), retryAfterMs);
      }
      const cause = (err as { cause?: { code?: string; message?: string; cause?: { code?: string; message?: string } } }).cause;
      const detail = cause?.cause?.code ?? cause?.code ?? cause?.cause?.message ?? cause?.message ?? (err as Error).message;
      throw new LlmNetworkError(`LLM request to ${this.url} failed: ${detail}`, { cause: err });
    }
    if (!complete) throw new LlmProtocolError(`LLM response body is larger than ${this.opts.maxResponseBytes} bytes`, false);
    return extractContent(text);
  }

  stats(): LlmClientStats {
    const state = this.circuitState;
    return {
      calls: this.counters.calls,
      attempts: this.counters.attempts,
      successes: this.counters.successes,
      failures: this.counters.failures,
      retries: this.counters.retries,
      timeouts: this.counters.errors.timeout,
      errors: { ...this.counters.errors },
      httpStatus: { ...this.counters.httpStatus },
      inFlight: this.limit.activeCount,
      queued: this.limit.pendingCount,
      circuit: {
        state,
        consecutiveFailures: this.consecutiveFailures,
        opened: this.counters.opened,
        retryInMs: state === 'open' ? Math.max(0, this.openedAt + this.opts.breakerCooldownMs - this.opts.now()) : 0,
      },
    };
  }
}

/** `choices[0].message.content` of a Chat Completions body, or LlmProtocolError. */
export function extractContent(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LlmProtocolError(`LLM response is not JSON: ${text.slice(0, 80)}`);
  }
  const choices = (parsed as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    throw new LlmProtocolError('LLM response has no choices');
  }
  const content = (choices[0] as { message?: { content?: unknown } } | null)?.message?.content;
  if (typeof content !== 'string') {
    throw new LlmProtocolError('LLM response has no choices[0].message.content string');
  }
  return content;
}
