import { z } from 'zod';
import { compileLinear, isDigitBlind, LinearPatternSet, type LinearRegExp } from '../lines/linear-regex.js';
import type { RowRecord, Stage, Verdict } from './types.js';
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
  /** The rule cannot tell one digit from another (isDigitBlind). */
  readonly digitBlind: boolean;
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
      return { id: rule.id, label: rule.label, regex: compileLinear(rule.pattern, rule.flags, `${source}: rule ${rule.id}`), digitBlind: isDigitBlind(rule.pattern, rule.flags) };
    } catch (err) {
      throw new RuleError((err as Error).message);
    }
  });
}


/** The rules of one kind (digit-blind or not) as one pattern set, with their places in the rule list. */
class RuleSubset {
  private readonly set: LinearPatternSet;
  constructor(private readonly order: readonly number[], rules: readonly CompiledRule[]) {
    this.set = new LinearPatternSet(order.map((i) => rules[i].regex));
  }
  get firstPlace(): number {
    return this.order.length ? this.order[0] : Infinity;
  }
  /** Place (in the whole rule list) of the first of these rules that matches; Infinity for none. */
  first(message: string): number {
    if (this.order.length === 0) return Infinity;
    const k = this.set.first(message);
    return k < 0 ? Infinity : this.order[k];
  }
}

export class RegexStage implements Stage<RowRecord> {
  readonly name = 'regex' as const;
  /** Rules that cannot tell digits apart: what they find is remembered per line shape. */
  private readonly blind: RuleSubset;
  /** The others (a rule with `5\d\d` or `[1-5]` in it; none of the shipped ones): run on every row. */
  private readonly digitSensitive: RuleSubset;
  private readonly byShape = new WeakMap<object, number>();

  constructor(private readonly rules: readonly CompiledRule[]) {
    const places = rules.map((_, i) => i);
    this.blind = new RuleSubset(places.filter((i) => rules[i].digitBlind), rules);
    this.digitSensitive = new RuleSubset(places.filter((i) => !rules[i].digitBlind), rules);
  }

  get labels(): string[] {
    return [...new Set(this.rules.map((r) => r.label))];
  }

  /**
   * The first rule (in file order) that matches, for explanations and tests. `shape`: the
   * record's shape object (RowRecord.shape), under which the digit-blind rules' answer is kept.
   */
  match(message: string, shape?: object): CompiledRule | undefined {
    let place = shape === undefined ? undefined : this.byShape.get(shape);
    if (place === undefined) {
      place = this.blind.first(message);
      if (shape !== undefined) this.byShape.set(shape, place);
    }
    if (this.digitSensitive.firstPlace < place) place = Math.min(place, this.digitSensitive.first(message));
    return place === Infinity ? undefined : this.rules[place];
  }

  async classify(records: readonly RowRecord[]): Promise<(Verdict | undefined)[]> {
    return records.map((r) => {
      const rule = this.match(r.message, r.shape);
      return rule && { label: rule.label, confidence: 1, rule: rule.id };
    });
  }
}
