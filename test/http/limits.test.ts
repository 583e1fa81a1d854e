/**
 * Limits: rows per request, line length for the models, formula neutralising as configured,
 * load shedding (503 + Retry-After), slow clients (header and body timeouts).
 */
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI, answer, logLineOf } from '../helpers/fake-openai.js';
import { metricValue } from '../helpers/metrics.js';
import { outputObjects, parseOutput, postCsv, send, startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer | undefined;
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await srv?.close();
  await fake?.close();
  srv = undefined;
  fake = undefined;
});

const rowsCsv = (n: number) => `id,source,log_message\n${Array.from({ length: n }, (_, i) => `${i},A,User ${i} logged in.`).join('\n')}\n`;

describe('server.maxRows', () => {
  it('stops at the limit and ends with one error row naming it and the first line not processed', async () => {
    srv = await startServer({ overrides: { server: { maxRows: 5 } } });
    const res = await postCsv(srv.url, rowsCsv(12));
    expect(res.status).toBe(200);
    const rows = outputObjects(res.text);
    expect(rows).toHaveLength(6);
    expect(rows.slice(0, 5).map((r) => r.id)).toEqual(['0', '1', '2', '3', '4']);
    expect(rows[5]).toMatchObject({ label_stage: 'error', confidence: '0' });
    expect(rows[5].target_label).toBe('row limit reached: at most 5 rows are processed per request; line 7 and every row after it were not processed');
    const m = (await send(`${srv.url}/metrics`, { method: 'GET' })).text;
    expect(metricValue(m, 'logsift_row_limit_reached_total')).toBe(1);
  });

  it('exactly at the limit: no error row', async () => {
    srv = await startServer({ overrides: { server: { maxRows: 5 } } });
    const rows = outputObjects((await postCsv(srv.url, rowsCsv(5))).text);
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.label_stage !== 'error')).toBe(true);
  });

  it('a large chunked upload past the limit: the client still gets the whole answer (the rest is read and discarded)', async () => {
    srv = await startServer({ overrides: { server: { maxRows: 100 } } });
    const body = Readable.from((function* () {
      yield 'id,source,log_message\n';
      for (let i = 0; i < 200; i++) yield Array.from({ length: 500 }, (_, j) => `${i * 500 + j},A,User ${j} logged in.`).join('\n') + '\n';
    })());
    const res = await send(`${srv.url}/classify`, { headers: { 'content-type': 'text/csv' }, body });
    expect(res.status).toBe(200);
    const { rows } = parseOutput(res.text);
    expect(rows).toHaveLength(101);
    expect(rows[100][3]).toMatch(/row limit reached: at most 100 rows/);
    // The connection is still usable afterwards.
    expect((await send(`${srv.url}/healthz`, { method: 'GET' })).status).toBe(200);
  });
});

describe('server.maxMessageChars', () => {
  it('the models see at most maxMessageChars; the output keeps the whole line', async () => {
    fake = await new FakeOpenAI().start();
    fake.respond(() => answer('Workflow Error'));
    srv = await startServer({ ownPipeline: true, overrides: { server: { maxMessageChars: 300 }, llm: { baseUrl: fake.baseUrl, timeoutMs: 2000 } } });
    const long = `Workflow step failed ${'x'.repeat(10_000)} end`;
    const res = await postCsv(srv.url, `source,log_message\nLegacyCRM,${long}\n`);
    const [row] = outputObjects(res.text);
    expect(row.log_message).toBe(long);
    expect(row.target_label).toBe('Workflow Error');
    expect(fake.requests).toHaveLength(1);
    expect(logLineOf(fake.requests[0])!.length).toBeLessThanOrEqual(300);
  });
});

describe('server.neutraliseFormulas', () => {
  it('false: cells are passed through verbatim', async () => {
    srv = await startServer({ overrides: { server: { neutraliseFormulas: false } } });
    const rows = outputObjects((await postCsv(srv.url, 'source,log_message\n=HYPERLINK("x"),@SUM(A1)\n')).text);
    expect(rows[0].source).toBe('=HYPERLINK("x")');
    expect(rows[0].log_message).toBe('@SUM(A1)');
  });

  it('true (default): = + - @ tab CR prefixed with a quote, as OWASP recommends', async () => {
    srv = await startServer();
    const rows = outputObjects((await postCsv(srv.url, 'source,log_message,x,y\n=1+1,+cmd,-2,"\tTAB"\n')).text);
    expect([rows[0].source, rows[0].log_message, rows[0].x, rows[0].y]).toEqual(["'=1+1", "'+cmd", "'-2", "'\tTAB"]);
  });
});

describe('load shedding (@fastify/under-pressure)', () => {
  it('503 + Retry-After past the memory limit; /healthz and /metrics still answer', async () => {
    srv = await startServer({ overrides: { pressure: { maxHeapUsedBytes: 1, retryAfterSeconds: 7 } } });
    let res = await postCsv(srv.url, rowsCsv(1));
    for (let i = 0; i < 20 && res.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await postCsv(srv.url, rowsCsv(1));
    }
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json).toMatchObject({ code: 'OVERLOADED' });
    expect(res.json?.message).toMatch(/heapUsedBytes/);
    expect((await send(`${srv.url}/healthz`, { method: 'GET' })).status).toBe(200);
    const m = await send(`${srv.url}/metrics`, { method: 'GET' });
    expect(m.status).toBe(200);
    expect(metricValue(m.text, 'logsift_load_shed_total', { cause: 'heapUsedBytes' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(m.text, 'logsift_http_requests_total', { method: 'POST', route: '/classify', status: '503' })).toBeGreaterThanOrEqual(1);
  });
});

describe('slow clients', () => {
  /** Opens a raw socket, writes `data`, and resolves with what the server sent and when it closed. */
  function rawExchange(port: number, data: string, maxMs: number): Promise<{ text: string; closedAfterMs: number | null }> {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = connect(port, '127.0.0.1', () => socket.write(data));
      let text = '';
      socket.on('data', (c) => (text += c.toString('utf8')));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closedAfterMs: null });
      }, maxMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedAfterMs: Date.now() - started });
      });
      socket.on('error', () => undefined);
    });
  }

  it('headers never finished: answered 408 and closed after headersTimeout', async () => {
    srv = await startServer({ overrides: { server: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } } });
    const { text, closedAfterMs } = await rawExchange(srv.port, 'POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n', 5000);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(3000);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body that stops arriving: answered 408 and closed after requestTimeout', async () => {
    srv = await startServer({ overrides: { server: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } } });
    const head = 'POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\nsource,log_message\nA,';
    const { closedAfterMs } = await rawExchange(srv.port, head, 6000);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(4000);
    expect((await send(`${srv.url}/healthz`, { method: 'GET' })).status).toBe(200);
  });
});
