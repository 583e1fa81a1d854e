/**
 * Error answers, rendered in one place. Every error the service answers with is in the table of
 * src/errors.ts (a code and a status each); here it becomes the body `{statusCode, code, error,
 * message}` — through Fastify's error handler for errors thrown in a request, through errorBody
 * for the few answers written without one (a raw socket, a hook that returns a body) — and the
 * OpenAPI responses of each route come from the same table.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ERRORS, UnsupportedMediaType, type ErrorSpec } from '../errors.js';

/** What a route that reads an upload as /classify does (http/upload.ts, then a reader) can answer. */
const UPLOAD_ERRORS = [
  'CSV_EMPTY',
  'CSV_INVALID',
  'CSV_MISSING_COLUMN',
  'CSV_TOO_MANY_COLUMNS',
  'CSV_RECORD_TOO_LARGE',
  'NO_FILE',
  'TOO_MANY_FILES',
  'MULTIPART_INVALID',
  'JSON_INVALID',
  'XLSX_INVALID',
  'SHEET_NOT_FOUND',
  'CONTENT_ENCODING_INVALID',
  'QUERY_INVALID',
  'REQUEST_INVALID',
  'API_KEY_REQUIRED',
  'API_KEY_INVALID',
  'REQUEST_TIMEOUT',
  'UPLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_CONTENT_ENCODING',
  'UNSUPPORTED_CHARSET',
  'RATE_LIMITED',
  'HEADERS_TOO_LARGE',
  'NOT_READY',
  'OVERLOADED',
] as const;

/** Codes answered by each route besides 200 (the OpenAPI document lists exactly these). */
export const ROUTE_ERRORS: Readonly<Record<string, readonly string[]>> = {
  'POST /classify': UPLOAD_ERRORS,
  'POST /discover': UPLOAD_ERRORS,
  'POST /jobs': [
    'CSV_EMPTY',
    'NO_FILE',
    'TOO_MANY_FILES',
    'MULTIPART_INVALID',
    'JSON_INVALID',
    'XLSX_INVALID',
    'CONTENT_ENCODING_INVALID',
    'QUERY_INVALID',
    'REQUEST_INVALID',
    'API_KEY_REQUIRED',
    'API_KEY_INVALID',
    'REQUEST_TIMEOUT',
    'UPLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'UNSUPPORTED_CONTENT_ENCODING',
    'UNSUPPORTED_CHARSET',
    'RATE_LIMITED',
    'OVERLOADED',
  ],
  'GET /jobs/{id}': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'JOB_NOT_FOUND', 'RATE_LIMITED'],
  'GET /jobs/{id}/result': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'JOB_NOT_FOUND', 'JOB_NOT_DONE', 'RATE_LIMITED'],
  'DELETE /jobs/{id}': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'JOB_NOT_FOUND', 'RATE_LIMITED'],
  'GET /ws/logs': ['QUERY_INVALID', 'API_KEY_REQUIRED', 'API_KEY_INVALID', 'UPGRADE_REQUIRED', 'RATE_LIMITED', 'OVERLOADED'],
  'POST /admin/reload': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'ADMIN_DISABLED', 'RELOAD_INVALID', 'RATE_LIMITED', 'RELOAD_FAILED', 'OVERLOADED'],
  'GET /metrics': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'RATE_LIMITED'],
  'GET /templates': ['QUERY_INVALID', 'API_KEY_REQUIRED', 'API_KEY_INVALID', 'RATE_LIMITED', 'OVERLOADED'],
  'GET /templates/export': ['QUERY_INVALID', 'API_KEY_REQUIRED', 'API_KEY_INVALID', 'RATE_LIMITED', 'OVERLOADED'],
  'GET /templates/{id}': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'TEMPLATE_NOT_FOUND', 'RATE_LIMITED', 'OVERLOADED'],
  'PUT /templates/{id}': ['BODY_INVALID', 'LABEL_UNKNOWN', 'API_KEY_REQUIRED', 'API_KEY_INVALID', 'ADMIN_DISABLED', 'TEMPLATE_NOT_FOUND', 'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED', 'NOT_READY', 'OVERLOADED'],
  'DELETE /templates/{id}/label': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'ADMIN_DISABLED', 'TEMPLATE_NOT_FOUND', 'RATE_LIMITED', 'OVERLOADED'],
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

/** The JSON body of an error answer. */
export function errorBody(err: { statusCode: number; code: string; message: string }): ErrorBody {
  return { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message };
}

/**
 * The error answers of a route, one response per status, from the error table: the body is
 * `{statusCode, code, error, message}` with `code` one of the codes the route answers with at
 * that status, each described. For route schemas (`schema.response`), so that @fastify/swagger
 * puts them into the OpenAPI document.
 */
export function errorResponses(route: string): Record<string, unknown> {
  const byStatus = new Map<number, ErrorSpec[]>();
  for (const code of ROUTE_ERRORS[route] ?? []) {
    const spec = ERRORS.find((e) => e.code === code);
    if (!spec) throw new Error(`${route}: ${code} is not in the error table`);
    byStatus.set(spec.statusCode, [...(byStatus.get(spec.statusCode) ?? []), spec]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, specs]) => [
      status,
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

/** Fastify's own errors that the service answers with a code of its table. */
function translate(error: FastifyError): Error {
  return error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? new UnsupportedMediaType(error.message) : error;
}

async function errors(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && (request.routeOptions.url === '/classify' || request.routeOptions.url === '/jobs')) {
      const type = request.headers['content-type'] ?? '(none)';
      return reply.send(new UnsupportedMediaType(`content type ${type} is not accepted: send multipart/form-data with a "file" field, a text/csv body, an application/json array of objects, application/x-ndjson, or an .xlsx file`));
    }
    // Plugins may throw plain objects carrying a status (@fastify/rate-limit's errorResponseBuilder).
    if (!(error instanceof Error) && typeof (error as { statusCode?: unknown }).statusCode === 'number') {
      return reply.code((error as { statusCode: number }).statusCode).send(error);
    }
    return reply.send(translate(error));
  });
}

/** The one error handler, at the root (fastify-plugin): every route's errors are rendered alike. */
export const errorsPlugin = fp(errors, { name: 'logsift-errors' });
