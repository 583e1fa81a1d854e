/**
 * Separates a raw log line into its header (timestamp, host, process, level, component) and its
 * message. Real lines carry the level and the emitting component in the header; the model gets
 * them as features of their own, and the n-grams see only the message, so that timestamps and
 * host names are not mistaken for meaning.
 *
 * Formats are data: configs/header_patterns.json, an ordered list of patterns with the named
 * groups `message` (required), `level` and `component`; the first that matches wins. JSON lines
 * and logfmt (`level=… msg=…`) are recognised in code, before the patterns.
 */
import { z } from 'zod';
import { compileLinear, isDigitBlind, LinearPatternSet, parseJavaScriptPattern, type LinearRegExp, LinearRegexError } from './linear-regex.js';
import { describeIssue, HeaderPatternError } from '../errors.js';

/** Canonical severities; every spelling a format uses maps onto one of these. */
export const SEVERITIES = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ParsedLine {
  readonly message: string;
  readonly level?: Severity;
  readonly component?: string;
  /** Name of the format that matched (undefined: none, the whole line is the message). */
  readonly format?: string;
  /**
   * Where the message lies in the trimmed line, [start, end), when the whole result depends only
   * on the line's shape (its digits may change, not their places): every format is digit-blind,
   * no level was read from digits, and the line is not a JSON or logfmt record (JSON validity
   * and numeric levels depend on the digits). Unset otherwise.
   */
  readonly span?: readonly [number, number];
}

const LEVEL_WORDS: Readonly<Record<string, Severity>> = {
  trace: 'trace', finest: 'trace', finer: 'trace', verbose: 'trace', v: 'trace',
  debug: 'debug', dbg: 'debug', fine: 'debug', d: 'debug', '10': 'debug', '20': 'debug',
  info: 'info', log: 'info', note: 'info', system: 'info', statement: 'info', detail: 'info', hint: 'info', debug1: 'debug', debug2: 'debug', information: 'info', informational: 'info', i: 'info', inf: 'info', '30': 'info', perf: 'info', config: 'info',
  notice: 'notice', n: 'notice',
  warn: 'warn', warning: 'warn', w: 'warn', wrn: 'warn', '40': 'warn',
  error: 'error', err: 'error', e: 'error', eror: 'error', severe: 'error', fail: 'error', '50': 'error',
  critical: 'critical', crit: 'critical', fatal: 'critical', f: 'critical', alert: 'critical', emerg: 'critical', emergency: 'critical', panic: 'critical', a: 'critical', '60': 'critical',
};

/** Maps a level as written (INFO, W, warning, err, 30 …) onto a canonical severity. */
export function normaliseLevel(text: string | undefined): Severity | undefined {
  if (!text) return undefined;
  return LEVEL_WORDS[text.trim().toLowerCase()];
}

const patternSchema = z.object({
  name: z.string().min(1),
  /** JavaScript RegExp source with named groups `message` and optionally `level`, `component`. */
  pattern: z.string().min(1),
  flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').default(''),
  enabled: z.boolean().default(true),
});
const fileSchema = z.object({ patterns: z.array(patternSchema) });

export { HeaderPatternError } from '../errors.js';

export interface HeaderPattern {
  readonly name: string;
  /** On RE2: linear in the line whatever the pattern (header patterns are user-supplied). */
  readonly regex: LinearRegExp;
  /** The pattern cannot tell one digit from another (isDigitBlind). */
  readonly digitBlind: boolean;
  /**
   * For a pattern that ends with `(?<message>.*)$`, the pattern without that group: on a line
   * with no line break it matches exactly where the whole pattern does, and the message is the
   * rest of the line. RE2 finds the header's groups in the header alone, about half the cost.
   */
  readonly head?: LinearRegExp;
}

/** Validates and compiles header patterns; throws naming the bad pattern. */
export function compileHeaderPatterns(json: unknown, source = 'header patterns'): HeaderPattern[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HeaderPatternError(`${source}: ${describeIssue(issue)}`);
  }
  return parsed.data.patterns
    .filter((p) => p.enabled)
    .map((p) => {
      let regex: LinearRegExp;
      let head: LinearRegExp | undefined;
      try {
        // `d`: the message group's offsets (ParsedLine.span).
        regex = compileLinear(p.pattern, `d${p.flags}`, `${source}: pattern ${p.name}`);
        const headSource = headOf(p.pattern, p.flags);
        head = headSource === undefined ? undefined : compileLinear(headSource, p.flags, `${source}: pattern ${p.name}`);
      } catch (err) {
        if (err instanceof LinearRegexError) throw new HeaderPatternError(err.message);
        throw new HeaderPatternError(`${source}: pattern ${p.name}: invalid: ${(err as Error).message}`);
      }
      if (!p.pattern.includes('(?<message>')) throw new HeaderPatternError(`${source}: pattern ${p.name} has no (?<message>…) group`);
      return { name: p.name, regex, digitBlind: isDigitBlind(p.pattern, p.flags), head };
    });
}


const JSON_MESSAGE_KEYS = ['msg', 'message', 'event', 'log', 'text'];
const JSON_LEVEL_KEYS = ['level', 'lvl', 'severity', 'levelname', 'loglevel', 's', 'log.level'];
const JSON_COMPONENT_KEYS = ['logger', 'logger_name', 'component', 'c', 'name', 'module', 'caller', 'source', 'ctx'];
// logfmt: key=value pairs, values bare or double-quoted with backslash escapes.
const LOGFMT_PAIR = /(?:^|\s)([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)/g;

function firstString(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = record[k];
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof v === 'number' && keys === JSON_LEVEL_KEYS) return String(v);
  }
  return undefined;
}

function parseJsonLine(line: string): ParsedLine | undefined {
  if (line.length < 2 || line[0] !== '{' || line[line.length - 1] !== '}') return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) return undefined;
  const r = record as Record<string, unknown>;
  const message = firstString(r, JSON_MESSAGE_KEYS);
  if (message === undefined) return undefined;
  return { message, level: normaliseLevel(firstString(r, JSON_LEVEL_KEYS)), component: firstString(r, JSON_COMPONENT_KEYS), format: 'json' };
}

function parseLogfmt(line: string): ParsedLine | undefined {
  if (!line.includes('msg=') && !line.includes('message=')) return undefined;
  const fields = new Map<string, string>();
  for (const m of line.matchAll(LOGFMT_PAIR)) {
    const raw = m[2];
    fields.set(m[1].toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  const message = fields.get('msg') ?? fields.get('message');
  if (message === undefined || !fields.has('level') && !fields.has('lvl') && !fields.has('severity')) return undefined;
  const level = normaliseLevel(fields.get('level') ?? fields.get('lvl') ?? fields.get('severity'));
  const component = fields.get('logger') ?? fields.get('component') ?? fields.get('module') ?? fields.get('caller') ?? fields.get('source');
  return { message, level, component, format: 'logfmt' };
}

/**
 * The source before a final `(?<message>.*)$` when the pattern is one sequence ending so (no
 * top-level alternation); undefined otherwise.
 */
function headOf(source: string, flags: string): string | undefined {
  const ast = parseJavaScriptPattern(source, flags);
  if (!ast || ast.alternatives.length !== 1) return undefined;
  const elements = ast.alternatives[0].elements;
  const end = elements[elements.length - 1];
  const group = elements[elements.length - 2];
  if (end?.type !== 'Assertion' || end.kind !== 'end' || group?.type !== 'CapturingGroup' || group.name !== 'message') return undefined;
  if (group.alternatives.length !== 1 || group.alternatives[0].elements.length !== 1) return undefined;
  const body = group.alternatives[0].elements[0];
  const anyRun = body.type === 'Quantifier' && body.min === 0 && body.max === Infinity && body.greedy && body.element.type === 'CharacterSet' && body.element.kind === 'any';
  return anyRun ? source.slice(0, group.start) : undefined;
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** Splits lines with the given patterns (in order), after the JSON and logfmt readers. */
export class HeaderParser {
  /** All formats in one pass over the line; only those that match are run for their groups. */
  private readonly set: LinearPatternSet;
  /** Every format is digit-blind: results can carry a span (see ParsedLine.span). */
  readonly digitBlind: boolean;

  constructor(readonly patterns: readonly HeaderPattern[]) {
    this.set = new LinearPatternSet(patterns.map((p) => p.regex));
    this.digitBlind = patterns.every((p) => p.digitBlind);
  }

  parse(line: string): ParsedLine {
    const trimmed = line.trim();
    const structured = parseJsonLine(trimmed) ?? parseLogfmt(trimmed);
    if (structured) return structured;
    const shaped = this.digitBlind && !(trimmed.startsWith('{') && trimmed.endsWith('}'));
    const oneLine = !LINE_TERMINATOR.test(trimmed);
    for (const index of this.set.matching(trimmed)) {
      const { name, regex, head } = this.patterns[index];
      let groups: Record<string, string | undefined> | undefined;
      let rawMessage: string | undefined;
      let start: number | undefined;
      if (head && oneLine) {
        const m = head.exec(trimmed);
        if (!m) continue;
        groups = m.groups ?? {};
        start = m.index + m[0].length;
        rawMessage = trimmed.slice(start);
      } else {
        const m = regex.exec(trimmed);
        groups = m?.groups;
        rawMessage = groups?.message;
        start = m?.indices?.groups?.message?.[0];
      }
      if (!groups || rawMessage === undefined) continue;
      const component = groups.component?.trim();
      const message = rawMessage.trim();
      const at = start === undefined ? undefined : start + (rawMessage.length - rawMessage.trimStart().length);
      return {
        message,
        level: normaliseLevel(groups.level),
        component: component ? component : undefined,
        format: name,
        span: shaped && at !== undefined && !DIGIT.test(groups.level ?? '') ? [at, at + message.length] : undefined,
      };
    }
    return { message: trimmed, span: shaped ? [0, trimmed.length] : undefined };
  }
}

const DIGIT = /\d/;

/** Words of a component name: `dfs.DataNode$PacketResponder` → dfs data node packet responder. */
export function componentWords(component: string): string[] {
  return component
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 1);
}
