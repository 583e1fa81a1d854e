/**
 * Access: optional API keys on /classify, admin keys on /admin (disabled without one), keys never
 * in the logs, rate limits per key or IP, CORS off unless configured, security headers on /docs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs, postCsv, send, startServer, type TestServer } from '../helpers/server.js';

const API_KEY = 'test-api-key-0123456789abcdef';
const ADMIN_KEY = 'test-admin-key-fedcba9876543210';
const CSV = 'source,log_message\nA,User 42 logged in.\n';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys', () => {
  let srv: TestServer;
  const logs = captureLogs();
  beforeAll(async () => {
    srv = await startServer({ overrides: { auth: { apiKeys: [API_KEY], adminKeys: [ADMIN_KEY] } }, log: { stream: logs.stream, level: 'debug' } });
  }, 60_000);
  afterAll(async () => srv?.close());

  it('401 without a key, 403 with a wrong one, 200 with an API key or an admin key', async () => {
    const none = await postCsv(srv.url, CSV);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    expect(none.json?.code).toBe('API_KEY_REQUIRED');
    const wrong = await postCsv(srv.url, CSV, bearer('not-the-key-0123456789'));
    expect(wrong.status).toBe(403);
    const wrongLength = await postCsv(srv.url, CSV, bearer('x'));
    expect(wrongLength.status).toBe(403);
    expect((await postCsv(srv.url, CSV, bearer(API_KEY))).status).toBe(200);
    expect((await postCsv(srv.url, CSV, bearer(ADMIN_KEY))).status).toBe(200);
    expect((await postCsv(srv.url, CSV, { authorization: `Basic ${API_KEY}` })).status).toBe(401);
  });

  it('health, readiness, docs and metrics stay open', async () => {
    for (const path of ['/healthz', '/readyz', '/docs/json', '/metrics']) {
      expect((await send(`${srv.url}${path}`, { method: 'GET' })).status, path).toBe(200);
    }
  });

  it('admin endpoints: 401 without a key, 403 with an API key', async () => {
    expect((await send(`${srv.url}/admin/reload`, { method: 'POST' })).status).toBe(401);
    expect((await send(`${srv.url}/admin/reload`, { method: 'POST', headers: bearer(API_KEY) })).status).toBe(403);
  });

  it('no key ever appears in the captured logs, only its digest id', async () => {
    await postCsv(srv.url, CSV, bearer(API_KEY));
    await postCsv(srv.url, CSV, bearer('wrong-key-but-secret-too-123'));
    await send(`${srv.url}/admin/reload`, { method: 'POST', headers: bearer(API_KEY) });
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(ADMIN_KEY);
    expect(text).not.toContain('wrong-key-but-secret-too-123');
    expect(logs.lines().some((l) => typeof l.key === 'string' && /^key_[0-9a-f]{8}$/.test(l.key as string))).toBe(true);
  });
});

describe('without keys configured', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  }, 60_000);
  afterAll(async () => srv?.close());

  it('/classify is open; /admin is disabled with a clear message', async () => {
    expect((await postCsv(srv.url, CSV)).status).toBe(200);
    const admin = await send(`${srv.url}/admin/reload`, { method: 'POST', headers: bearer(ADMIN_KEY) });
    expect(admin.status).toBe(404);
    expect(admin.json?.message).toMatch(/admin endpoints are disabled.*adminKeys/);
  });

  it('no CORS headers unless origins are configured', async () => {
    const res = await send(`${srv.url}/classify`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await send(`${srv.url}/healthz`, { method: 'GET', headers: { origin: 'https://evil.example' } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('security headers on the docs page, with a CSP that allows only its own scripts', async () => {
    const res = await send(`${srv.url}/docs/static/index.html`, { method: 'GET' });
    const page = res.status === 200 ? res : await send(`${srv.url}/docs`, { method: 'GET' });
    const csp = String(page.headers['content-security-policy'] ?? '');
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});

describe('CORS with configured origins', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ overrides: { cors: { origins: ['https://app.example'] } } });
  }, 60_000);
  afterAll(async () => srv?.close());

  it('allows the configured origin only', async () => {
    const ok = await send(`${srv.url}/classify`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await send(`${srv.url}/classify`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limit', () => {
  let srv: TestServer;
  const other = 'another-api-key-abcdefghijkl';
  beforeAll(async () => {
    srv = await startServer({ overrides: { auth: { apiKeys: [API_KEY, other] }, rateLimit: { max: 3, windowMs: 60_000 } } });
  }, 60_000);
  afterAll(async () => srv?.close());

  it('429 with Retry-After past the limit, counted per key; health and metrics are exempt', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postCsv(srv.url, CSV, bearer(API_KEY))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await postCsv(srv.url, CSV, bearer(API_KEY));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json?.message).toMatch(/rate limit/);
    // Another key has its own budget.
    expect((await postCsv(srv.url, CSV, bearer(other))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send(`${srv.url}/healthz`, { method: 'GET' })).status).toBe(200);
    expect((await send(`${srv.url}/metrics`, { method: 'GET' })).status).toBe(200);
  });
});
