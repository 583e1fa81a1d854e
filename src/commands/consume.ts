import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { consumeMetrics, startHealthServer } from '../consume/health.js';
import { redactServer, StreamWorker } from '../consume/worker.js';
import { buildPipeline } from '../pipeline/build.js';

export const CONSUME_USAGE = `usage: logsift consume

  Reads log records from a NATS JetStream stream through a durable pull consumer (shared by every
  worker with the same consume.durable, on any machine), labels them in batches and publishes each
  to consume.output, acknowledging the input once the output is stored. Configuration as for
  serve (LOGSIFT_CONFIG, environment): LOGSIFT_NATS_URL, LOGSIFT_NATS_STREAM, LOGSIFT_NATS_DURABLE,
  LOGSIFT_NATS_OUTPUT, … (README: Stream consumer). Answers /healthz, /readyz and /metrics on
  HOST:PORT. SIGTERM/SIGINT: the batch in flight is finished and acknowledged, then exit 0.`;

/** Totals are logged this often while there is traffic. */
const PROGRESS_EVERY_MS = 30_000;

export async function consumeCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log(CONSUME_USAGE);
    return 0;
  }
  const settings = config.consume;
  const log = pino({ level: config.server.logLevel, base: { component: 'consume' } });
  const { registry, observer } = consumeMetrics();
  let worker: StreamWorker | undefined;
  const health = await startHealthServer({
    host: config.server.host,
    port: config.server.port,
    registry: config.metrics.enabled ? registry : undefined,
    metricsKeys: config.auth.protectMetrics ? [...config.auth.apiKeys, ...config.auth.adminKeys] : [],
    notReady: () => (!worker ? 'starting: loading the pipeline and connecting to NATS' : worker.ready ? undefined : 'NATS connection lost; reconnecting'),
  });
  log.info({ address: `${config.server.host}:${health.port}` }, 'health and metrics listening (/healthz, /readyz, /metrics)');

  let built;
  try {
    built = await buildPipeline(config, { observer });
  } catch (err) {
    log.fatal(`start-up failed: ${(err as Error).message}`);
    await health.close();
    return 1;
  }
  try {
    worker = await StreamWorker.start({
      settings,
      limits: { maxColumns: config.server.maxColumns, maxMessageChars: config.server.maxMessageChars },
      pipeline: built.pipeline,
      log,
      observer,
      creds: settings.credsFile ? readFileSync(resolvePath(settings.credsFile)) : undefined,
    });
  } catch (err) {
    log.fatal(`start-up failed: ${(err as Error).message}`);
    await built.pipeline.close();
    await health.close();
    return 1;
  }
  const running = worker;
  const ackWait = running.consumerInfo.config.ack_wait;
  log.info(
    {
      servers: settings.servers.map(redactServer),
      stream: settings.stream,
      consumer: settings.durable,
      ackWaitMs: ackWait ? Math.round(ackWait / 1e6) : undefined,
      output: settings.output,
      batchSize: settings.batchSize,
      pipeline: { embedder: built.info.embedder.kind, rules: built.info.rules, llm: built.info.llm },
    },
    'consuming',
  );

  let reported = 0;
  const progress = setInterval(() => {
    if (running.stats.messages === reported) return;
    reported = running.stats.messages;
    log.info({ stats: running.stats }, 'progress');
  }, PROGRESS_EVERY_MS).unref();

  // SIGTERM/SIGINT: stop pulling, finish the batch in flight; a second signal, or
  // server.shutdownTimeoutMs, ends the process with 1 (unacknowledged messages are redelivered).
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now; unacknowledged messages will be redelivered`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping (no new pull requests; the batch in flight is finished and acknowledged)`);
    running.stop();
    setTimeout(() => {
      log.error(`still stopping after ${config.server.shutdownTimeoutMs} ms (server.shutdownTimeoutMs): exiting; unacknowledged messages will be redelivered`);
      process.exit(1);
    }, config.server.shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let lost = false;
  try {
    await running.run();
    // run() returns without stop() only when the connection closed for good (it reconnects forever otherwise).
    lost = !stopping;
  } finally {
    clearInterval(progress);
    await running.close().catch((err: unknown) => log.error({ err }, 'closing the NATS connection failed'));
    await built.pipeline.close();
    await health.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (lost) {
    log.error({ stats: running.stats }, 'the NATS connection closed; stopped (unacknowledged messages will be redelivered)');
    return 1;
  }
  log.info({ stats: running.stats }, 'stopped');
  return 0;
}
