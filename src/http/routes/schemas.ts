/**
 * The JSON schemas of the routes. @fastify/swagger (dynamic mode, http/plugins/docs.ts) builds the
 * OpenAPI document from them, so it lists every route, its body types and every error status
 * (from the error table, http/errors.ts). /classify's body is a stream (CSV, JSON, NDJSON) read
 * by the route: its body, query and header schemas document, and the route does not validate them.
 */
import type { FastifySchema } from 'fastify';
import { EXPLAIN_COLUMNS, OUTPUT_COLUMNS } from '../../csv/writer.js';
import { errorResponses } from '../errors.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const labelledObject = {
  type: 'object',
  additionalProperties: true,
  description: 'The input object with every field kept in order (one named like ours is renamed `input_<name>`), then ours; an unusable record is ours alone.',
  properties: {
    target_label: { type: 'string', description: 'the label; for `label_stage` = `error`, the reason (naming the line, or the item and line)' },
    label_stage: { type: 'string', enum: ['override', 'regex', 'embedding', 'llm', 'fallback', 'error'] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};

const CONTENT_ENCODING_HEADER = { type: 'string', enum: ['gzip', 'x-gzip', 'deflate', 'br', 'identity'], description: 'a compressed body (one coding); others: 415 UNSUPPORTED_CONTENT_ENCODING' };

export const classifySchema: FastifySchema = {
  summary: 'Label every log line of a CSV, a JSON array of objects, or NDJSON',
  tags: ['classify'],
  description:
    'CSV: required columns `source` and `log_message` (or `message`). Every input column is passed ' +
    `through in order, then \`${OUTPUT_COLUMNS.join('`, `')}\` are appended. JSON (\`application/json\`: an array of objects, ` +
    'or objects one after another) and NDJSON (`application/x-ndjson`: one object per line): the line is read from ' +
    '`log_message`, else `message` (or the field `?field=` names), the source from `source` (else `?source=`, else empty); ' +
    'each object comes back with every field kept, in order, and the three fields added, in the same format. ' +
    'The output has exactly one row (object) per input row, in input order, and is streamed as it is computed. ' +
    'A row that cannot be read (wrong field count, broken quoting; an NDJSON line that is not JSON; a record that is not an object, ' +
    'or lacks a string in the message field) comes back with `label_stage` = `error` and the reason in `target_label`; so does a record over ' +
    'server.maxRecordBytes or server.maxColumns (a CSV header over them is a 400). An application/json body that is not JSON is a 400 JSON_INVALID. ' +
    "CSV cells starting with = + - @ tab CR, header cells included, are prefixed with ' (CSV formula injection). " +
    'A raw body is read in the encoding of its `charset` parameter (UTF-8 without one; a UTF-16 byte-order mark wins); ' +
    'a multipart file as UTF-8. Any body may be compressed: `Content-Encoding: gzip` (or `x-gzip`, `deflate`, `br`); ' +
    'server.maxUploadBytes then bounds the decompressed bytes too. If the upload breaks off once the answer has started ' +
    '(size limit, timeout, a second file, a corrupt compressed stream), the last row is an `error` row saying why. ' +
    `CSV with \`?explain=true\`: \`${EXPLAIN_COLUMNS.join('`, `')}\` follow: the template the row's message (its header split off) ` +
    'belongs to, as mined from this upload (`<*>` for the variable parts; the id is a hash of the text), and the id of the regex rule that decided (empty for any other stage).',
  querystring: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, maxLength: 200, description: 'JSON/NDJSON only: the field holding the log line (e.g. `log`, `msg`, `body`); default `log_message`, else `message`', example: 'log' },
      source: { type: 'string', description: 'JSON/NDJSON only: the source of objects without a `source` field; default empty', example: 'nginx' },
      sheet: { type: 'string', minLength: 1, maxLength: 100, description: 'xlsx only: the worksheet to read; default the first', example: 'Logs' },
      explain: {
        type: 'boolean',
        default: false,
        description:
          `Append \`${EXPLAIN_COLUMNS.join('`, `')}\` to every row: the mined template's id (16 hex digits, a hash of the template text, ` +
          'so the same text has the same id in every request) and text, and the deciding regex rule. Templates are mined from this ' +
          "request's lines only; a template's first lines may carry the id of a more specific text it later generalised from. " +
          'CSV answers only. true or 1, false or 0 (default); any other value, or with a JSON or NDJSON body: 400 QUERY_INVALID.',
      },
    },
  },
  headers: {
    type: 'object',
    properties: {
      'content-encoding': CONTENT_ENCODING_HEADER,
      accept: { type: 'string', description: `\`${XLSX}\` answers an xlsx upload as .xlsx (default: CSV)` },
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
      'application/json': {
        schema: {
          type: 'array',
          description: 'An array of objects (Vector `codec: json`, Fluent Bit `format json`), or objects one after another (Fluent Bit `json_stream`).',
          items: { type: 'object', additionalProperties: true, properties: { source: { type: 'string' }, log_message: { type: 'string' }, message: { type: 'string' } } },
          example: [{ source: 'BillingSystem', log_message: 'User 12345 logged in.', host: 'web-1' }],
        },
      },
      [XLSX]: {
        schema: {
          type: 'string',
          format: 'binary',
          description:
            'An Excel workbook (also as a multipart file named *.xlsx or typed so): the first worksheet, or `?sheet=`; its first row is the header, as for CSV. ' +
            'Read streaming; server.maxUploadBytes bounds the file and its decompressed size (a zip bomb: 413 UPLOAD_TOO_LARGE).',
        },
      },
      'application/x-ndjson': {
        schema: {
          type: 'string',
          description: 'One JSON object per line (Vector `framing: newline_delimited`, Fluent Bit `format json_lines`); also accepted as application/ndjson, application/jsonl, application/x-jsonlines.',
          example: '{"source":"BillingSystem","log_message":"User 12345 logged in."}\n{"source":"web","message":"Backup completed"}\n',
        },
      },
    },
  },
  response: {
    200: {
      description: 'The labelled rows, streamed, in the format of the request (a multipart form or CSV: CSV).',
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
        'application/json': {
          schema: {
            type: 'array',
            items: labelledObject,
            example: [{ source: 'BillingSystem', log_message: 'User 12345 logged in.', host: 'web-1', target_label: 'User Action', label_stage: 'regex', confidence: 1 }],
          },
        },
        'application/x-ndjson': {
          schema: {
            type: 'string',
            description: 'One labelled object per line.',
            example: '{"source":"BillingSystem","log_message":"User 12345 logged in.","target_label":"User Action","label_stage":"regex","confidence":1}\n',
          },
        },
        [XLSX]: { schema: { type: 'string', format: 'binary', description: 'An xlsx upload asked with `Accept: ' + XLSX + '`: one worksheet `labelled`, the columns as in CSV.' } },
      },
    },
    ...errorResponses('POST /classify'),
  },
};

const discoveredTemplate = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '16 hex digits: a hash of the template text (as `?explain=true` gives it)' },
    template: { type: 'string', example: 'User <*> logged out.' },
    count: { type: 'integer', description: 'lines of the upload in this template' },
    label: { type: 'string', description: "the pipeline's label of the template's example line" },
    stage: { type: 'string', enum: ['regex', 'embedding', 'llm', 'fallback'] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    family: { type: 'integer', description: 'family number (DBSCAN cluster); -1: noise, in no family' },
    example: { type: 'string', description: "the template's first line, as sent" },
  },
};

export const discoverSchema: FastifySchema = {
  summary: 'Mine the templates of an upload, group them into families, label them, suggest regex rules',
  tags: ['classify'],
  description:
    'The body as POST /classify takes it (CSV as multipart or raw `text/csv`, JSON, NDJSON; any Content-Encoding; the same limits and keys). ' +
    "Every line's template is mined (as `?explain=true` mines them), each template is labelled by the pipeline (its example line's decision), " +
    "the templates are grouped into families by DBSCAN over their embeddings (cosine distance), and a regex rule in configs/regex_rules.json's " +
    'format is suggested for every template of at least `min_lines` lines that the pipeline labels with confidence `min_confidence` or more ' +
    "(anchored, each `<*>` a bounded class; each checked by the service's rules loader, against its template's lines and against every other template's). " +
    "A `target_label` column (CSV) or field (JSON) is taken as ground truth: `coverage` then says how many of the rules' lines it agrees with. " +
    'Answered once the whole upload is read.',
  querystring: {
    type: 'object',
    properties: {
      eps: { type: 'number', minimum: 0, maximum: 2, default: 0.2, description: 'DBSCAN radius, in cosine distance' },
      min_samples: { type: 'integer', minimum: 1, default: 1, description: 'DBSCAN: templates within eps (itself included) that make a template a core point' },
      min_lines: { type: 'integer', minimum: 1, default: 10, description: 'lines a template needs for a rule' },
      min_confidence: { type: 'number', minimum: 0, maximum: 1, default: 0.9, description: "the pipeline's confidence a template's label needs for a rule" },
    },
  },
  // The answer is JSON whatever the upload: no Accept to choose.
  headers: { type: 'object', properties: { 'content-encoding': CONTENT_ENCODING_HEADER } },
  body: {
    content: {
      'multipart/form-data': (classifySchema.body as { content: Record<string, unknown> }).content['multipart/form-data'],
      'text/csv': (classifySchema.body as { content: Record<string, unknown> }).content['text/csv'],
      'application/json': (classifySchema.body as { content: Record<string, unknown> }).content['application/json'],
      'application/x-ndjson': (classifySchema.body as { content: Record<string, unknown> }).content['application/x-ndjson'],
    },
  },
  response: {
    200: {
      description: 'Templates (most lines first), families, suggested rules, rejected candidates and the rules\' coverage.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              settings: { type: 'object', additionalProperties: true },
              summary: {
                type: 'object',
                properties: {
                  rows: { type: 'integer' },
                  unreadable: { type: 'integer' },
                  templates: { type: 'integer' },
                  families: { type: 'integer' },
                  noise_templates: { type: 'integer' },
                  rules: { type: 'integer' },
                  rejected: { type: 'integer' },
                  cut: { type: 'string', description: 'why the input was cut short (server.maxRows), when it was' },
                },
              },
              coverage: {
                type: 'object',
                description: "each rule over the lines of its own template: lines covered, and how many of them the model's (and the ground truth's) label agrees with",
                properties: {
                  lines: { type: 'integer' },
                  covered: { type: 'integer' },
                  share: { type: 'number' },
                  agree_model: { type: 'integer' },
                  agree_truth: { type: 'integer' },
                  truth_lines: { type: 'integer' },
                },
              },
              templates: { type: 'array', items: discoveredTemplate },
              families: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    family: { type: 'integer' },
                    templates: { type: 'integer' },
                    lines: { type: 'integer' },
                    representative_id: { type: 'string' },
                    representative: { type: 'string' },
                    labels: { type: 'object', additionalProperties: { type: 'integer' }, description: 'lines by template label' },
                  },
                },
              },
              rules: {
                type: 'array',
                description: 'in the format of configs/regex_rules.json `rules`',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, pattern: { type: 'string' }, flags: { type: 'string' }, label: { type: 'string' }, description: { type: 'string' } },
                },
              },
              rejected: {
                type: 'array',
                items: { type: 'object', properties: { template_id: { type: 'string' }, template: { type: 'string' }, reason: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    ...errorResponses('POST /discover'),
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

const jobView = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
    format: { type: 'string', enum: ['csv', 'json', 'ndjson', 'xlsx'], description: 'the upload\'s format' },
    answer: { type: 'string', enum: ['csv', 'json', 'ndjson', 'xlsx'], description: 'the result\'s format (as /classify would have answered)' },
    inputBytes: { type: 'integer', description: 'bytes spooled (decompressed, as UTF-8)' },
    rows: { type: 'integer', description: 'rows labelled so far' },
    labels: { type: 'object', additionalProperties: { type: 'integer' }, description: 'rows by label (error rows not counted)' },
    stages: { type: 'object', additionalProperties: { type: 'integer' }, description: 'rows by deciding stage, `error` included' },
    attempts: { type: 'integer', description: 'runs started: more than 1 when a restart interrupted it and it was resumed' },
    timings: {
      type: 'object',
      properties: {
        createdAt: { type: 'string', format: 'date-time' },
        startedAt: { type: 'string', format: 'date-time' },
        finishedAt: { type: 'string', format: 'date-time' },
        queuedMs: { type: 'integer' },
        runningMs: { type: 'integer' },
      },
    },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, description: 'why it failed: the code /classify would have answered (CSV_MISSING_COLUMN, …), or INPUT_LOST / OUTPUT_LOST / INTERNAL' },
    note: { type: 'string', description: 'e.g. that a restart interrupted it and it was resumed' },
    result: { type: 'string', description: 'where its result is, once done' },
  },
};

const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'the id POST /jobs answered' } } };

export const jobSubmitSchema: FastifySchema = {
  summary: 'Start a job: the same bodies as /classify, spooled to disk, classified in the background',
  tags: ['jobs'],
  description:
    'For large files. The upload is spooled to disk (`<data.dir>/jobs/<id>/`) as it arrives and answered 202 with the job at once, ' +
    'with `Location: /jobs/{id}`; at most jobs.concurrency jobs run at a time, the others wait queued. Same body types, query parameters, ' +
    'Content-Encoding and limits as /classify (a body that breaks a limit while it is received is refused here: 413, 400); errors of the ' +
    'content (a header without `source`) fail the job, saying why. Jobs survive a restart (an interrupted one is run again from its input) ' +
    'and are deleted jobs.ttlHours after they end.',
  querystring: classifySchema.querystring,
  // The answer is JSON whatever the upload: no Accept to choose.
  headers: { type: 'object', properties: { 'content-encoding': CONTENT_ENCODING_HEADER } },
  body: classifySchema.body,
  response: {
    202: { description: 'Queued; `Location` names the job', ...jobView },
    ...errorResponses('POST /jobs'),
  },
};

export const jobStatusSchema: FastifySchema = {
  summary: 'A job\'s status, rows done, counts by label and stage, timings',
  tags: ['jobs'],
  params: jobParams,
  response: { 200: { description: 'the job', ...jobView }, ...errorResponses('GET /jobs/{id}') },
};

export const jobResultSchema: FastifySchema = {
  summary: 'A done job\'s labelled file (409 before)',
  tags: ['jobs'],
  params: jobParams,
  response: {
    200: {
      description: 'The labelled file, as /classify would have answered the upload.',
      content: {
        'text/csv': { schema: { type: 'string' } },
        'application/json': { schema: { type: 'array', items: labelledObject } },
        'application/x-ndjson': { schema: { type: 'string' } },
        [XLSX]: { schema: { type: 'string', format: 'binary' } },
      },
    },
    ...errorResponses('GET /jobs/{id}/result'),
  },
};

export const jobCancelSchema: FastifySchema = {
  summary: 'Cancel a queued or running job (its files deleted, its status kept as cancelled until it expires), or delete an ended one',
  tags: ['jobs'],
  params: jobParams,
  response: {
    200: { description: 'Cancelled: the job as it was left', ...jobView },
    204: { description: 'Deleted (it had ended): its record and files are gone', type: 'null' },
    ...errorResponses('DELETE /jobs/{id}'),
  },
};

export const liveSchema: FastifySchema = {
  summary: 'A WebSocket for live log lines: one labelled JSON object back per frame, in order',
  tags: ['classify'],
  description:
    'Upgrade with `Connection: Upgrade`, `Upgrade: websocket` (and `Authorization: Bearer <key>` when keys are configured). ' +
    'Send text frames: one log line each, or a JSON object as on /classify (`log_message` or `message`, `source`; `?field=`, `?source=` as for NDJSON). ' +
    'Each frame is answered, in order, with a JSON object: the input\'s fields (a plain line as `log_message`) plus target_label, label_stage, confidence; ' +
    'a frame that cannot be used (binary, an object without the message field) with `label_stage` `error` and the reason. Frames that arrive together are ' +
    'classified together. At most live.maxInFlight frames are held unanswered: past that the server stops reading until the client has read its answers. ' +
    'A frame over server.maxRecordBytes closes the socket (1009); 1013 while the models are loading.',
  querystring: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, description: 'the field of a JSON frame holding the line' },
      source: { type: 'string', description: 'the source of lines and objects without one' },
    },
  },
  response: {
    101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' },
    ...errorResponses('GET /ws/logs'),
  },
};

// ---- /templates (the template store, src/templates/) ----

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

const templateObject = {
  type: 'object',
  required: ['id', 'template', 'count', 'first_seen', 'last_seen', 'sources', 'example', 'label', 'label_stage', 'confidence', 'override', 'decided'],
  properties: {
    id: { type: 'string', description: '16 hex digits: a hash of the template text (the same text has the same id everywhere)', example: '3f3a255b79d7385b' },
    template: { type: 'string', description: 'the text, `<*>` for each variable part', example: 'User <*> logged in.' },
    count: { type: 'integer', description: 'lines seen (since the template was first stored)' },
    first_seen: { type: 'string', format: 'date-time' },
    last_seen: { type: 'string', format: 'date-time' },
    sources: { type: 'array', items: { type: 'string' }, description: 'the first 16 sources seen' },
    example: { type: 'object', required: ['source', 'log_message'], properties: { source: { type: 'string' }, log_message: { type: 'string' } }, description: 'the first line stored' },
    label: nullable('string', { description: "the label its lines get now: the override's, else the pipeline's last decision" }),
    label_stage: nullable('string', { enum: ['override', 'regex', 'embedding', 'llm', 'fallback', null] }),
    confidence: nullable('number'),
    override: {
      type: ['object', 'null'],
      description: "a user's label: applies to every later line of the template (stage `override`, confidence 1)",
      required: ['label', 'by', 'at'],
      properties: { label: { type: 'string' }, by: { type: 'string', description: 'the API key id (`key_<digest prefix>`), or `anonymous` without keys' }, at: { type: 'string', format: 'date-time' } },
    },
    decided: {
      type: ['object', 'null'],
      description: "the pipeline's last decision for its lines, the override aside: what the template goes back to without one",
      required: ['label', 'label_stage', 'confidence'],
      properties: { label: { type: 'string' }, label_stage: { type: 'string' }, confidence: { type: 'number' } },
    },
  },
};

const templateIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'the template id (GET /templates)' } },
};

const templatesNote =
  'Templates are mined across requests by the service\'s own long-lived miner (not the per-request `?explain=true` miner, whose ids agree once both have reached the same text). Counts reach the store within templates.flushIntervalMs.';

export const listTemplatesSchema: FastifySchema = {
  summary: 'The template store: templates seen across requests, filtered, sorted, a page at a time',
  tags: ['templates'],
  description: templatesNote,
  security: [{ bearer: [] }],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      label: { type: 'string', description: 'only templates whose lines get this label now' },
      stage: { type: 'string', enum: ['override', 'regex', 'embedding', 'llm', 'fallback'], description: 'only templates decided by this stage now' },
      source: { type: 'string', description: 'only templates seen from this source' },
      text: { type: 'string', minLength: 1, maxLength: 1000, description: 'only templates whose text contains this (ASCII case-insensitive)' },
      since: { type: 'string', description: 'only templates first seen at or after this time (ISO 8601, or milliseconds since the epoch): new patterns' },
      sort: { type: 'string', enum: ['count', 'recent'], default: 'count', description: '`count`: most lines first; `recent`: last seen first' },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
      cursor: { type: 'string', maxLength: 200, description: '`next_cursor` of the previous page (with the same filters and sort)' },
    },
  },
  response: {
    200: {
      description: 'One page; `next_cursor` is null on the last.',
      type: 'object',
      required: ['templates', 'next_cursor'],
      properties: { templates: { type: 'array', items: templateObject }, next_cursor: nullable('string') },
    },
    ...errorResponses('GET /templates'),
  },
};

export const getTemplateSchema: FastifySchema = {
  summary: 'One template of the store',
  tags: ['templates'],
  security: [{ bearer: [] }],
  params: templateIdParams,
  response: { 200: { description: 'the template', ...templateObject }, ...errorResponses('GET /templates/{id}') },
};

export const putTemplateLabelSchema: FastifySchema = {
  summary: "Set a template's label (an override): every later line of the template gets it",
  tags: ['templates'],
  description:
    'Applies at once to every later line of the template, before the regex rules (`label_stage` `override`, confidence 1), survives restarts and reloads, ' +
    'and records who (the API key id, never the key) and when. With keys configured it needs an admin key; without any, it is open like /classify.',
  security: [{ bearer: [] }],
  params: templateIdParams,
  body: {
    type: 'object',
    required: ['label'],
    additionalProperties: false,
    properties: { label: { type: 'string', minLength: 1, description: 'one of the labels the service knows (GET /readyz: labels), or the unclassified label, e.g. `Security Alert`' } },
  },
  response: { 200: { description: 'the template, with its override', ...templateObject }, ...errorResponses('PUT /templates/{id}') },
};

export const deleteTemplateLabelSchema: FastifySchema = {
  summary: "Remove a template's override: its lines are classified by the pipeline again",
  tags: ['templates'],
  description: 'Idempotent. Same keys as PUT.',
  security: [{ bearer: [] }],
  params: templateIdParams,
  response: { 200: { description: 'the template, without an override', ...templateObject }, ...errorResponses('DELETE /templates/{id}/label') },
};

export const exportTemplatesSchema: FastifySchema = {
  summary: "Users' labels on templates as regex rules or as labelled training lines",
  tags: ['templates'],
  description:
    '`format=rules`: `{"rules": [...]}` in configs/regex_rules.json\'s format, one anchored rule per overridden template (checked by the same loader as that file: RE2, linear time). ' +
    '`format=csv`: `source,log_message,target_label`, each overridden template\'s example line with its label, for `logsift train --data` or `logsift eval --augment`.',
  security: [{ bearer: [] }],
  querystring: {
    type: 'object',
    required: ['format'],
    additionalProperties: false,
    properties: { format: { type: 'string', enum: ['rules', 'csv'] } },
  },
  response: {
    200: {
      description: 'the export',
      content: {
        'application/json': { schema: { type: 'object', properties: { $comment: { type: 'string' }, rules: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
        'text/csv': { schema: { type: 'string', example: 'source,log_message,target_label\nsshd,Failed password for root from 10.0.0.1,Security Alert\n' } },
      },
    },
    ...errorResponses('GET /templates/export'),
  },
};
