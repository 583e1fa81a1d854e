/**
 * POST /discover over real HTTP: the upload as /classify takes it (raw CSV, multipart), the JSON
 * answer (templates, families, rules the loader takes, coverage against the ground truth), keys
 * as /classify, the query checked, limits (maxRows) as /classify, and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRules, RegexStage } from '../../src/stages/regex.js';
import { send, startServer, type TestServer } from '../helpers/server.js';

const KEY = 'discover-test-api-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

function csv(): string {
  const rows = ['source,log_message,target_label'];
  for (let i = 0; i < 30; i++) {
    rows.push(`db,Disk usage on /data${i % 5} reached ${90 + (i % 9)}% of ${100 * ((i % 4) + 1)} GB,Resource Usage`);
    rows.push(`web,User u${i} logged out.,User Action`);
  }
  rows.push('db,"too, many, fields",x,y');
  return `${rows.join('\n')}\n`;
}

let srv: TestServer;
let limited: TestServer;
beforeAll(async () => {
  [srv, limited] = await Promise.all([startServer({ overrides: { auth: { apiKeys: [KEY] } } }), startServer({ overrides: { server: { maxRows: 10 } } })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([srv?.close(), limited?.close()]);
});

type Answer = {
  summary: Record<string, number | string>;
  coverage: Record<string, number>;
  templates: { id: string; template: string; count: number; label: string; stage: string; confidence: number; family: number; example: string }[];
  families: { family: number; templates: number; lines: number; representative: string; labels: Record<string, number> }[];
  rules: { id: string; pattern: string; flags: string; label: string; description: string }[];
  rejected: unknown[];
  settings: Record<string, unknown>;
};

describe('POST /discover', () => {
  it('answers templates, families, suggested rules and their coverage for a raw CSV, with a key as /classify', async () => {
    expect((await send(`${srv.url}/discover`, { headers: { 'content-type': 'text/csv' }, body: csv() })).json?.code).toBe('API_KEY_REQUIRED');
    const res = await send(`${srv.url}/discover?min_lines=20`, { headers: { 'content-type': 'text/csv', ...auth }, body: csv() });
    expect(res.status).toBe(200);
    const a = res.json as unknown as Answer;
    expect(a.summary).toEqual({ rows: 61, unreadable: 1, templates: 2, families: 2, noise_templates: 0, rules: 1, rejected: 0 });
    expect(a.settings).toMatchObject({ eps: 0.2, min_samples: 1, min_lines: 20, min_confidence: 0.9, embedder: 'lexical' });
    const disk = a.templates.find((t) => t.template === 'Disk usage on <*> reached <*> of <*> GB')!;
    expect(disk).toMatchObject({ count: 30, label: 'Resource Usage', stage: 'embedding', example: 'Disk usage on /data0 reached 90% of 100 GB' });
    expect(a.templates.find((t) => t.template === 'User <*> logged out.')).toMatchObject({ count: 30, stage: 'regex', confidence: 1 });
    expect(a.families.map((f) => [f.templates, f.lines])).toEqual([[1, 30], [1, 30]]);
    // The rules load as configs/regex_rules.json does and take the disk lines only.
    expect(a.rules.map((r) => [r.id, r.label, r.flags])).toEqual([[`tpl-${disk.id}`, 'Resource Usage', '']]);
    const stage = new RegexStage(compileRules({ rules: a.rules }));
    expect(stage.match('Disk usage on /x reached 1% of 2 GB')?.id).toBe(`tpl-${disk.id}`);
    expect(stage.match('User u1 logged out.')).toBeUndefined();
    expect(a.coverage).toEqual({ lines: 60, covered: 30, share: 0.5, agree_model: 30, agree_truth: 30, truth_lines: 30 });
  });

  it('takes a multipart form, stops at server.maxRows as /classify does, and checks its query', async () => {
    const form = new FormData();
    form.append('file', new Blob([csv()], { type: 'text/csv' }), 'logs.csv');
    const res = await fetch(`${limited.url}/discover`, { method: 'POST', body: form });
    const a = (await res.json()) as Answer;
    expect(res.status).toBe(200);
    expect(a.summary).toMatchObject({ rows: 10, templates: 2, rules: 0 });
    expect(a.summary.cut).toMatch(/^row limit reached: at most 10 rows/);
    const bad = await send(`${limited.url}/discover?eps=3`, { headers: { 'content-type': 'text/csv' }, body: csv() });
    expect([bad.status, bad.json?.code]).toEqual([400, 'QUERY_INVALID']);
    expect(bad.json?.message).toMatch(/^\?eps=/);
    const empty = await send(`${limited.url}/discover`, { headers: { 'content-type': 'text/csv' }, body: '' });
    expect(empty.json?.code).toBe('CSV_EMPTY');
  });

  it('is in the OpenAPI document with its query parameters and answer', async () => {
    const doc = (await send(`${srv.url}/docs/json`, { method: 'GET' })).json as unknown as { paths: Record<string, { post: { parameters: { name: string }[]; responses: Record<string, unknown>; security?: unknown } }> };
    const op = doc.paths['/discover'].post;
    expect(op.parameters.map((p) => p.name).sort()).toEqual(['content-encoding', 'eps', 'min_confidence', 'min_lines', 'min_samples']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415']));
  });
});
