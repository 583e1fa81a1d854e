import { OUTPUT_COLUMNS } from '../csv/labelled-csv.js';

const errorBody = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    code: { type: 'string', example: 'CSV_MISSING_COLUMN' },
    error: { type: 'string', example: 'Bad Request' },
    message: { type: 'string', example: 'missing required column: log_message (header was: source,text)' },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorBody } } });

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
            '`target_label`. Cells starting with = + - @ are prefixed with \' (CSV formula injection).',
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
            '400': errorResponse('Not CSV, empty file, missing column, or no `file` field in the form.'),
            '413': errorResponse('The upload is larger than server.maxUploadBytes.'),
            '415': errorResponse('Content type other than multipart/form-data or text/csv.'),
            '503': errorResponse('Models are still loading.'),
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
