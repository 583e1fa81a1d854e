/**
 * Table-driven: every input in test/fixtures/malformed/cases.json against POST /classify, with
 * the answer expected for it. Complements csv-edge-cases.test.ts and classify-http.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES, outputObjects, parseOutput, postCsv, startServer, type TestServer } from '../helpers/server.js';

interface Case {
  name: string;
  file?: string;
  generate?: string;
  contentType?: string;
  status: number;
  code?: string;
  rows?: number;
  errorRows?: number[];
  header?: string[];
  cells?: Record<string, Record<string, string>>;
  message?: string;
}

const DIR = 'test/fixtures/malformed';
const { cases } = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as { cases: Case[] };

const TEN_MB = 10 * 1024 * 1024;
const MIB_17 = 17 * 1024 * 1024;
const cols = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
const csvOf = (...parts: (string | Buffer)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
const GENERATED: Record<string, () => Buffer> = {
  '10mb-single-line': () => Buffer.alloc(TEN_MB, 'x'),
  '10mb-message': () => Buffer.concat([Buffer.from('source,log_message\nA,'), Buffer.alloc(TEN_MB, 'y'), Buffer.from('\n')]),
  '100k-columns-no-required': () => Buffer.from(`${cols(100_000).join(',')}\n${cols(100_000).map(() => 'v').join(',')}\n`),
  '100k-columns': () => {
    const header = [...cols(99_998), 'source', 'log_message'];
    return Buffer.from(`${header.join(',')}\n${header.map((_, i) => (i === 99_999 ? 'User 5 logged in.' : 'v')).join(',')}\n`);
  },
  '400-columns': () => {
    const header = [...cols(398), 'source', 'log_message'];
    return Buffer.from(`${header.join(',')}\n${header.map((_, i) => (i === 399 ? 'User 5 logged in.' : 'v')).join(',')}\n`);
  },
  // Issue 9 item 4: one row of five million fields.
  '5m-fields-row': () => csvOf('source,log_message\ngw,User 1 logged in.\n', Buffer.alloc(5_000_000 * 4 - 1, 'xyz,'), '\ngw,User 2 logged in.\n'),
  // Issue 9 item 2: a quoted field over the record limit, with rows before and after it.
  '17mb-quoted-field': () => csvOf('source,log_message\ngw,a\ngw,"', Buffer.alloc(MIB_17, 'x'), '"\ngw,b\ngw,c\n'),
  '17mb-header': () => csvOf('source,log_message,', Buffer.alloc(MIB_17, 'h'), '\ngw,a\n'),
  'unterminated-17mb': () => csvOf('source,log_message\ngw,a\ngw,"open ', Buffer.alloc(MIB_17, 'y'), '\ngw,b\n'),
};

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
}, 60_000);
afterAll(async () => srv?.close());

describe('malformed inputs (test/fixtures/malformed)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const body = c.file ? readFileSync(join(DIR, c.file)) : GENERATED[c.generate!]();
    // A fresh connection each: some answers come before the whole upload was read.
    const res = await postCsv(srv.url, body, { connection: 'close', ...(c.contentType && { 'content-type': c.contentType }) });
    expect(res.status, res.text.slice(0, 300)).toBe(c.status);
    if (c.status !== 200) {
      expect(res.json?.code).toBe(c.code);
      if (c.message) expect(res.json?.message).toMatch(new RegExp(c.message));
      return;
    }
    const { header, rows } = parseOutput(res.text);
    if (c.header) expect(header).toEqual(c.header);
    expect(rows).toHaveLength(c.rows!);
    for (const r of rows) expect(STAGES.has(r[r.length - 2])).toBe(true);
    const errors = rows.flatMap((r, i) => (r[r.length - 2] === 'error' ? [i] : []));
    expect(errors).toEqual(c.errorRows ?? []);
    if (c.message) expect(rows[errors[0]][header.length - 3]).toMatch(new RegExp(c.message));
    const objects = outputObjects(res.text);
    for (const [row, expected] of Object.entries(c.cells ?? {})) expect(objects[Number(row)]).toMatchObject(expected);
    if (c.generate === '10mb-message') expect(rows[0][1]).toHaveLength(TEN_MB);
    if (c.generate === '400-columns') expect(rows[0]).toHaveLength(403);
  }, 60_000);
});
