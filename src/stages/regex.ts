import { z } from 'zod';
import { compileLinear, type LinearRegExp } from '../lines/linear-regex.js';
import type { LogRecord, Stage, Verdict } from './types.js';
import { RuleError } from '../errors.js';

/**
 * Stage 1: ordered regular-expression rules; the first rule that matches decides, with confidence 1.
 * Rules run on the linear-time engine (linear-regex.ts): no rule can stall on a hostile line.
 */
const ruleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'use letters, digits, _ . -'),
  /** JavaScript RegExp syntax without lookaround or backreferences (run by RE2: linear time). */
  pattern: z.string().min(1),
  flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').default('i'),
  label: z.string().min(1),
  description: z.string().default(''),
});

export const rulesFileSchema = z.object({
  rules: z.array(ruleSchema),
});

export type RegexRule = z.infer<typeof ruleSchema>;

export { RuleError } from '../errors.js';

export interface CompiledRule {
  readonly id: string;
  readonly label: string;
  readonly regex: LinearRegExp;
}

/** Validates and compiles rules; throws RuleError naming the offending rule. */
export function compileRules(json: unknown, source = 'rules'): CompiledRule[] {
  const parsed = rulesFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first.path[0] === 'rules' && typeof first.path[1] === 'number'
      ? `rule #${first.path[1] + 1}${(json as { rules?: { id?: string }[] }).rules?.[first.path[1]]?.id ? ` (${(json as { rules: { id?: string }[] }).rules[first.path[1]].id})` : ''}`
      : '(root)';
    throw new RuleError(`${source}: ${where} ${first.path.slice(2).join('.')}: ${first.message}`.replace(/ : /, ': '));
  }
  const seen = new Set<string>();
  return parsed.data.rules.map((rule) => {
    if (seen.has(rule.id)) throw new RuleError(`${source}: rule ${rule.id} is defined twice`);
    seen.add(rule.id);
    try {
      return { id: rule.id, label: rule.label, regex: compileLinear(rule.pattern, rule.flags, `${source}: rule ${rule.id}`) };
    } catch (err) {
      throw new RuleError((err as Error).message);
    }
  });
}


export class RegexStage implements Stage<LogRecord> {
  readonly name = 'regex' as const;
  constructor(private readonly rules: readonly CompiledRule[]) {}

  get labels(): string[] {
    return [...new Set(this.rules.map((r) => r.label))];
  }

  /** The id of the first matching rule, for explanations and tests. */
  match(message: string): CompiledRule | undefined {
    // One UTF-8 conversion for all rules instead of one per rule (see linear-regex.ts).
    const text = Buffer.from(message, 'utf8');
    return this.rules.find((rule) => rule.regex.test(text));
  }

  async classify(records: readonly LogRecord[]): Promise<(Verdict | undefined)[]> {
    return records.map((r) => {
      const rule = this.match(r.message);
      return rule && { label: rule.label, confidence: 1 };
    });
  }
}
