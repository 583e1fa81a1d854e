/**
 * The real server process (`node --import tsx src/cli.ts serve`): SIGHUP reloads the rules
 * (a bad file keeps the old ones), SIGTERM lets an in-flight 50,000-row upload finish — the
 * client keeps sending after the signal and gets every row — then the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/fake-openai.js';
import { outputObjects, parseOutput, postCsv } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'logsift-proc-'));
const original = JSON.parse(readFileSync('configs/regex_rules.json', 'utf8')) as { rules: unknown[] };
const ZEBRA = { id: 'zebra', pattern: '^zebra crossing breached\\b', flags: 'i', label: 'Security Alert' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await check()) return true;
  return false;
}

interface Served {
  child: ChildProcess;
  base: string;
  rulesPath: string;
  /** Everything the process printed so far. */
  output(): string;
  exit: Promise<number | null>;
}

/** One server process with a rules file of its own. */
async function serve(name: string): Promise<Served> {
  const rulesPath = join(dir, `${name}-rules.json`);
  writeFileSync(rulesPath, JSON.stringify(original));
  const port = await closedPort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', LOGSIFT_EMBEDDER: 'lexical', LOGSIFT_REGEX_RULES: rulesPath, LOGSIFT_CONFIG: '', LOGSIFT_DATA_DIR: join(dir, `${name}-data`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await waitFor(() => fetch(`${base}/readyz`).then((r) => r.ok, () => false), 60_000);
  expect(ready, output).toBe(true);
  return { child, base, rulesPath, output: () => output, exit };
}

// One process per test (SIGTERM ends its own), started together.
let hup: Served;
let term: Served;
beforeAll(async () => {
  [hup, term] = await Promise.all([serve('hup'), serve('term')]);
}, 90_000);

afterAll(() => {
  for (const s of [hup, term]) if (s?.child.exitCode === null) s.child.kill('SIGKILL');
});

const zebra = async () => outputObjects((await postCsv(hup.base, 'source,log_message\nA,Zebra crossing breached at gate 4\n')).text)[0];

describe('signals to the real server process', () => {
  it('SIGHUP reloads the rules; a bad rules file keeps the old ones and logs why', async () => {
    writeFileSync(hup.rulesPath, JSON.stringify({ rules: [ZEBRA, ...original.rules] }));
    hup.child.kill('SIGHUP');
    expect(await waitFor(async () => (await zebra()).label_stage === 'regex', 10_000), hup.output()).toBe(true);
    writeFileSync(hup.rulesPath, '{ not json');
    hup.child.kill('SIGHUP');
    expect(await waitFor(() => hup.output().includes('pipeline reload failed'), 10_000), hup.output()).toBe(true);
    expect(hup.output()).toMatch(/reload failed, the previous pipeline stays in service: .*not valid JSON/);
    expect(await zebra()).toMatchObject({ label_stage: 'regex', target_label: 'Security Alert' });
  }, 30_000);

  it('SIGTERM: an in-flight 50,000-row upload completes, new connections are refused, exit code 0', async () => {
    const ROWS = 50_000;
    const line = (i: number) => `${i},Src${i % 7},${i % 3 ? `User ${i} logged in.` : `Disk usage at ${i % 100}% on node ${i % 13}`}\n`;
    let received = '';
    let firstBytes!: () => void;
    const started = new Promise<void>((r) => (firstBytes = r));
    const { base, child, exit, output } = term;
    const req = request(`${base}/classify`, { method: 'POST', headers: { 'content-type': 'text/csv' } });
    const done = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.on('data', (c: Buffer) => {
          received += c.toString();
          firstBytes();
        });
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    let i = 0;
    const writeRows = (n: number) => {
      let chunk = '';
      for (const end = Math.min(ROWS, i + n); i < end; i++) chunk += line(i);
      req.write(chunk);
    };
    req.write('id,source,log_message\n');
    writeRows(5_000);
    await started; // the labelled CSV is streaming back: the request is in flight
    child.kill('SIGTERM');
    await sleep(300);
    // No new requests are served.
    const fresh = await new Promise<string>((resolve) => {
      const probe = request(`${base}/healthz`, { agent: false }, (res) => resolve(`answered ${res.statusCode}`));
      probe.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      probe.end();
    });
    // Refused, or — when the connection was queued before the listener closed — answered 503.
    expect(['ECONNREFUSED', 'answered 503'], output()).toContain(fresh);
    // The client keeps sending the rest of its upload after the signal.
    while (i < ROWS) {
      writeRows(5_000);
      await sleep(20);
    }
    req.end();
    expect(await done.catch((e: Error) => `${e.message}\n${output()}`)).toBe(200);
    const { header, rows } = parseOutput(received);
    expect(header).toEqual(['id', 'source', 'log_message', 'target_label', 'label_stage', 'confidence']);
    expect(rows).toHaveLength(ROWS);
    expect(rows.every((r, k) => r[0] === String(k))).toBe(true);
    expect(rows.filter((r) => r[4] === 'error')).toHaveLength(0);
    expect(await exit).toBe(0);
    expect(output()).toMatch(/SIGTERM: closing/);
  }, 60_000);
});
