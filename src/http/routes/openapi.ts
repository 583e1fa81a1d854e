import { STATUS_CODES } from 'node:http';
import { OUTPUT_COLUMNS } from '../../csv/writer.js';
import { ERRORS, ROUTE_ERRORS } from '../../errors.js';

/**
 * The error answers of a route, one response per status, generated from the error table
 * (src/errors.ts): the body is `{statusCode, code, error, message}` with `code` one of the
 * codes that route answers with at that status, each described.
 */
export function errorResponses(route: string): Record<string, unknown> {
  const byStatus = new Map<number, typeof ERRORS>();
  for (const code of ROUTE_ERRORS[route] ?? []) {
    const spec = ERRORS.find((e) => e.code === code);
    if (!spec) throw new Error(`${route}: ${code} is not in the error table`);
    byStatus.set(spec.statusCode, [...(byStatus.get(spec.statusCode) ?? []), spec]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, specs]) => [
      String(status),
      {
        description: specs.map((s) => `\`${s.code}\`: ${s.when}`).join('; '),
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['statusCode', 'code', 'error', 'message'],
              properties: {
                statusCode: { type: 'integer', enum: [status] },
                code: { type: 'string', enum: specs.map((s) => s.code) },
                error: { type: 'string', example: STATUS_CODES[status] },
                message: { type: 'string', description: 'what was wrong, naming the field, row or limit' },
              },
            },
          },
        },
      },
    ]),
  );
}

/** The OpenAPI document served at /docs/json and rendered by Swagger UI at /docs. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'logsift',
      version,
      description:
        'Classifies log lines. Each row is decided by regex rules, then a sentence-embedding + ' +
        'logistic-regression head, then (for rare or ambiguous lines) an LLM.',
    },
    paths: {
      '/classify': {
        post: {
          summary: 'Label every row of a CSV of log lines',
          description:
            'Required columns: `source` and `log_message` (or `message`). Every input column is passed ' +
            `through in order, then \`${OUTPUT_COLUMNS.join('`, `')}\` are appended. The output has exactly one ` +
            'row per input row, in input order, and is streamed as it is computed. A row that cannot be read ' +
            '(wrong field count, broken quoting) comes back with `label_stage` = `error` and the reason in ' +
            '`target_label`; so does a record over server.maxRecordBytes or server.maxColumns (a header over them is a 400). ' +
            'Cells starting with = + - @ tab CR, header cells included, are prefixed with \' (CSV formula injection). ' +
            'A raw body is read in the encoding of its `charset` parameter (UTF-8 without one; a UTF-16 byte-order mark wins); ' +
            'a multipart file as UTF-8. If the upload breaks off once the answer has started (size limit, timeout, a second file), ' +
            'the last row is an `error` row saying why.',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
              },
              'text/csv': {
                schema: { type: 'string' },
                example: 'source,log_message\nBillingSystem,User 12345 logged in.\n',
              },
              'text/csv; charset=iso-8859-1': {
                schema: { type: 'string', description: 'any charset TextDecoder knows (utf-8, utf-16le, iso-8859-1, windows-1252, shift_jis, …); others: 415 UNSUPPORTED_CHARSET' },
              },
            },
          },
          responses: {
            '200': {
              description: 'The labelled CSV.',
              content: {
                'text/csv': {
                  schema: { type: 'string' },
                  example:
                    'source,log_message,target_label,label_stage,confidence\nBillingSystem,User 12345 logged in.,User Action,regex,1\n',
                },
              },
            },
            ...errorResponses('POST /classify'),
          },
        },
      },
      '/admin/reload': {
        post: {
          summary: 'Re-read the regex rules and the model head, check them, swap them in (admin key)',
          description: 'Needs `Authorization: Bearer <admin key>`. Requests already running finish on the pipeline they started with.',
          responses: {
            '200': { description: 'Reloaded: the generation and what is now loaded.' },
            ...errorResponses('POST /admin/reload'),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: models loaded, /classify can answer',
          responses: { '200': { description: 'ready, with what was loaded' }, '503': { description: 'still loading' } },
        },
      },
    },
  };
}
