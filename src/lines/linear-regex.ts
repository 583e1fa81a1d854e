/**
 * The one way user-supplied patterns are compiled (regex rules, mask rules, header patterns):
 * on RE2 (the `re2` bindings), whose matching time is linear in the input whatever the pattern.
 * V8's backtracking engine can take seconds on one line (`(a|a)+$`, or merely quadratic rules
 * on a 100 KB line), and no static check finds every such pattern; RE2 has no such patterns.
 *
 * The syntax is JavaScript's, without what needs backtracking: lookahead, lookbehind and
 * backreferences are refused at start-up with the file and rule named. `\s`, `\S` and `.` keep
 * their JavaScript meaning (RE2's own `\s` is ASCII-only and its `.` only stops at `\n`);
 * `\d`, `\w` and `\b` are ASCII in both. Other differences: `^`/`$` with the `m` flag break
 * lines at `\n` only, and `i` folds a few non-ASCII letters more (the Kelvin sign matches `k`).
 *
 * Cost: RE2 converts a string argument to UTF-8 on every call, which is most of the time a
 * short line takes. To run several patterns over one text, pass `Buffer.from(text)` once
 * (offsets in results are then bytes).
 */
import RE2 from 're2';
import { RegExpParser, visitRegExpAST, type AST } from '@eslint-community/regexpp';
import { PatternError as LinearRegexError } from '../errors.js';

/** A compiled pattern: RegExp's test/exec/lastIndex, and usable with String#replace/match/split. */
export type LinearRegExp = RE2;

/** A pattern RE2 cannot run, or that does not compile (PATTERN_INVALID, 422). */
export { PatternError as LinearRegexError } from '../errors.js';

/** JavaScript's \s (WhiteSpace and LineTerminator): \pZ is every Zs, Zl and Zp character. */
const JS_SPACE = '\\t\\n\\v\\f\\r\\x{feff}\\pZ';
/** JavaScript's `.` without the s flag: anything but a line terminator. */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';

/**
 * Rewrites `\s`, `\S` and `.` of a JavaScript pattern into RE2 syntax with the same meaning.
 * Escapes are copied as they are (so `\\s` stays a backslash and an `s`); inside a character
 * class `\s` becomes its members, and `\S` stays RE2's (a class cannot subtract in RE2).
 */
function toRe2Source(source: string, dotAll: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const next = source[++i];
      if (next === 's') out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${JS_SPACE}]`;
      else out += c + next;
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '.' && !dotAll) {
      out += JS_DOT;
      continue;
    }
    out += c;
  }
  return out;
}

/** RE2's message for a construct it lacks, said in terms of the pattern's author. */
function explain(message: string): string {
  if (/invalid perl operator: \(\?<[=!]/.test(message)) return `lookbehind is not supported by the linear-time engine (RE2) (${message})`;
  if (/invalid perl operator: \(\?[=!]/.test(message)) return `lookahead is not supported by the linear-time engine (RE2) (${message})`;
  if (/invalid escape sequence: \\(?:[1-9]|k)/.test(message)) return `backreferences are not supported by the linear-time engine (RE2) (${message})`;
  return message;
}

/**
 * Compiles `source` (JavaScript syntax, no lookaround or backreferences) with JavaScript
 * `flags` (g i m s u y d) for linear-time matching. Throws LinearRegexError starting with
 * `where` (e.g. `configs/regex_rules.json: rule http-request-line`) when RE2 cannot take it.
 */
export function compileLinear(source: string, flags: string, where: string): LinearRegExp {
  try {
    return new RE2(toRe2Source(source, flags.includes('s')), flags);
  } catch (err) {
    throw new LinearRegexError(`${where}: pattern /${source}/ cannot be used: ${explain((err as Error).message)}`);
  }
}

/**
 * Several compiled patterns run as one automaton (RE2::Set): one pass over the text tells which
 * of them match anywhere in it. Rules, header formats and mask rules are each tried in order on
 * every row; one pass instead of one call per pattern is most of a row's cost saved. Patterns are
 * grouped by the flags that change matching (i, m, s), one set per group (inline flag groups in
 * one set measured slower).
 */
export class LinearPatternSet {
  /** One set per flag group; undefined when RE2 could not build them (see the constructor). */
  private readonly groups?: { readonly set: InstanceType<typeof RE2.Set>; readonly members: readonly number[] }[];

  constructor(readonly patterns: readonly LinearRegExp[]) {
    const byFlags = new Map<string, number[]>();
    patterns.forEach((p, i) => {
      const key = [...'ims'].filter((f) => p.flags.includes(f)).join('');
      byFlags.set(key, [...(byFlags.get(key) ?? []), i]);
    });
    try {
      this.groups = [...byFlags].map(([flags, members]) => ({ set: new RE2.Set(members.map((i) => patterns[i].internalSource), flags), members }));
    } catch {
      // A set shares RE2's program budget: some hundreds of long patterns that compile one by
      // one may not compile together. Then each pattern is tried on its own, as before sets.
      this.groups = undefined;
    }
  }

  /** Indices of the patterns that match somewhere in `text`, ascending. */
  matching(text: string | Buffer): number[] {
    if (!this.groups) return this.patterns.flatMap((p, i) => (testFromStart(p, text) ? [i] : []));
    if (this.groups.length === 1) {
      const { set, members } = this.groups[0];
      return set.match(text).map((k) => members[k]);
    }
    const out: number[] = [];
    for (const { set, members } of this.groups) for (const k of set.match(text)) out.push(members[k]);
    return out.sort((a, b) => a - b);
  }

  /** Index of the first pattern (in the given order) that matches `text`; -1 for none. */
  first(text: string | Buffer): number {
    if (!this.groups) return this.patterns.findIndex((p) => testFromStart(p, text));
    let best = -1;
    for (const { set, members } of this.groups) {
      const found = set.match(text);
      if (found.length > 0 && (best === -1 || members[found[0]] < best)) best = members[found[0]];
    }
    return best;
  }
}

/** `test` from the start of the text, whatever lastIndex a global pattern was left with. */
function testFromStart(pattern: LinearRegExp, text: string | Buffer): boolean {
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}

const DIGITS = '0123456789';
const RE2_ONLY_SYNTAX = /\\[xu]\{|\\[QECAz]|\[\[:/;

/**
 * The pattern's syntax tree as JavaScript reads it (regexpp), for questions about its structure;
 * undefined when it does not parse, or uses syntax RE2 reads otherwise than JavaScript — `\x{35}`
 * is "5" to RE2 and "x" repeated 35 times to JavaScript; `\Q…\E` quotes; `[[:digit:]]` is a class —
 * since the tree would then describe another pattern than the one RE2 runs.
 */
export function parseJavaScriptPattern(source: string, flags: string): AST.Pattern | undefined {
  if (RE2_ONLY_SYNTAX.test(source)) return undefined;
  try {
    return new RegExpParser().parsePattern(source, 0, source.length, { unicode: flags.includes('u') });
  } catch {
    return undefined;
  }
}

/**
 * True when the pattern cannot tell one ASCII digit from another: every character, escape and
 * class in it matches all ten digits or none (`\d`, `\w`, `.`, `[0-9a-f]` and letters do; `7`
 * and `[1-5]` do not). Then a line and the same line with other digits in the same places match
 * the same way, at the same offsets: what the pattern does to a line depends only on its shape.
 * Read from the syntax tree (parseJavaScriptPattern); a pattern it cannot read counts as not blind.
 */
export function isDigitBlind(source: string, flags: string): boolean {
  const ast = parseJavaScriptPattern(source, flags);
  if (!ast) return false;
  const testFlags = [...'isu'].filter((f) => flags.includes(f)).join('');
  let blind = true;
  const check = (node: AST.Character | AST.CharacterSet | AST.CharacterClass) => {
    // A character or escape inside a class is judged with its class.
    if (node.parent.type === 'CharacterClass' || node.parent.type === 'CharacterClassRange') return;
    const atom = new RegExp(`^(?:${node.raw})$`, testFlags);
    let matched = 0;
    for (const d of DIGITS) if (atom.test(d)) matched++;
    if (matched !== 0 && matched !== DIGITS.length) blind = false;
  };
  visitRegExpAST(ast, { onCharacterEnter: check, onCharacterSetEnter: check, onCharacterClassEnter: check });
  return blind;
}
