/**
 * The template store over real HTTP: a real SQLite file in a temp data dir; restarts are a
 * server closed and another opened on the same dir.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import { keyId } from '../../src/http/plugins/auth.js';
import { compileRules } from '../../src/stages/regex.js';
import { TemplateStore, MIGRATIONS } from '../../src/templates/store.js';
import { readLabelledCsv } from '../../src/training/dataset.js';
import { metricValue } from '../helpers/metrics.js';
import { captureLogs, outputObjects, postCsv, send, startServer, type HttpAnswer, type TestServer } from '../helpers/server.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'logsift-templates-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, overrides: ConfigInput = {}, log?: ReturnType<typeof captureLogs>): Promise<TestServer> {
  const srv = await startServer({
    overrides: { ...overrides, data: { dir }, templates: { enabled: true, flushIntervalMs: 60_000, ...overrides.templates } },
    ...(log && { log: { stream: log.stream, level: 'info' } }),
  });
  servers.push(srv);
  return srv;
}

const get = (srv: TestServer, path: string, headers: Record<string, string> = {}) => send(`${srv.url}${path}`, { method: 'GET', headers });
const put = (srv: TestServer, id: string, body: unknown, headers: Record<string, string> = {}) =>
  send(`${srv.url}/templates/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const del = (srv: TestServer, id: string, headers: Record<string, string> = {}) => send(`${srv.url}/templates/${id}/label`, { method: 'DELETE', headers });
const csv = (rows: [string, string][]) => `source,log_message\n${rows.map(([s, m]) => `${s},"${m.replace(/"/g, '""')}"`).join('\n')}\n`;
type Template = { id: string; template: string; count: number; sources: string[]; label: string | null; label_stage: string | null; confidence: number | null; override: { label: string; by: string; at: string } | null; decided: { label: string } | null; example: { source: string; log_message: string }; first_seen: string };
const list = async (srv: TestServer, query = '', headers: Record<string, string> = {}) => {
  const res = await get(srv, `/templates${query}`, headers);
  expect(res.status, res.text).toBe(200);
  return res.json as unknown as { templates: Template[]; next_cursor: string | null };
};
const byText = async (srv: TestServer, text: string) => (await list(srv, `?text=${encodeURIComponent(text)}`)).templates.find((t) => t.template === text);
const labelsOf = async (res: HttpAnswer | Promise<HttpAnswer>) => outputObjects((await res).text).map((r) => [r.target_label, r.label_stage, r.confidence]);

// A line no rule decides (the head does), varying in a word the miner generalises after 3 variants.
const CLOSED = (who: string) => `Replication stream closed by peer ${who} after idle period`;
const CLOSED_TEMPLATE = 'Replication stream closed by peer <*> after idle period';

describe('the template store', () => {
  it('counts templates across requests, takes overrides at once, and keeps them (and the counts) over a restart', async () => {
    const dir = tempDir();
    let srv = await start(dir);
    const first = await postCsv(srv.url, csv([['db-1', CLOSED('alpha')], ['web', 'User 12345 logged in.']]));
    expect(first.status).toBe(200);
    const before = await labelsOf(first);
    // Stored (a GET writes what was gathered) under its first, specific text.
    expect((await byText(srv, CLOSED('alpha')))?.count).toBe(1);
    await postCsv(srv.url, csv([['db-2', CLOSED('beta')], ['db-1', CLOSED('gamma')]]));
    const t = (await byText(srv, CLOSED_TEMPLATE))!;
    expect(t).toBeDefined();
    // The generalised template holds the lines its more specific first texts had (alpha, stored
    // already; beta, not yet), and they are gone.
    expect(t.count).toBe(3);
    expect(await byText(srv, CLOSED('alpha'))).toBeUndefined();
    expect((await list(srv)).templates.filter((x) => x.template.startsWith('Replication'))).toHaveLength(1);
    expect(t.sources.sort()).toEqual(['db-1', 'db-2']);
    expect(t.example).toEqual({ source: 'db-1', log_message: CLOSED('alpha') });
    expect(t.label).toBe(before[0][0]);
    expect(t.override).toBeNull();
    expect((await get(srv, `/templates/${t.id}`)).json).toMatchObject({ id: t.id, count: 3 });

    // An override: the next line of the template gets it, in the same request as lines without one.
    const other = before[0][0] === 'Security Alert' ? 'Critical Error' : 'Security Alert';
    const set = await put(srv, t.id, { label: other });
    expect(set.status, set.text).toBe(200);
    expect(set.json).toMatchObject({ label: other, label_stage: 'override', confidence: 1, override: { label: other, by: 'anonymous' } });
    expect(await labelsOf(postCsv(srv.url, csv([['db-3', CLOSED('delta')], ['web', 'User 777 logged in.']])))).toEqual([
      [other, 'override', '1'],
      ['User Action', 'regex', '1'],
    ]);

    // Restart on the same data dir: the override, the counts and the template's id survive; a
    // line with a word never seen before still belongs to the generalised template (the miner
    // is seeded from the store), so the override applies to it.
    await srv.close();
    srv = await start(dir);
    expect(await labelsOf(postCsv(srv.url, csv([['db-4', CLOSED('epsilon')]])))).toEqual([[other, 'override', '1']]);
    const after = (await get(srv, `/templates/${t.id}`)).json as unknown as Template;
    expect(after.count).toBe(5);
    expect(after.override).toMatchObject({ label: other, by: 'anonymous' });
    expect(after.decided?.label).toBe(before[0][0]);

    // Removed: the pipeline decides again, for lines labelled by the override before too (the
    // decision cache never held an override).
    expect((await del(srv, t.id)).json).toMatchObject({ label: before[0][0], override: null });
    const again = await labelsOf(postCsv(srv.url, csv([['db-1', CLOSED('alpha')], ['db-3', CLOSED('delta')], ['db-4', CLOSED('epsilon')]])));
    expect(again[0]).toEqual(before[0]);
    expect(again.map((r) => r.slice(0, 2))).toEqual(Array(3).fill(before[0].slice(0, 2)));

    // A real SQLite file: schema version from the one migration list, WAL journal.
    await srv.close();
    const db = new Database(join(dir, 'templates.sqlite'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses unknown labels (400) and ids (404), bad bodies and queries, from the error table', async () => {
    const srv = await start(tempDir());
    await postCsv(srv.url, csv([['a', 'Disk sda failed SMART self test on host zeus']]));
    const t = (await list(srv)).templates[0];
    expect((await put(srv, t.id, { label: 'Nonsense' })).json).toMatchObject({ statusCode: 400, code: 'LABEL_UNKNOWN' });
    expect((await put(srv, t.id, { lable: 'Error' })).json).toMatchObject({ statusCode: 400, code: 'BODY_INVALID' });
    expect((await put(srv, 'ffffffffffffffff', { label: 'Error' })).json).toMatchObject({ statusCode: 404, code: 'TEMPLATE_NOT_FOUND' });
    expect((await get(srv, '/templates/ffffffffffffffff')).json).toMatchObject({ statusCode: 404, code: 'TEMPLATE_NOT_FOUND' });
    expect((await del(srv, 'ffffffffffffffff')).json).toMatchObject({ statusCode: 404, code: 'TEMPLATE_NOT_FOUND' });
    expect((await get(srv, '/templates?cursor=bm9wZQ')).json).toMatchObject({ statusCode: 400, code: 'QUERY_INVALID' });
    expect((await get(srv, '/templates?since=yesterday')).json).toMatchObject({ statusCode: 400, code: 'QUERY_INVALID' });
    expect((await get(srv, '/templates?sort=alphabet')).json).toMatchObject({ statusCode: 400, code: 'QUERY_INVALID' });
    expect((await get(srv, '/templates/export?format=xml')).json).toMatchObject({ statusCode: 400, code: 'QUERY_INVALID' });
    // The label did not change on any refusal.
    expect((await get(srv, `/templates/${t.id}`)).json).toMatchObject({ override: null });
  });

  it('with keys: reading needs an API key, labelling an admin key, and records the key id (never the key)', async () => {
    const API = 'templates-api-key-0123456789';
    const ADMIN = 'templates-admin-key-0123456789';
    const srv = await start(tempDir(), { auth: { apiKeys: [API], adminKeys: [ADMIN], maxFailures: 0 } });
    const auth = (k: string) => ({ authorization: `Bearer ${k}` });
    await postCsv(srv.url, csv([['a', 'Fan speed controller reports sensor fault on tray']]), auth(API));
    expect((await get(srv, '/templates')).status).toBe(401);
    const t = (await list(srv, '', auth(API))).templates[0];
    expect((await put(srv, t.id, { label: 'Error' })).status).toBe(401);
    expect((await put(srv, t.id, { label: 'Error' }, auth(API))).json).toMatchObject({ statusCode: 403, code: 'API_KEY_INVALID' });
    expect((await del(srv, t.id, auth(API))).status).toBe(403);
    const ok = await put(srv, t.id, { label: 'Error' }, auth(ADMIN));
    expect(ok.status).toBe(200);
    expect((ok.json as unknown as Template).override!.by).toBe(keyId(ADMIN));
    expect(ok.text).not.toContain(ADMIN);
    // A reload swaps the pipeline, not the store: the override still applies.
    expect((await send(`${srv.url}/admin/reload`, { method: 'POST', headers: auth(ADMIN) })).status).toBe(200);
    expect(await labelsOf(postCsv(srv.url, csv([['b', 'Fan speed controller reports sensor fault on tray']]), auth(API)))).toEqual([['Error', 'override', '1']]);
  });

  it('filters by label, stage, source, text and first-seen time, sorts by count or recency, pages with a cursor', async () => {
    const srv = await start(tempDir());
    const rows: [string, string][] = [];
    for (let i = 0; i < 5; i++) rows.push(['auth', `User ${100 + i} logged in.`]);
    for (let i = 0; i < 3; i++) rows.push(['db', `Checkpoint of table orders took ${i + 10} ms`]);
    rows.push(['db', 'Quorum member lost heartbeat from coordinator']);
    rows.push(['web', 'Deprecated API v1 called by client portal']);
    await postCsv(srv.url, csv(rows));
    const all = (await list(srv)).templates;
    expect(all.map((t) => t.count)).toEqual([5, 3, 1, 1]);
    expect((await list(srv, '?label=User%20Action')).templates.map((t) => t.template)).toEqual(['User <*> logged in.']);
    expect((await list(srv, '?stage=regex')).templates.every((t) => t.label_stage === 'regex')).toBe(true);
    expect((await list(srv, '?source=db')).templates.map((t) => t.count)).toEqual([3, 1]);
    expect((await list(srv, '?text=CHECKPOINT')).templates).toHaveLength(1);

    // New since a moment: only what came after it (the newest first with sort=recent).
    const mark = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await postCsv(srv.url, csv([['web', 'Certificate pinning rejected upstream gateway'], ['auth', 'User 9 logged in.']]));
    const fresh = await list(srv, `?since=${encodeURIComponent(mark)}&sort=recent`);
    expect(fresh.templates.map((t) => t.template)).toEqual(['Certificate pinning rejected upstream gateway']);
    expect((await list(srv, '?sort=recent&limit=1')).templates[0].template).toBe('User <*> logged in.');

    // Pages of 2 cover every template once, in order.
    const seen: string[] = [];
    let cursor: string | null = '';
    for (let page = 0; cursor !== null && page < 10; page++) {
      const res: { templates: Template[]; next_cursor: string | null } = await list(srv, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.templates.map((t) => t.id));
      cursor = res.next_cursor;
    }
    const everything = (await list(srv, '?limit=100')).templates.map((t) => t.id);
    expect(seen).toEqual(everything);
    expect(new Set(seen).size).toBe(5);
  });

  it('counts and logs (once, at most templates.newLogPerMinute) templates never seen before, across a restart', async () => {
    const dir = tempDir();
    const logs = captureLogs();
    let srv = await start(dir, { templates: { newLogPerMinute: 2 } }, logs);
    const newTotal = async () => metricValue((await get(srv, '/metrics')).text, 'logsift_templates_new_total');
    const lines = csv([['x', 'Thermal zone crossed passive trip point'], ['x', 'Thermal zone crossed passive trip point'], ['y', 'Watchdog petted late by scheduler'], ['z', 'Spindle motor stalled during park']]);
    await postCsv(srv.url, lines);
    await list(srv); // flushes
    expect(await newTotal()).toBe(3);
    await postCsv(srv.url, lines);
    await list(srv);
    expect(await newTotal()).toBe(3);
    const logged = logs.lines().filter((l) => l.msg === 'new template');
    expect(logged.map((l) => (l.template as { text: string }).text).sort()).toEqual(['Thermal zone crossed passive trip point', 'Watchdog petted late by scheduler']);
    expect(logs.lines().filter((l) => l.newTemplateLogLimit === 2)).toHaveLength(1);
    await srv.close();
    srv = await start(dir);
    await postCsv(srv.url, lines);
    await list(srv);
    expect(await newTotal()).toBe(0);
  });

  it('exports labels as rules the rules loader takes (matching their lines) and as training CSV', async () => {
    const srv = await start(tempDir());
    const lines: [string, string][] = [
      ['sshd', 'Accepted publickey for deploy from 10.0.0.7 port 51234 ssh2'],
      ['app', 'Cache (shard=eu-1) evicted 120 entries [lru]'],
    ];
    await postCsv(srv.url, csv(lines));
    const ts = (await list(srv)).templates;
    await put(srv, ts.find((t) => t.template.startsWith('Accepted'))!.id, { label: 'Security Alert' });
    await put(srv, ts.find((t) => t.template.startsWith('Cache'))!.id, { label: 'Resource Usage' });
    const rules = await get(srv, '/templates/export?format=rules');
    expect(rules.status).toBe(200);
    const file = rules.json as unknown as { rules: { id: string; label: string }[] };
    const compiled = compileRules(file, 'export');
    expect(compiled).toHaveLength(2);
    for (const [, message] of lines) expect(compiled.filter((r) => r.regex.test(message)).map((r) => r.label)).toHaveLength(1);
    expect(compiled.find((r) => r.regex.test('Accepted publickey for deploy from 10.9.9.9 port 22 ssh2'))?.label).toBe('Security Alert');
    expect(compiled.some((r) => r.regex.test('Accepted publickey for deploy from 10.0.0.7 port 51234 ssh2 and more'))).toBe(false);

    const exported = await get(srv, '/templates/export?format=csv');
    expect(exported.headers['content-type']).toMatch(/^text\/csv/);
    const path = join(tempDir(), 'labels.csv');
    await writeFile(path, exported.body);
    const rows = await readLabelledCsv(path);
    expect(rows.map((r) => [r.source, r.message, r.label]).sort()).toEqual([
      ['app', lines[1][1], 'Resource Usage'],
      ['sshd', lines[0][1], 'Security Alert'],
    ]);
  });
});

describe('the override loop, end to end', () => {
  const ADMIN = 'templates-admin-key-0123456789';
  const auth = { authorization: `Bearer ${ADMIN}` };

  /** A server that builds its own pipeline from a rules file of the test's, so that a reload reads what the test wrote there. */
  async function serve(dir: string, rulesPath: string): Promise<TestServer> {
    const srv = await startServer({
      ownPipeline: true,
      overrides: { data: { dir }, regex: { rulesPath }, auth: { adminKeys: [ADMIN] }, embedder: { kind: 'lexical' }, templates: { enabled: true, flushIntervalMs: 60_000 } },
    });
    servers.push(srv);
    return srv;
  }
  const classify = async (srv: TestServer, rows: [string, string][]) => {
    const res = await postCsv(srv.url, csv(rows), auth);
    expect(res.status, res.text).toBe(200);
    return outputObjects(res.text);
  };
  const explained = async (srv: TestServer, rows: [string, string][]) => {
    const res = await send(`${srv.url}/classify?explain=true`, { headers: { 'content-type': 'text/csv', ...auth }, body: csv(rows) });
    expect(res.status, res.text).toBe(200);
    return outputObjects(res.text);
  };

  it('classify, override a template, classify again (override), restart (still), export its rule, reload it: the regex stage decides its lines', async () => {
    const dir = tempDir();
    const rulesPath = join(tempDir(), 'regex_rules.json');
    const shipped = JSON.parse(readFileSync('configs/regex_rules.json', 'utf8')) as { rules: unknown[] };
    writeFileSync(rulesPath, JSON.stringify(shipped));
    let srv = await serve(dir, rulesPath);

    // No shipped rule takes these lines: the head decides them.
    const first = await classify(srv, [['db-1', CLOSED('alpha')], ['db-2', CLOSED('beta')], ['db-1', CLOSED('gamma')]]);
    expect(first.every((r) => r.label_stage !== 'regex')).toBe(true);
    const decided = first[2].target_label;
    const template = (await list(srv, `?text=${encodeURIComponent(CLOSED_TEMPLATE)}`, auth)).templates.find((t) => t.template === CLOSED_TEMPLATE)!;
    expect(template).toBeDefined();
    const label = decided === 'Security Alert' ? 'Critical Error' : 'Security Alert';
    expect((await put(srv, template.id, { label }, auth)).status).toBe(200);

    // The next batch takes the override, a line with a word never seen before included.
    expect((await classify(srv, [['db-3', CLOSED('delta')], ['db-1', CLOSED('alpha')]])).map((r) => [r.target_label, r.label_stage])).toEqual([
      [label, 'override'],
      [label, 'override'],
    ]);

    // Restart on the same data dir: still overridden.
    await srv.close();
    srv = await serve(dir, rulesPath);
    expect((await classify(srv, [['db-4', CLOSED('epsilon')]])).map((r) => [r.target_label, r.label_stage])).toEqual([[label, 'override']]);

    // Export the labels as rules and append them to the rules file the service loads, then reload.
    const exported = await get(srv, '/templates/export?format=rules', auth);
    expect(exported.status, exported.text).toBe(200);
    const rules = (exported.json as unknown as { rules: { id: string; label: string }[] }).rules;
    expect(rules.map((r) => [r.id, r.label])).toEqual([[`template-${template.id}`, label]]);
    writeFileSync(rulesPath, JSON.stringify({ rules: [...shipped.rules, ...rules] }));
    const reload = await send(`${srv.url}/admin/reload`, { method: 'POST', headers: auth });
    expect(reload.status, reload.text).toBe(200);

    // The override still comes first; once it is removed, the exported rule decides the lines
    // (new words too), and an explained answer names it.
    expect((await classify(srv, [['db-5', CLOSED('zeta')]])).map((r) => r.label_stage)).toEqual(['override']);
    expect((await del(srv, template.id, auth)).status).toBe(200);
    const after = await explained(srv, [['db-5', CLOSED('zeta')], ['db-1', CLOSED('alpha')], ['web', 'User 777 logged in.']]);
    expect(after.map((r) => [r.target_label, r.label_stage, r.rule])).toEqual([
      [label, 'regex', `template-${template.id}`],
      [label, 'regex', `template-${template.id}`],
      ['User Action', 'regex', after[2].rule],
    ]);
    expect(after[2].rule).not.toBe(`template-${template.id}`);

    // And after a restart, from the rules file alone.
    await srv.close();
    srv = await serve(dir, rulesPath);
    expect((await explained(srv, [['db-6', CLOSED('eta')]])).map((r) => [r.target_label, r.label_stage, r.rule])).toEqual([[label, 'regex', `template-${template.id}`]]);
  });
});

describe('TemplateStore (the SQLite file alone)', () => {
  it('prunes old rare templates and the rarest past the cap, never an overridden one; refuses a newer schema', () => {
    const dir = tempDir();
    const store = new TemplateStore(dir);
    const day = 86_400_000;
    const now = 100 * day;
    const delta = (id: string, count: number, lastSeen: number) => ({ id, text: id, count, firstSeen: lastSeen, lastSeen, sources: new Set(['s']), example: { source: 's', message: id } });
    expect(store.apply([delta('old-rare', 2, now - 40 * day), delta('old-common', 50, now - 40 * day), delta('old-rare-labelled', 1, now - 40 * day), delta('new-a', 3, now), delta('new-b', 4, now), delta('new-c', 5, now)])).toHaveLength(6);
    store.setOverride('old-rare-labelled', { label: 'Error', by: 'k', at: now });
    // Old and rare (< 10 lines, > 30 days): gone; then over 3 templates: the rarest go.
    expect(store.prune({ maxTemplates: 3, pruneAfterDays: 30, pruneBelowCount: 10 }, now)).toBe(3);
    expect(store.list({ sort: 'count', limit: 10 }).templates.map((t) => t.id)).toEqual(['old-common', 'new-c', 'old-rare-labelled']);
    store.close();
    const db = new Database(join(dir, 'templates.sqlite'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new TemplateStore(dir)).toThrow(/newer than this logsift knows/);
    expect(existsSync(join(dir, 'templates.sqlite'))).toBe(true);
  });
});
