/**
 * GET /ws/logs with a real WebSocket client (`ws`, what @fastify/websocket serves with): one
 * labelled object per frame, in order, plain lines and JSON objects, error frames in place; the
 * API keys of /classify; frames arriving together classified in one batch; and backpressure: a
 * client that stops reading holds the server to live.maxInFlight frames, with the socket paused.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from '../helpers/fake-clock.js';
import { send, startServer, type TestServer } from '../helpers/server.js';

const KEY = 'live-test-api-key-0123456789';
const MAX_IN_FLIGHT = 32;
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ overrides: { auth: { apiKeys: [KEY] }, live: { maxInFlight: MAX_IN_FLIGHT } } });
}, 60_000);
const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await srv?.close();
});

const wsUrl = (query = '') => `${srv.url.replace('http', 'ws')}/ws/logs${query}`;

async function open(query = '', headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl(query), { headers });
  sockets.push(ws);
  await once(ws, 'open');
  return ws;
}

/** The next `n` answers as objects. */
function answers(ws: WebSocket, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown>[] = [];
    const onMessage = (data: WebSocket.RawData) => {
      out.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (out.length === n) {
        ws.off('message', onMessage);
        resolve(out);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => reject(new Error(`closed (${code}) after ${out.length} answers`)));
  });
}

describe('GET /ws/logs', () => {
  it('answers each frame, in order: a line, a JSON object with its fields kept, an unusable frame in place', async () => {
    const ws = await open('?source=edge');
    const got = answers(ws, 4);
    ws.send('User 12345 logged in.');
    ws.send(JSON.stringify({ source: 'billing', message: 'User 7 logged out.', host: 'web-1' }));
    ws.send(JSON.stringify({ msg: 'no message field' }));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const [line, object, missing, binary] = await got;
    expect(line).toEqual({ source: 'edge', log_message: 'User 12345 logged in.', target_label: 'User Action', label_stage: 'regex', confidence: 1 });
    expect(object).toMatchObject({ source: 'billing', message: 'User 7 logged out.', host: 'web-1', target_label: 'User Action', label_stage: 'regex' });
    expect(missing).toMatchObject({ msg: 'no message field', label_stage: 'error', target_label: expect.stringMatching(/^frame 3: no "log_message" or "message" field/) });
    expect(binary).toMatchObject({ label_stage: 'error', target_label: expect.stringMatching(/^frame 4: a binary frame/) });
    ws.close();
  });

  it('needs an API key as /classify does', async () => {
    for (const [headers, status] of [[{}, 401], [{ authorization: 'Bearer not-a-key-0123456789' }, 403]] as const) {
      const ws = new WebSocket(wsUrl(), { headers });
      ws.on('error', () => undefined);
      const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
      expect(res.statusCode).toBe(status);
      req.destroy();
    }
    // Plain HTTP (no upgrade) is told to upgrade.
    const plain = await send(`${srv.url}/ws/logs`, { method: 'GET', headers: { authorization: `Bearer ${KEY}` } });
    expect(plain.status).toBe(426);
    expect(plain.json).toMatchObject({ code: 'UPGRADE_REQUIRED' });
  });

  it('frames that arrive together go through the pipeline as one batch', async () => {
    const ws = await open();
    const lines = Array.from({ length: 20 }, (_, i) => `User ${i} logged in.`);
    const got = answers(ws, 20);
    const before = srv.app.liveStats.framesAnswered;
    const batches = srv.app.liveStats.batches;
    // One write: twenty frames in one TCP segment.
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.cork();
    for (const line of lines) ws.send(line);
    socket.uncork();
    const out = await got;
    expect(out.map((o) => o.log_message)).toEqual(lines);
    expect(srv.app.liveStats.framesAnswered - before).toBe(20);
    expect(srv.app.liveStats.batches - batches).toBe(1);
    ws.close();
  });

  it('a client that stops reading: the server holds at most live.maxInFlight frames and stops reading; all answered in order once it reads again', async () => {
    const ws = await open();
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    // Stop reading answers: the server's writes back up, then its reads must stop.
    socket.pause();
    const N = 3000;
    const line = (i: number) => `${i} ${'x'.repeat(4000)}`;
    for (let i = 0; i < N; i++) ws.send(line(i));
    const pausesBefore = srv.app.liveStats.pauses;
    await until(() => srv.app.liveStats.pauses > pausesBefore && ws.bufferedAmount > 1_000_000, 'the server to stop reading');
    // Settle, then the bound holds and most frames are still on the client's side, unsent. The
    // bound: live.maxInFlight, plus the frames of the one socket read (64 KiB) being parsed when it was reached.
    await new Promise((r) => setTimeout(r, 100));
    const bound = MAX_IN_FLIGHT + Math.ceil(65536 / 4000);
    expect(srv.app.liveStats.inFlight).toBeLessThanOrEqual(bound);
    expect(srv.app.liveStats.maxInFlightSeen).toBeLessThanOrEqual(bound);
    expect(ws.bufferedAmount).toBeGreaterThan(1_000_000);
    const got = answers(ws, N);
    socket.resume();
    const out = await got;
    expect(out.every((o, i) => o.log_message === line(i))).toBe(true);
    expect(srv.app.liveStats.maxInFlightSeen).toBeLessThanOrEqual(bound);
    ws.close();
    await once(ws, 'close');
  }, 15_000);
});
