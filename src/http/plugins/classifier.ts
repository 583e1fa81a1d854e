/**
 * The loaded pipeline, and how it is replaced at run time — in one place (fastify-plugin):
 * per-request leases, the one reload (used by POST /admin/reload and by SIGHUP), and closing.
 *
 * Each request leases the pipeline it started with; a reload builds and checks the new
 * pipeline first, then swaps it in atomically (one assignment). The old one is closed only
 * once every request that leased it has finished. A reload that fails leaves the old pipeline
 * in place and says why: RELOAD_INVALID (422) when a file it read is invalid (every such error
 * has status 422, src/errors.ts), RELOAD_FAILED (500) otherwise.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { isInvalidFile, ReloadFailed, ReloadInvalid } from '../../errors.js';
import type { BuiltPipeline, PipelineInfo } from '../../pipeline/build.js';
import { withPublicPaths } from '../public-paths.js';
import type { ServiceObserver } from './metrics.js';

export interface ReloadResult {
  readonly generation: number;
  readonly previous?: PipelineInfo;
  readonly current: PipelineInfo;
  readonly ms: number;
}

export interface Lease {
  readonly built: BuiltPipeline;
  release(): void;
}

export class Classifier {
  /** Set when the first load failed (readiness reports it). */
  failure?: string;
  /** Increments on every successful swap. */
  generation = 0;
  private built?: BuiltPipeline;
  private readonly leases = new Map<BuiltPipeline, number>();
  private readonly drained = new Map<BuiltPipeline, () => void>();
  private reloading?: Promise<ReloadResult>;

  constructor(
    /** Builds a pipeline from the configured files. */
    private readonly build: () => Promise<BuiltPipeline>,
    private readonly observer: ServiceObserver = {},
    initial?: BuiltPipeline,
  ) {
    this.built = initial;
  }

  get current(): BuiltPipeline | undefined {
    return this.built;
  }

  /** Installs a pipeline (start-up). A pipeline it replaces is closed once its requests finish. */
  set current(next: BuiltPipeline | undefined) {
    const previous = this.built;
    this.built = next;
    if (next) this.generation++;
    if (previous && previous !== next) void this.retire(previous);
  }

  /** Builds the pipeline from the files and installs it (start-up); a failure is kept for /readyz and rethrown. */
  async load(): Promise<BuiltPipeline> {
    try {
      const built = await this.build();
      this.current = built;
      this.failure = undefined;
      return built;
    } catch (err) {
      this.failure = (err as Error).message;
      throw err;
    }
  }

  /** The current pipeline for one request; release() when the response has finished. */
  acquire(): Lease | undefined {
    const built = this.built;
    if (!built) return undefined;
    this.leases.set(built, (this.leases.get(built) ?? 0) + 1);
    let released = false;
    return {
      built,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.leases.get(built) ?? 1) - 1;
        if (n > 0) this.leases.set(built, n);
        else {
          this.leases.delete(built);
          this.drained.get(built)?.();
        }
      },
    };
  }

  /** Requests currently holding a pipeline, for metrics and tests. */
  get inFlight(): number {
    let n = 0;
    for (const v of this.leases.values()) n += v;
    return n;
  }

  /**
   * Builds a new pipeline, checks it on a probe line, then swaps it in. Concurrent calls share
   * one reload. Logs the outcome, counts it, and throws RELOAD_INVALID / RELOAD_FAILED (the old
   * pipeline stays) when building or checking fails.
   */
  reload(log?: FastifyBaseLogger): Promise<ReloadResult> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading.then(
      (result) => {
        log?.info({ reload: { generation: result.generation, ms: result.ms, head: result.current.head.path, rules: result.current.rules } }, 'pipeline reloaded');
        return result;
      },
      (err: Error) => {
        log?.error({ reloadError: err.message }, 'pipeline reload failed');
        throw err;
      },
    );
  }

  private async doReload(): Promise<ReloadResult> {
    const started = performance.now();
    let next: BuiltPipeline | undefined;
    try {
      next = await this.build();
      await selfTest(next);
    } catch (err) {
      if (next) void next.pipeline.close().catch(() => undefined);
      this.observer.reload?.('failed');
      const message = withPublicPaths(`reload failed, the previous pipeline stays in service: ${(err as Error)?.message ?? String(err)}`);
      throw isInvalidFile(err) ? new ReloadInvalid(message) : new ReloadFailed(message);
    }
    const previous = this.built?.info;
    this.current = next;
    this.observer.reload?.('ok');
    return { generation: this.generation, previous, current: next.info, ms: Math.round(performance.now() - started) };
  }

  /** Waits for the pipeline's requests to finish, then closes it. */
  private async retire(old: BuiltPipeline): Promise<void> {
    if (this.leases.get(old)) await new Promise<void>((resolve) => this.drained.set(old, resolve));
    this.drained.delete(old);
    await old.pipeline.close().catch(() => undefined);
  }

  /** Closes the current pipeline once its in-flight requests are done (shutdown). */
  async close(): Promise<void> {
    const built = this.built;
    this.built = undefined;
    if (built) await this.retire(built);
  }
}

/** Runs the local stages (not the LLM: no network call on reload) on one line; they must answer sanely. */
async function selfTest(built: BuiltPipeline): Promise<void> {
  const probe = [{ source: 'logsift-reload', message: 'User 12345 logged in.' }];
  const known = new Set([...built.info.labels, built.info.unclassifiedLabel]);
  for (const stage of built.pipeline.stages) {
    if (stage.name === 'llm') continue;
    const [verdict] = await built.pipeline.stageVerdicts(stage.name, probe);
    if (verdict && (!known.has(verdict.label) || !(verdict.confidence >= 0 && verdict.confidence <= 1))) {
      throw new ReloadInvalid(`self-test: the ${stage.name} stage answered ${JSON.stringify(verdict)}`);
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    classifier: Classifier;
  }
}

export interface ClassifierPluginOptions {
  /** Builds a pipeline from the configured files (with the server's metrics observer). */
  readonly build: () => Promise<BuiltPipeline>;
  readonly observer?: ServiceObserver;
  /** A pipeline already loaded (tests share one between servers): it stays the caller's to close. */
  readonly initial?: BuiltPipeline;
  /** Reload on SIGHUP (the served process; tests leave it off). */
  readonly reloadOnSighup?: boolean;
}

async function classifier(app: FastifyInstance, options: ClassifierPluginOptions): Promise<void> {
  const holder = new Classifier(options.build, options.observer, options.initial);
  app.decorate('classifier', holder);

  if (options.reloadOnSighup) {
    const onSighup = () => {
      app.log.info('SIGHUP: reloading regex rules and model head');
      holder.reload(app.log).catch(() => undefined);
    };
    process.on('SIGHUP', onSighup);
    app.addHook('onClose', async () => {
      process.off('SIGHUP', onSighup);
    });
  }
  // Pipelines this plugin built are closed with the server, after the last request on them.
  app.addHook('onClose', async () => {
    if (holder.current && holder.current !== options.initial) await holder.close();
  });
}

export const classifierPlugin = fp(classifier, { name: 'logsift-classifier' });
