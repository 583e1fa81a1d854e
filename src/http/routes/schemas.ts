/**
 * The JSON schemas of the routes. @fastify/swagger (dynamic mode, http/plugins/docs.ts) builds the
 * OpenAPI document from them, so it lists every route, its body types and every error status
 * (from the error table, http/errors.ts). /classify's body is a CSV stream that no JSON schema can
 * validate: its body schema documents, and the route does not validate it.
 */
import type { FastifySchema } from 'fastify';
import { EXPLAIN_COLUMNS, OUTPUT_COLUMNS } from '../../csv/writer.js';
import { errorResponses } from '../errors.js';

export const classifySchema: FastifySchema = {
  summary: 'Label every row of a CSV of log lines',
  tags: ['classify'],
  description:
    'Required columns: `source` and `log_message` (or `message`). Every input column is passed ' +
    `through in order, then \`${OUTPUT_COLUMNS.join('`, `')}\` are appended. The output has exactly one ` +
    'row per input row, in input order, and is streamed as it is computed. A row that cannot be read ' +
    '(wrong field count, broken quoting) comes back with `label_stage` = `error` and the reason in ' +
    '`target_label`; so does a record over server.maxRecordBytes or server.maxColumns (a header over them is a 400). ' +
    "Cells starting with = + - @ tab CR, header cells included, are prefixed with ' (CSV formula injection). " +
    'A raw body is read in the encoding of its `charset` parameter (UTF-8 without one; a UTF-16 byte-order mark wins); ' +
    'a multipart file as UTF-8. If the upload breaks off once the answer has started (size limit, timeout, a second file), ' +
    'the last row is an `error` row saying why. ' +
    `With \`?explain=true\`, \`${EXPLAIN_COLUMNS.join('`, `')}\` follow: the template the row's message (its header split off) ` +
    'belongs to, as mined from this upload (`<*>` for the variable parts; the id is a hash of the text), and the id of the regex rule that decided (empty for any other stage).',
  querystring: {
    type: 'object',
    properties: {
      explain: {
        type: 'boolean',
        default: false,
        description:
          `Append \`${EXPLAIN_COLUMNS.join('`, `')}\` to every row: the mined template's id (16 hex digits, a hash of the template text, ` +
          'so the same text has the same id in every request) and text, and the deciding regex rule. Templates are mined from this ' +
          "request's lines only; a template's first lines may carry the id of a more specific text it later generalised from. " +
          'true or 1, false or 0 (default); any other value: 400 QUERY_INVALID.',
      },
    },
  },
  body: {
    content: {
      'multipart/form-data': {
        schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
      },
      'text/csv': {
        schema: {
          type: 'string',
          description: 'UTF-8, or any charset TextDecoder knows named in a charset parameter (utf-16le, iso-8859-1, windows-1252, shift_jis, …); others: 415 UNSUPPORTED_CHARSET',
          example: 'source,log_message\nBillingSystem,User 12345 logged in.\n',
        },
      },
    },
  },
  response: {
    200: {
      description: 'The labelled CSV, streamed.',
      content: {
        'text/csv': {
          schema: {
            type: 'string',
            example: 'source,log_message,target_label,label_stage,confidence\nBillingSystem,User 12345 logged in.,User Action,regex,1\n',
          },
          examples: {
            plain: { value: 'source,log_message,target_label,label_stage,confidence\nBillingSystem,User 12345 logged in.,User Action,regex,1\n' },
            explained: {
              summary: 'with ?explain=true',
              value:
                'source,log_message,target_label,label_stage,confidence,template_id,template,rule\n' +
                'BillingSystem,User 12345 logged in.,User Action,regex,1,3f3a255b79d7385b,User <*> logged in.,user-login\n',
            },
          },
        },
      },
    },
    ...errorResponses('POST /classify'),
  },
};

export const reloadSchema: FastifySchema = {
  summary: 'Re-read the regex rules, mask rules, header patterns, label definitions and the model head, check them, swap them in (admin key)',
  tags: ['operations'],
  description: 'Needs `Authorization: Bearer <admin key>`. Requests already running finish on the pipeline they started with.',
  security: [{ bearer: [] }],
  response: {
    200: {
      description: 'Reloaded: the generation and what is now loaded.',
      type: 'object',
      additionalProperties: true,
      properties: { status: { type: 'string', enum: ['reloaded'] }, generation: { type: 'integer' }, ms: { type: 'integer' } },
    },
    ...errorResponses('POST /admin/reload'),
  },
};

export const healthzSchema: FastifySchema = {
  summary: 'Liveness: the process answers',
  tags: ['operations'],
  response: { 200: { description: 'alive', type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
};

export const readyzSchema: FastifySchema = {
  summary: 'Readiness: models loaded, /classify can answer',
  tags: ['operations'],
  response: {
    200: { description: 'ready, with what was loaded', type: 'object', additionalProperties: true, properties: { status: { type: 'string', enum: ['ready'] } } },
    503: {
      description: 'still loading (`status` loading), the first load failed (`status` failed, the reason in `error`), or `OVERLOADED` (load shed: the error body)',
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['loading', 'failed'] },
        error: { type: 'string' },
        statusCode: { type: 'integer' },
        code: { type: 'string', enum: ['OVERLOADED'] },
        message: { type: 'string' },
      },
    },
  },
};

export const metricsSchema: FastifySchema = {
  summary: 'Prometheus metrics (text exposition format)',
  description: 'Needs an API key only with auth.protectMetrics (LOGSIFT_METRICS_REQUIRE_KEY) and keys configured.',
  tags: ['operations'],
  response: {
    200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } },
    ...errorResponses('GET /metrics'),
  },
};
