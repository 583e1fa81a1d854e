import safeRegex from 'safe-regex2';
import { z } from 'zod';
import { readJsonFile } from '../json-file.js';
import type { LogRecord, Stage, Verdict } from './types.js';

/** Stage 1: ordered regular-expression rules; the first rule that matches decides, with confidence 1. */
const ruleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'use letters, digits, _ . -'),
  pattern: z.string().min(1),
  flags: z.string().regex(/^[imsu]*$/, 'only i, m, s and u are allowed').default('i'),
  label: z.string().min(1),
  description: z.string().default(''),
});

export const rulesFileSchema = z.object({
  rules: z.array(ruleSchema),
});

export type RegexRule = z.infer<typeof ruleSchema>;

export class RuleError extends Error {}

interface CompiledRule {
  readonly id: string;
  readonly label: string;
  readonly regex: RegExp;
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
    let regex: RegExp;
    try {
      regex = new RegExp(rule.pattern, rule.flags);
    } catch (err) {
      throw new RuleError(`${source}: rule ${rule.id} has an invalid pattern: ${(err as Error).message}`);
    }
    // Nested quantifiers (star height > 1) can backtrack exponentially on hostile log lines.
    if (!safeRegex(regex)) {
      throw new RuleError(`${source}: rule ${rule.id} may backtrack catastrophically (nested quantifiers): /${rule.pattern}/`);
    }
    return { id: rule.id, label: rule.label, regex };
  });
}

export async function loadRules(path: string): Promise<CompiledRule[]> {
  const json = await readJsonFile(path, (m) => new RuleError(m), `regex rules file not found: ${path}`);
  return compileRules(json, path);
}

export class RegexStage implements Stage<LogRecord> {
  readonly name = 'regex' as const;
  constructor(private readonly rules: readonly CompiledRule[]) {}

  get labels(): string[] {
    return [...new Set(this.rules.map((r) => r.label))];
  }

  /** The id of the first matching rule, for explanations and tests. */
  match(message: string): CompiledRule | undefined {
    return this.rules.find((rule) => rule.regex.test(message));
  }

  async classify(records: readonly LogRecord[]): Promise<(Verdict | undefined)[]> {
    return records.map((r) => {
      const rule = this.match(r.message);
      return rule && { label: rule.label, confidence: 1 };
    });
  }
}
