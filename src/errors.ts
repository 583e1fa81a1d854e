/**
 * Every error of the service, in one table (@fastify/error): each is an Error with a `code` and
 * a `statusCode`. Those answered over HTTP are rendered as `{statusCode, code, error, message}`
 * in one place (http/errors.ts), which also builds the OpenAPI error responses from this table;
 * README's error table describes them. The errors of the files the service is configured with
 * (rules, mask rules, header patterns, label definitions, head, model folder) are 422: a reload
 * that meets one answers RELOAD_INVALID, anything else RELOAD_FAILED — by status, not by name.
 *
 * The bottom of the module graph: it imports nothing of the service, so every layer may throw
 * these without depending on HTTP.
 */
import createError, { type FastifyErrorConstructor } from '@fastify/error';

export interface ErrorSpec {
  readonly code: string;
  readonly statusCode: number;
  /** When it is answered (or thrown): for the OpenAPI document. */
  readonly when: string;
  /** Answered over HTTP as it is (false: only ever reported inside another answer, e.g. RELOAD_INVALID). */
  readonly http: boolean;
}

const specs: ErrorSpec[] = [];

/** An error class whose message is the caller's (already specific) text. */
function define<C extends string, S extends number>(code: C, statusCode: S, when: string, http = true): FastifyErrorConstructor<{ code: C; statusCode: S }, [string]> {
  specs.push({ code, statusCode, when, http });
  return createError<C, S, [string]>(code, '%s', statusCode);
}

// 400: the upload is not a usable CSV or JSON, or the request is not well-formed.
export const CsvEmpty = define('CSV_EMPTY', 400, 'the body, or the uploaded file, is empty');
export const CsvInvalid = define('CSV_INVALID', 400, 'not CSV (binary data, broken header)');
export const CsvMissingColumn = define('CSV_MISSING_COLUMN', 400, 'the header lacks `source` or `log_message`/`message` (named)');
export const CsvTooManyColumns = define('CSV_TOO_MANY_COLUMNS', 400, 'the header has more columns than server.maxColumns');
export const CsvRecordTooLarge = define('CSV_RECORD_TOO_LARGE', 400, 'the header record is larger than server.maxRecordBytes');
export const NoFile = define('NO_FILE', 400, 'multipart without a file in a field named `file`');
export const TooManyFiles = define('TOO_MANY_FILES', 400, 'multipart with more than one file');
export const MultipartInvalid = define('MULTIPART_INVALID', 400, 'multipart/form-data without a boundary, or a body that is not the multipart it claims');
export const JsonInvalid = define('JSON_INVALID', 400, 'an application/json body that is empty, not a JSON array of objects (or objects one after another), or not valid JSON (named: item and line); an empty application/x-ndjson body');
export const XlsxInvalid = define('XLSX_INVALID', 400, 'an .xlsx upload that is not a readable spreadsheet (not a zip, no worksheet)');
export const SheetNotFound = define('SHEET_NOT_FOUND', 400, '`?sheet=` names a worksheet the spreadsheet does not have (the message lists those it has)');
export const ContentEncodingInvalid = define('CONTENT_ENCODING_INVALID', 400, 'a body that is not the Content-Encoding it claims (corrupt or truncated gzip, deflate or br)');
export const QueryInvalid = define('QUERY_INVALID', 400, 'a query parameter with a value it cannot take: `field` or `source` empty, repeated, or sent with a CSV body; `explain` other than true, false, 1, 0; a /templates query parameter out of range (a bad `cursor`, `since` not a date)');
export const BodyInvalid = define('BODY_INVALID', 400, 'a JSON body that is not what the route takes (PUT /templates/{id}: `{"label": "<label>"}`)');
export const LabelUnknown = define('LABEL_UNKNOWN', 400, 'PUT /templates/{id} with a label that is not one of the label definitions (or the unclassified label)');
export const RequestInvalid = define('REQUEST_INVALID', 400, 'bytes on the connection that are not HTTP (e.g. a body longer than its Content-Length)');
// Keys.
export const ApiKeyRequired = define('API_KEY_REQUIRED', 401, 'no `Authorization: Bearer <key>` where a key is needed');
export const ApiKeyInvalid = define('API_KEY_INVALID', 403, 'a key that is not configured (or not an admin key on /admin)');
export const AdminDisabled = define('ADMIN_DISABLED', 404, 'admin endpoints without any auth.adminKeys; PUT and DELETE on /templates with API keys but no admin key');
export const TemplateNotFound = define('TEMPLATE_NOT_FOUND', 404, 'a template id the template store does not hold (never seen, pruned, or renamed when it generalised)');
export const JobNotFound = define('JOB_NOT_FOUND', 404, 'no job with this id (never created, expired after jobs.ttlHours, deleted, or another key\'s)');
export const JobNotDone = define('JOB_NOT_DONE', 409, 'the job\'s result was asked for while it is queued or running, or after it failed or was cancelled (the message says which)');
// Transport.
export const RequestTimeout = define('REQUEST_TIMEOUT', 408, 'the headers or the body did not arrive within server.headersTimeoutMs / server.requestTimeoutMs');
export const UploadTooLarge = define('UPLOAD_TOO_LARGE', 413, 'the upload is larger than server.maxUploadBytes');
export const UnsupportedMediaType = define('UNSUPPORTED_MEDIA_TYPE', 415, 'a content type other than multipart/form-data, text/csv, application/json, application/x-ndjson or the xlsx type');
export const UnsupportedContentEncoding = define('UNSUPPORTED_CONTENT_ENCODING', 415, 'a Content-Encoding other than gzip, x-gzip, deflate or br (or more than one)');
export const UnsupportedCharset = define('UNSUPPORTED_CHARSET', 415, 'a `charset` parameter naming an encoding the service cannot decode');
export const ReloadInvalid = define('RELOAD_INVALID', 422, 'the regex rules, mask rules, header patterns, label definitions or the head on disk are invalid; the old ones still serve');
export const UpgradeRequired = define('UPGRADE_REQUIRED', 426, 'GET /ws/logs as plain HTTP, without a WebSocket upgrade');
export const RateLimited = define('RATE_LIMITED', 429, 'over rateLimit.max requests, or auth.maxFailures failed authentications, in the window');
export const HeadersTooLarge = define('HEADERS_TOO_LARGE', 431, 'request headers larger than Node accepts');
export const ReloadFailed = define('RELOAD_FAILED', 500, 'building the new pipeline failed; the old one still serves');
export const NotReady = define('NOT_READY', 503, 'models still loading');
export const Overloaded = define('OVERLOADED', 503, 'load shed: event-loop delay or memory over the pressure.* limits');

// 422: a file the service is configured with is invalid. Start-up stops naming it; a reload
// keeps the old pipeline and answers RELOAD_INVALID with the message.
export const ConfigError = define('CONFIG_INVALID', 422, 'the configuration (defaults ← LOGSIFT_CONFIG file ← environment) is invalid', false);
export const PatternError = define('PATTERN_INVALID', 422, 'a user-supplied pattern RE2 cannot run (lookaround, backreferences) or that does not compile', false);
export const RuleError = define('RULES_INVALID', 422, 'the regex rules file (regex.rulesPath) is missing, not JSON, or invalid', false);
export const MaskRuleError = define('MASK_RULES_INVALID', 422, 'the mask rules file (pipeline.maskRulesPath) is missing, not JSON, or invalid', false);
export const HeaderPatternError = define('HEADER_PATTERNS_INVALID', 422, 'the header patterns file (pipeline.headerPatternsPath) is missing, not JSON, or invalid', false);
export const LabelDefinitionsError = define('LABEL_DEFINITIONS_INVALID', 422, 'the label definitions file (pipeline.labelsPath) is missing, not JSON, or invalid', false);
export const HeadError = define('HEAD_INVALID', 422, 'the head file is missing, invalid, or trained for another embedder', false);
export const SentenceModelError = define('MODEL_FOLDER_INVALID', 422, 'the transformer folder (embedder.modelDir) cannot be used', false);
export const EmbedderError = define('EMBEDDER_FAILED', 422, 'the onnx embedder could not load or run its model', false);

/** The table, in the order above. */
export const ERRORS: readonly ErrorSpec[] = specs;

/** An error with an HTTP status of its own (ours, or a plugin's). */
export function hasStatus(err: unknown): err is Error & { statusCode: number; code?: string } {
  return typeof (err as { statusCode?: unknown })?.statusCode === 'number';
}

/** Errors of the files the service is configured with (status 422): a reload answers RELOAD_INVALID for them. */
export function isInvalidFile(err: unknown): boolean {
  return hasStatus(err) && err.statusCode === 422;
}

/** One schema problem of a file, as every file error names it: `path.to.field: message` ("(root)" for the whole file). */
export function describeIssue(issue: { readonly path: readonly PropertyKey[]; readonly message: string }): string {
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
