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
 * answer is complete (it cannot carry another request). On an idle connection the answer is a
 * JSON error with its code (REQUEST_TIMEOUT, REQUEST_INVALID, HEADERS_TOO_LARGE), then close, as
 * Node itself does.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HeadersTooLarge, RequestInvalid, RequestTimeout, errorBody } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The connection fault reported while this request was answered, if any. */
    connectionFault?: Error;
    /** Calls `listener` with the connection fault when one is reported (at once if one already was). */
    onConnectionFault(listener: (fault: Error) => void): void;
  }
}

export interface ConnectionFaultOptions {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** The request being answered on each connection. Sockets are unique, so one map serves every server. */
const answering = new WeakMap<Socket, { request: FastifyRequest; res: ServerResponse }>();
const listeners = new WeakMap<FastifyRequest, ((fault: Error) => void)[]>();

/** The handler to pass as Fastify's `clientErrorHandler` (it is bound to the instance). */
export function clientErrorHandler(options: ConnectionFaultOptions) {
  return function handleClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { request, res } = answering.get(socket) ?? {};
    if (request && res && !res.writableEnded) {
      const fault = describe(err, options, request);
      request.log.warn(
        { connectionFault: { code: err.code, message: fault?.message ?? err.message } },
        fault ? 'connection fault while answering: the answer reports it, then the connection closes' : 'connection fault after the request was read: the connection closes after the answer',
      );
      if (fault) report(request, fault);
      // The connection's HTTP framing is lost: close it once this answer has gone out.
      res.once('finish', () => socket.destroySoon());
      return;
    }
    const fault = describe(err, options) ?? new RequestInvalid(`the request could not be read: ${err.message}`);
    this.log.debug({ connectionFault: { code: err.code, message: err.message } }, 'connection fault on an idle connection');
    if (socket.writable) {
      const body = JSON.stringify(errorBody(fault));
      const status = `${fault.statusCode} ${errorBody(fault).error}`;
      socket.write(`HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy(err);
  };
}

/**
 * The fault as this request sees it; undefined when it concerns only what follows the request
 * (its body had already arrived whole and the error is a timeout of the next one).
 */
function describe(err: NodeJS.ErrnoException, options: ConnectionFaultOptions, request?: FastifyRequest): (Error & { statusCode: number; code: string }) | undefined {
  const complete = request?.raw.complete ?? false;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    if (complete) return undefined;
    return request
      ? new RequestTimeout(`the upload timed out: the request body did not arrive within server.requestTimeoutMs (${options.requestTimeoutMs} ms)`)
      : new RequestTimeout(`the request timed out: headers within server.headersTimeoutMs (${options.headersTimeoutMs} ms), the body within server.requestTimeoutMs (${options.requestTimeoutMs} ms)`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW' && !request) return new HeadersTooLarge('the request headers are too large');
  if (request && complete) {
    const length = request.headers['content-length'];
    return new RequestInvalid(
      `the connection sent bytes after this request's body that are not HTTP${length ? ` (is the Content-Length of ${length} bytes shorter than the body?)` : ''}; they were not read (${err.code})`,
    );
  }
  return new RequestInvalid(`the request could not be read: ${err.message}${err.code ? ` (${err.code})` : ''}`);
}

function report(request: FastifyRequest, fault: Error): void {
  if (request.connectionFault) return;
  request.connectionFault = fault;
  for (const listener of listeners.get(request) ?? []) listener(fault);
  listeners.delete(request);
}

async function connectionFaults(app: FastifyInstance): Promise<void> {
  app.decorateRequest('connectionFault', undefined);
  app.decorateRequest('onConnectionFault', function (this: FastifyRequest, listener: (fault: Error) => void) {
    if (this.connectionFault) return listener(this.connectionFault);
    const list = listeners.get(this) ?? [];
    list.push(listener);
    listeners.set(this, list);
  });
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    if (!socket) return;
    answering.set(socket, { request, res: reply.raw });
    reply.raw.once('close', () => {
      if (answering.get(socket)?.request === request) answering.delete(socket);
    });
  });
}

export const connectionFaultsPlugin = fp(connectionFaults, { name: 'logsift-connection-faults' });
