/**
 * A scriptable fake of an OpenAI-compatible Chat Completions endpoint on node:http.
 *
 * It validates each request like a strict server (path, method, content type, body shape) and
 * answers with real `chat.completion` objects, or whatever the test scripted: errors, 429 with
 * Retry-After, hangs, malformed JSON, slow answers. It records requests and the most requests
 * it ever had in flight at once.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LlmClient, type LlmClientOptions } from '../../src/llm/client.js';

export interface ChatRequestBody {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  temperature?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ChatRequestBody;
  /** Arrival time (ms, Date.now()). */
  readonly at: number;
}

/** What the server does with one valid request. */
export type Reply =
  /** A chat.completion whose choices[0].message.content is `content`. */
  | { kind: 'answer'; content: string }
  /** An HTTP error with an OpenAI-style error body. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
  /** Never answers (until the server closes). */
  | { kind: 'hang' }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** 200 with valid JSON that lacks choices. */
  | { kind: 'no-choices' }
  /** Waits, then does `then`. */
  | { kind: 'delay'; ms: number; then: Reply }
  /** 200 and headers at once, then a valid answer's body one byte every `byteMs` (a very slow stream). */
  | { kind: 'trickle'; content: string; byteMs: number }
  /**
   * 200 with a valid answer whose content is `bytes` long, sent in 64 KiB chunks as fast as the
   * client reads (chunked, or with its content-length declared); stops when the client hangs up.
   */
  | { kind: 'large'; bytes: number; declareLength: boolean };

export type Responder = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export const answer = (content: string): Reply => ({ kind: 'answer', content });
export const status = (code: number, headers?: Record<string, string>): Reply => ({ kind: 'status', status: code, headers });
export const hang = (): Reply => ({ kind: 'hang' });
export const malformed = (): Reply => ({ kind: 'malformed' });
export const delay = (ms: number, then: Reply): Reply => ({ kind: 'delay', ms, then });
export const trickle = (content: string, byteMs: number): Reply => ({ kind: 'trickle', content, byteMs });
export const large = (bytes: number, declareLength = false): Reply => ({ kind: 'large', bytes, declareLength });

/** The user message's log line (the JSON string between the stage's markers), if present. */
export function logLineOf(request: RecordedRequest): string | undefined {
  const user = request.body.messages.find((m) => m.role === 'user')?.content ?? '';
  const m = /<<<LOG_LINE\n(.*)\nLOG_LINE>>>/s.exec(user);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]) as string;
  } catch {
    return undefined;
  }
}

function validate(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') return "'model' is required";
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "'messages' must be a non-empty array";
  for (const m of b.messages as unknown[]) {
    const msg = m as Record<string, unknown> | null;
    if (!msg || !['system', 'user', 'assistant'].includes(msg.role as string)) return 'bad message role';
    if (typeof msg.content !== 'string') return 'message content must be a string';
  }
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)) {
    return "'temperature' must be a number in [0, 2]";
  }
  if (b.max_tokens !== undefined && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) {
    return "'max_tokens' must be a positive integer";
  }
  if (b.stream === true) return 'streaming is not supported by this fake';
  return null;
}

function sendJson(res: ServerResponse, code: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function openAiError(res: ServerResponse, code: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, code, { error: { message, type: code === 429 ? 'rate_limit_exceeded' : 'invalid_request_error', code: null } }, headers);
}

export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  /** Requests rejected by validation (400), with the reason. */
  readonly invalid: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Body bytes written for each `large` reply, in order (what the client took before hanging up). */
  readonly largeBytesSent: number[] = [];
  /** Path prefix the endpoint lives under (like OpenAI's /v1). */
  readonly prefix: string;
  private responder: Responder = () => answer('Unclassified');
  private readonly script: Reply[] = [];
  private readonly server: Server;
  private port = 0;
  private id = 0;

  constructor(prefix = '/v1') {
    this.prefix = prefix;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${this.prefix}`;
  }

  /** Default behaviour for requests not covered by queued replies. */
  respond(responder: Responder): this {
    this.responder = responder;
    return this;
  }

  /** Queues one-shot replies, used in order before the default responder. */
  enqueue(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(method: string, url: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): Promise<void> {
    if (method !== 'POST') return openAiError(res, 405, 'method not allowed');
    if (url !== `${this.prefix}/chat/completions`) return openAiError(res, 404, `unknown path ${url}`);
    if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
      return openAiError(res, 415, 'content-type must be application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      this.invalid.push('body is not JSON');
      return openAiError(res, 400, 'body is not JSON');
    }
    const problem = validate(body);
    if (problem) {
      this.invalid.push(problem);
      return openAiError(res, 400, problem);
    }
    const request: RecordedRequest = { method, url, headers, body: body as ChatRequestBody, at: Date.now() };
    const index = this.requests.push(request) - 1;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.inFlight--;
      }
    };
    res.on('close', finish);
    let reply = this.script.length > 0 ? this.script.shift()! : await this.responder(request, index);
    while (reply.kind === 'delay') {
      const { ms, then } = reply;
      await new Promise((r) => setTimeout(r, ms));
      reply = then;
    }
    if (res.destroyed) return finish();
    switch (reply.kind) {
      case 'hang':
        return; // the client times out; close() ends the socket
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "chatcmpl-broken", "choices": [');
        break;
      case 'no-choices':
        sendJson(res, 200, { id: `chatcmpl-${++this.id}`, object: 'chat.completion', choices: [] });
        break;
      case 'status':
        openAiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.headers);
        break;
      case 'trickle': {
        const text = JSON.stringify({ id: `chatcmpl-${++this.id}`, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: 'stop' }] });
        res.writeHead(200, { 'content-type': 'application/json' });
        for (const ch of text) {
          if (res.destroyed) break;
          res.write(ch);
          await new Promise((r) => setTimeout(r, reply.byteMs));
        }
        if (!res.destroyed) res.end();
        break;
      }
      case 'large': {
        const head = Buffer.from(`{"id":"chatcmpl-${++this.id}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`);
        const tail = Buffer.from('"},"finish_reason":"stop"}]}');
        const total = head.length + reply.bytes + tail.length;
        res.writeHead(200, { 'content-type': 'application/json', ...(reply.declareLength ? { 'content-length': String(total) } : {}) });
        const slot = this.largeBytesSent.push(0) - 1;
        const write = async (chunk: Buffer) => {
          if (res.destroyed) return;
          this.largeBytesSent[slot] += chunk.length;
          if (!res.write(chunk)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
        };
        await write(head);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        for (let left = reply.bytes; left > 0 && !res.destroyed; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
        await write(tail);
        if (!res.destroyed) res.end();
        break;
      }
      case 'answer': {
        const b = body as ChatRequestBody;
        sendJson(res, 200, {
          id: `chatcmpl-${++this.id}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: b.model,
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 50, completion_tokens: 3, total_tokens: 53 },
        });
        break;
      }
    }
    finish();
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A client against a fake server with test-sized timeouts and back-off; the breaker stays closed unless a test lowers it. */
export function fastTestClient(baseUrl: string, extra: Partial<LlmClientOptions> = {}): LlmClient {
  return new LlmClient({
    baseUrl,
    model: 'test-model',
    timeoutMs: 1000,
    retries: 2,
    concurrency: 4,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    breakerThreshold: 100,
    breakerCooldownMs: 10_000,
    ...extra,
  });
}
