/**
 * `logsift consume`'s worker: reads log records from a JetStream stream through a durable pull
 * consumer that any number of workers share (the server gives each message to one of them),
 * classifies them in batches through the pipeline (pipeline/run.ts, as /classify does), publishes
 * each labelled record to the output subject and acknowledges the input only once the output
 * stream has stored it (its PubAck). At least once, and no more than once in the output: the
 * output's message id is derived from the input (messages.ts outputMsgId), so when a worker dies
 * after publishing and before acknowledging, the message redelivered to another worker is
 * published again under the same id and the output stream's duplicate window drops it.
 *
 * Nothing is dropped: a message that cannot be read is published as an `error` record with the
 * reason (and acknowledged); a message whose publish fails is not acknowledged but negatively
 * acknowledged with a delay, so it comes back (to this worker or another) until it is stored.
 * A batch that takes long is kept from redelivery by in-progress acks every third of the ack wait.
 *
 * Stopping (SIGTERM): no new pull request is sent; the one in flight is waited out (at most
 * consume.fetchExpiresMs) and every message it brought is classified, published and acknowledged,
 * then the connection is drained. A worker killed outright loses nothing either: what it held
 * unacknowledged is redelivered to the others after the consumer's ack wait.
 */
import { hostname } from 'node:os';
import {
  AckPolicy,
  DeliverPolicy,
  connect,
  credsAuthenticator,
  headers,
  nanos,
  millis,
  type ConsumerConfig,
  type ConsumerInfo,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type PubAck,
} from 'nats';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { JsonRow } from '../json/reader.js';
import { labelledObject } from '../json/writer.js';
import type { PipelineObserver } from '../pipeline/observer.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { runRows, type OutputRow } from '../pipeline/run.js';
import { messageRow, outputMsgId, outputSubject, sampleOutputSubjects, subjectMatches } from './messages.js';

export type ConsumeSettings = Config['consume'];

/** What the worker reports as it goes (consume/health.ts turns it into metrics). Must not throw. */
export interface ConsumeObserver extends PipelineObserver {
  /** One batch handled: its messages, how many were redeliveries, its time from classification to the last ack. */
  consumeBatch?(messages: number, redelivered: number, seconds: number): void;
  /** Output messages stored (PubAck), and how many of them the output stream had already (duplicates). */
  consumePublished?(stored: number, duplicates: number): void;
  /** Publishes that failed (the input message was not acknowledged: it comes back). */
  consumePublishFailed?(count: number): void;
}

export interface WorkerOptions {
  readonly settings: ConsumeSettings;
  /** server.maxColumns and server.maxMessageChars, as for /classify. */
  readonly limits: { readonly maxColumns: number; readonly maxMessageChars: number };
  readonly pipeline: Pipeline;
  readonly log: Logger;
  readonly observer?: ConsumeObserver;
  /** The contents of consume.credsFile, read by the command. */
  readonly creds?: Uint8Array;
}

/** What this worker has done (its closing log line). */
export interface WorkerStats {
  messages: number;
  batches: number;
  /** Messages that had been delivered before (to this worker or one that died). */
  redelivered: number;
  /** Output messages the output stream stored, and those it had already (a redelivery's second copy). */
  published: number;
  duplicates: number;
  /** Records published as `error` (unreadable). */
  errors: number;
  /** Publishes that failed (retried through redelivery). */
  publishFailures: number;
}

/** A publish that failed is retried no sooner than this (nak delay). */
const RETRY_DELAY_MS = 1000;
/** Longest pause between failed pull requests (the connection down, the consumer gone). */
const MAX_BACKOFF_MS = 15_000;

const encoder = new TextEncoder();

/** A server URL as it may be logged: no user or password. */
export function redactServer(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
}

const isNotFound = (err: unknown): boolean => /not found/i.test((err as Error)?.message ?? '');

/**
 * Messages of one pull request in batches: each batch is what has arrived by the time the event
 * loop turns (at most `max`), so a full stream gives full batches and a trickle is answered at once.
 */
export async function* gather<T>(source: AsyncIterable<T>, max: number): AsyncGenerator<T[]> {
  const it = source[Symbol.asyncIterator]();
  const TICK = Symbol('tick');
  let next = it.next();
  for (;;) {
    const first = await next;
    if (first.done) return;
    const batch = [first.value];
    next = it.next();
    const tick = new Promise<typeof TICK>((resolve) => setImmediate(resolve, TICK));
    let ended = false;
    while (batch.length < max) {
      const r = await Promise.race([next, tick]);
      if (r === TICK) break;
      if (r.done) {
        ended = true;
        break;
      }
      batch.push(r.value);
      next = it.next();
    }
    yield batch;
    if (ended) return;
  }
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

export class StreamWorker {
  readonly stats: WorkerStats = { messages: 0, batches: 0, redelivered: 0, published: 0, duplicates: 0, errors: 0, publishFailures: 0 };
  private stopping = false;
  private readonly wake = new AbortController();
  private connected = true;

  private constructor(
    private readonly options: WorkerOptions,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly consumer: Consumer,
    /** The consumer as the server has it (its ack wait may differ from ours if another worker created it). */
    readonly consumerInfo: ConsumerInfo,
  ) {
    void this.watchStatus();
  }

  /**
   * Connects, checks the input stream, the output's stream (it must exist, and must not be the
   * input's: a loop) and the durable consumer, creating it when allowed. Each failure says what
   * to create or change; the connection is closed on the way out.
   */
  static async start(options: WorkerOptions): Promise<StreamWorker> {
    const { settings, log } = options;
    const nc = await connect({
      servers: settings.servers,
      name: `logsift-consume ${hostname()} ${process.pid}`,
      ...(settings.token && { token: settings.token }),
      ...(settings.user && { user: settings.user }),
      ...(settings.password && { pass: settings.password }),
      ...(options.creds && { authenticator: credsAuthenticator(options.creds) }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      // Every publish is a request: capturing a stack trace for each (the default) took a third
      // of the worker's CPU time.
      noAsyncTraces: true,
    }).catch((err: Error) => {
      throw new Error(`cannot connect to NATS at ${settings.servers.map(redactServer).join(', ')} (consume.servers): ${err.message}`);
    });
    try {
      const jsm = await nc.jetstreamManager();
      const consumerInfo = await StreamWorker.prepare(jsm, settings, log);
      const js = nc.jetstream();
      const consumer = await js.consumers.get(settings.stream, settings.durable);
      return new StreamWorker(options, nc, js, consumer, consumerInfo);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private static async prepare(jsm: JetStreamManager, settings: ConsumeSettings, log: Logger): Promise<ConsumerInfo> {
    const { stream } = settings;
    const input = await jsm.streams.info(stream).catch((err: Error) => {
      throw new Error(isNotFound(err) ? `no JetStream stream "${stream}" (consume.stream): create it first (README: Stream consumer)` : `stream "${stream}": ${err.message}`);
    });
    const inputSubjects = input.config.subjects ?? [];
    /** The output's streams and their duplicate windows (ms). */
    const outputs = new Map<string, number>();
    for (const subject of sampleOutputSubjects(settings.output, inputSubjects)) {
      const loop = inputSubjects.find((s) => subjectMatches(s, subject));
      if (loop) throw new Error(`the output subject ${subject} (consume.output) is stored by the input stream "${stream}" (subject ${loop}): every labelled record would be read again`);
      const name = await jsm.streams.find(subject).catch(() => undefined);
      if (!name) throw new Error(`no JetStream stream stores the output subject ${subject} (consume.output): create one with a duplicate window (README: Stream consumer)`);
      outputs.set(name, millis((await jsm.streams.info(name)).config.duplicate_window ?? 0));
    }
    const consumer = await StreamWorker.durableConsumer(jsm, settings, log);
    const ackWaitMs = consumer.config.ack_wait ? millis(consumer.config.ack_wait) : settings.ackWaitMs;
    for (const [name, windowMs] of outputs) {
      if (windowMs < 2 * ackWaitMs) {
        log.warn(
          { outputStream: name, duplicateWindowMs: windowMs, ackWaitMs },
          `the output stream's duplicate window is shorter than twice the consumer's ack wait: a record redelivered after a worker died may be stored twice`,
        );
      }
    }
    return consumer;
  }

  /** The durable consumer: the one the stream has, or a new one when allowed. */
  private static async durableConsumer(jsm: JetStreamManager, settings: ConsumeSettings, log: Logger): Promise<ConsumerInfo> {
    const { stream, durable } = settings;
    const existing = await jsm.consumers.info(stream, durable).catch((err: Error) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (existing) {
      const filters = existing.config.filter_subjects ?? (existing.config.filter_subject ? [existing.config.filter_subject] : []);
      if (settings.subjects.length && filters.join(',') !== settings.subjects.join(',')) {
        log.warn({ consumer: durable, filters, configured: settings.subjects }, 'the durable consumer exists with other filter subjects than consume.subjects; it is used as it is');
      }
      if (existing.config.ack_policy !== AckPolicy.Explicit) throw new Error(`the consumer "${durable}" of stream "${stream}" does not use explicit acks: delete it or name another (consume.durable)`);
      return existing;
    }
    if (!settings.createConsumer) throw new Error(`no consumer "${durable}" on stream "${stream}" (consume.durable), and consume.createConsumer is off: create it`);
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(settings.ackWaitMs),
      max_ack_pending: settings.maxAckPending,
      ...(settings.subjects.length === 1 && { filter_subject: settings.subjects[0] }),
      ...(settings.subjects.length > 1 && { filter_subjects: settings.subjects }),
    };
    try {
      const created = await jsm.consumers.add(stream, config);
      log.info({ stream, consumer: durable, ackWaitMs: settings.ackWaitMs, maxAckPending: settings.maxAckPending, filters: settings.subjects }, 'durable consumer created');
      return created;
    } catch (err) {
      // Another worker created it at the same moment.
      const raced = await jsm.consumers.info(stream, durable).catch(() => undefined);
      if (raced) return raced;
      throw err;
    }
  }

  /** Whether the connection is up (readiness). */
  get ready(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  private async watchStatus(): Promise<void> {
    const { log } = this.options;
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        log.warn({ server: redactServer(String(s.data)) }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        log.info({ server: redactServer(String(s.data)) }, 'NATS connection restored');
      } else if (s.type === 'error') {
        log.error({ err: s.data }, 'NATS connection error');
      }
    }
  }

  /**
   * Pulls, classifies, publishes and acknowledges until stop(). A failed pull request (connection
   * down, consumer deleted) is retried with back-off; messages it had brought and not
   * acknowledged come back through redelivery.
   */
  async run(): Promise<void> {
    const { settings, log } = this.options;
    let failures = 0;
    while (!this.stopping) {
      try {
        const messages = await this.consumer.fetch({ max_messages: settings.batchSize, expires: settings.fetchExpiresMs });
        for await (const batch of gather(messages, settings.batchSize)) await this.handle(batch);
        failures = 0;
      } catch (err) {
        if (this.nc.isClosed()) break;
        failures++;
        const wait = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 10));
        log.warn({ err, retryInMs: wait }, 'pull request failed');
        await this.pause(wait);
      }
    }
  }

  /** One batch: classify, publish each output, then acknowledge each input whose output was stored. */
  private async handle(batch: readonly JsMsg[]): Promise<void> {
    const { settings, limits, log, observer } = this.options;
    const started = performance.now();
    const redelivered = batch.reduce((n, m) => n + (m.redelivered ? 1 : 0), 0);
    const rows: JsonRow[] = batch.map((m) => messageRow(m, { maxColumns: limits.maxColumns, messageField: settings.field, defaultSource: settings.source }));
    // Keep the batch ours while it is worked on (an LLM stage can take long).
    const keepAlive = setInterval(() => batch.forEach((m) => m.working()), Math.max(500, Math.floor(this.ackWaitMs / 3)));
    try {
      const out: OutputRow<JsonRow['cells']>[] = [];
      for await (const part of runRows(once(rows), this.options.pipeline, { batchSize: rows.length, maxMessageChars: limits.maxMessageChars, observer })) out.push(...part);
      if (out.length !== batch.length) throw new Error(`internal error: ${batch.length} messages gave ${out.length} output rows`);

      const results = await Promise.allSettled(
        out.map((row, i) => {
          const msg = batch[i];
          const h = headers();
          h.set('Logsift-Stream', settings.stream);
          h.set('Logsift-Seq', String(msg.seq));
          h.set('Logsift-Subject', msg.subject);
          return this.js.publish(outputSubject(settings.output, msg.subject, row.decision), encoder.encode(labelledObject(row)), {
            msgID: outputMsgId(settings.stream, msg),
            headers: h,
            timeout: settings.publishTimeoutMs,
          });
        }),
      );
      let stored = 0;
      let duplicates = 0;
      let failed = 0;
      let firstFailure: unknown;
      results.forEach((r: PromiseSettledResult<PubAck>, i) => {
        if (r.status === 'fulfilled') {
          // The output is stored (or was already): only now is the input done with.
          batch[i].ack();
          stored++;
          if (r.value.duplicate) duplicates++;
        } else {
          batch[i].nak(RETRY_DELAY_MS);
          failed++;
          firstFailure ??= r.reason;
        }
      });
      const errors = out.reduce((n, row) => n + (row.decision.stage === 'error' ? 1 : 0), 0);
      const s = this.stats;
      s.batches++;
      s.messages += batch.length;
      s.redelivered += redelivered;
      s.published += stored;
      s.duplicates += duplicates;
      s.errors += errors;
      s.publishFailures += failed;
      const seconds = (performance.now() - started) / 1000;
      observer?.consumeBatch?.(batch.length, redelivered, seconds);
      observer?.consumePublished?.(stored, duplicates);
      if (failed) {
        observer?.consumePublishFailed?.(failed);
        log.error({ err: firstFailure, failed, of: batch.length, retryInMs: RETRY_DELAY_MS }, 'publishing labelled records failed; those messages were not acknowledged and will be redelivered');
        // Whatever broke (no output stream, a timeout) is not fixed by asking again at once.
        if (failed === batch.length) await this.pause(RETRY_DELAY_MS);
      }
      log.debug({ messages: batch.length, redelivered, duplicates, errors, ms: Math.round(seconds * 1000) }, 'batch');
    } finally {
      clearInterval(keepAlive);
    }
  }

  private get ackWaitMs(): number {
    return this.consumerInfo.config.ack_wait ? millis(this.consumerInfo.config.ack_wait) : this.options.settings.ackWaitMs;
  }

  /** Waits `ms`, or less when stop() is called. */
  private pause(ms: number): Promise<void> {
    const { signal } = this.wake;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** No new pull request; run() returns once the one in flight has ended and its messages are handled. */
  stop(): void {
    this.stopping = true;
    this.wake.abort();
  }

  /** Sends what is buffered (the last acks) and closes the connection. */
  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
