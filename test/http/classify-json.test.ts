/**
 * /classify with JSON and NDJSON bodies, and Content-Encoding on every body type, over real HTTP
 * against the real pipeline (lexical head, no LLM). The payloads are the exact shapes Vector's
 * and Fluent Bit's http outputs send (README: "Log shippers"). One small server for the file.
 */
import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput, send, startServer, type HttpAnswer, type TestServer } from '../helpers/server.js';

const LIMITS = { maxUploadBytes: 100_000, maxRecordBytes: 2000, maxColumns: 50, maxRows: 60 };
let srv: TestServer;
beforeAll(async () => {
  // Batches of 4: an answer starts after four rows, so failures after that show as closing rows.
  srv = await startServer({ overrides: { server: LIMITS, pipeline: { batchSize: 4 } } });
}, 60_000);
afterAll(async () => {
  srv?.app.server.closeAllConnections();
  await srv?.close();
});

type Obj = Record<string, unknown>;
const post = (type: string, body: string | Buffer | Readable, headers: Record<string, string> = {}, query = '') =>
  send(`${srv.url}/classify${query}`, { headers: { 'content-type': type, ...headers }, body });
const ndjson = (res: HttpAnswer): Obj[] => res.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Obj);
const array = (res: HttpAnswer): Obj[] => JSON.parse(res.text) as Obj[];
const LOGIN = { target_label: 'User Action', label_stage: 'regex', confidence: 1 };

describe('application/json: an array of objects in, the same objects labelled out', () => {
  it('keeps every field of every object, in order and exactly as sent, and appends the three fields', async () => {
    // A number past double precision and an escape: kept as written, not re-serialised.
    const body = `[
  {"ts": 12345678901234567890, "source": "billing", "log_message": "User 12345 logged in.", "note": "caf\\u00e9"},
  {"message": "User 7 logged in.", "source": "web", "tags": ["a", {"b": null}]}
]`;
    const res = await post('application/json', body);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.text).toContain('"ts": 12345678901234567890, "source": "billing", "log_message": "User 12345 logged in.", "note": "caf\\u00e9",');
    const out = array(res);
    expect(out.map((o) => Object.keys(o))).toEqual([
      ['ts', 'source', 'log_message', 'note', 'target_label', 'label_stage', 'confidence'],
      ['message', 'source', 'tags', 'target_label', 'label_stage', 'confidence'],
    ]);
    expect(out[0]).toMatchObject({ source: 'billing', note: 'café', ...LOGIN });
    // `message` is an alias of `log_message`.
    expect(out[1]).toMatchObject({ tags: ['a', { b: null }], ...LOGIN });
  });

  it('a field already named target_label / label_stage / confidence is kept as input_<name>', async () => {
    const res = await post('application/json', '[{"target_label":"old","confidence":0.1,"log_message":"User 1 logged in."}]');
    expect(array(res)).toEqual([{ input_target_label: 'old', input_confidence: 0.1, log_message: 'User 1 logged in.', ...LOGIN }]);
  });

  it('unusable objects get an `error` object naming the item and line, in place; none dropped', async () => {
    const body = '[{"log_message":"User 1 logged in."},\n42,\n{"log_message":7},\n{"msg":"x"},\n{"source":3,"message":"y"},\n{"log_message":"User 2 logged in."}]';
    const out = array(await post('application/json', body));
    expect(out).toHaveLength(6);
    expect(out.map((o) => o.label_stage)).toEqual(['regex', 'error', 'error', 'error', 'error', 'regex']);
    expect(out[1]).toEqual({ target_label: 'item 2 (line 2): not a JSON object but a number: "42"', label_stage: 'error', confidence: 0 });
    // The object's own fields are kept on its error row.
    expect(out[2]).toEqual({ log_message: 7, target_label: 'item 3 (line 3): the "log_message" field is a number, not a string', label_stage: 'error', confidence: 0 });
    expect(out[3].target_label).toMatch(/^item 4 \(line 4\): no "log_message" or "message" field/);
    expect(out[4].target_label).toBe('item 5 (line 5): the "source" field is a number, not a string');
  });

  it('a malformed body is a 400 JSON_INVALID naming where; `[]` is an empty array', async () => {
    for (const [body, message] of [
      ['[{"log_message":"a"},\n{log_message:"b"}]', /^not valid JSON at item 2 \(line 2\): /],
      ['[{"log_message":"a"}', /the body ended inside item 1 .* before the array's closing \]/],
      ['[{"log_message":"a"},]', /a missing item before \]/],
      ['[{"log_message":"a"}] x', /text after the array's closing \]/],
      ['"just a string"', /expected a JSON array of objects/],
      ['   ', /the body is empty/],
    ] as const) {
      const res = await post('application/json', body);
      expect(res.status, body).toBe(400);
      expect(res.json).toMatchObject({ code: 'JSON_INVALID' });
      expect(res.json?.message, body).toMatch(message);
    }
    const empty = await post('application/json', '[]');
    expect(empty.status).toBe(200);
    expect(array(empty)).toEqual([]);
  });

  it('malformed JSON after the answer has started: every item before it labelled, then one closing `error` object', async () => {
    const items = Array.from({ length: 9 }, (_, i) => `{"seq":${i},"log_message":"User ${i} logged in."}`);
    const res = await post('application/json', `[${items.join(',')},{oops}]`);
    expect(res.status).toBe(200);
    const out = array(res);
    expect(out.slice(0, 9).map((o) => o.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(out.slice(0, 9).every((o) => o.label_stage === 'regex')).toBe(true);
    expect(out).toHaveLength(10);
    expect(out[9]).toMatchObject({ label_stage: 'error', confidence: 0 });
    expect(out[9].target_label).toMatch(/^input ended early after 9 rows: not valid JSON at item 10 \(line 1\)/);
  });
});

describe('application/x-ndjson: one object per line in, one out, in order', () => {
  it('bad lines become `error` objects naming their line, in place; CRLF, blank lines and a last line without LF', async () => {
    const lines = [
      '{"source":"a","log_message":"User 1 logged in."}',
      'not json',
      '',
      '[1,2]',
      '{"log_message":null}\r',
      '{"source":"b","message":"User 2 logged in."}',
    ];
    const res = await post('application/x-ndjson', lines.join('\n'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const out = ndjson(res);
    expect(out).toHaveLength(5);
    expect(out[0]).toEqual({ source: 'a', log_message: 'User 1 logged in.', ...LOGIN });
    expect(out[1]).toMatchObject({ label_stage: 'error', confidence: 0 });
    expect(out[1].target_label).toMatch(/^line 2: not valid JSON \(.*\): "not json"$/);
    expect(out[2].target_label).toBe('line 4: not a JSON object but an array: "[1,2]"');
    expect(out[3]).toEqual({ log_message: null, target_label: 'line 5: the "log_message" field is null, not a string', label_stage: 'error', confidence: 0 });
    expect(out[4]).toEqual({ source: 'b', message: 'User 2 logged in.', ...LOGIN });
  });

  it('a line over server.maxRecordBytes or an object over server.maxColumns: one `error` object in its place', async () => {
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i])));
    const body = ['{"log_message":"User 1 logged in."}', `{"log_message":"${'x'.repeat(5000)}"}`, wide, '{"log_message":"User 2 logged in."}'].join('\n');
    const out = ndjson(await post('application/x-ndjson', body));
    expect(out.map((o) => o.label_stage)).toEqual(['regex', 'error', 'error', 'regex']);
    expect(out[1].target_label).toMatch(/^line 2: record of 5018 bytes, over the limit of 2000 bytes per record \(server\.maxRecordBytes\)/);
    expect(out[2].target_label).toBe('line 3: object with 51 fields, over the limit of 50 fields per record (server.maxColumns); not read');
  });

  it('streamed in odd-sized chunks (split inside characters and escapes): every line once, in order', async () => {
    const lines = Array.from({ length: 55 }, (_, i) => JSON.stringify({ seq: i, source: 'é', log_message: `User ${i} logged in. \u00e9\u{1F600} "q"` }));
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const chunks: Buffer[] = [];
    for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7) % 113 + 1) chunks.push(bytes.subarray(at, at + n));
    const out = ndjson(await post('application/x-ndjson', Readable.from(chunks)));
    expect(out.map((o) => o.seq)).toEqual(lines.map((_, i) => i));
    expect(out.every((o) => o.label_stage === 'regex' && o.source === 'é')).toBe(true);
  });

  it('server.maxRows: the output ends with one `error` object naming the limit and the first line not processed', async () => {
    const body = Array.from({ length: 70 }, (_, i) => `{"seq":${i},"log_message":"User ${i} logged in."}`).join('\n');
    const out = ndjson(await post('application/x-ndjson', body));
    expect(out).toHaveLength(61);
    expect(out.slice(0, 60).map((o) => o.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(out[60].target_label).toBe('row limit reached: at most 60 rows are processed per request; line 61 and every row after it were not processed');
  });

  it('?field= names the field holding the line, ?source= the source of objects without one', async () => {
    const body = '{"log":"User 1 logged in.\\n","stream":"stdout"}\n{"log":"x","message":"User 2 logged in."}\n{"message":"User 3 logged in."}\n';
    const out = ndjson(await post('application/x-ndjson', body, {}, '?field=log&source=kube'));
    expect(out[0]).toEqual({ log: 'User 1 logged in.\n', stream: 'stdout', ...LOGIN });
    // Only the named field is read: `message` is not a fallback for it.
    expect(out[1].label_stage).not.toBe('regex');
    expect(out[2].target_label).toBe('line 3: no "log" field (named by ?field=)');
    const bad = await post('text/csv', 'source,log_message\na,b\n', {}, '?field=log');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'QUERY_INVALID' });
    // The template columns are CSV's: asked for with JSON, a clear 400 rather than silently nothing.
    const explained = await post('application/json', '[{"message":"x"}]', {}, '?explain=true');
    expect(explained.status).toBe(400);
    expect(explained.json).toMatchObject({ code: 'QUERY_INVALID', message: expect.stringContaining('explain') });
  });
});

describe('the payloads log shippers send', () => {
  const vectorEvent = (i: number, message: string) =>
    JSON.stringify({ file: '/var/log/app.log', host: 'web-1', message, source_type: 'file', timestamp: `2024-05-01T12:00:0${i}.123456789Z` });

  it('Vector http sink, codec json + framing newline_delimited + compression gzip: NDJSON without a final newline', async () => {
    const body = [vectorEvent(1, 'User 12345 logged in.'), vectorEvent(2, 'Backup completed successfully.')].join('\n');
    const res = await post('application/x-ndjson', gzipSync(body), { 'content-encoding': 'gzip' }, '?source=web');
    expect(res.status).toBe(200);
    const out = ndjson(res);
    expect(out).toHaveLength(2);
    expect(Object.keys(out[0])).toEqual(['file', 'host', 'message', 'source_type', 'timestamp', 'target_label', 'label_stage', 'confidence']);
    expect(out[0]).toMatchObject({ host: 'web-1', ...LOGIN });
    expect(out[1].label_stage).not.toBe('error');
  });

  it('Vector http sink, codec json with its default framing: a JSON array', async () => {
    const res = await post('application/json', `[${vectorEvent(1, 'User 12345 logged in.')},${vectorEvent(2, 'User 9 logged in.')}]`);
    expect(array(res).map((o) => [o.timestamp, o.label_stage])).toEqual([
      ['2024-05-01T12:00:01.123456789Z', 'regex'],
      ['2024-05-01T12:00:02.123456789Z', 'regex'],
    ]);
  });

  const fluentRecord = (date: number, log: string) => JSON.stringify({ date, log, source: 'nginx' });

  it('Fluent Bit http output, format json + compress gzip: an array of records with `date`, the line in `log`', async () => {
    const body = `[${fluentRecord(1714564800.123456, 'User 12345 logged in.')},${fluentRecord(1714564801.5, 'User 3 logged in.')}]`;
    const res = await post('application/json', gzipSync(body), { 'content-encoding': 'gzip' }, '?field=log');
    const out = array(res);
    expect(out).toEqual([
      { date: 1714564800.123456, log: 'User 12345 logged in.', source: 'nginx', ...LOGIN },
      { date: 1714564801.5, log: 'User 3 logged in.', source: 'nginx', ...LOGIN },
    ]);
  });

  it('Fluent Bit format json_lines (application/x-ndjson) and json_stream (records back to back, application/json)', async () => {
    const records = [fluentRecord(1714564800.1, 'User 1 logged in.'), fluentRecord(1714564800.2, 'User 2 logged in.')];
    const lines = ndjson(await post('application/x-ndjson', records.map((r) => `${r}\n`).join(''), {}, '?field=log'));
    expect(lines.map((o) => [o.date, o.label_stage])).toEqual([[1714564800.1, 'regex'], [1714564800.2, 'regex']]);
    const stream = array(await post('application/json', records.join(''), {}, '?field=log'));
    expect(stream.map((o) => [o.date, o.label_stage])).toEqual([[1714564800.1, 'regex'], [1714564800.2, 'regex']]);
  });
});

describe('Content-Encoding on every body type', () => {
  const csv = 'source,log_message\nbilling,User 1 logged in.\nweb,Backup completed successfully.\n';

  it('gzip, deflate and br bodies answer as the plain body does: CSV, multipart, NDJSON', async () => {
    const plain = await post('text/csv', csv);
    expect(plain.status).toBe(200);
    for (const [coding, encode] of [['gzip', gzipSync], ['x-gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]] as const) {
      const res = await post('text/csv', encode(csv), { 'content-encoding': coding });
      expect(res.status, coding).toBe(200);
      expect(res.text, coding).toBe(plain.text);
    }
    const b = 'logsift-gzip-form';
    const form = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${b}--\r\n`;
    const multipart = await post(`multipart/form-data; boundary=${b}`, gzipSync(form), { 'content-encoding': 'gzip' });
    expect(multipart.status).toBe(200);
    expect(multipart.text).toBe(plain.text);
  });

  it('corrupt gzip: 400 CONTENT_ENCODING_INVALID, on a raw body and on a form; an unknown coding: 415', async () => {
    const corrupt = await post('text/csv', Buffer.from('source,log_message\na,b\n'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json).toMatchObject({ code: 'CONTENT_ENCODING_INVALID' });
    expect(corrupt.json?.message).toMatch(/not valid gzip/);
    const form = await post('multipart/form-data; boundary=x', Buffer.from('--x\r\n'), { 'content-encoding': 'gzip' });
    expect(form.json).toMatchObject({ statusCode: 400, code: 'CONTENT_ENCODING_INVALID' });
    const zstd = await post('application/x-ndjson', Buffer.from('{}'), { 'content-encoding': 'zstd' });
    expect(zstd.status).toBe(415);
    expect(zstd.json).toMatchObject({ code: 'UNSUPPORTED_CONTENT_ENCODING' });
  });

  it('a truncated gzip stream after the answer has started: every complete row labelled, then a closing `error` row', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `${i},web,User ${i} logged in.\n`).join('');
    const whole = gzipSync(`seq,source,log_message\n${rows}`);
    const res = await post('text/csv', whole.subarray(0, whole.length - 6), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const { rows: out } = parseOutput(res.text);
    expect(out.slice(0, 12).map((r) => r[0])).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(out).toHaveLength(13);
    expect(out[12][3]).toMatch(/^input ended early after 12 rows: the body is not valid gzip \(Content-Encoding: gzip\): unexpected end of file/);
  });

  it('a gzip bomb stops at server.maxUploadBytes of decompressed bytes: 413 before the answer, a closing row after', async () => {
    // 50 MB of zeros in ~50 kB: under the limit compressed, 500 times over it decompressed.
    const bomb = gzipSync(Buffer.concat([Buffer.from('source,log_message\n'), Buffer.alloc(50_000_000)]));
    expect(bomb.length).toBeLessThan(LIMITS.maxUploadBytes);
    const res = await post('text/csv', bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'UPLOAD_TOO_LARGE' });
    expect(res.json?.message).toBe('the decompressed upload exceeds the limit of 100000 bytes (server.maxUploadBytes; Content-Encoding: gzip)');
    // The same bomb behind ten good lines of NDJSON.
    const lines = Array.from({ length: 10 }, (_, i) => `{"seq":${i},"log_message":"User ${i} logged in."}\n`).join('');
    const late = await post('application/x-ndjson', gzipSync(Buffer.concat([Buffer.from(lines), Buffer.alloc(50_000_000, 0x20)])), { 'content-encoding': 'gzip' });
    expect(late.status).toBe(200);
    const out = ndjson(late);
    expect(out.slice(0, 10).map((o) => o.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(out).toHaveLength(11);
    expect(out[10].target_label).toMatch(/^input ended early after 10 rows: the decompressed upload exceeds the limit of 100000 bytes/);
  });
});
