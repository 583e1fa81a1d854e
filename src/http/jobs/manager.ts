/**
 * Jobs: an upload spooled to disk, classified later with at most jobs.concurrency running at once,
 * its answer written to disk for GET /jobs/{id}/result. Jobs outlive the process: at start-up
 * every job folder is read back (http/jobs/store.ts); a job that was queued stays queued, one that
 * was running when the process stopped (a crash, a restart) is run again from its spooled input —
 * or, where that input is gone, marked failed saying so. None is dropped silently. A job that
 * has ended (done, failed, cancelled) is deleted jobs.ttlHours later (checked on access and by a
 * sweep).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyBaseLogger } from 'fastify';
import { hasStatus } from '../../errors.js';
import type { PipelineObserver } from '../../pipeline/observer.js';
import { newRunStats, type RunStats } from '../../pipeline/run.js';
import { checkInflatedSize } from '../../xlsx/reader.js';
import type { Lease } from '../plugins/classifier.js';
import { labelledStream, type LabelOptions } from '../labelled.js';
import type { Upload } from '../upload.js';
import { JobFiles, type JobRecord } from './store.js';

export interface JobManagerOptions {
  /** `<data.dir>/jobs` */
  readonly root: string;
  readonly concurrency: number;
  readonly ttlMs: number;
  readonly label: LabelOptions;
  /** The current pipeline (undefined while loading: a job waits). */
  readonly acquire: () => Lease | undefined;
  readonly log: FastifyBaseLogger;
}

interface Live {
  record: JobRecord;
  /** While running: rows out so far, by stage. */
  stats?: RunStats;
  /** Aborts the run (cancel, close). */
  stop?: AbortController;
}

const LEASE_POLL_MS = 200;

export class JobManager {
  private readonly files: JobFiles;
  private readonly jobs = new Map<string, Live>();
  private readonly queue: string[] = [];
  private running = 0;
  private closed = false;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly options: JobManagerOptions) {
    this.files = new JobFiles(options.root);
  }

  /** Reads back the jobs of an earlier process, resumes or fails the interrupted ones, starts the sweep. */
  async start(): Promise<void> {
    const found = await this.files.list();
    const resumable: JobRecord[] = [];
    for (const { id, record, unreadable } of found) {
      if (!record) {
        if (unreadable) this.options.log.warn({ job: id, err: unreadable }, 'job state unreadable; left in place');
        // No state file: an upload interrupted while it was spooled, never acknowledged (no 202).
        else await this.files.remove(id);
        continue;
      }
      this.jobs.set(id, { record });
      if (record.status === 'queued' || record.status === 'running') {
        if (!existsSync(this.files.input(id))) {
          this.fail(record, 'INPUT_LOST', `the service restarted while the job was ${record.status} and its spooled input is gone`);
          await this.save(record);
          continue;
        }
        if (record.status === 'running') {
          record.note = `interrupted by a restart after ${record.rows} rows (attempt ${record.attempts}); resumed from its spooled input`;
          record.status = 'queued';
          record.rows = 0;
          record.labels = {};
          record.stages = {};
          await this.save(record);
        }
        resumable.push(record);
      } else if (record.status === 'done' && !existsSync(this.files.output(id))) {
        this.fail(record, 'OUTPUT_LOST', 'the job had finished but its output file is gone');
        await this.save(record);
      }
    }
    for (const record of resumable.sort((a, b) => a.createdAt - b.createdAt)) this.queue.push(record.id);
    await this.sweep();
    const every = Math.max(1000, Math.min(this.options.ttlMs / 4, 10 * 60_000));
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
    this.pump();
  }

  /** Spools an upload to disk and queues it. Rejects with the upload's error (413, 400…) if it could not be read whole. */
  async create(upload: Upload, cut: AbortController, owner: string | undefined): Promise<JobRecord> {
    const id = randomUUID();
    await this.files.create(id);
    const part = `${this.files.input(id)}.part`;
    try {
      await pipeline(upload.input, createWriteStream(part));
      if (cut.signal.aborted) throw cut.signal.reason as Error;
      // A zip bomb is refused now rather than failing the job later.
      if (upload.format === 'xlsx') await checkInflatedSize(part, this.options.label.maxUploadBytes);
    } catch (err) {
      await this.files.remove(id);
      throw cut.signal.aborted ? (cut.signal.reason as Error) : err;
    }
    await rename(part, this.files.input(id));
    const record: JobRecord = {
      id,
      status: 'queued',
      owner,
      format: upload.format,
      answer: upload.answer,
      query: upload.query,
      filename: upload.filename,
      inputBytes: (await stat(this.files.input(id))).size,
      createdAt: Date.now(),
      attempts: 0,
      rows: 0,
      labels: {},
      stages: {},
    };
    this.jobs.set(id, { record });
    await this.save(record);
    this.queue.push(id);
    this.pump();
    return record;
  }

  /** The job, if it exists, has not expired and `caller` may see it. */
  get(id: string, caller: { principal?: string; isAdmin?: boolean }): JobRecord | undefined {
    const live = this.jobs.get(id);
    if (!live) return undefined;
    const { record } = live;
    if (this.expired(record)) {
      void this.delete(id);
      return undefined;
    }
    if (record.owner !== undefined && record.owner !== caller.principal && !caller.isAdmin) return undefined;
    if (live.stats) {
      record.rows = live.stats.rows;
      record.stages = { ...live.stats.byStage };
    }
    return record;
  }

  outputPath(id: string): string {
    return this.files.output(id);
  }

  /** Cancels a queued or running job (its files are deleted, its record kept until it expires). */
  async cancel(id: string): Promise<JobRecord | undefined> {
    const live = this.jobs.get(id);
    if (!live) return undefined;
    const { record } = live;
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
    record.status = 'cancelled';
    record.finishedAt = Date.now();
    if (live.stats) record.rows = live.stats.rows;
    live.stop?.abort(new Error('cancelled'));
    await this.save(record);
    await rm(this.files.input(id), { force: true });
    await rm(this.files.output(id), { force: true });
    return record;
  }

  /** Deletes a job and its files. */
  async delete(id: string): Promise<void> {
    const live = this.jobs.get(id);
    this.jobs.delete(id);
    live?.stop?.abort(new Error('deleted'));
    await this.files.remove(id);
  }

  /** Deletes every job that has expired. */
  async sweep(): Promise<void> {
    for (const [id, { record }] of this.jobs) if (this.expired(record)) await this.delete(id);
  }

  /**
   * Stops running jobs where they are: their state stays `running` on disk, resumed by the next
   * start. Nothing is waited for (a batch may be waiting on the LLM) and nothing is written after
   * this: another process may already be resuming the jobs from the same folder.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const live of this.jobs.values()) live.stop?.abort(new Error('the service is closing'));
  }

  private expired(record: JobRecord): boolean {
    return record.finishedAt !== undefined && Date.now() >= record.finishedAt + this.options.ttlMs;
  }

  private fail(record: JobRecord, code: string, message: string): void {
    record.status = 'failed';
    record.error = { code, message };
    record.finishedAt = Date.now();
  }

  private async save(record: JobRecord): Promise<void> {
    // After close, or for a job deleted meanwhile (its folder gone), nothing is written back.
    if (this.closed || !this.jobs.has(record.id)) return;
    try {
      await this.files.save(record);
    } catch (err) {
      this.options.log.error({ job: record.id, err }, 'could not save the job state');
    }
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      const live = this.jobs.get(id);
      if (!live || live.record.status !== 'queued') continue;
      this.running++;
      void this.execute(live).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /** The pipeline, once loaded (a job queued at start-up waits for it); undefined if stopped meanwhile. */
  private async lease(stop: AbortSignal): Promise<Lease | undefined> {
    for (;;) {
      if (stop.aborted) return undefined;
      const lease = this.options.acquire();
      if (lease) return lease;
      await new Promise((r) => setTimeout(r, LEASE_POLL_MS));
    }
  }

  private async execute(live: Live): Promise<void> {
    const { record } = live;
    const stop = (live.stop = new AbortController());
    const lease = await this.lease(stop.signal);
    if (!lease) return;
    const stats = (live.stats = newRunStats());
    record.status = 'running';
    record.startedAt = Date.now();
    record.attempts++;
    record.rows = 0;
    record.labels = {};
    await this.save(record);
    const labels = record.labels;
    const base = this.options.label.observer;
    const observer: PipelineObserver = {
      decision: (d, rows) => {
        if (d.stage !== 'error') labels[d.label] = (labels[d.label] ?? 0) + rows;
        base?.decision?.(d, rows);
      },
      rowLimitReached: () => base?.rowLimitReached?.(),
    };
    const cut = new AbortController();
    stop.signal.addEventListener(
      'abort',
      () => {
        cut.abort(stop.signal.reason);
        // At once, not when the run unwinds (a batch may wait on the LLM): the pipeline can close with the server.
        lease.release();
      },
      { once: true },
    );
    const part = `${this.files.output(record.id)}.part`;
    try {
      const output: Readable = await labelledStream(this.files.input(record.id), lease.built.pipeline, { ...this.options.label, observer }, {
        format: record.format,
        answer: record.answer,
        query: record.query,
        stats,
        cut,
        spoolDir: this.files.dir(record.id),
      });
      if (stop.signal.aborted) return;
      await pipeline(output, createWriteStream(part), { signal: stop.signal });
      if (stop.signal.aborted) return;
      await rename(part, this.files.output(record.id));
      record.status = 'done';
      record.finishedAt = Date.now();
    } catch (err) {
      // Cancelled or closing: cancel() has set the state, or the next start resumes it.
      if (stop.signal.aborted) return;
      const e = err as Error & { code?: string };
      this.fail(record, hasStatus(e) && e.code ? e.code : 'INTERNAL', e.message);
      await rm(part, { force: true });
    } finally {
      lease.release();
      live.stop = undefined;
      live.stats = undefined;
      if (!stop.signal.aborted || (record.status as string) === 'cancelled') {
        record.rows = stats.rows;
        record.stages = { ...stats.byStage };
      }
    }
    await this.save(record);
  }
}
