/**
 * Client errors Node reports on a connection — the body did not arrive within requestTimeout,
 * bytes that are not HTTP (a Content-Length shorter than the body), oversized headers — handled
 * without corrupting an answer in progress.
 *
 * Fastify's default handler writes a raw `HTTP/1.1 408` (or 400) to the socket whatever is on it,
 * which lands in the middle of a streaming 200 body. Here, while a request on the connection is
 * being answered, the fault is handed to that request instead (`request.onConnectionFault`): the
 * /classify upload fails with it, so the answer is a JSON 4xx if it has not started, or ends with
 * an `error` row and a proper chunked terminator if it has. The connection is closed once that
 * answer is complete (its HTTP framing is lost). On an idle connection the answer is a JSON error
 * with its code (REQUEST_TIMEOUT, REQUEST_INVALID, HEADERS_TOO_LARGE), then close, as Node does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HeadersTooLarge, RequestInvalid, RequestTimeout } from '../../errors.js';
import { errorBody } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The connection fault reported while this request was answered, if any. */
    readonly connectionFault: Error | undefined;
    /** Calls `listener` with the connection fault when one is reported (at once if one already was). */
    onConnectionFault(listener: (fault: Error) => void): void;
  }
}

export interface ConnectionFaultOptions {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

interface FaultState {
  fault?: Error;
  listeners: ((fault: Error) => void)[];
}

/**
 * The requests on each connection not yet answered, in order (the first is the one being
 * written; more only with HTTP pipelining), from the server's 'request' event — before any hook,
 * since a fault can be reported in the same tick as the request arrives. Sockets and requests
 * are unique, so these maps serve every server in the process.
 */
const answering = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }[]>();
const faults = new WeakMap<IncomingMessage, FaultState>();

/** The handler to pass as Fastify's `clientErrorHandler` (Fastify binds it to the instance). */
export function clientErrorHandler(options: ConnectionFaultOptions) {
  return function handleClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const current = answering.get(socket)?.find((a) => !a.res.writableEnded);
    if (current) {
      const { req, res } = current;
      const fault = describe(err, options, req);
      this.log.warn(
        { connectionFault: { code: err.code, message: fault?.message ?? err.message }, method: req.method, url: req.url?.split('?')[0] },
        fault ? 'connection fault while answering: the answer reports it, then the connection closes' : 'connection fault after the request: the connection closes after the answer',
      );
      if (fault) report(req, fault);
      // Never a raw status line into an answer in progress; close once it has gone out.
      res.once('finish', () => socket.destroySoon());
      return;
    }
    const fault = describe(err, options);
    this.log.debug({ connectionFault: { code: err.code, message: fault.message } }, 'connection fault on an idle connection');
    if (socket.writable) {
      const body = errorBody(fault);
      const text = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy(err);
  };
}

type Fault = Error & { statusCode: number; code: string };

/**
 * The fault as the request being answered sees it: undefined when it concerns only what follows
 * a request whose body had already arrived whole (a timeout of the next one's headers).
 */
function describe(err: NodeJS.ErrnoException, options: ConnectionFaultOptions): Fault;
function describe(err: NodeJS.ErrnoException, options: ConnectionFaultOptions, req: IncomingMessage): Fault | undefined;
function describe(err: NodeJS.ErrnoException, options: ConnectionFaultOptions, req?: IncomingMessage): Fault | undefined {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    if (!req) {
      return new RequestTimeout(
        `the request timed out: headers are expected within server.headersTimeoutMs (${options.headersTimeoutMs} ms), the whole body within server.requestTimeoutMs (${options.requestTimeoutMs} ms)`,
      );
    }
    if (req.complete) return undefined;
    return new RequestTimeout(`the upload timed out: the request body did not arrive within server.requestTimeoutMs (${options.requestTimeoutMs} ms)`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW' && !req) return new HeadersTooLarge('the request headers are too large');
  if (req?.complete) {
    const length = req.headers['content-length'];
    return new RequestInvalid(
      `the connection sent bytes after the request body that are not HTTP${length ? ` (is the Content-Length of ${length} bytes shorter than the body?)` : ''}; they were not read (${err.code})`,
    );
  }
  return new RequestInvalid(`the request could not be read: ${err.message}${err.code ? ` (${err.code})` : ''}`);
}

function report(req: IncomingMessage, fault: Error): void {
  const state = faults.get(req) ?? { listeners: [] };
  if (state.fault) return;
  state.fault = fault;
  faults.set(req, state);
  for (const listener of state.listeners.splice(0)) listener(fault);
}

async function connectionFaults(app: FastifyInstance): Promise<void> {
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { socket } = req;
    const queue = answering.get(socket) ?? [];
    queue.push({ req, res });
    answering.set(socket, queue);
    res.once('close', () => {
      const i = queue.findIndex((a) => a.req === req);
      if (i >= 0) queue.splice(i, 1);
    });
  });
  app.decorateRequest('connectionFault', {
    getter(this: FastifyRequest) {
      return faults.get(this.raw)?.fault;
    },
  });
  app.decorateRequest('onConnectionFault', function (this: FastifyRequest, listener: (fault: Error) => void) {
    const state = faults.get(this.raw) ?? { listeners: [] };
    if (state.fault) return listener(state.fault);
    state.listeners.push(listener);
    faults.set(this.raw, state);
  });
}

export const connectionFaultsPlugin = fp(connectionFaults, { name: 'logsift-connection-faults' });
