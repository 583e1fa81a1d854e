import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/index.js';

describe('operations configuration', () => {
  it('has safe defaults: keys off, admin disabled, CORS and rate limit off, formulas neutralised', () => {
    const c = loadConfig({});
    expect(c.auth).toEqual({ apiKeys: [], adminKeys: [], protectMetrics: false, maxFailures: 10, failureWindowMs: 60_000 });
    expect(c.cors.origins).toEqual([]);
    expect(c.rateLimit.max).toBe(0);
    expect(c.server).toMatchObject({ maxRows: 0, maxMessageChars: 10_000, maxRecordBytes: 16 * 1024 * 1024, maxColumns: 400, neutraliseFormulas: true, headersTimeoutMs: 30_000 });
    expect(c.pressure.maxEventLoopDelayMs).toBe(1000);
    expect(c.metrics.enabled).toBe(true);
  });

  it('reads lists, flags and numbers from the environment', () => {
    const c = loadConfig({
      LOGSIFT_API_KEYS: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2',
      LOGSIFT_ADMIN_KEYS: 'cccccccccccccccc3',
      LOGSIFT_CORS_ORIGINS: 'https://a.example,https://b.example',
      LOGSIFT_NEUTRALISE_FORMULAS: 'false',
      LOGSIFT_METRICS: '0',
      LOGSIFT_MAX_ROWS: '500',
      LOGSIFT_RATE_LIMIT_MAX: '100',
      LOGSIFT_MAX_RECORD_BYTES: '1048576',
      LOGSIFT_MAX_COLUMNS: '50',
      LOGSIFT_AUTH_MAX_FAILURES: '3',
      LOGSIFT_AUTH_FAILURE_WINDOW_MS: '5000',
    });
    expect(c.auth.apiKeys).toEqual(['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2']);
    expect(c.auth.adminKeys).toEqual(['cccccccccccccccc3']);
    expect(c.cors.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.server.neutraliseFormulas).toBe(false);
    expect(c.metrics.enabled).toBe(false);
    expect(c.server.maxRows).toBe(500);
    expect(c.rateLimit.max).toBe(100);
    expect(c.server).toMatchObject({ maxRecordBytes: 1_048_576, maxColumns: 50 });
    expect(c.auth).toMatchObject({ maxFailures: 3, failureWindowMs: 5000 });
  });

  it('refuses short keys and bad flags, naming the field but not the key', () => {
    let message = '';
    try {
      loadConfig({ LOGSIFT_API_KEYS: 'short-secret', LOGSIFT_NEUTRALISE_FORMULAS: 'maybe' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/auth\.apiKeys\.0: API keys must be at least 16 characters/);
    expect(message).toMatch(/server\.neutraliseFormulas/);
    expect(message).not.toContain('short-secret');
  });

  it('every operations variable maps to a config path with a default', () => {
    const c = loadConfig({}) as unknown as Record<string, Record<string, unknown>>;
    const ours = Object.values(ENV_VARS).filter((p) => /^(server|pressure|auth|rateLimit|cors|metrics)\./.test(p));
    expect(ours.length).toBeGreaterThanOrEqual(20);
    for (const path of ours) {
      const [section, key] = path.split('.');
      expect(c[section], path).toBeDefined();
      expect(key in c[section], path).toBe(true);
    }
  });
});
