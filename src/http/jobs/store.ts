/**
 * A job's files under `<data.dir>/jobs/<id>/`: `job.json` (its state), `input` (the upload as it
 * was spooled: UTF-8 text, or the .xlsx file), `output` (the labelled answer, once done; written
 * as `output.part` and renamed). The state is one small JSON file per job, replaced atomically
 * (written to a temporary file, then renamed over the old one: a crash leaves the old state or
 * the new, never half of one), so a restart finds every job as it last was.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputFormat, OutputFormat, ReadQuery } from '../labelled.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRecord {
  readonly id: string;
  status: JobStatus;
  /** The key that created it (`key_…`): only that key (or an admin key) sees it. */
  readonly owner?: string;
  readonly format: InputFormat;
  readonly answer: OutputFormat;
  readonly query: ReadQuery;
  readonly filename?: string;
  /** Bytes spooled (after Content-Encoding and charset decoding). */
  readonly inputBytes: number;
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Runs started: 2 or more when a restart interrupted it and it was resumed from its input. */
  attempts: number;
  rows: number;
  labels: Record<string, number>;
  stages: Record<string, number>;
  error?: { code: string; message: string };
  /** What happened to it besides its status (e.g. resumed after a restart). */
  note?: string;
}

export class JobFiles {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }
  input(id: string): string {
    return join(this.root, id, 'input');
  }
  output(id: string): string {
    return join(this.root, id, 'output');
  }

  async create(id: string): Promise<void> {
    await mkdir(this.dir(id), { recursive: true });
  }

  /** Writes the state: temp file + rename. */
  async save(record: JobRecord): Promise<void> {
    const path = join(this.dir(record.id), 'job.json');
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, `${JSON.stringify(record)}\n`);
    await rename(temp, path);
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Every job folder: its record, or undefined where there is none (an upload that was never acknowledged). */
  async list(): Promise<{ id: string; record?: JobRecord; unreadable?: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: { id: string; record?: JobRecord; unreadable?: string }[] = [];
    for (const id of names) {
      if (!/^[0-9a-f-]{36}$/.test(id)) continue;
      try {
        out.push({ id, record: JSON.parse(await readFile(join(this.dir(id), 'job.json'), 'utf8')) as JobRecord });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        out.push(e.code === 'ENOENT' ? { id } : { id, unreadable: e.message });
      }
    }
    return out;
  }
}
