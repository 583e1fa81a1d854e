import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  LlmCircuitOpenError,
  LlmClient,
  LlmHttpError,
  LlmNetworkError,
  LlmProtocolError,
  LlmRetryAfterTooLongError,
  LlmTimeoutError,
  createLlmClient,
  extractContent,
  parseRetryAfter,
  type LlmClientOptions,
} from '../../src/llm/client.js';
import { FAKE_CLOCK, until } from '../helpers/fake-clock.js';
import { FakeOpenAI, fastTestClient, answer, closedPort, delay, hang, large, malformed, status } from '../helpers/fake-openai.js';

const MESSAGES = [
  { role: 'system', content: 'Pick a label.' },
  { role: 'user', content: 'disk full on /var' },
] as const;

let server: FakeOpenAI;

beforeEach(async () => {
  server = await new FakeOpenAI().start();
});

afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

function client(extra: Partial<LlmClientOptions> = {}): LlmClient {
  return fastTestClient(server.baseUrl, { breakerCooldownMs: 200, ...extra });
}

describe('LlmClient request and response', () => {
  it('POSTs a Chat Completions body and returns choices[0].message.content', async () => {
    server.respond(() => answer('Security Alert'));
    const c = client();
    await expect(c.complete(MESSAGES)).resolves.toBe('Security Alert');
    expect(server.invalid).toEqual([]);
    expect(server.requests).toHaveLength(1);
    const { body, headers, url } = server.requests[0];
    expect(url).toBe('/v1/chat/completions');
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(body.model).toBe('test-model');
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBeGreaterThan(0);
    expect(body.max_tokens).toBeLessThanOrEqual(64);
    expect(body.messages).toEqual(MESSAGES.map((m) => ({ ...m })));
    expect(c.stats()).toMatchObject({ calls: 1, attempts: 1, successes: 1, failures: 0, retries: 0 });
  });

  it('accepts a baseUrl with a trailing slash', async () => {
    const c = client({ baseUrl: `${server.baseUrl}/` });
    await expect(c.complete(MESSAGES)).resolves.toBe('Unclassified');
    expect(server.requests[0].url).toBe('/v1/chat/completions');
  });

  it('sends Authorization only when an API key is set', async () => {
    await client().complete(MESSAGES);
    await client({ apiKey: '' }).complete(MESSAGES);
    await client({ apiKey: 'sk-test-123' }).complete(MESSAGES);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined, 'Bearer sk-test-123']);
  });

  it('is built from the config llm section, or null without baseUrl', () => {
    expect(createLlmClient(loadConfig({}).llm)).toBeNull();
    const cfg = loadConfig({ LOGSIFT_LLM_BASE_URL: server.baseUrl, LOGSIFT_LLM_API_KEY: 'k' }).llm;
    const c = createLlmClient(cfg, { breakerThreshold: 2 });
    expect(c).toBeInstanceOf(LlmClient);
    expect(c!.model).toBe('gpt-4o-mini');
    expect(c!.concurrency).toBe(4);
  });

  it('takes the retry and size limits from the config', async () => {
    const cfg = loadConfig({ LOGSIFT_LLM_BASE_URL: server.baseUrl, LOGSIFT_LLM_MAX_RETRY_AFTER_MS: '500', LOGSIFT_LLM_MAX_RESPONSE_BYTES: '1000' }).llm;
    const c = createLlmClient(cfg)!;
    server.enqueue(status(429, { 'retry-after': '1' }), large(2000));
    await expect(c.complete(MESSAGES)).rejects.toMatchObject({ kind: 'retryAfterTooLong', limitMs: 500 });
    const c2 = createLlmClient(cfg)!;
    await expect(c2.complete(MESSAGES)).rejects.toThrow(/larger than 1000 bytes/);
    const budgeted = createLlmClient(loadConfig({ LOGSIFT_LLM_BASE_URL: server.baseUrl, LOGSIFT_LLM_CALL_BUDGET_MS: '300' }).llm)!;
    server.enqueue(status(429, { 'retry-after': '1' }));
    await expect(budgeted.complete(MESSAGES)).rejects.toMatchObject({ kind: 'retryAfterTooLong' });
  });

  it('returns a slow answer that arrives within the timeout', async () => {
    server.respond(() => delay(120, answer('Slow But Fine')));
    await expect(client({ timeoutMs: 1000 }).complete(MESSAGES)).resolves.toBe('Slow But Fine');
  });
});

describe('LlmClient failures and retries', () => {
  it('retries a 500 and then succeeds', async () => {
    server.enqueue(status(500), status(503)).respond(() => answer('Critical Error'));
    const c = client({ retries: 2 });
    await expect(c.complete(MESSAGES)).resolves.toBe('Critical Error');
    expect(server.requests).toHaveLength(3);
    const s = c.stats();
    expect(s).toMatchObject({ attempts: 3, retries: 2, successes: 1, failures: 0 });
    expect(s.errors.http).toBe(2);
    expect(s.httpStatus).toEqual({ '500': 1, '503': 1 });
  });

  it('gives up after the configured retries with LlmHttpError', async () => {
    server.respond(() => status(502));
    const c = client({ retries: 1 });
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmHttpError);
    expect((err as LlmHttpError).status).toBe(502);
    expect(server.requests).toHaveLength(2);
    expect(c.stats()).toMatchObject({ attempts: 2, retries: 1, failures: 1 });
  });

  it('does not retry other 4xx', async () => {
    server.respond(() => status(401));
    const c = client({ retries: 3 });
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmHttpError);
    expect((err as LlmHttpError).status).toBe(401);
    expect((err as LlmHttpError).body).toContain('scripted 401');
    expect(server.requests).toHaveLength(1);
    expect(c.stats().retries).toBe(0);
  });

  it('honours Retry-After seconds on 429', async () => {
    // The wait runs on the fake clock: installed as the 429 is answered, removed when the retry
    // arrives (its arrival time is still read from the fake clock).
    server.respond((_request, i) => {
      if (i > 0) {
        vi.useRealTimers();
        return answer('Security Alert');
      }
      vi.useFakeTimers(FAKE_CLOCK);
      return status(429, { 'retry-after': '1' });
    });
    const c = client({ backoffBaseMs: 1, backoffMaxMs: 1 });
    const call = c.complete(MESSAGES);
    let settled = false;
    void call.finally(() => (settled = true)).catch(() => undefined);
    // Once the 429 is counted, the client is waiting on its timer.
    await until(() => c.stats().httpStatus['429'] === 1, 'the 429');
    await vi.advanceTimersByTimeAsync(999);
    expect(server.requests).toHaveLength(1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(call).resolves.toBe('Security Alert');
    expect(server.requests).toHaveLength(2);
    const gap = server.requests[1].at - server.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(c.stats()).toMatchObject({ retries: 1, httpStatus: { '429': 1 } });
  });

  it('gives up at once on a Retry-After longer than maxRetryAfterMs, counts it, and opens the circuit (issue 9)', async () => {
    server.respond(() => status(429, { 'retry-after': '86400' }));
    const c = client({ timeoutMs: 2000, retries: 2, maxRetryAfterMs: 5000, breakerCooldownMs: 10_000 });
    const started = Date.now();
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(LlmRetryAfterTooLongError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 86_400_000, limitMs: 5000 });
    expect(server.requests).toHaveLength(1);
    expect(c.stats()).toMatchObject({ attempts: 1, retries: 0, failures: 1, errors: { http: 1, retryAfterTooLong: 1 }, httpStatus: { '429': 1 } });
    // The server said it will refuse everyone for a day: the other calls are not sent either.
    expect(c.circuitState).toBe('open');
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmCircuitOpenError);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up at once when a Retry-After under the limit does not fit in the call budget', async () => {
    server.respond(() => status(429, { 'retry-after': '1' }));
    const c = client({ timeoutMs: 200, retries: 2, callBudgetMs: 500 });
    const started = Date.now();
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(400);
    expect(err).toBeInstanceOf(LlmRetryAfterTooLongError);
    expect((err as LlmRetryAfterTooLongError).limitMs).toBeLessThanOrEqual(500);
    expect(server.requests).toHaveLength(1);
    // Only this call could not wait long enough: the circuit is left to its failure count.
    expect(c.circuitState).toBe('closed');
  });

  it('keeps a call with its retries and back-off within callBudgetMs', async () => {
    server.respond(() => hang());
    const c = client({ timeoutMs: 150, retries: 5, backoffBaseMs: 40, backoffMaxMs: 40, callBudgetMs: 400 });
    const started = Date.now();
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmTimeoutError);
    expect(Date.now() - started).toBeLessThan(550);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    expect(server.requests.length).toBeLessThan(6);
  });

  it('parses Retry-After as seconds or HTTP-date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('times out a hanging server per attempt and counts it', async () => {
    server.respond(() => hang());
    const c = client({ timeoutMs: 80, retries: 1 });
    const started = Date.now();
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.requests).toHaveLength(2);
    expect(c.stats()).toMatchObject({ timeouts: 2, retries: 1, failures: 1, errors: { timeout: 2 } });
  });

  it('recovers when a timed-out attempt is followed by a fast one', async () => {
    server.enqueue(hang()).respond(() => answer('Security Alert'));
    const c = client({ timeoutMs: 80 });
    await expect(c.complete(MESSAGES)).resolves.toBe('Security Alert');
    expect(c.stats()).toMatchObject({ timeouts: 1, retries: 1 });
  });

  it('retries a malformed answer once (a flaky proxy), then succeeds', async () => {
    server.enqueue(malformed()).respond(() => answer('Security Alert'));
    const c = client({ retries: 2 });
    await expect(c.complete(MESSAGES)).resolves.toBe('Security Alert');
    expect(server.requests).toHaveLength(2);
    expect(c.stats()).toMatchObject({ retries: 1, errors: { protocol: 1 } });
  });

  it('reports malformed JSON and missing fields as LlmProtocolError after one retry only', async () => {
    server.respond((_r, i) => (i % 2 === 0 ? malformed() : { kind: 'no-choices' }));
    const c = client({ retries: 5 });
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmProtocolError);
    expect(server.requests).toHaveLength(2);
    expect(c.stats()).toMatchObject({ retries: 1, errors: { protocol: 2 } });
    expect(() => extractContent('{"choices":[{"message":{"content":null}}]}')).toThrow(LlmProtocolError);
    expect(extractContent('{"choices":[{"message":{"role":"assistant","content":"X"}}]}')).toBe('X');
  });

  it('reports connection refused as LlmNetworkError after retrying', async () => {
    const port = await closedPort();
    const c = client({ baseUrl: `http://127.0.0.1:${port}/v1`, retries: 2 });
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmNetworkError);
    expect(c.stats()).toMatchObject({ attempts: 3, retries: 2, errors: { network: 3 } });
  });
});

describe('LlmClient response size (issue 9)', () => {
  it('stops reading a body past maxResponseBytes and fails the attempt as a protocol error, without retrying', async () => {
    server.respond(() => large(100 * 1024 * 1024));
    const c = client({ maxResponseBytes: 64 * 1024, timeoutMs: 5000 });
    const started = Date.now();
    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmProtocolError);
    expect((err as LlmProtocolError).message).toMatch(/larger than 65536 bytes/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.requests).toHaveLength(1);
    expect(c.stats().errors.protocol).toBe(1);
    // The server was cut off long before its 100 MB (what is left is socket buffers).
    await new Promise((r) => setTimeout(r, 50));
    expect(server.largeBytesSent[0]).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a declared Content-Length over the limit before reading, and accepts a body under it', async () => {
    server.enqueue(large(200 * 1024, true), large(1000, true));
    const c = client({ maxResponseBytes: 64 * 1024, retries: 0 });
    await expect(c.complete(MESSAGES)).rejects.toThrow(/larger than 65536 bytes/);
    await expect(c.complete(MESSAGES)).resolves.toBe('x'.repeat(1000));
  });
});

describe('LlmClient circuit breaker', () => {
  it('opens after consecutive failures, stops calling, then a half-open probe recovers', async () => {
    server.respond(() => status(500));
    const c = client({ retries: 0, breakerThreshold: 3, breakerCooldownMs: 150 });
    for (let i = 0; i < 3; i++) await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmHttpError);
    expect(c.circuitState).toBe('open');
    expect(c.stats().circuit).toMatchObject({ state: 'open', consecutiveFailures: 3, opened: 1 });

    const err = await c.complete(MESSAGES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmCircuitOpenError);
    expect(server.requests).toHaveLength(3); // refused without a request
    expect(c.stats().errors.circuitOpen).toBe(1);

    await new Promise((r) => setTimeout(r, 170));
    expect(c.circuitState).toBe('half-open');
    server.respond(() => delay(50, answer('Security Alert')));
    // Only one probe goes through while half-open; the others are refused.
    const results = await Promise.allSettled([c.complete(MESSAGES), c.complete(MESSAGES), c.complete(MESSAGES)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LlmCircuitOpenError)).toHaveLength(2);
    expect(server.requests).toHaveLength(4);
    expect(c.circuitState).toBe('closed');

    await expect(c.complete(MESSAGES)).resolves.toBe('Security Alert');
    expect(c.stats().circuit).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('re-opens when the half-open probe fails', async () => {
    server.respond(() => status(500));
    const c = client({ retries: 0, breakerThreshold: 2, breakerCooldownMs: 80 });
    await c.complete(MESSAGES).catch(() => undefined);
    await c.complete(MESSAGES).catch(() => undefined);
    expect(c.circuitState).toBe('open');
    await new Promise((r) => setTimeout(r, 100));
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmHttpError); // the probe
    expect(c.circuitState).toBe('open');
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmCircuitOpenError);
    expect(server.requests).toHaveLength(3);
    expect(c.stats().circuit.opened).toBe(2);
  });

  it('stops retrying a call once the circuit opens', async () => {
    server.respond(() => status(500));
    const c = client({ retries: 5, breakerThreshold: 2, breakerCooldownMs: 10_000 });
    await expect(c.complete(MESSAGES)).rejects.toBeInstanceOf(LlmHttpError);
    expect(server.requests).toHaveLength(2);
  });
});

describe('LlmClient concurrency', () => {
  it('keeps at most `concurrency` requests in flight', async () => {
    server.respond(() => delay(40, answer('Security Alert')));
    const c = client({ concurrency: 3 });
    const calls = Array.from({ length: 10 }, () => c.complete(MESSAGES));
    await new Promise((r) => setTimeout(r, 10));
    expect(c.stats().inFlight).toBe(3);
    expect(c.stats().queued).toBe(7);
    await Promise.all(calls);
    expect(server.requests).toHaveLength(10);
    expect(server.maxInFlight).toBe(3);
  });
});
