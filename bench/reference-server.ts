/**
 * The floor a CSV service can reach on this machine: a bare Fastify server that does only the
 * unavoidable part of `POST /classify` — parse the uploaded CSV with csv-parse, append three
 * constant columns to every record, stringify with csv-stringify and stream the answer back. No
 * classification, no limits, no plugins. bench/limits.ts measures logsift against it in the
 * same run (issue 12: "≥ 0.70 of the bare server"). A JSON array body is parsed by Fastify's own
 * JSON parser, the three fields are added to every object, and the array is sent back.
 *
 *   PORT=3000 npx tsx bench/reference-server.ts
 */
import { pipeline } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import Fastify from 'fastify';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

const app = Fastify({ logger: false });
app.addContentTypeParser(['text/csv'], (_request, payload, done) => done(null, payload));
app.get('/readyz', async () => ({ ready: true }));
app.post('/classify', async (request, reply) => {
  if (Array.isArray(request.body)) {
    const out = (request.body as Record<string, unknown>[]).map((o) => ({ ...o, target_label: 'System Notification', label_stage: 'embedding', confidence: 0.9 }));
    return reply.type('application/json; charset=utf-8').send(out);
  }
  const appendColumns = new Transform({
    objectMode: true,
    transform(record: string[], _encoding, callback: TransformCallback) {
      record.push('System Notification', 'embedding', '0.9');
      callback(null, record);
    },
  });
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true });
  const out = stringify();
  pipeline(request.body as NodeJS.ReadableStream, parser, appendColumns, out, () => {});
  return reply.type('text/csv; charset=utf-8').send(out);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
