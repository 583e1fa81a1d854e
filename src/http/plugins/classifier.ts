/**
 * The loaded pipeline, and how it is replaced at run time (SIGHUP, POST /admin/reload).
 *
 * Each request leases the pipeline it started with; a reload builds and checks the new
 * pipeline first, then swaps it in atomically (one assignment). The old one is closed only
 * once every request that leased it has finished. A reload that fails leaves the old pipeline
 * in place and says why.
 */
import { HeadError } from '../../models/head.js';
import { LabelDefinitionsError } from '../../stages/label-definitions.js';
import { MaskRuleError } from '../../lines/masking.js';
import { RuleError } from '../../stages/regex.js';
import type { BuiltPipeline, PipelineInfo } from '../../pipeline/build.js';

export class ReloadError extends Error {
  constructor(
    /** 422: the new rules or head are invalid; 500: anything else (a bug, I/O). */
    readonly statusCode: 422 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'ReloadError';
  }
}

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

/** Errors that mean "the files on disk are wrong", not "the service is broken". */
function isValidationError(err: unknown): boolean {
  if (err instanceof RuleError || err instanceof MaskRuleError || err instanceof LabelDefinitionsError || err instanceof HeadError || err instanceof ReloadError) return true;
  const name = (err as Error)?.name ?? '';
  return name === 'ZodError' || /Embedder|Head|Rule/.test(name) || /fingerprint|retrain|not a valid|not valid JSON|not found/i.test((err as Error)?.message ?? '');
}

export class Classifier {
  /** Set when the first load failed (readiness reports it). */
  failure?: string;
  /** Increments on every successful swap. */
  generation = 0;
  readonly reloads = { ok: 0, failed: 0 };
  private built?: BuiltPipeline;
  private readonly leases = new Map<BuiltPipeline, number>();
  private readonly drained = new Map<BuiltPipeline, () => void>();
  private reloading?: Promise<ReloadResult>;

  constructor(initial?: BuiltPipeline) {
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
   * one reload. Throws ReloadError (the old pipeline stays) when building or checking fails.
   */
  reload(build: () => Promise<BuiltPipeline>): Promise<ReloadResult> {
    this.reloading ??= this.doReload(build).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(build: () => Promise<BuiltPipeline>): Promise<ReloadResult> {
    const started = performance.now();
    let next: BuiltPipeline;
    try {
      next = await build();
      await selfTest(next);
    } catch (err) {
      this.reloads.failed++;
      const message = (err as Error)?.message ?? String(err);
      throw new ReloadError(isValidationError(err) ? 422 : 500, `reload failed, the previous pipeline stays in service: ${message}`);
    }
    const previous = this.built?.info;
    this.current = next;
    this.reloads.ok++;
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
      throw new ReloadError(422, `self-test: the ${stage.name} stage answered ${JSON.stringify(verdict)}`);
    }
  }
}
