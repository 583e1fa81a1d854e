/**
 * POST /jobs and friends over real HTTP: a job's result is what /classify answers for the same
 * upload; status, counts and timings; 409 before done; cancel and delete; the upload limits at
 * submission; jobs outliving the process (a running job interrupted by a close is resumed by the
 * next server on the same data dir, a job whose input is gone is failed saying so); expiry on a
 * fake clock.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeOpenAI, hang } from '../helpers/fake-openai.js';
import { until } from '../helpers/fake-clock.js';
import { send, startServer, type HttpAnswer, type TestServer } from '../helpers/server.js';

const CSV = 'source,log_message,host\nbilling,User 12345 logged in.,web-1\ngateway,Backup completed successfully.,db-2\nweb,User 7 logged out.,web-3\n';
type Job = { id: string; status: string; rows: number; labels: Record<string, number>; stages: Record<string, number>; attempts: number; timings: Record<string, unknown>; error?: { code: string; message: string }; note?: string };

const dirs: string[] = [];
const servers: TestServer[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'logsift-jobs-'));
  dirs.push(d);
  return d;
};
async function serve(dir: string, overrides: Record<string, unknown> = {}, more: { withPipeline?: boolean; ownPipeline?: boolean } = {}): Promise<TestServer> {
  const srv = await startServer({ ...more, overrides: { data: { dir }, ...overrides } });
  servers.push(srv);
  return srv;
}
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const submit = (srv: TestServer, body: string, type = 'text/csv', query = '') => send(`${srv.url}/jobs${query}`, { headers: { 'content-type': type }, body });
const status = async (srv: TestServer, id: string) => (await send(`${srv.url}/jobs/${id}`, { method: 'GET' })).json as unknown as Job;
/** Polls every 10 ms (not every turn of the loop: the job needs the CPU more than the poller). */
async function poll(ready: () => Promise<boolean>, what: string): Promise<void> {
  await until(async () => (await ready()) || (await new Promise((r) => setTimeout(r, 10)), false), what);
}
async function settled(srv: TestServer, id: string): Promise<Job> {
  let job: Job | undefined;
  await poll(async () => {
    job = await status(srv, id);
    return !['queued', 'running'].includes(job.status);
  }, `job ${id} to end`);
  return job!;
}

describe('a job', () => {
  let srv: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = dataDir();
    srv = await serve(dir, { server: { maxUploadBytes: 4096 } });
  }, 60_000);

  it('is answered 202 with its id and Location at once; its result is what /classify answers, with counts and timings', async () => {
    const res = await submit(srv, CSV);
    expect(res.status).toBe(202);
    const { id } = res.json as unknown as Job;
    expect(res.headers.location).toBe(`/jobs/${id}`);
    const job = await settled(srv, id);
    expect(job).toMatchObject({ status: 'done', rows: 3, attempts: 1, labels: { 'User Action': 2 }, stages: { regex: expect.any(Number) } });
    expect(Object.values(job.labels).reduce((a, b) => a + b, 0)).toBe(3);
    expect(job.timings).toMatchObject({ createdAt: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String), runningMs: expect.any(Number) });
    const result = await send(`${srv.url}/jobs/${id}/result`, { method: 'GET' });
    const direct = await send(`${srv.url}/classify`, { headers: { 'content-type': 'text/csv' }, body: CSV });
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(result.text).toBe(direct.text);
    // Its files live under <data.dir>/jobs/<id>/.
    expect(existsSync(join(dir, 'jobs', id, 'output'))).toBe(true);
  });

  it('answers NDJSON in NDJSON; a content error fails the job with /classify\'s code', async () => {
    const nd = (await submit(srv, '{"log":"User 1 logged in.","n":1}\n', 'application/x-ndjson', '?field=log')).json as unknown as Job;
    expect((await settled(srv, nd.id)).status).toBe('done');
    const result = await send(`${srv.url}/jobs/${nd.id}/result`, { method: 'GET' });
    expect(result.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(JSON.parse(result.text)).toEqual({ log: 'User 1 logged in.', n: 1, target_label: 'User Action', label_stage: 'regex', confidence: 1 });
    const bad = (await submit(srv, 'source,text\na,b\n')).json as unknown as Job;
    const failed = await settled(srv, bad.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'CSV_MISSING_COLUMN' } });
    const res = await send(`${srv.url}/jobs/${bad.id}/result`, { method: 'GET' });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'JOB_NOT_DONE' });
  });

  it('an upload over the limit is refused at submission (413) and leaves no job behind', async () => {
    const res = await submit(srv, `source,log_message\n${'a,b\n'.repeat(2000)}`);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'UPLOAD_TOO_LARGE' });
    const unknown = await send(`${srv.url}/jobs/00000000-0000-0000-0000-000000000000`, { method: 'GET' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});

describe('waiting, cancelling, deleting', () => {
  it('a queued job: 409 for its result, DELETE cancels it (files gone, status kept), DELETE again deletes it', async () => {
    const dir = dataDir();
    // No pipeline: the job waits, queued.
    const srv = await serve(dir, {}, { withPipeline: false });
    const { id } = (await submit(srv, CSV)).json as unknown as Job;
    expect((await status(srv, id)).status).toBe('queued');
    const early: HttpAnswer = await send(`${srv.url}/jobs/${id}/result`, { method: 'GET' });
    expect(early.status).toBe(409);
    expect(early.json?.message).toMatch(/is queued/);
    const cancelled = await send(`${srv.url}/jobs/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ id, status: 'cancelled' });
    expect(existsSync(join(dir, 'jobs', id, 'input'))).toBe(false);
    expect((await status(srv, id)).status).toBe('cancelled');
    expect((await send(`${srv.url}/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await send(`${srv.url}/jobs/${id}`, { method: 'GET' })).status).toBe(404);
    expect(existsSync(join(dir, 'jobs', id))).toBe(false);
  });
});

describe('keys', () => {
  it('a job is seen only with the key that created it (or an admin key)', async () => {
    const [a, b, admin] = ['jobs-key-a-0123456789', 'jobs-key-b-0123456789', 'jobs-admin-0123456789'];
    const srv = await serve(dataDir(), { auth: { apiKeys: [a, b], adminKeys: [admin] } });
    const res = await send(`${srv.url}/jobs`, { headers: { 'content-type': 'text/csv', authorization: `Bearer ${a}` }, body: CSV });
    const { id } = res.json as unknown as Job;
    const get = (key: string) => send(`${srv.url}/jobs/${id}`, { method: 'GET', headers: { authorization: `Bearer ${key}` } });
    expect((await get(a)).status).toBe(200);
    expect((await get(b)).json).toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect((await get(admin)).status).toBe(200);
    expect((await send(`${srv.url}/jobs/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${b}` } })).status).toBe(404);
  });
});

describe('jobs survive a restart', () => {
  let fake: FakeOpenAI;
  afterEach(async () => fake?.close());

  it('a job running when the server closed is resumed from its input; one whose input is gone is failed, saying so', async () => {
    const dir = dataDir();
    fake = await new FakeOpenAI().start();
    fake.respond(() => hang());
    // LegacyCRM goes to the LLM, which never answers: the job stays running.
    const first = await serve(dir, { llm: { baseUrl: fake.baseUrl, timeoutMs: 60_000, retries: 0 }, jobs: { concurrency: 1 } }, { ownPipeline: true });
    const legacy = 'source,log_message\nLegacyCRM,Quote approval stalled for deal 8910.\nbilling,User 5 logged in.\n';
    const running = (await submit(first, legacy)).json as unknown as Job;
    const queued = (await submit(first, CSV)).json as unknown as Job;
    await poll(async () => (await status(first, running.id)).status === 'running' && fake.requests.length > 0, 'the job to be running');
    expect((await status(first, queued.id)).status).toBe('queued');
    first.app.server.closeAllConnections();
    await first.close();
    rmSync(join(dir, 'jobs', queued.id, 'input'));

    // The same data dir, no LLM now.
    const second = await serve(dir);
    const resumed = await settled(second, running.id);
    expect(resumed).toMatchObject({ status: 'done', rows: 2, attempts: 2 });
    expect(resumed.note).toMatch(/interrupted by a restart .* resumed from its spooled input/);
    expect((await send(`${second.url}/jobs/${running.id}/result`, { method: 'GET' })).text.split('\n').filter(Boolean)).toHaveLength(3);
    const lost = await status(second, queued.id);
    expect(lost).toMatchObject({ status: 'failed', error: { code: 'INPUT_LOST' } });
    expect(lost.error?.message).toMatch(/restarted while the job was queued and its spooled input is gone/);
  });
});

describe('expiry', () => {
  afterEach(() => vi.useRealTimers());

  it('an ended job is deleted jobs.ttlHours after it ended (fake clock), its files too', async () => {
    const dir = dataDir();
    const srv = await serve(dir, { jobs: { ttlHours: 2 } });
    const { id } = (await submit(srv, CSV)).json as unknown as Job;
    await settled(srv, id);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 3_600_000 - 60_000);
    expect((await status(srv, id)).status).toBe('done');
    vi.setSystemTime(Date.now() + 120_000);
    await srv.app.jobs.sweep();
    expect(existsSync(join(dir, 'jobs', id))).toBe(false);
    expect((await send(`${srv.url}/jobs/${id}`, { method: 'GET' })).status).toBe(404);
  });
});
