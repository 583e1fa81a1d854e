/**
 * What a JetStream message becomes and where its answer goes, without a connection (unit-tested
 * alone): the message → a row for the batch driver (a JSON object as on /classify, or a plain log
 * line), the labelled row → the output subject and the output's message id.
 */
import { textRow, type JsonRow } from '../json/reader.js';
import type { Decision } from '../stages/types.js';

/** The header naming a plain line's source (a JSON record's own `source` field comes first). */
export const SOURCE_HEADER = 'Logsift-Source';
/** The input's own de-duplication id, when its producer set one. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/** What this module reads of a message (nats' JsMsg has it). */
export interface InputMessage {
  readonly subject: string;
  /** The message's sequence in its stream (the same on every redelivery). */
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers?: { get(name: string): string };
}

export interface MessageRowOptions {
  /** The JSON field holding the line (consume.field); default `log_message`, else `message`. */
  readonly messageField?: string;
  /** Source of records naming none (consume.source); the message's Logsift-Source header wins. */
  readonly defaultSource?: string;
  /** Fields of one JSON record, at most (server.maxColumns). */
  readonly maxColumns: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One message as a row: `line` is its stream sequence, and an unusable one's reason starts with
 * `seq N`. A payload that is not UTF-8 cannot be a log line: it is an `error` row, not a guess.
 */
export function messageRow(msg: InputMessage, options: MessageRowOptions): JsonRow {
  const at = `seq ${msg.seq}`;
  let text: string;
  try {
    text = utf8.decode(msg.data);
  } catch {
    return { line: msg.seq, cells: undefined, error: `${at}: the payload (${msg.data.length} bytes) is not UTF-8 text` };
  }
  const header = msg.headers?.get(SOURCE_HEADER);
  const defaultSource = header ? header : options.defaultSource;
  return textRow(text, msg.seq, at, {
    maxColumns: options.maxColumns,
    messageField: options.messageField,
    defaultSource,
    fieldSetting: 'consume.field (LOGSIFT_NATS_FIELD)',
  });
}

/**
 * The output's message id: the input's own Nats-Msg-Id when it has one, else its stream and
 * sequence. A redelivered message gets the same id, so the output stream's duplicate window
 * keeps one copy however many workers published it.
 */
export function outputMsgId(stream: string, msg: InputMessage): string {
  const own = msg.headers?.get(MSG_ID_HEADER);
  return own ? `${stream}:id:${own}` : `${stream}:seq:${msg.seq}`;
}

/** A label as one subject token: letters, digits, `_` and `-` kept, anything else `_`. */
export function subjectToken(label: string): string {
  const token = label.replaceAll(/[^A-Za-z0-9_-]/g, '_');
  return token || '_';
}

/** The output subject of one labelled message (consume.output with its placeholders filled in). */
export function outputSubject(template: string, inputSubject: string, decision: Decision): string {
  if (!template.includes('{')) return template;
  return template.replaceAll(/\{(subject|label|stage)\}/g, (_, name: string) =>
    name === 'subject' ? inputSubject : name === 'stage' ? decision.stage : decision.stage === 'error' ? 'error' : subjectToken(decision.label),
  );
}

/**
 * Whether a concrete subject falls under a subject pattern (`*` one token, `>` the rest), as
 * NATS matches them: used to refuse an output the input stream would store again (a loop).
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * consume.output with sample values in its placeholders, one per subject the input stream stores
 * (its wildcards as a sample token): concrete subjects to check the streams against.
 */
export function sampleOutputSubjects(template: string, inputSubjects: readonly string[]): string[] {
  const inputs = inputSubjects.length ? inputSubjects.map((s) => s.replaceAll(/(^|\.)(\*|>)(?=\.|$)/g, '$1x')) : ['x'];
  return [...new Set(inputs.map((input) => template.replaceAll(/\{(subject|label|stage)\}/g, (_, name: string) => (name === 'subject' ? input : 'x'))))];
}
