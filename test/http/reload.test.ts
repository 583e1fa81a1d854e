/**
 * Hot reload through POST /admin/reload: validated first, swapped atomically, the old pipeline
 * closed only after the requests that use it have finished; a bad file keeps the old pipeline
 * and the answer says why.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from '../helpers/metrics.js';
import { captureLogs, outputObjects, postCsv, send, startServer, type TestServer } from '../helpers/server.js';

const ADMIN = 'reload-admin-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'logsift-reload-'));
const rulesPath = join(dir, 'rules.json');
const headPath = join(dir, 'head-lexical.json');
const maskRulesPath = join(dir, 'mask_rules.json');
const labelsPath = join(dir, 'labels.json');
const original = JSON.parse(readFileSync('configs/regex_rules.json', 'utf8')) as { rules: Record<string, unknown>[] };
const ZEBRA = { id: 'zebra', pattern: '^zebra crossing breached\\b', flags: 'i', label: 'Security Alert', description: 'test rule' };

let srv: TestServer;
const logs = captureLogs();
const reload = () => send(`${srv.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
const zebraRow = async () => outputObjects((await postCsv(srv.url, 'source,log_message\nA,Zebra crossing breached at gate 4\n')).text)[0];

beforeAll(async () => {
  writeFileSync(rulesPath, JSON.stringify(original));
  copyFileSync('models/head-lexical.json', headPath);
  copyFileSync('configs/mask_rules.json', maskRulesPath);
  copyFileSync('configs/labels.json', labelsPath);
  srv = await startServer({
    ownPipeline: true,
    overrides: { auth: { adminKeys: [ADMIN] }, regex: { rulesPath }, head: { dir }, pipeline: { maskRulesPath, labelsPath }, embedder: { kind: 'lexical' } },
    log: { stream: logs.stream, level: 'info' },
  });
}, 60_000);
afterAll(async () => srv?.close());

describe('POST /admin/reload', () => {
  it('picks up a changed rules file', async () => {
    expect((await zebraRow()).label_stage).not.toBe('regex');
    writeFileSync(rulesPath, JSON.stringify({ rules: [ZEBRA, ...original.rules] }));
    const res = await reload();
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'reloaded', generation: 2 });
    expect((res.json as { current: { rules: number } }).current.rules).toBe(original.rules.length + 1);
    expect(await zebraRow()).toMatchObject({ target_label: 'Security Alert', label_stage: 'regex' });
  });

  it.each([
    ['rules that are not JSON', () => writeFileSync(rulesPath, '{"rules": ['), /not valid JSON/],
    ['a rule with lookbehind (no linear-time match)', () => writeFileSync(rulesPath, JSON.stringify({ rules: [{ ...ZEBRA, pattern: '(?<=a )zebra' }] })), /lookbehind is not supported/],
    ['an empty rules file', () => writeFileSync(rulesPath, ''), /not valid JSON/],
    ['a corrupt head', () => writeFileSync(headPath, '{"format":"logsift-head/v1","labels":["a"]}'), /not a valid logsift head/],
    ['a mask rule with lookahead', () => writeFileSync(maskRulesPath, JSON.stringify({ rules: [{ name: 'ahead', pattern: 'x(?=y)', replacement: '' }] })), /rule ahead: .*lookahead is not supported/],
    ['a label definition on two lines', () => writeFileSync(labelsPath, JSON.stringify({ definitions: { Error: 'a\nb' } })), /definitions\.Error: one line/],
  ])('422 for %s; the previous pipeline keeps serving', async (_name, breakIt, why) => {
    const good = readFileSync(rulesPath, 'utf8');
    const goodHead = readFileSync(headPath, 'utf8');
    const goodMask = readFileSync(maskRulesPath, 'utf8');
    const goodLabels = readFileSync(labelsPath, 'utf8');
    breakIt();
    const res = await reload();
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'RELOAD_INVALID' });
    expect(res.json?.message).toMatch(/reload failed, the previous pipeline stays in service/);
    expect(res.json?.message).toMatch(why);
    expect(logs.lines().some((l) => l.msg === 'pipeline reload failed' && String(l.reloadError).includes('reload failed'))).toBe(true);
    // Still the last good pipeline.
    expect(await zebraRow()).toMatchObject({ target_label: 'Security Alert', label_stage: 'regex' });
    writeFileSync(rulesPath, good);
    writeFileSync(headPath, goodHead);
    writeFileSync(maskRulesPath, goodMask);
    writeFileSync(labelsPath, goodLabels);
  });

  it('an in-flight request keeps its pipeline; the old one is closed only after it ends', async () => {
    const old = srv.app.classifier.current!;
    let closed = false;
    const close = old.pipeline.close.bind(old.pipeline);
    old.pipeline.close = async () => {
      closed = true;
      await close();
    };
    // A chunked upload that is still being written while the reload happens.
    const body = new PassThrough();
    const answer = send(`${srv.url}/classify`, { headers: { 'content-type': 'text/csv' }, body });
    body.write('id,source,log_message\n0,A,User 1 logged in.\n');
    for (let i = 0; i < 50 && srv.app.classifier.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(srv.app.classifier.inFlight).toBe(1);
    const res = await reload();
    expect(res.status).toBe(200);
    expect(srv.app.classifier.current).not.toBe(old);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    body.end('1,A,Zebra crossing breached at gate 9\n');
    const out = outputObjects((await answer).text);
    expect(out).toHaveLength(2);
    for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(true);
  });

  it('counts reloads in /metrics and shows the generation in model info', async () => {
    const m = (await send(`${srv.url}/metrics`, { method: 'GET' })).text;
    expect(metricValue(m, 'logsift_reloads_total', { result: 'ok' })).toBe(2);
    expect(metricValue(m, 'logsift_reloads_total', { result: 'failed' })).toBe(6);
    expect(m).toMatch(/logsift_model_info\{[^}]*generation="3"\} 1/);
  });
});
