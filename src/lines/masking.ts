/**
 * Masks the variable parts of a log line (ids, numbers, addresses, paths, quoted values) so that
 * lines from one template share one key. Used for decision caching, LLM caching and
 * template-grouped evaluation splits.
 */
import { z } from 'zod';
import { compileLinear, isDigitBlind, LinearPatternSet, type LinearRegExp } from './linear-regex.js';
import { describeIssue, MaskRuleError } from '../errors.js';

/** A masking rule as written in configs/mask_rules.json. */
export interface MaskRuleDefinition {
  readonly name: string;
  /** Pattern source: JavaScript syntax without lookaround or backreferences (see linear-regex.ts). */
  readonly pattern: string;
  /** i, m, s, u; `g` is implied. */
  readonly flags: string;
  readonly replacement: string;
}

export interface MaskRule extends MaskRuleDefinition {
  readonly regex: LinearRegExp;
  /** The rule cannot tell one digit from another (isDigitBlind): its result depends on the line's shape only. */
  readonly digitBlind: boolean;
  /** The pattern has a `(?<mask>…)` group: only it is replaced, the rest of the match is context. */
  readonly masksGroup: boolean;
}

/**
 * Context that lookbehind/lookahead would have expressed is matched around a named group
 * `mask` instead: the group is replaced, the context kept, and the next match may start right
 * after the group, so a character can close one match and open the next as lookaround allows.
 */
const MASK_GROUP = '(?<mask>';

// Order matters: the most specific shapes go first so a UUID is not eaten as hex + numbers.
// These four are the fixed rules of template-grouped splits (evaluation); the service's cache
// keys use the configured rules (configs/mask_rules.json), which add paths and quoted values.
const UUID: MaskRuleDefinition = { name: 'uuid', pattern: '\\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\b', flags: 'i', replacement: '<uuid>' };
const IPV4: MaskRuleDefinition = { name: 'ipv4', pattern: '\\b\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d+)?\\b', flags: '', replacement: '<ip>' };
/**
 * Hex ids: a whole word of 6+ hex digits (optionally prefixed with a digit and `x`, as in `0x`: a
 * literal `0` would make the rule tell digits apart, see isDigitBlind) with at least one digit and
 * one letter, so plain words and plain numbers survive. Without lookahead the length and the
 * mix are spelled out: the word starts with a run of one kind, then the other kind, and the
 * alternatives make that prefix reach 6 characters or be followed by enough more.
 */
const HEX: MaskRuleDefinition = {
  name: 'hex',
  pattern:
    '\\b(?:\\dx)?(?:\\d{5,}[a-f]|\\d{4}[a-f][0-9a-f]|\\d{3}[a-f][0-9a-f]{2}|\\d{2}[a-f][0-9a-f]{3}|\\d[a-f][0-9a-f]{4}' +
    '|[a-f]{5,}\\d|[a-f]{4}\\d[0-9a-f]|[a-f]{3}\\d[0-9a-f]{2}|[a-f]{2}\\d[0-9a-f]{3}|[a-f]\\d[0-9a-f]{4})[0-9a-f]*\\b',
  flags: 'i',
  replacement: '<hex>',
};
const NUMBER: MaskRuleDefinition = { name: 'number', pattern: '\\d+(?:\\.\\d+)?', flags: '', replacement: '<num>' };

/**
 * Paths: two or more `/segment`s (or a Windows drive path) starting the line or after a space,
 * quote, `=`, `(` or `:`; "and/or" keeps its words.
 */
const PATH: MaskRuleDefinition = {
  name: 'path',
  pattern: '(?:^|[\\s"\'=(:])(?<mask>(?:[a-zA-Z]:\\\\|\\/)[\\w.~%+-]+(?:[/\\\\][\\w.~%+-]*)+)',
  flags: '',
  replacement: '<path>',
};
/**
 * Quoted values: a single- or double-quoted run of up to 100 characters with no whitespace
 * (`'CsvBridge'`, `user="bob"`), after a space, `=`, `(`, `:`, `,` or `[` and before a space,
 * `.`, `,`, `;`, `:`, `)` or `]` — never a quoted sentence, which may be the whole message (`msg="…"`).
 */
const QUOTED: MaskRuleDefinition = {
  name: 'quoted',
  pattern: '(?:^|[\\s=(:,[])(?<mask>\'[^\'\\s]{1,100}\'|"[^"\\s]{1,100}")(?:$|[\\s.,;:)\\]])',
  flags: '',
  replacement: '<str>',
};

export { MaskRuleError } from '../errors.js';

/** Compiles one rule on the linear-time engine; throws MaskRuleError naming the rule. */
export function compileMaskRule(definition: MaskRuleDefinition, source = 'mask rules'): MaskRule {
  let regex: LinearRegExp;
  try {
    // `d` gives the mask group's offsets.
    regex = compileLinear(definition.pattern, `gd${definition.flags.replace(/[gd]/g, '')}`, `${source}: rule ${definition.name}`);
  } catch (err) {
    throw new MaskRuleError((err as Error).message);
  }
  return { ...definition, regex, masksGroup: definition.pattern.includes(MASK_GROUP), digitBlind: isDigitBlind(definition.pattern, definition.flags) };
}

/** The fixed rules of template-grouped evaluation splits (uuid, ipv4, hex, number). */
export const DEFAULT_MASK_RULES: readonly MaskRule[] = [UUID, IPV4, HEX, NUMBER].map((d) => compileMaskRule(d, 'built-in mask rules'));
export const PATH_RULE: MaskRule = compileMaskRule(PATH, 'built-in mask rules');
export const QUOTED_RULE: MaskRule = compileMaskRule(QUOTED, 'built-in mask rules');

/** The service's default cache-key rules (also what configs/mask_rules.json ships). */
export const CACHE_MASK_RULES: readonly MaskRule[] = [
  DEFAULT_MASK_RULES[0],
  QUOTED_RULE,
  PATH_RULE,
  ...DEFAULT_MASK_RULES.slice(1),
];

/**
 * Replaces every match of the rule (or, with a mask group, only that group) in UTF-8 `text`.
 * Offsets are bytes; a line is converted once for all rules (see linear-regex.ts).
 * `knownToMatch`: a pattern set has already found a match in this very text; skip the test.
 */
export function applyMaskRule(rule: MaskRule, text: Buffer, knownToMatch = false): Buffer {
  const { regex } = rule;
  regex.lastIndex = 0;
  // Most rules miss most lines: a test is cheaper than a replace that copies the line.
  if (!knownToMatch && !regex.test(text)) return text;
  regex.lastIndex = 0;
  if (!rule.masksGroup) return regex.replace(text, rule.replacement);
  const parts: Buffer[] = [];
  const replacement = Buffer.from(rule.replacement, 'utf8');
  let copied = 0;
  for (let from = 0; from <= text.length; ) {
    regex.lastIndex = from;
    const match = regex.exec(text);
    if (!match) break;
    const span = match.indices?.groups?.mask;
    let next = match.index + match[0].length;
    if (span) {
      parts.push(text.subarray(copied, span[0]), replacement);
      copied = span[1];
      next = span[1];
    }
    // After an empty match, step to the next character (not into the middle of one).
    if (next <= from) for (next = from + 1; (text[next] & 0xc0) === 0x80; next++);
    from = next;
  }
  regex.lastIndex = 0;
  if (parts.length === 0) return text;
  parts.push(text.subarray(copied));
  return Buffer.concat(parts);
}

const WHITESPACE_RUN = /\s+/g;
const NEEDS_WHITESPACE_PASS = /\s\s|[\t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]|^\s|\s$/;

/** A compiled list of mask rules; `digitBlind` when every rule is (see LinePreparer's shape cache). */
export type Masker = ((message: string) => string) & { readonly digitBlind: boolean };

export function compileMasker(rules: readonly MaskRule[] = DEFAULT_MASK_RULES): Masker {
  const set = new LinearPatternSet(rules.map((r) => r.regex));
  const mask = (message: string): string => {
    let text: Buffer = Buffer.from(message, 'utf8');
    // One pass finds the rules that match the line as it came; while no rule has changed it,
    // the others are skipped without a call of their own. After a change, later rules are
    // tried on the changed text (a replacement may make or break a later rule's match).
    const candidates = set.matching(text);
    let next = 0;
    let changed = false;
    for (let k = 0; k < rules.length; k++) {
      if (!changed) {
        if (candidates[next] !== k) continue;
        next++;
      }
      // While the text is as it came, the set pass has already said this rule matches.
      const masked = applyMaskRule(rules[k], text, !changed);
      if (masked !== text) changed = true;
      text = masked;
    }
    const out = text.toString('utf8');
    // Most lines have single spaces only: skip the allocation of a second replace then.
    return NEEDS_WHITESPACE_PASS.test(out) ? out.replace(WHITESPACE_RUN, ' ').trim() : out;
  };
  return Object.assign(mask, { digitBlind: rules.every((r) => r.digitBlind) });
}

/** The default masker (fixed rules: evaluation splits). */
export const maskMessage = compileMasker();

const ruleSchema = z.object({
  name: z.string().min(1),
  /** JavaScript RegExp syntax without lookaround or backreferences (run by RE2: linear time). */
  pattern: z.string().min(1),
  /** `g` is always added. */
  flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').default(''),
  replacement: z.string(),
  enabled: z.boolean().default(true),
});
const fileSchema = z.object({ rules: z.array(ruleSchema) });

/** Validates and compiles mask rules (JSON as in configs/mask_rules.json); throws naming the bad rule. */
export function compileMaskRules(json: unknown, source = 'mask rules'): MaskRule[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MaskRuleError(`${source}: ${describeIssue(issue)}`);
  }
  return parsed.data.rules
    .filter((r) => r.enabled)
    .map(({ name, pattern, flags, replacement }) => compileMaskRule({ name, pattern, flags, replacement }, source));
}

