/**
 * Masks the variable parts of a log line (ids, numbers, addresses, quoted values) so that
 * lines from one template share one key. Used for decision caching, LLM caching and
 * template-grouped evaluation splits.
 */
export interface MaskRule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replacement: string;
}

// Order matters: the most specific shapes go first so a UUID is not eaten as hex + numbers.
export const DEFAULT_MASK_RULES: readonly MaskRule[] = [
  { name: 'uuid', pattern: /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, replacement: '<uuid>' },
  { name: 'ipv4', pattern: /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, replacement: '<ip>' },
  // Hex ids: 6+ hex digits with at least one digit and one letter (so plain words survive).
  { name: 'hex', pattern: /\b(?:0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, replacement: '<hex>' },
  { name: 'number', pattern: /\d+(?:\.\d+)?/g, replacement: '<num>' },
];

export function compileMasker(rules: readonly MaskRule[] = DEFAULT_MASK_RULES): (message: string) => string {
  return (message) => {
    let out = message;
    for (const rule of rules) out = out.replace(rule.pattern, rule.replacement);
    return out.replace(/\s+/g, ' ').trim();
  };
}

/** The default masker. */
export const maskMessage = compileMasker();
