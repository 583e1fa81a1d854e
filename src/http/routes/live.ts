/**
 * GET /ws/logs: a WebSocket (@fastify/websocket) for live log lines, under the same API keys as
 * /classify (the upgrade request passes the auth hook like any other). The client sends text
 * frames — one log line, or a JSON object as on /classify (`log_message` or `message`, `source`;
 * `?field=` and `?source=` as for NDJSON) — and gets one JSON object back per frame, in order: the
 * input's fields (a plain line as `log_message`) plus target_label, label_stage and confidence.
 * A frame that cannot be used is answered in its place with `label_stage` `error` and the reason.
 *
 * Frames that arrive together are classified together (one pipeline call per batch, up to
 * pipeline.batchSize). Backpressure: at most live.maxInFlight frames are held (received, not yet
 * answered); at that bound the socket is paused (no more bytes are read, so TCP pushes back on the
 * sender), and the next batch waits while the answers already sent are not yet written out
 * (a client that stops reading holds the server to a bounded buffer, not a growing one).
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import { textRow, type JsonRow } from '../../json/reader.js';
import { labelledObject } from '../../json/writer.js';
import type { PipelineObserver } from '../../pipeline/observer.js';
import { runRows } from '../../pipeline/run.js';
import { QueryInvalid, UpgradeRequired } from '../../errors.js';
import { liveSchema } from './schemas.js';

export interface LiveRouteOptions {
  readonly batchSize: number;
  readonly maxInFlight: number;
  readonly maxColumns: number;
  readonly maxMessageChars?: number;
  readonly observer?: PipelineObserver;
  /** What the open streams are doing (tests, and a future metric). */
  readonly stats: LiveStats;
}

export interface LiveStats {
  connections: number;
  /** Frames received and not yet answered, over every socket. */
  inFlight: number;
  /** The most frames one socket ever held. */
  maxInFlightSeen: number;
  /** Times a socket was paused at live.maxInFlight. */
  pauses: number;
  framesAnswered: number;
  /** Pipeline calls made (frames that arrived together share one). */
  batches: number;
}

export function newLiveStats(): LiveStats {
  return { connections: 0, inFlight: 0, maxInFlightSeen: 0, pauses: 0, framesAnswered: 0, batches: 0 };
}

/** Bytes sent but not yet written to the socket past which the next batch waits. */
const SEND_HIGH_WATER = 1024 * 1024;

export async function liveRoutes(app: FastifyInstance, opts: LiveRouteOptions): Promise<void> {
  const { stats } = opts;

  // `wsHandler` rather than `websocket: true`: the latter hides the route from the OpenAPI document.
  app.route({
    method: 'GET',
    url: '/ws/logs',
    schema: liveSchema,
    config: { auth: 'api' },
    handler: async (_request, reply) => {
      reply.header('upgrade', 'websocket');
      throw new UpgradeRequired('GET /ws/logs is a WebSocket: send Connection: Upgrade and Upgrade: websocket (any WebSocket client does)');
    },
    wsHandler: (socket: WebSocket, request) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    let messageField: string | undefined;
    let defaultSource: string | undefined;
    try {
      for (const name of ['field', 'source'] as const) {
        const v = query[name];
        if (v !== undefined && (typeof v !== 'string' || (name === 'field' && v === ''))) throw new QueryInvalid(`?${name}= must be given once${name === 'field' ? ', not empty' : ''}`);
      }
      messageField = query.field as string | undefined;
      defaultSource = query.source as string | undefined;
    } catch (err) {
      socket.close(1008, (err as Error).message.slice(0, 120));
      return;
    }
    stats.connections++;
    const queue: JsonRow[] = [];
    let held = 0;
    let frames = 0;
    let paused = false;
    let working = false;
    let scheduled = false;
    let closed = false;

    const toRow = (data: RawData, isBinary: boolean): JsonRow => {
      const line = ++frames;
      const at = `frame ${line}`;
      if (isBinary) return { line, cells: undefined, error: `${at}: a binary frame; send text: one log line, or a JSON object with "log_message" or "message"` };
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
      return textRow(text, line, at, { maxColumns: opts.maxColumns, messageField, defaultSource });
    };

    const release = (n: number) => {
      held -= n;
      stats.inFlight -= n;
    };

    const work = async (): Promise<void> => {
      scheduled = false;
      if (working) return;
      working = true;
      try {
        while (queue.length && !closed) {
          const rows = queue.splice(0, opts.batchSize);
          stats.batches++;
          const lease = app.classifier.acquire();
          if (!lease) {
            socket.close(1013, 'models are still loading; try again later');
            return;
          }
          const out: string[] = [];
          try {
            for await (const batch of runRows(once(rows), lease.built.pipeline, { batchSize: rows.length, maxMessageChars: opts.maxMessageChars, observer: opts.observer })) {
              for (const row of batch) out.push(labelledObject(row));
            }
          } finally {
            lease.release();
          }
          if (closed) return;
          let written: Promise<void> | undefined;
          out.forEach((text, i) => {
            if (i < out.length - 1) socket.send(text);
            else written = new Promise<void>((resolve) => socket.send(text, () => resolve()));
          });
          stats.framesAnswered += out.length;
          release(rows.length);
          // The client reads slower than we answer: wait for what was sent to be written out.
          if (socket.bufferedAmount > SEND_HIGH_WATER) await written;
          if (paused && held <= opts.maxInFlight / 2 && !closed) {
            paused = false;
            socket.resume();
          }
        }
      } catch (err) {
        request.log.error({ err }, 'live stream failed');
        socket.close(1011, 'internal error');
      } finally {
        working = false;
      }
    };

    socket.on('message', (data: RawData, isBinary: boolean) => {
      queue.push(toRow(data, isBinary));
      held++;
      stats.inFlight++;
      if (held > stats.maxInFlightSeen) stats.maxInFlightSeen = held;
      if (held >= opts.maxInFlight && !paused) {
        paused = true;
        stats.pauses++;
        socket.pause();
      }
      // Frames that arrived in the same read are queued before the batch starts: one pipeline call for them.
      if (!scheduled && !working) {
        scheduled = true;
        setImmediate(() => void work());
      }
    });
    socket.on('close', () => {
      closed = true;
      stats.connections--;
      release(held);
      queue.length = 0;
    });
    },
  });
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}
