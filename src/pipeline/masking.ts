/**
 * Masks the variable parts of a log line (ids, numbers, addresses, paths, quoted values) so that
 * lines from one template share one key. Used for decision caching, LLM caching and
 * template-grouped evaluation splits.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface MaskRule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replacement: string;
}

// Order matters: the most specific shapes go first so a UUID is not eaten as hex + numbers.
// These four are the fixed rules of template-grouped splits (evaluation); the service's cache
// keys use the configured rules (configs/mask_rules.json), which add paths and quoted values.
export const DEFAULT_MASK_RULES: readonly MaskRule[] = [
  { name: 'uuid', pattern: /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, replacement: '<uuid>' },
  { name: 'ipv4', pattern: /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, replacement: '<ip>' },
  // Hex ids: 6+ hex digits with at least one digit and one letter (so plain words survive).
  { name: 'hex', pattern: /\b(?:0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, replacement: '<hex>' },
  { name: 'number', pattern: /\d+(?:\.\d+)?/g, replacement: '<num>' },
];

/**
 * Extra rules for cache keys. Paths: two or more `/segment`s (or a Windows drive path) starting
 * the line or after a space, quote, `=`, `(` or `:`; "and/or" keeps its words. Quoted values:
 * a single- or double-quoted run of up to 100 characters with no whitespace (`'CsvBridge'`,
 * `user="bob"`) — never a quoted sentence, which may be the whole message (`msg="…"`).
 */
export const PATH_RULE: MaskRule = {
  name: 'path',
  pattern: /(?<=^|[\s"'=(:])(?:[a-z]:\\|\/)[\w.~%+-]+(?:[/\\][\w.~%+-]*)+/gi,
  replacement: '<path>',
};
export const QUOTED_RULE: MaskRule = {
  name: 'quoted',
  pattern: /(?<=^|[\s=(:,[])(?:'[^'\s]{1,100}'|"[^"\s]{1,100}")(?=$|[\s.,;:)\]])/g,
  replacement: '<str>',
};

/** The service's default cache-key rules (also what configs/mask_rules.json ships). */
export const CACHE_MASK_RULES: readonly MaskRule[] = [
  DEFAULT_MASK_RULES[0],
  QUOTED_RULE,
  PATH_RULE,
  ...DEFAULT_MASK_RULES.slice(1),
];

const WHITESPACE_RUN = /\s+/g;
const NEEDS_WHITESPACE_PASS = /\s\s|[\t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]|^\s|\s$/;

export function compileMasker(rules: readonly MaskRule[] = DEFAULT_MASK_RULES): (message: string) => string {
  return (message) => {
    let out = message;
    for (const rule of rules) out = out.replace(rule.pattern, rule.replacement);
    // Most lines have single spaces only: skip the allocation of a second replace then.
    return NEEDS_WHITESPACE_PASS.test(out) ? out.replace(WHITESPACE_RUN, ' ').trim() : out;
  };
}

/** The default masker (fixed rules: evaluation splits). */
export const maskMessage = compileMasker();

const ruleSchema = z.object({
  name: z.string().min(1),
  /** JavaScript RegExp source. */
  pattern: z.string().min(1),
  /** `g` is always added. */
  flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').default(''),
  replacement: z.string(),
  enabled: z.boolean().default(true),
});
const fileSchema = z.object({ rules: z.array(ruleSchema) });

export class MaskRuleError extends Error {}

/** Validates and compiles mask rules (JSON as in configs/mask_rules.json); throws naming the bad rule. */
export function compileMaskRules(json: unknown, source = 'mask rules'): MaskRule[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MaskRuleError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.rules
    .filter((r) => r.enabled)
    .map((r) => {
      let pattern: RegExp;
      try {
        pattern = new RegExp(r.pattern, `g${r.flags.replace(/g/g, '')}`);
      } catch (err) {
        throw new MaskRuleError(`${source}: rule ${r.name}: invalid pattern: ${(err as Error).message}`);
      }
      return { name: r.name, pattern, replacement: r.replacement };
    });
}

/** Reads and compiles a mask rules file. */
export function loadMaskRules(path: string): MaskRule[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MaskRuleError(`could not read mask rules ${path}: ${(err as Error).message}`);
  }
  return compileMaskRules(json, path);
}
