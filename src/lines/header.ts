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
import { compileLinear, type LinearRegExp, LinearRegexError } from './linear-regex.js';
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
      try {
        regex = compileLinear(p.pattern, p.flags, `${source}: pattern ${p.name}`);
      } catch (err) {
        if (err instanceof LinearRegexError) throw new HeaderPatternError(err.message);
        throw new HeaderPatternError(`${source}: pattern ${p.name}: invalid: ${(err as Error).message}`);
      }
      if (!p.pattern.includes('(?<message>')) throw new HeaderPatternError(`${source}: pattern ${p.name} has no (?<message>…) group`);
      return { name: p.name, regex };
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

/** Splits lines with the given patterns (in order), after the JSON and logfmt readers. */
export class HeaderParser {
  constructor(readonly patterns: readonly HeaderPattern[]) {}

  parse(line: string): ParsedLine {
    const trimmed = line.trim();
    const structured = parseJsonLine(trimmed) ?? parseLogfmt(trimmed);
    if (structured) return structured;
    for (const { name, regex } of this.patterns) {
      const m = regex.exec(trimmed);
      const groups = m?.groups;
      if (!groups || groups.message === undefined) continue;
      const component = groups.component?.trim();
      return {
        message: groups.message.trim(),
        level: normaliseLevel(groups.level),
        component: component ? component : undefined,
        format: name,
      };
    }
    return { message: trimmed };
  }
}

/** Words of a component name: `dfs.DataNode$PacketResponder` → dfs data node packet responder. */
export function componentWords(component: string): string[] {
  return component
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 1);
}
