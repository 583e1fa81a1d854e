/**
 * Regex rules suggested from mined templates, in the format of configs/regex_rules.json: each
 * anchored at both ends, the template's constant words escaped (digits in them as `\d`, so a
 * rule stays digit-blind and the regex stage keeps remembering its answer per line shape), and
 * each `<*>` a bounded class: one token (`\S{1,128}`), or, where the template's lines need it (a
 * value printed over several tokens, a gap of zero or more tokens), a bounded run of any
 * characters (`.{1,256}`). Bounded classes on RE2: linear time whatever the line.
 *
 * A rule is kept only when
 * - the service's own loader (stages/regex.ts compileRules: the zod schema, then RE2) takes it,
 * - it matches every sampled line of its template, and
 * - it matches no sampled line of any other template of the file.
 * Otherwise it is rejected, with the reason.
 */
import { compileRules, type RegexRule } from '../stages/regex.js';
import { LinearPatternSet } from '../lines/linear-regex.js';
import { WILDCARD } from '../lines/templates.js';

/** A template a rule may be suggested for. */
export interface RuleCandidate {
  readonly id: string;
  readonly template: string;
  /** The pipeline's label for the template (its example line's). */
  readonly label: string;
  readonly confidence: number;
  readonly lines: number;
}

/** Lines of a template (messages, header split off, as the rules see them). */
export interface TemplateSamples {
  readonly id: string;
  readonly samples: readonly string[];
}

export interface RejectedRule {
  readonly template_id: string;
  readonly template: string;
  readonly reason: string;
}

export interface SuggestedRules {
  readonly rules: RegexRule[];
  readonly rejected: RejectedRule[];
}

/** One token of a line. */
export const TOKEN_CLASS = '\\S{1,128}';
/** A value over several tokens, or a gap of several tokens. */
export const SPAN_CLASS = '.{1,256}';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/\d/g, '\\d');

/**
 * The template as an anchored pattern. `wide`: every `<*>` standing alone may take zero or more
 * tokens (a template with gaps) and one glued to a word may hold spaces; otherwise each is one token.
 */
export function templatePattern(template: string, wide = false): string {
  let pieces = template.split(' ').filter((p) => p.length > 0);
  // Wide: `<*> <*>` is one gap (a gap already takes any number of tokens).
  if (wide) pieces = pieces.filter((p, k) => !(p === WILDCARD && pieces[k - 1] === WILDCARD));
  let out = '^\\s*';
  // Whether the text so far ends where the next piece may start without a space (after a leading gap, which takes its own).
  let spaced = true;
  pieces.forEach((piece, k) => {
    if (piece === WILDCARD && wide) {
      // Zero or more tokens: the separator goes inside the optional group.
      out += k === 0 ? `(?:${SPAN_CLASS}\\s+)?` : `(?:\\s+${SPAN_CLASS})?`;
      spaced = k === 0;
      return;
    }
    const body = piece
      .split(WILDCARD)
      .map(escape)
      .join(wide ? SPAN_CLASS : TOKEN_CLASS);
    out += (k === 0 || spaced ? '' : '\\s+') + body;
    spaced = false;
  });
  return `${out}\\s*$`;
}

/** Rule id for a template: `tpl-` and its id. */
export const ruleId = (templateId: string): string => `tpl-${templateId}`;

/**
 * Rules for `candidates`, checked against the sampled lines of every template (`samples`, the
 * candidates' own included). `source` names the rules in the loader's messages.
 */
export function suggestRules(candidates: readonly RuleCandidate[], samples: readonly TemplateSamples[], source = 'suggested rules'): SuggestedRules {
  const byId = new Map(samples.map((s) => [s.id, s.samples]));
  const rejected: RejectedRule[] = [];
  const kept: { rule: RegexRule; candidate: RuleCandidate; regex: ReturnType<typeof compileRules>[number]['regex'] }[] = [];
  for (const c of candidates) {
    const own = byId.get(c.id) ?? [];
    if (!/[A-Za-z]/.test(c.template.split(WILDCARD).join(''))) {
      rejected.push({ template_id: c.id, template: c.template, reason: 'no constant word to anchor a rule on' });
      continue;
    }
    const reasons: string[] = [];
    let accepted: (typeof kept)[number] | undefined;
    for (const wide of [false, true]) {
      const rule: RegexRule = {
        id: ruleId(c.id),
        pattern: templatePattern(c.template, wide),
        flags: '',
        label: c.label,
        description: `${c.template} (${c.lines} lines; model confidence ${c.confidence.toFixed(3)})`,
      };
      let compiled;
      try {
        // The service's loader: what it refuses, the service would refuse at start-up.
        [compiled] = compileRules({ rules: [rule] }, source);
      } catch (err) {
        const m = (err as Error).message;
        reasons.push(`${wide ? 'wide' : 'one token per <*>'}: the rules loader refuses it: ${m.length > 400 ? `${m.slice(0, 150)} … ${m.slice(-200)}` : m}`);
        continue;
      }
      const missed = own.find((line) => !compiled.regex.test(line));
      if (missed !== undefined) {
        reasons.push(`${wide ? 'wide' : 'one token per <*>'}: does not match its own line ${JSON.stringify(missed.slice(0, 200))}`);
        continue;
      }
      accepted = { rule, candidate: c, regex: compiled.regex };
      break;
    }
    if (accepted) kept.push(accepted);
    else rejected.push({ template_id: c.id, template: c.template, reason: reasons.join('; ') });
  }
  // Overlap: a rule that matches a line of another template would decide that template's lines too.
  const overlaps = new Map<number, string>();
  if (kept.length > 0) {
    const set = new LinearPatternSet(kept.map((k) => k.regex));
    for (const { id, samples: lines } of samples) {
      for (const line of lines) {
        for (const r of set.matching(line)) {
          if (kept[r].candidate.id !== id && !overlaps.has(r)) overlaps.set(r, `also matches a line of template ${id}: ${JSON.stringify(line.slice(0, 200))}`);
        }
      }
    }
  }
  const rules: RegexRule[] = [];
  kept.forEach((k, r) => {
    const overlap = overlaps.get(r);
    if (overlap) rejected.push({ template_id: k.candidate.id, template: k.candidate.template, reason: overlap });
    else rules.push(k.rule);
  });
  // The whole file as the service would load it (ids unique, every pattern on RE2).
  compileRules({ rules }, source);
  return { rules, rejected };
}
