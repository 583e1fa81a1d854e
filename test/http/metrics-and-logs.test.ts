/** GET /metrics (Prometheus) and request ids. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, metricValue } from '../helpers/metrics.js';
import { captureLogs, postCsv, send, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
const logs = captureLogs();
beforeAll(async () => {
  srv = await startServer({ ownPipeline: true, log: { stream: logs.stream, level: 'info' } });
}, 60_000);
afterAll(async () => srv?.close());

const CSV = "source,log_message\nA,User 42 logged in.\nB,Backup completed in 42 minutes.\nC,broken,row,too,many\nD,SMTP relay refused outgoing mail for the billing queue\n";
const scrape = async () => (await send(`${srv.url}/metrics`, { method: 'GET' })).text;

/** How much the sample `name{labels}` grew since `before` (the server is shared: each test counts from where it starts). */
const grew = (before: string, after: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  const a = metricValue(after, name, labels);
  return a === undefined ? undefined : a - (metricValue(before, name, labels) ?? 0);
};

describe('/metrics', () => {
  it('is Prometheus text with requests, rows, stage latencies, cache, model info and process metrics', async () => {
    // Lines of this test only (no other test sends them): the model row is a cache miss once, then a hit.
    const csv = CSV.replace('SMTP relay refused outgoing mail for the billing queue', 'SMTP relay refused outgoing mail for the metrics queue');
    const before = await scrape();
    expect((await postCsv(srv.url, csv)).status).toBe(200);
    expect((await postCsv(srv.url, csv)).status).toBe(200);
    await send(`${srv.url}/no-such-route`, { method: 'GET' });
    const res = await send(`${srv.url}/metrics`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = res.text;
    expect(grew(before, m, 'logsift_http_requests_total', { method: 'POST', route: '/classify', status: '200' })).toBe(2);
    expect(grew(before, m, 'logsift_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(grew(before, m, 'logsift_http_request_duration_seconds_count', { method: 'POST', route: '/classify' })).toBe(2);
    expect(metricValue(m, 'logsift_http_requests_in_flight')).toBeGreaterThanOrEqual(1); // this scrape
    expect(grew(before, m, 'logsift_rows_total', { stage: 'regex', label: 'User Action' })).toBe(2);
    expect(grew(before, m, 'logsift_rows_total', { stage: 'error', label: 'error' })).toBe(2);
    expect(metricSum(m, 'logsift_rows_total') - metricSum(before, 'logsift_rows_total')).toBe(8);
    expect(metricValue(m, 'logsift_stage_duration_seconds_count', { stage: 'regex' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'logsift_stage_duration_seconds_bucket', { stage: 'regex', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'logsift_stage_records_total', { stage: 'embedding' })).toBeGreaterThanOrEqual(1);
    // Rows a rule decides never reach the cache; the model rows of the second request come from it.
    expect(grew(before, m, 'logsift_cache_misses_total')).toBe(1);
    expect(grew(before, m, 'logsift_cache_hits_total')).toBe(1);
    expect(m).toMatch(/^logsift_model_info\{embedder="lexical",embedder_fingerprint="[^"]+",head="head-lexical\.json",head_data_sha256="[0-9a-f]{64}",rules="\d+",llm_model="none",generation="1"\} 1$/m);
    expect(metricValue(m, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(m, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metricValue(m, 'logsift_pipeline_leases')).toBe(0);
    // No LLM configured: no circuit state is exported.
    expect(metricValue(m, 'logsift_llm_circuit_state', { state: 'closed' })).toBeUndefined();
  });

  it('counts 4xx answers by route and status', async () => {
    const before = await scrape();
    await postCsv(srv.url, 'source,text\nA,b\n');
    expect(grew(before, await scrape(), 'logsift_http_requests_total', { method: 'POST', route: '/classify', status: '400' })).toBe(1);
  });
});

describe('request ids', () => {
  it('echoes a given x-request-id, and it is in the request log line', async () => {
    const res = await postCsv(srv.url, CSV, { 'x-request-id': 'trace-abc.123' });
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    const line = logs.lines().find((l) => l.reqId === 'trace-abc.123' && l.msg === 'request completed');
    expect(line).toMatchObject({ statusCode: 200, rows: 4, url: '/classify' });
  });

  it('generates a UUID when none is given, and replaces one unsafe for logs', async () => {
    const none = await send(`${srv.url}/healthz`, { method: 'GET' });
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const bad of ['has spaces and "quotes"', 'x'.repeat(200), 'a{b}']) {
      const res = await send(`${srv.url}/healthz`, { method: 'GET', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // Every answer carries one, errors included.
    expect((await postCsv(srv.url, '')).headers['x-request-id']).toBeTruthy();
  });
});
