/**
 * /classify, /healthz, /readyz and /docs over real HTTP against the real pipeline (default
 * config: regex rules from configs/, lexical embedder + models/head-lexical.json, no LLM).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import { parse as parseStream } from 'csv-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { templateId } from '../../src/lines/templates.js';
import {
  OUT_COLUMNS,
  STAGES,
  outputObjects,
  parseOutput,
  pipelineFor,
  postCsv,
  postMultipart,
  send,
  startServer,
  type TestServer,
} from '../helpers/server.js';

const CODEBASICS = resolve(PROJECT_ROOT, '../shared/data/codebasics/test.csv');
const HEADER = ['source', 'log_message', ...OUT_COLUMNS];

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

/** Checks the invariants of every labelled row. */
function expectWellFormed(objects: Record<string, string>[]): void {
  for (const row of objects) {
    expect(STAGES.has(row.label_stage), `stage ${row.label_stage}`).toBe(true);
    const c = Number(row.confidence);
    expect(Number.isFinite(c)).toBe(true);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThanOrEqual(1);
    expect(row.target_label.length).toBeGreaterThan(0);
  }
}

describe.skipIf(!existsSync(CODEBASICS))('the Codebasics test set', () => {
  const csv = existsSync(CODEBASICS) ? readFileSync(CODEBASICS) : Buffer.alloc(0);
  const inputRows = () => (parseOutput(csv.toString('utf8').replace(/, "/g, ',"')).rows);

  function checkAnswer(text: string): void {
    const { header, rows } = parseOutput(text);
    expect(header).toEqual(HEADER);
    expect(text.split(/\r?\n/)[0]).toBe('source,log_message,target_label,label_stage,confidence');
    expect(rows).toHaveLength(10);
    const input = inputRows();
    // In input order, with the input's values passed through.
    expect(rows.map((r) => [r[0], r[1]])).toEqual(input.map((r) => [r[0], r[1]]));
    const objects = outputObjects(text);
    expectWellFormed(objects);
    // No LLM configured: LegacyCRM is not routed to it, and its lines get the model's answer.
    for (const row of objects.filter((r) => r.source === 'LegacyCRM')) {
      expect(['embedding', 'fallback', 'regex']).toContain(row.label_stage);
      expect(row.target_label).not.toBe('');
    }
    expect(objects.filter((r) => r.source === 'LegacyCRM')).toHaveLength(4);
    const login = objects.find((r) => r.log_message === 'User 12345 logged in.')!;
    expect(login).toMatchObject({ target_label: 'User Action', label_stage: 'regex', confidence: '1' });
    // No row of this set is unreadable.
    expect(objects.filter((r) => r.label_stage === 'error')).toEqual([]);
  }

  it('works as a raw text/csv body', async () => {
    const res = await postCsv(srv.url, csv);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    checkAnswer(res.text);
  });

  it('works as multipart/form-data (field "file")', async () => {
    const res = await postMultipart(srv.url, csv);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    checkAnswer(res.text);
  });
});

describe('/classify basics', () => {
  it('labels a shipped regex rule with stage regex and confidence 1, in order, one row per input row', async () => {
    const csv = 'source,log_message\nBillingSystem,User 123 logged in.\nModernCRM,Backup completed in 42 minutes.\nX,User 9 logged out.\n';
    for (const res of [await postCsv(srv.url, csv), await postMultipart(srv.url, csv)]) {
      expect(res.status).toBe(200);
      const objects = outputObjects(res.text);
      expect(objects.map((o) => o.log_message)).toEqual(['User 123 logged in.', 'Backup completed in 42 minutes.', 'User 9 logged out.']);
      expect(objects[0]).toMatchObject({ source: 'BillingSystem', target_label: 'User Action', label_stage: 'regex', confidence: '1' });
      expect(objects[1]).toMatchObject({ target_label: 'System Notification', label_stage: 'regex', confidence: '1' });
      expect(objects[2]).toMatchObject({ target_label: 'User Action', label_stage: 'regex', confidence: '1' });
    }
  });

  it('labels lines no rule matches with the embedding head or the fallback', async () => {
    const csv = 'source,log_message\nModernHR,Operator 9429 granted root rights outside the change window\nModernCRM,Firewall dropped traffic from 192.168.7.14 after a port scan\n';
    const res = await postCsv(srv.url, csv);
    expect(res.status).toBe(200);
    const objects = outputObjects(res.text);
    expect(objects).toHaveLength(2);
    expectWellFormed(objects);
    for (const o of objects) expect(['embedding', 'fallback']).toContain(o.label_stage);
  });

  it('accepts `message` as an alias of log_message, and a header in any case', async () => {
    const res = await postCsv(srv.url, 'SOURCE,Message\nBillingSystem,User 77 logged in.\n');
    expect(res.status).toBe(200);
    const { header, rows } = parseOutput(res.text);
    expect(header).toEqual(['SOURCE', 'Message', ...OUT_COLUMNS]);
    expect(rows).toEqual([['BillingSystem', 'User 77 logged in.', 'User Action', 'regex', '1']]);
  });

  it('passes extra columns through in order before the new ones; an input target_label becomes input_target_label', async () => {
    const csv = 'id,timestamp,source,target_label,log_message,note\n1,2025-01-01T00:00:00Z,BillingSystem,Security Alert,User 5 logged in.,first\n2,2025-01-02,App,,Backup started now,second\n';
    const res = await postCsv(srv.url, csv);
    expect(res.status).toBe(200);
    const { header, rows } = parseOutput(res.text);
    expect(header).toEqual(['id', 'timestamp', 'source', 'input_target_label', 'log_message', 'note', ...OUT_COLUMNS]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['1', '2025-01-01T00:00:00Z', 'BillingSystem', 'Security Alert', 'User 5 logged in.', 'first', 'User Action', 'regex', '1']);
    expect(rows[1].slice(0, 6)).toEqual(['2', '2025-01-02', 'App', '', 'Backup started now', 'second']);
    expect(rows[1].slice(6, 8)).toEqual(['System Notification', 'regex']);
  });

  it('echoes x-request-id', async () => {
    const res = await postCsv(srv.url, 'source,log_message\nA,User 1 logged in.\n', { 'x-request-id': 'req-abc-123' });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-abc-123');
    const health = await send(`${srv.url}/healthz`, { method: 'GET', headers: { 'x-request-id': 'health-1' } });
    expect(health.headers['x-request-id']).toBe('health-1');
    // Without one, the server makes one up and still sends it.
    const anon = await send(`${srv.url}/healthz`, { method: 'GET' });
    expect(anon.headers['x-request-id']).toBeTruthy();
  });
});

describe('/classify?explain=true', () => {
  const EXPLAINED = [...OUT_COLUMNS, 'template_id', 'template', 'rule'];
  // Three lines of one template behind syslog headers (other hosts, pids, users), a rule hit, a
  // line no rule matches.
  const csv =
    'source,log_message\n' +
    'sshd,Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 173.234.31.186 port 38926 ssh2\n' +
    'sshd,Dec 10 07:02:47 gw-2 sshd[5012]: Failed password for admin from 10.0.0.7 port 4121 ssh2\n' +
    'sshd,Dec 10 07:02:49 gw-2 sshd[5013]: Failed password for guest from 10.0.0.9 port 4122 ssh2\n' +
    'BillingSystem,User 123 logged in.\n' +
    'ModernCRM,Firewall dropped traffic from 192.168.7.14 after a port scan\n';

  it('appends template_id, template and rule after the usual columns', async () => {
    const res = await send(`${srv.url}/classify?explain=true`, { headers: { 'content-type': 'text/csv' }, body: csv });
    expect(res.status).toBe(200);
    const { header, rows } = parseOutput(res.text);
    expect(header).toEqual(['source', 'log_message', ...EXPLAINED]);
    const objects = outputObjects(res.text);
    // The header (time, host, process) is not in the template; numbers are parameters at once,
    // a word once three different ones have stood there (the first lines keep their own).
    expect(objects[0].template).toBe('Failed password for root from <*> port <*> ssh2');
    expect(objects[2].template).toBe('Failed password for <*> from <*> port <*> ssh2');
    expect(objects[2].template_id).toBe(templateId(objects[2].template));
    expect(objects[0].template_id).toMatch(/^[0-9a-f]{16}$/);
    expect(objects[3]).toMatchObject({ label_stage: 'regex', rule: 'user-login', template: 'User <*> logged in.', template_id: templateId('User <*> logged in.') });
    expect(objects[4].label_stage).not.toBe('regex');
    expect(objects[4].rule).toBe('');
    expect(rows.every((r) => r.length === 2 + EXPLAINED.length)).toBe(true);
  });

  it('leaves the columns out without it, or with explain=false; 400 for another value', async () => {
    for (const path of ['/classify', '/classify?explain=false', '/classify?explain=0']) {
      const res = await send(`${srv.url}${path}`, { headers: { 'content-type': 'text/csv' }, body: csv });
      expect(parseOutput(res.text).header).toEqual(['source', 'log_message', ...OUT_COLUMNS]);
    }
    const bad = await send(`${srv.url}/classify?explain=yes`, { headers: { 'content-type': 'text/csv' }, body: csv });
    expect(bad.status).toBe(400);
    expect(bad.json?.code).toBe('QUERY_INVALID');
  });
});

describe('/classify errors', () => {
  it('400 naming a missing column', async () => {
    const res = await postCsv(srv.url, 'source,text\nA,User 1 logged in.\n');
    expect(res.status).toBe(400);
    expect(res.json?.code).toBe('CSV_MISSING_COLUMN');
    expect(res.json?.message).toMatch(/log_message/);
    const noSource = await postCsv(srv.url, 'origin,log_message\nA,hello\n');
    expect(noSource.status).toBe(400);
    expect(noSource.json?.message).toMatch(/source/);
    expect(noSource.json?.message).not.toMatch(/columns: source, log_message/);
    const multi = await postMultipart(srv.url, 'foo,bar\n1,2\n');
    expect(multi.status).toBe(400);
    expect(multi.json?.message).toMatch(/source, log_message/);
  });

  it('400 for an empty body, raw or multipart, with or without Content-Length', async () => {
    const empty = await postCsv(srv.url, '');
    expect(empty.status).toBe(400);
    expect(empty.json?.message).toMatch(/empty/);
    const chunkedEmpty = await send(`${srv.url}/classify`, { headers: { 'content-type': 'text/csv' }, body: '', chunked: true });
    expect(chunkedEmpty.status).toBe(400);
    expect(chunkedEmpty.json?.message).toMatch(/empty/);
    const blankLines = await postCsv(srv.url, '\n\r\n\n');
    expect(blankLines.status).toBe(400);
    expect(blankLines.json?.message).toMatch(/empty/);
    const multi = await postMultipart(srv.url, '');
    expect(multi.status).toBe(400);
    expect(multi.json?.message).toMatch(/empty/);
  });

  it('header only: 200 with just the header line', async () => {
    for (const res of [await postCsv(srv.url, 'source,log_message\n'), await postCsv(srv.url, 'source,log_message'), await postMultipart(srv.url, 'source,log_message\r\n')]) {
      expect(res.status).toBe(200);
      expect(res.text).toBe('source,log_message,target_label,label_stage,confidence\n');
    }
  });

  it('400 for a binary file (PNG with NUL bytes)', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      Buffer.alloc(64, 0),
      Buffer.from('IEND\xaeB`\x82', 'latin1'),
    ]);
    const raw = await postCsv(srv.url, png);
    expect(raw.status).toBe(400);
    expect(raw.json?.code).toMatch(/CSV_/);
    expect(raw.json?.message).toBeTruthy();
    const multi = await postMultipart(srv.url, png);
    expect(multi.status).toBe(400);
  });

  it('400 naming the missing columns for JSON sent as text/csv', async () => {
    const res = await postCsv(srv.url, JSON.stringify([{ source: 'A', log_message: 'User 1 logged in.' }]));
    expect(res.status).toBe(400);
    expect(res.json?.code).toBe('CSV_MISSING_COLUMN');
    expect(res.json?.message).toMatch(/missing required column/);
  });

  it('415 naming the type for types it does not read (application/json is read: classify-json.test.ts)', async () => {
    const xml = await send(`${srv.url}/classify`, { headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    expect(xml.json?.statusCode).toBe(415);
    expect(xml.json?.message).toContain('application/xml');
    const yaml = await send(`${srv.url}/classify`, { headers: { 'content-type': 'application/yaml' }, body: 'a: 1' });
    expect(yaml.status).toBe(415);
    expect(yaml.json?.message).toContain('application/yaml');
  });

  it('400 for multipart without a `file` field', async () => {
    const res = await postMultipart(srv.url, 'source,log_message\nA,User 1 logged in.\n', 'upload');
    expect(res.status).toBe(400);
    expect(res.json?.code).toBe('NO_FILE');
    expect(res.json?.message).toMatch(/"file"/);
    const fieldsOnly = new FormData();
    fieldsOnly.append('note', 'hello');
    const r2 = await fetch(`${srv.url}/classify`, { method: 'POST', body: fieldsOnly });
    expect(r2.status).toBe(400);
    const body = (await r2.json()) as { message: string };
    expect(body.message).toMatch(/file/);
  });
});

describe('upload size limit', () => {
  const LIMIT = 4096;
  let small: TestServer;
  beforeAll(async () => {
    // Small batches: the answer starts (with the first batch) before the limit trips.
    small = await startServer({ overrides: { server: { maxUploadBytes: LIMIT }, pipeline: { batchSize: 4 } } });
  });
  afterAll(async () => {
    // The last test's answer ends (cut at the limit) while its client is still sending the rest
    // of the streamed form. close() finds that connection busy, and once the upload ends it sits
    // idle in the client's keep-alive pool: close() waited ~5 s for the agent to drop it. The
    // tests are done with it: drop it now.
    small?.app.server.closeAllConnections();
    await small?.close();
  });

  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => `${from + i},BillingSystem,User ${from + i} logged in.\n`).join('');

  it('accepts an upload under the limit', async () => {
    const csv = `seq,source,log_message\n${rows(20)}`;
    expect(Buffer.byteLength(csv)).toBeLessThan(LIMIT);
    const res = await postCsv(small.url, csv);
    expect(res.status).toBe(200);
    expect(parseOutput(res.text).rows).toHaveLength(20);
  });

  it('413 for a declared Content-Length over the limit, before reading the body', async () => {
    const csv = `seq,source,log_message\n${rows(400)}`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(LIMIT);
    const res = await postCsv(small.url, csv);
    expect(res.status).toBe(413);
    expect(res.json?.code).toBe('UPLOAD_TOO_LARGE');
    expect(res.json?.message).toMatch(new RegExp(`${LIMIT}`));
  });

  it('413 for a chunked upload over the limit before the header could be answered', async () => {
    // One chunk larger than the limit: the limit trips before any row is read.
    const csv = `seq,source,log_message\n${rows(400)}`;
    const res = await send(`${small.url}/classify`, { headers: { 'content-type': 'text/csv' }, body: csv, chunked: true });
    expect(res.headers['content-length']).toBeDefined();
    expect(res.status).toBe(413);
    expect(res.json?.code).toBe('UPLOAD_TOO_LARGE');
  });

  it('a chunked upload that passes the limit once output has started ends with an `error` row explaining the truncation', async () => {
    async function* body(): AsyncGenerator<string> {
      yield `seq,source,log_message\n${rows(10)}`;
      // Let the server read the header and start answering before the limit trips.
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 10; i < 400; i += 10) {
        yield rows(10, i);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const res = await send(`${small.url}/classify`, { headers: { 'content-type': 'text/csv' }, body: Readable.from(body()) });
    expectTruncated(res.status, res.text, res.json);
  });

  it('a multipart upload over the limit: 413, or an `error` row at the end if output had started', async () => {
    const big = `seq,source,log_message\n${rows(400)}`;
    const res = await postMultipart(small.url, big);
    expectTruncated(res.status, res.text, res.json);

    // Streamed multipart whose file passes the limit only after the header was answered.
    const boundary = '----logsift-test-boundary';
    async function* form(): AsyncGenerator<string> {
      yield `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n`;
      yield `seq,source,log_message\n${rows(10)}`;
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 10; i < 400; i += 10) {
        yield rows(10, i);
        await new Promise((r) => setTimeout(r, 5));
      }
      yield `\r\n--${boundary}--\r\n`;
    }
    const streamed = await send(`${small.url}/classify`, {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.from(form()),
    });
    expectTruncated(streamed.status, streamed.text, streamed.json);
    expect(streamed.status).toBe(200);
  });

  /** Either a clean 413, or a 200 whose labelled rows are in order and whose last row is the error. */
  function expectTruncated(status: number, text: string, json: { code?: string; message?: string } | undefined): void {
    if (status === 413) {
      expect(json?.code).toBe('UPLOAD_TOO_LARGE');
      expect(json?.message).toMatch(/limit/);
      return;
    }
    expect(status).toBe(200);
    const { header, rows: out } = parseOutput(text);
    expect(header).toEqual(['seq', 'source', 'log_message', ...OUT_COLUMNS]);
    expect(out.length).toBeGreaterThanOrEqual(2);
    const last = out[out.length - 1];
    expect(last[4]).toBe('error');
    expect(last[3]).toMatch(/input ended early after \d+ rows: .*limit of 4096 bytes/);
    const labelled = out.slice(0, -1);
    expect(labelled.map((r) => r[0])).toEqual(labelled.map((_, i) => String(i)));
    for (const r of labelled) expect(r[4]).not.toBe('error');
    expect(last[3]).toContain(`after ${labelled.length} rows`);
  }
});

describe('streaming at scale', () => {
  it('streams 100,000 rows in and out in order with modest memory', async () => {
    const N = 100_000;
    const messages = [
      (i: number) => `User ${i} logged in.`,
      (i: number) => `Backup completed for volume ${i}`,
      (i: number) => `GET /v2/${i}/servers/detail HTTP/1.1 RCODE 200 len: ${i} time: 0.1`,
      (i: number) => `Disk usage at ${i % 100}% on node-${i % 7}`,
      (i: number) => `Payment ${i} failed: card declined`,
    ];
    let i = 0;
    const body = new Readable({
      read() {
        // Pushes ~64 KiB at a time; the whole body is never one string.
        let chunk = i === 0 ? 'seq,source,log_message\n' : '';
        while (chunk.length < 64 * 1024 && i < N) {
          chunk += `${i},Svc${i % 13},"${messages[i % messages.length](i)}"\n`;
          i++;
        }
        this.push(chunk);
        if (i >= N) this.push(null);
      },
    });

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const started = Date.now();

    const result = await new Promise<{ status: number; count: number; inOrder: boolean; stages: Record<string, number> }>((resolveP, reject) => {
      const req = httpRequest(`${srv.url}/classify`, { method: 'POST', headers: { 'content-type': 'text/csv' } }, (res) => {
        const parser = parseStream({ relax_column_count: false });
        let count = -1;
        let inOrder = true;
        const stages: Record<string, number> = {};
        parser.on('data', (record: string[]) => {
          if (count === -1) {
            if (record.join(',') !== `seq,source,log_message,${OUT_COLUMNS.join(',')}`) inOrder = false;
          } else {
            if (record[0] !== String(count)) inOrder = false;
            stages[record[4]] = (stages[record[4]] ?? 0) + 1;
          }
          count++;
        });
        parser.on('error', reject);
        parser.on('end', () => resolveP({ status: res.statusCode ?? 0, count, inOrder, stages }));
        res.pipe(parser);
      });
      req.on('error', reject);
      body.pipe(req);
    });
    clearInterval(sampler);

    expect(result.status).toBe(200);
    expect(result.count).toBe(N);
    expect(result.inOrder).toBe(true);
    expect(result.stages.error ?? 0).toBe(0);
    expect(Object.keys(result.stages).every((s) => STAGES.has(s))).toBe(true);
    // Sanity only: the server (in this process) must not hold the whole upload or output.
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);
});

describe('health, readiness, docs', () => {
  it('/healthz 200', async () => {
    const res = await send(`${srv.url}/healthz`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('/readyz 200 with pipeline info once loaded', async () => {
    const res = await send(`${srv.url}/readyz`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json?.status).toBe('ready');
    const info = res.json as unknown as { embedder: { kind: string }; head: { path: string; labels: string[] }; rules: number; labels: string[]; llm: { enabled: boolean } };
    expect(info.embedder.kind).toBe('lexical');
    expect(info.head.path).toMatch(/head-lexical\.json$/);
    expect(info.head.labels.length).toBeGreaterThan(1);
    expect(info.rules).toBeGreaterThan(0);
    expect(info.llm.enabled).toBe(false);
  });

  it('/readyz 503 and /classify 503 before the pipeline is loaded', async () => {
    const loading = await startServer({ withPipeline: false });
    try {
      const ready = await send(`${loading.url}/readyz`, { method: 'GET' });
      expect(ready.status).toBe(503);
      expect(ready.json?.status).toBe('loading');
      const health = await send(`${loading.url}/healthz`, { method: 'GET' });
      expect(health.status).toBe(200);
      const res = await postCsv(loading.url, 'source,log_message\nA,User 1 logged in.\n');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json?.message).toMatch(/loading/);
      // Once the models are in, it answers.
      loading.app.classifier.current = await pipelineFor(loading.config);
      expect((await send(`${loading.url}/readyz`, { method: 'GET' })).status).toBe(200);
    } finally {
      await loading.close();
    }
  });

  it('/docs serves Swagger UI HTML', async () => {
    const res = await fetch(`${srv.url}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger/i);
  });

  it('/docs/json is an OpenAPI 3 document for POST /classify (multipart + text/csv; 400/413/415)', async () => {
    const res = await send(`${srv.url}/docs/json`, { method: 'GET' });
    expect(res.status).toBe(200);
    const doc = res.json as unknown as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths['/classify']?.post;
    expect(post).toBeDefined();
    expect(Object.keys(post.requestBody.content)).toEqual(expect.arrayContaining(['multipart/form-data', 'text/csv']));
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '415']));
    const explain = (post as unknown as { parameters: { in: string; name: string; schema: { type: string } ; description: string }[] }).parameters.find((p) => p.name === 'explain');
    expect(explain).toMatchObject({ in: 'query', schema: { type: 'boolean' } });
    expect(explain?.description).toContain('template_id');
  });
});
