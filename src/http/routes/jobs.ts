/**
 * Jobs for large files: POST /jobs takes the bodies /classify takes (read by the same code,
 * http/upload.ts), spools the upload to disk as it arrives and answers 202 with the job's id and
 * a Location; the job is classified later (http/jobs/manager.ts). GET /jobs/{id} is its status,
 * GET /jobs/{id}/result its labelled file (409 until done), DELETE /jobs/{id} cancels it (a queued
 * or running job) or deletes it (an ended one).
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JobNotDone, JobNotFound } from '../../errors.js';
import type { JobManager } from '../jobs/manager.js';
import type { JobRecord } from '../jobs/store.js';
import { ANSWER_TYPES } from '../labelled.js';
import { readUpload, registerUploadParsers } from '../upload.js';
import { jobCancelSchema, jobResultSchema, jobStatusSchema, jobSubmitSchema } from './schemas.js';

export interface JobRouteOptions {
  readonly jobs: JobManager;
  readonly maxUploadBytes: number;
}

/** A job as GET /jobs/{id} shows it. */
export function jobView(record: JobRecord): Record<string, unknown> {
  const at = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const now = Date.now();
  return {
    id: record.id,
    status: record.status,
    format: record.format,
    answer: record.answer,
    ...(record.filename !== undefined && { filename: record.filename }),
    inputBytes: record.inputBytes,
    rows: record.rows,
    labels: record.labels,
    stages: record.stages,
    attempts: record.attempts,
    timings: {
      createdAt: at(record.createdAt),
      startedAt: at(record.startedAt),
      finishedAt: at(record.finishedAt),
      queuedMs: (record.startedAt ?? (record.status === 'queued' ? now : record.finishedAt ?? now)) - record.createdAt,
      runningMs: record.startedAt === undefined ? 0 : (record.finishedAt ?? now) - record.startedAt,
    },
    ...(record.error && { error: record.error }),
    ...(record.note && { note: record.note }),
    ...(record.status === 'done' && { result: `/jobs/${record.id}/result` }),
  };
}

export async function jobRoutes(app: FastifyInstance, opts: JobRouteOptions): Promise<void> {
  await registerUploadParsers(app, opts);
  const { jobs } = opts;

  const find = (request: FastifyRequest): JobRecord => {
    const { id } = request.params as { id: string };
    const record = jobs.get(id, request);
    if (!record) throw new JobNotFound(`no job ${JSON.stringify(id.slice(0, 80))}: never created, expired, deleted, or created with another key`);
    return record;
  };

  app.post('/jobs', { schema: jobSubmitSchema, validatorCompiler: () => () => true, config: { auth: 'api' } }, async (request, reply) => {
    const cut = new AbortController();
    request.onConnectionFault((fault) => cut.abort(fault));
    const upload = await readUpload(request, opts, cut);
    const record = await jobs.create(upload, cut, request.principal);
    return reply.code(202).header('location', `/jobs/${record.id}`).send(jobView(record));
  });

  app.get('/jobs/:id', { schema: jobStatusSchema, config: { auth: 'api' } }, async (request) => jobView(find(request)));

  app.get('/jobs/:id/result', { schema: jobResultSchema, config: { auth: 'api' } }, async (request, reply) => {
    const record = find(request);
    if (record.status !== 'done') {
      const why = record.status === 'failed' ? `failed: ${record.error?.message ?? ''}` : record.status === 'cancelled' ? 'was cancelled' : `is ${record.status} (${record.rows} rows so far)`;
      throw new JobNotDone(`job ${record.id} ${why}; its result is there once its status is done`);
    }
    const { type, filename } = ANSWER_TYPES[record.answer];
    return reply.type(type).header('content-disposition', `attachment; filename="${filename}"`).send(createReadStream(jobs.outputPath(record.id)));
  });

  app.delete('/jobs/:id', { schema: jobCancelSchema, config: { auth: 'api' } }, async (request, reply) => {
    const record = find(request);
    if (record.status === 'queued' || record.status === 'running') return jobView((await jobs.cancel(record.id)) ?? record);
    await jobs.delete(record.id);
    return reply.code(204).send();
  });
}
