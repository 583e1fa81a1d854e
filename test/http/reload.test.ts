/**
 * Hot reload through POST /admin/reload: validated first, swapped atomically, the old pipeline
 * closed only after the requests that use it have finished; a bad file keeps the old pipeline
 * and the answer says why. Every test has its own server and its own copies of the files, so
 * the tests hold in any order and alone.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricValue } from '../helpers/metrics.js';
import { captureLogs, outputObjects, postCsv, send, startServer, type TestServer } from '../helpers/server.js';

const ADMIN = 'reload-admin-key-0123456789';
const original = JSON.parse(readFileSync('configs/regex_rules.json', 'utf8')) as { rules: Record<string, unknown>[] };
const ZEBRA = { id: 'zebra', pattern: '^zebra crossing breached\\b', flags: 'i', label: 'Security Alert', description: 'test rule' };

interface Fixture {
  readonly srv: TestServer;
  readonly logs: ReturnType<typeof captureLogs>;
  readonly files: { rules: string; head: string; maskRules: string; headerPatterns: string; labels: string };
  reload(): ReturnType<typeof send>;
  zebraRow(): Promise<Record<string, string>>;
  metrics(): Promise<string>;
}

const started: TestServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

/** A server on its own copies of the rules, head, mask rules, header patterns and labels (the zebra rule first). */
async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'logsift-reload-'));
  const files = {
    rules: join(dir, 'rules.json'),
    head: join(dir, 'head-lexical.json'),
    maskRules: join(dir, 'mask_rules.json'),
    headerPatterns: join(dir, 'header_patterns.json'),
    labels: join(dir, 'labels.json'),
  };
  writeFileSync(files.rules, JSON.stringify({ rules: [ZEBRA, ...original.rules] }));
  copyFileSync('models/head-lexical.json', files.head);
  copyFileSync('configs/mask_rules.json', files.maskRules);
  copyFileSync('configs/header_patterns.json', files.headerPatterns);
  copyFileSync('configs/labels.json', files.labels);
  const logs = captureLogs();
  const srv = await startServer({
    ownPipeline: true,
    overrides: {
      auth: { adminKeys: [ADMIN] },
      regex: { rulesPath: files.rules },
      head: { dir },
      pipeline: { maskRulesPath: files.maskRules, headerPatternsPath: files.headerPatterns, labelsPath: files.labels },
      embedder: { kind: 'lexical' },
    },
    log: { stream: logs.stream, level: 'info' },
  });
  started.push(srv);
  return {
    srv,
    logs,
    files,
    reload: () => send(`${srv.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } }),
    zebraRow: async () => outputObjects((await postCsv(srv.url, 'source,log_message\nA,Zebra crossing breached at gate 4\n')).text)[0],
    metrics: async () => (await send(`${srv.url}/metrics`, { method: 'GET' })).text,
  };
}

describe('POST /admin/reload', () => {
  it('picks up a changed rules file', async () => {
    const f = await fixture();
    writeFileSync(f.files.rules, JSON.stringify(original));
    const res = await f.reload();
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'reloaded', generation: 2 });
    expect((res.json as { current: { rules: number } }).current.rules).toBe(original.rules.length);
    expect((await f.zebraRow()).label_stage).not.toBe('regex');
  });

  it.each([
    ['rules that are not JSON', (f: Fixture) => writeFileSync(f.files.rules, '{"rules": ['), /not valid JSON/],
    ['a rule with lookbehind (no linear-time match)', (f: Fixture) => writeFileSync(f.files.rules, JSON.stringify({ rules: [{ ...ZEBRA, pattern: '(?<=a )zebra' }] })), /lookbehind is not supported/],
    ['an empty rules file', (f: Fixture) => writeFileSync(f.files.rules, ''), /not valid JSON/],
    ['a corrupt head', (f: Fixture) => writeFileSync(f.files.head, '{"format":"logsift-head/v1","labels":["a"]}'), /not a valid logsift head/],
    ['a mask rule with lookahead', (f: Fixture) => writeFileSync(f.files.maskRules, JSON.stringify({ rules: [{ name: 'ahead', pattern: 'x(?=y)', replacement: '' }] })), /rule ahead: .*lookahead is not supported/],
    // Issue 10: these two answered 500 RELOAD_FAILED.
    ['a mask rules file that is not JSON', (f: Fixture) => writeFileSync(f.files.maskRules, '{"rules": [}'), /mask_rules\.json is not valid JSON/],
    ['a mask rules file of the wrong shape', (f: Fixture) => writeFileSync(f.files.maskRules, JSON.stringify({ rules: [{ name: 'x' }] })), /mask_rules\.json: rules\.0\.pattern/],
    ['a header pattern without a message group', (f: Fixture) => writeFileSync(f.files.headerPatterns, JSON.stringify({ patterns: [{ name: 'bare', pattern: '^(?<level>\\w+) ' }] })), /pattern bare has no \(\?<message>…\) group/],
    ['a header patterns file that is not JSON', (f: Fixture) => writeFileSync(f.files.headerPatterns, 'patterns:'), /header_patterns\.json is not valid JSON/],
    ['a label definition on two lines', (f: Fixture) => writeFileSync(f.files.labels, JSON.stringify({ definitions: { Error: 'a\nb' } })), /definitions\.Error: one line/],
  ])('422 RELOAD_INVALID for %s; the previous pipeline keeps serving', async (_name, breakIt, why) => {
    const f = await fixture();
    breakIt(f);
    const res = await f.reload();
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'RELOAD_INVALID' });
    expect(res.json?.message).toMatch(/reload failed, the previous pipeline stays in service/);
    expect(res.json?.message).toMatch(why);
    expect(f.logs.lines().some((l) => l.msg === 'pipeline reload failed' && String(l.reloadError).includes('reload failed'))).toBe(true);
    // Still the pipeline it started with.
    expect(await f.zebraRow()).toMatchObject({ target_label: 'Security Alert', label_stage: 'regex' });
    expect(metricValue(await f.metrics(), 'logsift_reloads_total', { result: 'failed' })).toBe(1);
  });

  it('an in-flight request keeps its pipeline; the old one is closed only after it ends', async () => {
    const f = await fixture();
    const old = f.srv.app.classifier.current!;
    let closed = false;
    const close = old.pipeline.close.bind(old.pipeline);
    old.pipeline.close = async () => {
      closed = true;
      await close();
    };
    // A chunked upload that is still being written while the reload happens.
    const body = new PassThrough();
    const answer = send(`${f.srv.url}/classify`, { headers: { 'content-type': 'text/csv' }, body });
    body.write('id,source,log_message\n0,A,User 1 logged in.\n');
    await vi.waitFor(() => expect(f.srv.app.classifier.inFlight).toBe(1));
    writeFileSync(f.files.rules, JSON.stringify(original));
    const res = await f.reload();
    expect(res.status).toBe(200);
    expect(f.srv.app.classifier.current).not.toBe(old);
    expect(closed).toBe(false);
    body.end('1,A,Zebra crossing breached at gate 9\n');
    const out = outputObjects((await answer).text);
    // The request finished on the pipeline it started with: the zebra rule still decided its last row.
    expect(out.map((r) => r.label_stage)).toEqual(['regex', 'regex']);
    await vi.waitFor(() => expect(closed).toBe(true));
  });

  it('counts reloads in /metrics, shows the generation in model info, and carries every counter over the swap', async () => {
    const f = await fixture();
    await f.zebraRow();
    const before = metricValue(await f.metrics(), 'logsift_rows_total', { stage: 'regex', label: 'Security Alert' });
    expect(before).toBe(1);
    expect((await f.reload()).status).toBe(200);
    writeFileSync(f.files.rules, '');
    expect((await f.reload()).status).toBe(422);
    writeFileSync(f.files.rules, JSON.stringify({ rules: [ZEBRA, ...original.rules] }));
    expect((await f.reload()).status).toBe(200);
    await f.zebraRow();
    const m = await f.metrics();
    expect(metricValue(m, 'logsift_reloads_total', { result: 'ok' })).toBe(2);
    expect(metricValue(m, 'logsift_reloads_total', { result: 'failed' })).toBe(1);
    expect(m).toMatch(/logsift_model_info\{[^}]*generation="3"\} 1/);
    // Rows decided by the first pipeline still count after two swaps.
    expect(metricValue(m, 'logsift_rows_total', { stage: 'regex', label: 'Security Alert' })).toBe(2);
    expect(metricValue(m, 'logsift_cache_misses_total')).toBeGreaterThanOrEqual(0);
  });
});
