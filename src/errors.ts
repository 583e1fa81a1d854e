/**
 * Every HTTP error the service answers with, in one table (@fastify/error). Each is an Error
 * with `code` and `statusCode`; Fastify serialises a thrown one as
 * `{statusCode, code, error, message}` — the body the OpenAPI document (routes/openapi.ts, built
 * from this table) and README's error table describe.
 */
import { STATUS_CODES } from 'node:http';
import createError, { type FastifyErrorConstructor } from '@fastify/error';

export interface ErrorSpec {
  readonly code: string;
  readonly statusCode: number;
  /** When it is answered: for the OpenAPI document. */
  readonly when: string;
}

const specs: ErrorSpec[] = [];

/** An error class whose message is the caller's (already specific) text. */
function define<C extends string, S extends number>(code: C, statusCode: S, when: string): FastifyErrorConstructor<{ code: C; statusCode: S }, [string]> {
  specs.push({ code, statusCode, when });
  return createError<C, S, [string]>(code, '%s', statusCode);
}

// 400: the upload is not a usable CSV, or the request is not well-formed.
export const CsvEmpty = define('CSV_EMPTY', 400, 'the body, or the uploaded file, is empty');
export const CsvInvalid = define('CSV_INVALID', 400, 'not CSV (binary data, broken header)');
export const CsvMissingColumn = define('CSV_MISSING_COLUMN', 400, 'the header lacks `source` or `log_message`/`message` (named)');
export const CsvTooManyColumns = define('CSV_TOO_MANY_COLUMNS', 400, 'the header has more columns than server.maxColumns');
export const CsvRecordTooLarge = define('CSV_RECORD_TOO_LARGE', 400, 'the header record is larger than server.maxRecordBytes');
export const NoFile = define('NO_FILE', 400, 'multipart without a file in a field named `file`');
export const TooManyFiles = define('TOO_MANY_FILES', 400, 'multipart with more than one file');
export const MultipartInvalid = define('MULTIPART_INVALID', 400, 'multipart/form-data without a boundary, or a body that is not the multipart it claims');
export const RequestInvalid = define('REQUEST_INVALID', 400, 'bytes on the connection that are not HTTP (e.g. a body longer than its Content-Length)');
// Keys.
export const ApiKeyRequired = define('API_KEY_REQUIRED', 401, 'no `Authorization: Bearer <key>` where a key is needed');
export const ApiKeyInvalid = define('API_KEY_INVALID', 403, 'a key that is not configured (or not an admin key on /admin)');
export const AdminDisabled = define('ADMIN_DISABLED', 404, 'admin endpoints without any auth.adminKeys');
// Transport.
export const RequestTimeout = define('REQUEST_TIMEOUT', 408, 'the headers or the body did not arrive within server.headersTimeoutMs / server.requestTimeoutMs');
export const UploadTooLarge = define('UPLOAD_TOO_LARGE', 413, 'the upload is larger than server.maxUploadBytes');
export const UnsupportedMediaType = define('UNSUPPORTED_MEDIA_TYPE', 415, 'a content type other than multipart/form-data or text/csv');
export const UnsupportedCharset = define('UNSUPPORTED_CHARSET', 415, 'a `charset` parameter naming an encoding the service cannot decode');
export const ReloadInvalid = define('RELOAD_INVALID', 422, 'the regex rules or the head on disk are invalid; the old ones still serve');
export const RateLimited = define('RATE_LIMITED', 429, 'over rateLimit.max requests, or auth.maxFailures failed authentications, in the window');
export const HeadersTooLarge = define('HEADERS_TOO_LARGE', 431, 'request headers larger than Node accepts');
export const ReloadFailed = define('RELOAD_FAILED', 500, 'building the new pipeline failed; the old one still serves');
export const NotReady = define('NOT_READY', 503, 'models still loading');
export const Overloaded = define('OVERLOADED', 503, 'load shed: event-loop delay or memory over the pressure.* limits');

/** The table, in the order above. */
export const ERRORS: readonly ErrorSpec[] = specs;

/** Codes answered by each documented route (the OpenAPI document lists exactly these). */
export const ROUTE_ERRORS: Readonly<Record<string, readonly string[]>> = {
  'POST /classify': [
    'CSV_EMPTY',
    'CSV_INVALID',
    'CSV_MISSING_COLUMN',
    'CSV_TOO_MANY_COLUMNS',
    'CSV_RECORD_TOO_LARGE',
    'NO_FILE',
    'TOO_MANY_FILES',
    'MULTIPART_INVALID',
    'REQUEST_INVALID',
    'API_KEY_REQUIRED',
    'API_KEY_INVALID',
    'REQUEST_TIMEOUT',
    'UPLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'UNSUPPORTED_CHARSET',
    'RATE_LIMITED',
    'HEADERS_TOO_LARGE',
    'NOT_READY',
    'OVERLOADED',
  ],
  'POST /admin/reload': ['API_KEY_REQUIRED', 'API_KEY_INVALID', 'ADMIN_DISABLED', 'RELOAD_INVALID', 'RATE_LIMITED', 'RELOAD_FAILED', 'OVERLOADED'],
};

/** The JSON body of an error, for the few places that answer without throwing (raw sockets, hooks that return a body). */
export function errorBody(err: { statusCode: number; code: string; message: string }): { statusCode: number; code: string; error: string; message: string } {
  return { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message };
}

/** An error with an HTTP status of its own (ours, or a plugin's). */
export function hasStatus(err: unknown): err is Error & { statusCode: number; code?: string } {
  return typeof (err as { statusCode?: unknown })?.statusCode === 'number';
}
