/**
 * `logsift consume` against a real `nats-server -js` (Debian's nats-server package; CI installs
 * it): 100,000 records in an input stream, three worker processes sharing one durable consumer,
 * one of them killed (SIGKILL) mid-run. Every record must be in the output stream exactly once,
 * labelled; the others finish the dead worker's messages (redelivered after the ack wait) and
 * stop on SIGTERM with exit code 0. Skipped, saying so, only where nats-server is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, DiscardPolicy, nanos, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/fake-openai.js';

const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';
const installed = !spawnSync(NATS_SERVER, ['--version']).error;
if (!installed) console.warn(`test/process/nats-consume.test.ts skipped: ${NATS_SERVER} is not installed (apt-get install nats-server)`);

const ROWS = 100_000;
const WORKERS = 3;
/** Output records in the stream when one worker is killed. */
const KILL_AT = 25_000;
const ACK_WAIT_MS = 3000;
/** Outputs already in the output stream, as a dead worker left them (published, never acknowledged). */
const PRESTORED = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return true;
  return false;
}

/** Lines of a few families, numbers varying, and every 500th record unusable (no message field). */
const LINES = [
  (i: number) => `User ${i} logged in.`,
  (i: number) => `Disk usage at ${i % 100}% on node ${i % 13}`,
  (i: number) => `GET /api/orders/${i} HTTP/1.1 500 Internal Server Error`,
  (i: number) => `Backup completed for volume vol-${i % 97}`,
  (i: number) => `Multiple failed login attempts for admin from 10.0.${i % 255}.${i % 7}`,
  (i: number) => `Worker ${i % 31} crashed: segmentation fault in module parser`,
  (i: number) => `Function legacy_export_${i % 5} is deprecated and will be removed in v${i % 9}`,
];
const unusable = (i: number) => i % 500 === 0;
const record = (i: number) => (unusable(i) ? { id: i, text: 'no message field' } : { id: i, source: `src${i % 4}`, log_message: LINES[i % LINES.length](i) });

interface Worker {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
  metricsPort?: number;
}

describe.skipIf(!installed)('logsift consume on NATS JetStream (real nats-server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logsift-nats-'));
  let server: ChildProcess;
  let serverLog = '';
  let url = '';
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const workers: Worker[] = [];

  const startWorker = (n: number, env: Record<string, string> = {}): Worker => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'consume'], {
      env: {
        ...process.env,
        LOGSIFT_CONFIG: '',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        LOGSIFT_EMBEDDER: 'lexical',
        LOGSIFT_TEMPLATES: 'false',
        LOGSIFT_DATA_DIR: join(dir, `data-${n}`),
        LOGSIFT_NATS_URL: url,
        LOGSIFT_NATS_STREAM: 'LOGS',
        LOGSIFT_NATS_SUBJECTS: 'logs.raw.>',
        LOGSIFT_NATS_DURABLE: 'labellers',
        LOGSIFT_NATS_OUTPUT: 'logs.labelled',
        LOGSIFT_NATS_ACK_WAIT_MS: String(ACK_WAIT_MS),
        LOGSIFT_NATS_FETCH_EXPIRES_MS: '1000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const worker: Worker = { child, output: () => output, exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    const onData = (c: Buffer) => {
      output += c.toString();
      const port = /"address":"127\.0\.0\.1:(\d+)"/.exec(output)?.[1];
      if (port) worker.metricsPort = Number(port);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return worker;
  };

  /** A worker's logsift_consume_messages_total (undefined before its /metrics answers). */
  const handled = async (w: Worker): Promise<number | undefined> => {
    if (!w.metricsPort) return undefined;
    const text = await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`).then((r) => r.text(), () => '');
    const m = /^logsift_consume_messages_total (\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const outputCount = async () => (await jsm.streams.info('LABELLED')).state.messages;

  beforeAll(async () => {
    const port = await closedPort();
    url = `nats://127.0.0.1:${port}`;
    server = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'jetstream')], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
    server.stdout!.on('data', (c: Buffer) => (serverLog += c.toString()));
    expect(await waitFor(() => serverLog.includes('Server is ready'), 10_000), serverLog).toBe(true);
    nc = await connect({ servers: url });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'LOGS', subjects: ['logs.raw.>'], storage: StorageType.File });
    // The duplicate window outlasts every redelivery of the run.
    await jsm.streams.add({ name: 'LABELLED', subjects: ['logs.labelled'], storage: StorageType.File, duplicate_window: nanos(5 * 60_000) });
    const encoder = new TextEncoder();
    // Core publishes (a PubAck each would take seconds), then the stream is checked to hold them all.
    for (let i = 0; i < ROWS; i++) {
      nc.publish(`logs.raw.src${i % 4}`, encoder.encode(JSON.stringify(record(i))));
      if (i % 10_000 === 9_999) await nc.flush();
    }
    await nc.flush();
    expect(await waitFor(async () => (await jsm.streams.info('LOGS')).state.messages >= ROWS, 20_000)).toBe(true);
    expect((await jsm.streams.info('LOGS')).state.messages).toBe(ROWS);
    // A worker that died after publishing its outputs and before acknowledging the inputs: its
    // outputs are in the stream already, under the ids the workers derive (stream and sequence).
    const js = nc.jetstream();
    for (let seq = 1; seq <= PRESTORED; seq++) {
      const input = await jsm.streams.getMessage('LOGS', { seq });
      const { id } = JSON.parse(new TextDecoder().decode(input.data)) as { id: number };
      const pub = await js.publish('logs.labelled', encoder.encode(JSON.stringify({ id, prestored: true, target_label: 'User Action', label_stage: 'regex', confidence: 1 })), { msgID: `LOGS:seq:${seq}` });
      expect(pub.duplicate).toBe(false);
    }
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await nc?.close().catch(() => undefined);
    server?.kill('SIGTERM');
    if (server) await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${ROWS.toLocaleString('en')} records, ${WORKERS} workers, one killed mid-run: every record labelled exactly once in the output stream`, async () => {
    const started = Date.now();
    for (let n = 0; n < WORKERS; n++) workers.push(startWorker(n));
    const logs = () => workers.map((w, n) => `--- worker ${n}\n${w.output().slice(-3000)}`).join('\n');

    // Kill a worker that is labelling, once a quarter of the output is stored.
    expect(await waitFor(async () => (await outputCount()) >= KILL_AT, 60_000), logs()).toBe(true);
    let victim = -1;
    let victimHandled = 0;
    expect(
      await waitFor(async () => {
        for (let n = 0; n < WORKERS; n++) {
          const count = await handled(workers[n]);
          if (count && count > 0) {
            victim = n;
            victimHandled = count;
            return true;
          }
        }
        return false;
      }, 10_000),
      logs(),
    ).toBe(true);
    workers[victim].child.kill('SIGKILL');
    const atKill = await outputCount();
    expect(atKill, 'the kill came before the end of the run').toBeLessThan(ROWS);

    // The others finish: every record stored in the output, every input message acknowledged.
    const done = await waitFor(async () => {
      if ((await outputCount()) < ROWS) return false;
      const ci = await jsm.consumers.info('LOGS', 'labellers');
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    }, 90_000);
    expect(done, `output ${await outputCount()} of ${ROWS}\n${logs()}`).toBe(true);
    const ranMs = Date.now() - started;

    // SIGTERM: the survivors stop cleanly.
    const survivors = workers.filter((_, n) => n !== victim);
    for (const w of survivors) w.child.kill('SIGTERM');
    const codes = await Promise.all(survivors.map((w) => w.exit));
    expect(codes, logs()).toEqual(survivors.map(() => 0));
    const finals = survivors.map((w) => {
      const line = w.output().split('\n').find((l) => l.includes('"msg":"stopped"'));
      expect(line, w.output()).toBeDefined();
      return (JSON.parse(line!) as { stats: { messages: number; redelivered: number; published: number; duplicates: number; publishFailures: number } }).stats;
    });
    // The dead worker's unacknowledged messages went to the others.
    expect(finals.reduce((n, s) => n + s.redelivered, 0), logs()).toBeGreaterThan(0);
    expect(finals.every((s) => s.publishFailures === 0)).toBe(true);

    // Exactly one output record per input record, each labelled.
    expect(await outputCount()).toBe(ROWS);
    const head = JSON.parse(readFileSync('models/head-lexical.json', 'utf8')) as { labels: string[] };
    const rules = JSON.parse(readFileSync('configs/regex_rules.json', 'utf8')) as { rules: { label: string }[] };
    const labels = new Set([...head.labels, ...rules.rules.map((r) => r.label), 'Unclassified']);
    const seen = new Uint8Array(ROWS);
    const problems: string[] = [];
    const out = await nc.jetstream().consumers.get('LABELLED');
    const iter = await out.consume({ max_messages: 5000 });
    let read = 0;
    let prestored = 0;
    const decoder = new TextDecoder();
    for await (const m of iter) {
      const r = JSON.parse(decoder.decode(m.data)) as { id: number; target_label: string; label_stage: string; confidence: number; prestored?: boolean };
      seen[r.id]++;
      if (r.prestored) prestored++;
      // (The pre-stored records are the dead worker's, as the test wrote them.)
      const ok = r.prestored
        ? true
        : unusable(r.id) ? r.label_stage === 'error' && r.target_label.includes('no "log_message" or "message" field') : labels.has(r.target_label) && r.label_stage !== 'error' && r.confidence >= 0 && r.confidence <= 1;
      if (!ok && problems.length < 5) problems.push(JSON.stringify(r));
      if (++read === ROWS) break;
    }
    expect(problems).toEqual([]);
    const missing = seen.reduce((n, c) => n + (c === 0 ? 1 : 0), 0);
    const twice = seen.reduce((n, c) => n + (c > 1 ? 1 : 0), 0);
    expect({ missing, twice, prestored }).toEqual({ missing: 0, twice: 0, prestored: PRESTORED });
    console.log(
      `nats-consume: ${ROWS} records through ${WORKERS} workers in ${(ranMs / 1000).toFixed(1)} s; worker ${victim} killed after ${victimHandled} (output at ${atKill}); ` +
        `survivors: ${finals.map((s) => `${s.messages} handled, ${s.redelivered} redelivered, ${s.duplicates} duplicates`).join('; ')}`,
    );
  }, 150_000);
  it('a labelled record is acknowledged only once the output stream has stored it: refused publishes come back until it does', async () => {
    const SMALL = 2000;
    const LIMIT = 500;
    await jsm.streams.add({ name: 'SMALL', subjects: ['small.raw'], storage: StorageType.File });
    // The output stream refuses every message past LIMIT (full, discard new) until it is raised.
    await jsm.streams.add({ name: 'SMALL_OUT', subjects: ['small.labelled'], storage: StorageType.File, max_msgs: LIMIT, discard: DiscardPolicy.New, duplicate_window: nanos(5 * 60_000) });
    const encoder = new TextEncoder();
    for (let i = 0; i < SMALL; i++) nc.publish('small.raw', encoder.encode(JSON.stringify(record(i))));
    await nc.flush();
    expect(await waitFor(async () => (await jsm.streams.info('SMALL')).state.messages === SMALL, 10_000)).toBe(true);
    const worker = startWorker(9, { LOGSIFT_NATS_STREAM: 'SMALL', LOGSIFT_NATS_SUBJECTS: '', LOGSIFT_NATS_DURABLE: 'small', LOGSIFT_NATS_OUTPUT: 'small.labelled' });
    workers.push(worker);
    expect(await waitFor(() => worker.output().includes('publishing labelled records failed'), 30_000), worker.output()).toBe(true);
    const full = await jsm.consumers.info('SMALL', 'small');
    expect((await jsm.streams.info('SMALL_OUT')).state.messages).toBe(LIMIT);
    // Nothing refused was acknowledged: it is still the consumer's (pending or awaiting its ack).
    expect(full.num_pending + full.num_ack_pending).toBeGreaterThanOrEqual(SMALL - LIMIT);

    const out = await jsm.streams.info('SMALL_OUT');
    await jsm.streams.update('SMALL_OUT', { ...out.config, max_msgs: -1 });
    const done = await waitFor(async () => {
      const ci = await jsm.consumers.info('SMALL', 'small');
      return (await jsm.streams.info('SMALL_OUT')).state.messages >= SMALL && ci.num_pending === 0 && ci.num_ack_pending === 0;
    }, 30_000);
    expect(done, worker.output().slice(-3000)).toBe(true);
    worker.child.kill('SIGTERM');
    expect(await worker.exit, worker.output().slice(-3000)).toBe(0);
    const stats = (JSON.parse(worker.output().split('\n').find((l) => l.includes('"msg":"stopped"'))!) as { stats: { publishFailures: number; redelivered: number } }).stats;
    expect(stats.publishFailures).toBeGreaterThan(0);
    expect(stats.redelivered).toBeGreaterThan(0);

    expect((await jsm.streams.info('SMALL_OUT')).state.messages).toBe(SMALL);
    const seen = new Uint8Array(SMALL);
    const iter = await (await nc.jetstream().consumers.get('SMALL_OUT')).consume({ max_messages: 1000 });
    let read = 0;
    for await (const m of iter) {
      seen[(JSON.parse(new TextDecoder().decode(m.data)) as { id: number }).id]++;
      if (++read === SMALL) break;
    }
    expect(seen.every((c) => c === 1)).toBe(true);
  }, 60_000);
});
