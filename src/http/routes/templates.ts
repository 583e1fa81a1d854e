/**
 * /templates: the template store over HTTP (src/templates/). Reading needs what /classify needs
 * (an API key when keys are configured); setting or removing a label needs an admin key once any
 * key is configured (`admin-if-keys`, plugins/auth.ts). Every request first flushes the counts
 * gathered in memory, so an answer includes every line classified before it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BodyInvalid, LabelUnknown, NotReady, QueryInvalid, TemplateNotFound } from '../../errors.js';
import { examplesCsv, rulesFor } from '../../templates/export.js';
import type { StoredTemplate, TemplateQuery } from '../../templates/store.js';
import type { StoreTracker } from '../../templates/tracker.js';
import { deleteTemplateLabelSchema, exportTemplatesSchema, getTemplateSchema, listTemplatesSchema, putTemplateLabelSchema } from './schemas.js';

interface ListQuery {
  label?: string;
  stage?: string;
  source?: string;
  text?: string;
  since?: string;
  sort: 'count' | 'recent';
  limit: number;
  cursor?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A stored template as the API shows it. */
export function templateJson(t: StoredTemplate): Record<string, unknown> {
  return {
    id: t.id,
    template: t.text,
    count: t.count,
    first_seen: iso(t.firstSeen),
    last_seen: iso(t.lastSeen),
    sources: t.sources,
    example: { source: t.example.source, log_message: t.example.message },
    label: t.override?.label ?? t.decided?.label ?? null,
    label_stage: t.override ? 'override' : (t.decided?.stage ?? null),
    confidence: t.override ? 1 : (t.decided?.confidence ?? null),
    override: t.override ? { label: t.override.label, by: t.override.by, at: iso(t.override.at) } : null,
    decided: t.decided ? { label: t.decided.label, label_stage: t.decided.stage, confidence: t.decided.confidence } : null,
  };
}

function encodeCursor(c: { value: number; id: string }): string {
  return Buffer.from(JSON.stringify([c.value, c.id])).toString('base64url');
}

function decodeCursor(raw: string): { value: number; id: string } {
  try {
    const [value, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof value === 'number' && Number.isFinite(value) && typeof id === 'string') return { value, id };
  } catch {
    // answered below
  }
  throw new QueryInvalid('cursor is not one this service handed out: pass next_cursor of the previous page as it is');
}

function parseSince(raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new QueryInvalid(`since must be an ISO 8601 time or milliseconds since the epoch, not "${raw.slice(0, 40)}"`);
  return ms;
}

/** Query validation failures (Fastify's) as this service's QUERY_INVALID / BODY_INVALID. */
function rejectInvalid(request: FastifyRequest, kind: 'query' | 'body'): void {
  const err = request.validationError;
  if (!err) return;
  const message = `${kind === 'query' ? 'query' : 'body'}: ${err.message}`;
  throw kind === 'query' ? new QueryInvalid(message) : new BodyInvalid(message);
}

export async function templateRoutes(app: FastifyInstance): Promise<void> {
  const holder = app.templates;
  if (!holder) return;
  const { store, tracker }: { store: typeof holder.store; tracker: StoreTracker } = holder;

  const found = (id: string): StoredTemplate => {
    tracker.flush();
    const t = store.get(id);
    if (!t) throw new TemplateNotFound(`no template ${id.slice(0, 40)} in the store (GET /templates lists them; a template that generalised has a new id)`);
    return t;
  };

  app.get('/templates', { schema: listTemplatesSchema, attachValidation: true, config: { auth: 'api' } }, async (request) => {
    rejectInvalid(request, 'query');
    const q = request.query as ListQuery;
    const query: TemplateQuery = {
      label: q.label,
      stage: q.stage,
      source: q.source,
      text: q.text,
      since: q.since === undefined ? undefined : parseSince(q.since),
      sort: q.sort,
      limit: q.limit,
      cursor: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
    };
    tracker.flush();
    const page = store.list(query);
    return { templates: page.templates.map(templateJson), next_cursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get('/templates/export', { schema: exportTemplatesSchema, attachValidation: true, config: { auth: 'api' } }, async (request, reply) => {
    rejectInvalid(request, 'query');
    const { format } = request.query as { format: 'rules' | 'csv' };
    tracker.flush();
    const labelled = store.overridden();
    if (format === 'rules') return reply.type('application/json; charset=utf-8').send(JSON.stringify(rulesFor(labelled), null, 2) + '\n');
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="template-labels.csv"').send(examplesCsv(labelled));
  });

  app.get('/templates/:id', { schema: getTemplateSchema, config: { auth: 'api' } }, async (request) => templateJson(found((request.params as { id: string }).id)));

  app.put('/templates/:id', { schema: putTemplateLabelSchema, attachValidation: true, config: { auth: 'admin-if-keys' } }, async (request) => {
    rejectInvalid(request, 'body');
    const { id } = request.params as { id: string };
    const { label } = request.body as { label: string };
    const info = app.classifier.current?.info;
    if (!info) throw new NotReady('models are still loading: the known labels are not read yet');
    const known = [...info.labels, info.unclassifiedLabel];
    if (!known.includes(label)) throw new LabelUnknown(`"${label.slice(0, 80)}" is not a known label: one of ${known.join(', ')}`);
    found(id);
    tracker.setOverride(id, { label, by: request.principal ?? 'anonymous' });
    request.log.info({ template: id, override: label, by: request.principal ?? 'anonymous' }, 'template label set');
    return templateJson(found(id));
  });

  app.delete('/templates/:id/label', { schema: deleteTemplateLabelSchema, config: { auth: 'admin-if-keys' } }, async (request) => {
    const { id } = request.params as { id: string };
    const before = found(id);
    tracker.setOverride(id, null);
    if (before.override) request.log.info({ template: id, override: null, by: request.principal ?? 'anonymous' }, 'template label removed');
    return templateJson(found(id));
  });
}
