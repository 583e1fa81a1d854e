/**
 * One error table (src/errors.ts): every error answer of /classify, provoked over real HTTP, has
 * the body `{statusCode, code, error, message}` and a code the OpenAPI document (/docs/json)
 * lists for that route and status — and the document lists exactly the table's codes.
 */
import { STATUS_CODES } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { ROUTE_ERRORS } from '../../src/http/errors.js';
import { postCsv, send, startServer, type TestServer } from '../helpers/server.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: { 'application/json'?: { schema: { required: string[]; properties: { code: { enum: string[] } } } } } }> }>> };

const KEY = 'errors-test-api-key-0123456789';
const servers: TestServer[] = [];
let doc: Doc;
// The template store is on (its routes are documented too), in a temp data dir.
const dataDir = mkdtempSync(join(tmpdir(), 'logsift-errors-'));
beforeAll(async () => {
  servers.push(
    await startServer({
      overrides: { auth: { apiKeys: [KEY], maxFailures: 3 }, server: { maxUploadBytes: 4096, maxRecordBytes: 1000, maxColumns: 10 }, data: { dir: dataDir }, templates: { enabled: true } },
    }),
  );
  doc = (await send(`${servers[0].url}/docs/json`, { method: 'GET' })).json as unknown as Doc;
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Codes the document lists for a route's status. */
function documented(path: string, method: string, status: number): string[] {
  return doc.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema.properties.code.enum ?? [];
}

function raw(port: number, data: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(data));
    let text = '';
    socket.on('data', (c) => (text += c.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ status: Number(text.slice(9, 12)), body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) }));
  });
}

/** Every route the server answers, as `METHOD /path`, from Fastify's own route tree (Swagger UI's /docs routes aside). */
function servedRoutes(srv: TestServer): string[] {
  const out = new Set<string>();
  const prefixes: string[] = [];
  for (const line of srv.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (\S+) \(([^)]*)\)/.exec(line);
    if (!m) continue;
    const depth = [...m[1]].length / 4;
    const path = (depth > 0 ? prefixes[depth - 1] : '') + m[2];
    prefixes[depth] = path;
    // OpenAPI writes a parameter as {id} where Fastify writes :id.
    // Pages, not API: Swagger UI, and the web console's page and built files (src/http/plugins/console.ts).
    if (path.startsWith('/docs') || path === '/' || path === '/index.html' || path.startsWith('/assets/')) continue;
    for (const method of m[3].split(', ')) if (/^[A-Z]+$/.test(method) && method !== 'HEAD' && method !== 'OPTIONS') out.add(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return [...out].sort();
}

describe('the OpenAPI document is generated from the routes', () => {
  it('lists every route the server answers (so a new route cannot be left out)', () => {
    const routes = servedRoutes(servers[0]);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /healthz', 'GET /metrics', 'GET /readyz', 'POST /admin/reload', 'POST /classify', 'POST /discover',
        'POST /jobs', 'GET /jobs/{id}', 'GET /jobs/{id}/result', 'DELETE /jobs/{id}', 'GET /ws/logs',
        'GET /templates', 'GET /templates/{id}', 'PUT /templates/{id}', 'DELETE /templates/{id}/label', 'GET /templates/export',
      ]),
    );
    const documentedRoutes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documentedRoutes.sort()).toEqual(routes);
  });

  it('documents /classify\'s five body types, its four answers, ?field=, ?source=, ?sheet=, ?explain=, Content-Encoding and Accept', () => {
    type Op = { requestBody: { content: Record<string, unknown> }; responses: Record<string, { content?: Record<string, unknown> }>; parameters: { in: string; name: string }[] };
    const classify = (doc as unknown as { paths: Record<string, { post: Op }> }).paths['/classify'].post;
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    expect(Object.keys(classify.requestBody.content).sort()).toEqual(['application/json', XLSX, 'application/x-ndjson', 'multipart/form-data', 'text/csv']);
    expect(Object.keys(classify.responses['200'].content ?? {}).sort()).toEqual(['application/json', XLSX, 'application/x-ndjson', 'text/csv']);
    expect(classify.parameters.map((p) => `${p.in} ${p.name}`).sort()).toEqual(['header accept', 'header content-encoding', 'query explain', 'query field', 'query sheet', 'query source']);
    // POST /jobs takes the same bodies.
    const jobs = (doc as unknown as { paths: Record<string, { post: Op }> }).paths['/jobs'].post;
    expect(Object.keys(jobs.requestBody.content).sort()).toEqual(Object.keys(classify.requestBody.content).sort());
  });
});

describe('the error table and the OpenAPI document agree', () => {
  it('each documented route lists, per status, exactly the codes of the table the route answers with', () => {
    for (const [route, codes] of Object.entries(ROUTE_ERRORS)) {
      const [method, path] = route.split(' ');
      const statuses = new Set(codes.map((c) => ERRORS.find((e) => e.code === c)!.statusCode));
      for (const status of statuses) {
        const expected = codes.filter((c) => ERRORS.find((e) => e.code === c)!.statusCode === status);
        expect(documented(path, method.toLowerCase(), status), `${route} ${status}`).toEqual(expected);
      }
    }
    expect(new Set(ERRORS.map((e) => e.code)).size).toBe(ERRORS.length);
  });

  it('every error answer of /classify has the documented body and a documented code', async () => {
    const [srv] = servers;
    const auth = { authorization: `Bearer ${KEY}` };
    const form = (b: string, files: number) =>
      Array.from({ length: files }, (_, i) => `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${i}.csv"\r\n\r\nsource,log_message\nA,b\r\n`).join('') + `--${b}--\r\n`;
    const answers = [
      await postCsv(srv.url, '', auth),
      await postCsv(srv.url, 'a\u0000,b\n', auth),
      await postCsv(srv.url, 'source,text\n', auth),
      await postCsv(srv.url, `${Array.from({ length: 11 }, (_, i) => `c${i}`).join(',')}\n`, auth),
      await postCsv(srv.url, `source,log_message,${'h'.repeat(1000)}\n`, auth),
      await postCsv(srv.url, 'x'.repeat(5000), auth),
      await postCsv(srv.url, 'source,log_message\n', { ...auth, 'content-type': 'text/csv; charset=nope' }),
      await send(`${srv.url}/classify`, { headers: { ...auth, 'content-type': 'application/xml' }, body: '<a/>' }),
      await send(`${srv.url}/classify`, { headers: { ...auth, 'content-type': 'application/json' }, body: '{"log_message":' }),
      await postCsv(srv.url, 'not gzip', { ...auth, 'content-encoding': 'gzip' }),
      await postCsv(srv.url, 'source,log_message\n', { ...auth, 'content-encoding': 'compress' }),
      await send(`${srv.url}/classify?field=log`, { headers: { ...auth, 'content-type': 'text/csv' }, body: 'source,log_message\n' }),
      await send(`${srv.url}/classify`, { headers: { ...auth, 'content-type': 'multipart/form-data' }, body: 'x' }),
      await send(`${srv.url}/classify`, { headers: { ...auth, 'content-type': 'multipart/form-data; boundary=b' }, body: form('b', 0) }),
      await send(`${srv.url}/classify`, { headers: { ...auth, 'content-type': 'multipart/form-data; boundary=b' }, body: form('b', 2) }),
      await send(`${srv.url}/classify?explain=yes`, { headers: { ...auth, 'content-type': 'text/csv' }, body: 'source,log_message\nA,b\n' }),
      await postCsv(srv.url, 'source,log_message\n'),
      ...(await Promise.all([1, 2, 3].map((i) => postCsv(srv.url, 'source,log_message\n', { authorization: `Bearer wrong-key-${i}-0123456789` })))),
      await postCsv(srv.url, 'source,log_message\n', auth), // over auth.maxFailures from this address now
    ];
    const loading = await startServer({ withPipeline: false });
    servers.push(loading);
    answers.push(await postCsv(loading.url, 'source,log_message\n'));
    const codes = new Set<string>();
    for (const res of answers) {
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(Object.keys(res.json ?? {}).sort(), res.text).toEqual(['code', 'error', 'message', 'statusCode']);
      expect(res.json).toMatchObject({ statusCode: res.status, error: STATUS_CODES[res.status] });
      expect(documented('/classify', 'post', res.status), res.text).toContain(res.json!.code);
      codes.add(res.json!.code!);
    }
    // Answers written to the socket directly (no request is being answered) follow the table too.
    for (const { status, body } of [
      await raw(srv.port, 'NOT HTTP AT ALL\r\n\r\n'),
      await raw(srv.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`),
    ]) {
      expect(body).toMatchObject({ statusCode: status, error: STATUS_CODES[status] });
      expect(documented('/classify', 'post', status)).toContain((body as { code: string }).code);
      codes.add((body as { code: string }).code);
    }
    expect([...codes].sort()).toEqual(
      [
        'API_KEY_INVALID',
        'API_KEY_REQUIRED',
        'CSV_EMPTY',
        'CSV_INVALID',
        'CSV_MISSING_COLUMN',
        'CSV_RECORD_TOO_LARGE',
        'CSV_TOO_MANY_COLUMNS',
        'CONTENT_ENCODING_INVALID',
        'HEADERS_TOO_LARGE',
        'JSON_INVALID',
        'MULTIPART_INVALID',
        'NOT_READY',
        'NO_FILE',
        'QUERY_INVALID',
        'RATE_LIMITED',
        'REQUEST_INVALID',
        'TOO_MANY_FILES',
        'UNSUPPORTED_CHARSET',
        'UNSUPPORTED_CONTENT_ENCODING',
        'UNSUPPORTED_MEDIA_TYPE',
        'UPLOAD_TOO_LARGE',
      ].sort(),
    );
  });
});
