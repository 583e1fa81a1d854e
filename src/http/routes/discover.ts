/**
 * POST /discover: the upload (as /classify takes it: a multipart form, a text/csv body, JSON or
 * NDJSON, any Content-Encoding, the same limits) mined into templates, grouped into families and
 * labelled, with regex rules suggested (src/discovery/). Answers JSON once the whole upload is read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DISCOVER_DEFAULTS, discover, type DiscoverCells, type DiscoverOptions } from '../../discovery/discover.js';
import { NotReady, QueryInvalid } from '../../errors.js';
import type { InputRow } from '../../pipeline/run.js';
import { discoverSchema } from './schemas.js';

export interface DiscoverRouteOptions {
  readonly batchSize: number;
  readonly maxRows?: number;
  readonly maxMessageChars?: number;
  readonly maxTemplates?: number;
  /** The upload's rows (the classify route's readers), their cells the message and ground truth. */
  readonly rows: (request: FastifyRequest, cut: AbortController) => Promise<AsyncIterable<readonly InputRow<DiscoverCells>[]>>;
}

const one = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);
const QUERY = z.object({
  eps: z.coerce.number().min(0).max(2).default(DISCOVER_DEFAULTS.eps),
  min_samples: z.coerce.number().int().min(1).default(DISCOVER_DEFAULTS.minSamples),
  min_lines: z.coerce.number().int().min(1).default(DISCOVER_DEFAULTS.minLines),
  min_confidence: z.coerce.number().min(0).max(1).default(DISCOVER_DEFAULTS.minConfidence),
});

/** `?eps=&min_samples=&min_lines=&min_confidence=`: checked here (the route's validator is off: its body is a stream). */
function discoverQuery(query: unknown): DiscoverOptions {
  const q = (query ?? {}) as Record<string, unknown>;
  const raw = Object.fromEntries(Object.keys(QUERY.shape).filter((k) => q[k] !== undefined && q[k] !== '').map((k) => [k, one(q[k])]));
  const parsed = QUERY.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueryInvalid(`?${issue.path.join('.')}=: ${issue.message}`);
  }
  const { eps, min_samples, min_lines, min_confidence } = parsed.data;
  return { eps, minSamples: min_samples, minLines: min_lines, minConfidence: min_confidence };
}

export async function discoverRoute(app: FastifyInstance, opts: DiscoverRouteOptions): Promise<void> {
  app.post('/discover', {
    schema: discoverSchema,
    validatorCompiler: () => () => true,
    config: { auth: 'api' },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const options = discoverQuery(request.query);
    const lease = app.classifier.acquire();
    if (!lease) {
      reply.header('retry-after', '5');
      throw new NotReady('models are still loading');
    }
    try {
      const cut = new AbortController();
      request.onConnectionFault((fault) => cut.abort(fault));
      const rows = await opts.rows(request, cut);
      const { built } = lease;
      const result = await discover(rows, built.pipeline, built.embedder, opts, options);
      // The upload broke off (size limit, timeout, a second file): nothing has been answered yet.
      if (cut.signal.aborted) throw cut.signal.reason as Error;
      return reply.type('application/json; charset=utf-8').send({
        settings: { eps: options.eps, min_samples: options.minSamples, min_lines: options.minLines, min_confidence: options.minConfidence, embedder: built.info.embedder.kind },
        summary: {
          rows: result.rows,
          unreadable: result.unreadable,
          templates: result.templates.length,
          families: result.clusters,
          noise_templates: result.noise,
          rules: result.rules.length,
          rejected: result.rejected.length,
          ...(result.cut !== undefined && { cut: result.cut }),
        },
        coverage: {
          lines: result.coverage.lines,
          covered: result.coverage.covered,
          share: round(result.coverage.share),
          agree_model: result.coverage.agreeModel,
          ...(result.coverage.agreeTruth !== undefined && { agree_truth: result.coverage.agreeTruth, truth_lines: result.coverage.truthLines }),
        },
        templates: result.templates.map((t) => ({ id: t.id, template: t.template, count: t.count, label: t.label, stage: t.stage, confidence: round(t.confidence), family: t.family, example: t.example })),
        families: result.families.map((f) => ({ family: f.family, templates: f.templates, lines: f.lines, representative_id: f.representativeId, representative: f.representative, labels: f.labels })),
        rules: result.rules,
        rejected: result.rejected,
      });
    } finally {
      lease.release();
    }
  });
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
