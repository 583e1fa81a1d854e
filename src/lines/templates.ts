/**
 * Online template mining: each message joins (or founds) a template — its constant words with
 * `<*>` where lines of the template differ — and comes back with the template's id, text and the
 * line's parameters (what stands at the `<*>`s), one line at a time, in bounded memory.
 *
 * The message is what header.ts leaves of a line (no timestamp, host, pid, level or component).
 * The method borrows from three published miners:
 * - Drain: lines of one template have the same number of tokens and mostly the same leading
 *   words, so candidates are looked up by (token count, first word), and a line joins the most
 *   similar candidate if at least `similarity` of its positions agree; a token with a digit is a
 *   parameter before any comparison.
 * - Spell: a template whose variable part spans a varying number of tokens (`bytes (1.2 KB) sent`
 *   beside `bytes sent`) is found by the longest common subsequence of constant tokens; the
 *   template then becomes a sequence of constants and gaps that match zero or more tokens.
 * - Brain: the position of a template's anchor word is not fixed; here the bucket key is the
 *   first plain word among the first tokens, so a variable leading token (a program, host or
 *   user name) does not split a template as Drain's first-token tree does.
 * Plus `key=value` tokens are split at `=`, so the key stays a constant beside a variable value.
 *
 * Determinism: no randomness, no clock; the result depends only on the lines and their order.
 *
 * Template ids are a hash of the template text, so the same text has the same id in any process
 * and after a restart. When a template generalises (a constant becomes `<*>`) its text, and so
 * its id, changes: the line that caused it gets `previousId`, the id the template had before.
 * The alternative (an id fixed when the template is founded) would name the same template
 * differently in two processes that saw its lines in a different order; content ids converge:
 * two templates that end up with the same text share one id.
 *
 * Memory: at most `maxTemplates` templates, each of at most `maxTokens` tokens; past the cap the
 * least recently used template is forgotten (a later line of it founds it again, with an id from
 * its text: the same id once it has generalised as before).
 */

export interface TemplateMinerOptions {
  /** Templates remembered; past it the least recently used one is evicted. Default 10,000. */
  readonly maxTemplates?: number;
  /** Share of positions that must agree for a line to join a same-length template. Default 0.5. */
  readonly similarity?: number;
  /**
   * Share of constant tokens (of the longer side) a line must have in order with a template of
   * another length to merge with it into a template with gaps. Default 0.8.
   */
  readonly gapSimilarity?: number;
  /**
   * Different plain words seen at one place of a template before the place is a parameter;
   * until then each word makes a template of its own. Default 3.
   */
  readonly wordVariants?: number;
  /** Tokens of a message considered; the rest is one last token. Default 128. */
  readonly maxTokens?: number;
}

export interface MinedTemplate {
  /** 16 hex digits: a hash of `template`. */
  readonly id: string;
  /** The template's text, `<*>` for each variable part. */
  readonly template: string;
  /** The line's values at the template's `<*>`s, in order. */
  readonly parameters: readonly string[];
  /**
   * Set when this line changed the template's text: the ids it replaces (the template's id
   * before, and those of templates merged into it). Lines given those ids belong to this one now.
   */
  readonly previousIds?: readonly string[];
}

/** A token of a message: its text, and whether it follows the previous token with no space. */
interface Token {
  readonly text: string;
  readonly glued: boolean;
  /** Holds a digit: a parameter whatever the template says. */
  readonly variable: boolean;
  /** The key of a `key=value` or `key:value` word. */
  readonly key?: boolean;
}

/** `null` is `<*>`: one token in a fixed-length template, zero or more in a template with gaps. */
type Slot = string | null;

interface Template {
  slots: Slot[];
  glue: boolean[];
  /** Its `<*>`s match any number of tokens (merged by common subsequence). */
  gaps: boolean;
  readonly key: string;
  readonly length: number;
  text: string;
  id: string;
  /** Constant slots: the template's side of the gap similarity. */
  constants: number;
  lines: number;
  /** Plain words seen at a constant place by lines that disagreed only there (see joinSimilar). */
  variants?: Map<number, Set<string>>;
}

export const WILDCARD = '<*>';
const DIGIT = /\d/;
/** A plain word (letters, `_`, `-`), maybe with closing punctuation: the bucket key. */
const WORD = /^[A-Za-z][A-Za-z_-]*[:,.;]?$/;
/** A word that may be a constant of its own (see joinSimilar): no digit, no path, host or quote. */
const PLAIN = /^[A-Za-z][A-Za-z_.-]*\d?[:,.;!?)\]]*$/;
/**
 * A word with digits that is a name, not a value: letters with single digits between them or
 * at the end (`ssh2`, `SOCKS5`, `md5`, `isBluetoothA2dpOn`); every other token with a digit is a
 * parameter.
 */
const NAME_WITH_DIGIT = /^[A-Za-z]{2,}(?:\d[A-Za-z]+)*\d?[:,.;!?)\]]*$/;
/** A long run of hex digits is an id even without a digit (`ffffffff`). */
const HEX_ID = /^(?:0x)?[0-9a-fA-F]{8,}[,;.]?$/;
const isVariable = (text: string): boolean => (DIGIT.test(text) && !NAME_WITH_DIGIT.test(text)) || HEX_ID.test(text);
/** Leading tokens looked at for the bucket key. */
const KEY_WINDOW = 3;
/** `key=value` (a key of word characters, dots, dashes) or `key:value` (a key of word characters): the key with its sign, and the value. */
const KEY_VALUE = /^([A-Za-z_][\w.-]*=|[A-Za-z_]\w*:)(.+)$/;

/** Words after an opening bracket within which its closing one makes a group (tokenize). */
const GROUP_WORDS = 3;
/** Words after an opening quote within which its closing one makes one value. */
const QUOTED_WORDS = 8;

/** The message as tokens: whitespace-separated, `key=value` split after the `=`. */
export function tokenize(message: string, maxTokens = 128): Token[] {
  const tokens: Token[] = [];
  const words = message.split(/\s+/).filter((w) => w.length > 0);
  for (let w = 0; w < words.length; w++) {
    if (tokens.length >= maxTokens - 1 && w < words.length - 1) {
      // One last token for the rest: a line of 10,000 tokens costs no more than one of 128.
      const rest = words.slice(w).join(' ');
      tokens.push({ text: rest, glued: false, variable: true });
      break;
    }
    let word = words[w];
    let glued = false;
    // A short bracketed group with a digit (`(1.2 KB)`, `[pid 42]`) is one value.
    const close = word[0] === '(' ? ')' : word[0] === '[' ? ']' : undefined;
    if (close && !word.includes(close)) {
      const end = words.findIndex((x, k) => k > w && k <= w + GROUP_WORDS && x.includes(close));
      const group = end > 0 ? words.slice(w, end + 1).join(' ') : '';
      if (DIGIT.test(group)) {
        tokens.push({ text: group, glued: false, variable: true });
        w = end;
        continue;
      }
    }
    // A quoted value with spaces in it is one value (`tag="View Lock",`).
    const quote = /^[\w.-]*=?(["'])/.exec(word)?.[1];
    if (quote && word.indexOf(quote) === word.lastIndexOf(quote)) {
      const end = words.findIndex((x, k) => k > w && k <= w + QUOTED_WORDS && x.includes(quote));
      if (end > 0) word = words.slice(w, (w = end) + 1).join(' ');
    }
    // `a:b=c` is three tokens: each key stays a constant beside its value.
    for (let kv = KEY_VALUE.exec(word); kv; kv = KEY_VALUE.exec(word)) {
      // `host:8080` stays one token (a parameter), `isOverlap:false` is split.
      if (kv[1].endsWith(':') && DIGIT.test(kv[2])) break;
      tokens.push({ text: kv[1], glued, variable: DIGIT.test(kv[1]), key: true });
      word = kv[2];
      glued = true;
    }
    tokens.push({ text: word, glued, variable: isVariable(word) });
  }
  return tokens;
}

function bucketKey(tokens: readonly Token[]): string {
  const end = Math.min(tokens.length, KEY_WINDOW);
  for (let i = 0; i < end; i++) {
    const t = tokens[i];
    if (!t.variable && WORD.test(t.text)) return t.text.replace(/[:,.;]$/, '');
  }
  return '';
}

function render(slots: readonly Slot[], glue: readonly boolean[]): string {
  let out = '';
  for (let i = 0; i < slots.length; i++) {
    if (i > 0 && !glue[i]) out += ' ';
    out += slots[i] ?? WILDCARD;
  }
  return out;
}

/** 64-bit hash (two 32-bit lanes, cyrb53-style mixing) as 16 hex digits: stable across processes. */
export function templateId(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

function countConstants(slots: readonly Slot[]): number {
  let n = 0;
  for (const s of slots) if (s !== null) n++;
  return n;
}

/**
 * Where a line matches a template with gaps (each `null` slot: zero or more tokens), as the
 * parameters (the tokens each gap took, joined by a space); undefined when it does not match.
 * Glob matching with backtracking to the last gap: linear in practice.
 */
function matchGaps(slots: readonly Slot[], tokens: readonly Token[]): string[] | undefined {
  // take[i]: the token index where slot i's gap ended (for gap slots), to read parameters.
  const starts: number[] = new Array(slots.length).fill(-1);
  const ends: number[] = new Array(slots.length).fill(-1);
  let s = 0;
  let t = 0;
  let lastGap = -1;
  let lastGapToken = 0;
  while (t < tokens.length) {
    if (s < slots.length && slots[s] === null) {
      lastGap = s;
      lastGapToken = t;
      starts[s] = t;
      ends[s] = t;
      s++;
    } else if (s < slots.length && !tokens[t].variable && slots[s] === tokens[t].text) {
      s++;
      t++;
    } else if (lastGap >= 0) {
      // Let the last gap take one more token, and retry from after it.
      lastGapToken++;
      t = lastGapToken;
      s = lastGap + 1;
      ends[lastGap] = t;
    } else {
      return undefined;
    }
  }
  while (s < slots.length && slots[s] === null) {
    starts[s] = t;
    ends[s] = t;
    s++;
  }
  if (s < slots.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < slots.length; i++) {
    if (slots[i] !== null) continue;
    params.push(tokens.slice(starts[i], ends[i]).map((k) => k.text).join(' '));
  }
  return params;
}

/** Longest common subsequence of the template's constants and the line's constant tokens, as pairs (slot, token). */
function commonConstants(slots: readonly Slot[], tokens: readonly Token[]): [number, number][] {
  const n = slots.length;
  const m = tokens.length;
  const table: Uint16Array[] = [];
  for (let i = 0; i <= n; i++) table.push(new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i][j] =
        slots[i] !== null && !tokens[j].variable && slots[i] === tokens[j].text ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (slots[i] !== null && !tokens[j].variable && slots[i] === tokens[j].text) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[i + 1][j] >= table[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

/**
 * Mines templates from messages, one at a time (see the module comment). Not thread-safe; one
 * miner per stream of lines whose templates should be shared.
 */
export class TemplateMiner {
  private readonly maxTemplates: number;
  private readonly similarity: number;
  private readonly gapSimilarity: number;
  private readonly wordVariants: number;
  private readonly maxTokens: number;
  /** Fixed-length templates by token count and key. */
  private readonly fixed = new Map<string, Template[]>();
  /** Every template by key (the candidates of the gap merge and of templates with gaps). */
  private readonly byKey = new Map<string, Template[]>();
  /** Every template, least recently used first (a Map keeps insertion order). */
  private readonly recency = new Map<Template, true>();

  constructor(options: TemplateMinerOptions = {}) {
    this.maxTemplates = Math.max(1, options.maxTemplates ?? 10_000);
    this.similarity = options.similarity ?? 0.5;
    this.gapSimilarity = options.gapSimilarity ?? 0.8;
    this.wordVariants = Math.max(2, options.wordVariants ?? 3);
    this.maxTokens = Math.max(2, options.maxTokens ?? 128);
  }

  /** Templates held now (at most maxTemplates). */
  get size(): number {
    return this.recency.size;
  }

  /** Every template held, least recently used first: id, text and lines seen. */
  templates(): { id: string; template: string; lines: number }[] {
    return [...this.recency.keys()].map((t) => ({ id: t.id, template: t.text, lines: t.lines }));
  }

  /**
   * Holds a template again from its text (`<*>` for each parameter), as an earlier miner left it
   * (the template store seeds the service's miner at start-up, so that a restart does not found
   * each template anew from its first, more specific line and hand out other ids). The template
   * is held as a fixed-length one (whether its `<*>`s spanned several tokens is not in the text;
   * a line of another length merges with it as before). False, and nothing held, when the text
   * does not tokenize back into itself (its id would differ) or is held already.
   */
  seed(text: string): boolean {
    const tokens = tokenize(text, this.maxTokens);
    const slots: Slot[] = [];
    for (const t of tokens) {
      if (t.text === WILDCARD) slots.push(null);
      else if (t.variable) return false;
      else slots.push(t.text);
    }
    const glue = tokens.map((k, i) => i > 0 && k.glued);
    if (render(slots, glue) !== text) return false;
    const key = bucketKey(tokens);
    const id = templateId(text);
    if ((this.byKey.get(key) ?? []).some((t) => t.id === id)) return false;
    const t: Template = { slots, glue, gaps: false, key, length: tokens.length, text, id, constants: countConstants(slots), lines: 0 };
    this.hold(t);
    return true;
  }

  /** The message's template (joined, generalised or founded) and its parameters. */
  add(message: string): MinedTemplate {
    const tokens = tokenize(message, this.maxTokens);
    const key = bucketKey(tokens);
    const keyed = this.byKey.get(key);

    // A template with gaps that the line fits as it is.
    if (keyed) {
      for (const t of keyed) {
        if (!t.gaps) continue;
        const params = matchGaps(t.slots, tokens);
        if (params) {
          this.touch(t);
          t.lines++;
          return { id: t.id, template: t.text, parameters: params };
        }
      }
    }
    const same = this.fixed.get(`${tokens.length}\u0000${key}`);
    if (same) {
      const joined = this.joinSimilar(same, tokens);
      if (joined) return joined;
    }
    if (keyed) {
      const merged = this.mergeByCommonConstants(keyed, tokens);
      if (merged) return merged;
    }
    return this.found(tokens, key);
  }

  /**
   * Drain's step, with one difference: where the line and the template disagree on a plain word
   * (`password` / `none`, `begin` / `end`, `true` / `false`) or a key (`phoneId=` / `retVal=`), the line joins only once
   * `wordVariants` different words have been seen there; until then it founds (or joins) a
   * template of its own. A few recurring words at one place are usually different statements;
   * many (user names) are a parameter.
   */
  private joinSimilar(candidates: readonly Template[], tokens: readonly Token[]): MinedTemplate | undefined {
    let clean: Template | undefined;
    let cleanScore = -1;
    let cleanWild = -1;
    let rival: Template | undefined;
    let rivalScore = -1;
    let rivalWords: number[] = [];
    for (const t of candidates) {
      let agree = 0;
      let wild = 0;
      let words: number[] | undefined;
      for (let i = 0; i < tokens.length; i++) {
        const slot = t.slots[i];
        const token = tokens[i];
        if (slot === null) wild++;
        else if (!token.variable && slot === token.text) agree++;
        else if (!token.variable && ((PLAIN.test(slot) && PLAIN.test(token.text)) || (KEY_END.test(slot) && KEY_END.test(token.text)))) (words ??= []).push(i);
      }
      const score = agree / tokens.length;
      if (score < this.similarity) continue;
      if (!words) {
        if (score > cleanScore || (score === cleanScore && wild > cleanWild)) {
          clean = t;
          cleanScore = score;
          cleanWild = wild;
        }
      } else if (score > rivalScore) {
        rival = t;
        rivalScore = score;
        rivalWords = words;
      }
    }
    if (clean) return this.join(clean, tokens);
    if (!rival) return undefined;
    // Count the line's words at the disputed places; generalise once each place has enough.
    const variants = (rival.variants ??= new Map());
    let enough = true;
    for (const i of rivalWords) {
      let seen = variants.get(i);
      if (!seen) variants.set(i, (seen = new Set([rival.slots[i]!])));
      if (seen.size < this.wordVariants) seen.add(tokens[i].text);
      if (seen.size < this.wordVariants) enough = false;
    }
    if (!enough) return undefined;
    return this.join(rival, tokens, true);
  }

  /**
   * The line joins `t`: its slots that differ become `<*>`. `absorb`: templates of the bucket
   * that the generalised template now covers (the variants founded before the place was
   * known to be a parameter) are merged into it.
   */
  private join(t: Template, tokens: readonly Token[], absorb = false): MinedTemplate {
    this.touch(t);
    t.lines++;
    let changed = false;
    const params: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const slot = t.slots[i];
      if (slot !== null && (tokens[i].variable || slot !== tokens[i].text)) {
        t.slots[i] = null;
        changed = true;
      }
      if (t.slots[i] === null) params.push(tokens[i].text);
    }
    if (!changed) return { id: t.id, template: t.text, parameters: params };
    const previousIds = [t.id];
    this.retext(t);
    t.constants = countConstants(t.slots);
    if (absorb) {
      for (const other of [...(this.fixed.get(`${t.length}\u0000${t.key}`) ?? [])]) {
        if (other === t || !other.slots.every((s, i) => t.slots[i] === null || t.slots[i] === s)) continue;
        t.lines += other.lines;
        previousIds.push(other.id);
        this.remove(other);
      }
    }
    return { id: t.id, template: t.text, parameters: params, previousIds };
  }

  /**
   * Spell's step: merge with a template of another length (or with gaps) that shares most
   * constants in order. Every stretch either side has beyond the common constants must hold a
   * parameter (a token with a digit, or a `<*>`): a gap stands for a value printed in a varying
   * number of tokens (`1.2 KB`), not for words one statement has and another lacks.
   */
  private mergeByCommonConstants(candidates: readonly Template[], tokens: readonly Token[]): MinedTemplate | undefined {
    let lineConstants = 0;
    const words = new Set<string>();
    for (const tok of tokens) {
      if (tok.variable) continue;
      lineConstants++;
      words.add(tok.text);
    }
    if (lineConstants === 0) return undefined;
    let best: Template | undefined;
    let bestPairs: [number, number][] = [];
    for (const t of candidates) {
      if (!t.gaps && t.length === tokens.length) continue;
      // Not enough constants on one side to reach the threshold: skip the table.
      const longer = Math.max(t.constants, lineConstants);
      if (Math.min(t.constants, lineConstants) < this.gapSimilarity * longer) continue;
      // Nor when the template's constants that occur in the line at all (a bound on the common
      // subsequence) could not reach it, or beat the best so far: a bucket may hold thousands.
      let bound = 0;
      for (const slot of t.slots) if (slot !== null && words.has(slot)) bound++;
      if (bound < this.gapSimilarity * longer || bound <= bestPairs.length) continue;
      const pairs = commonConstants(t.slots, tokens);
      if (pairs.length >= this.gapSimilarity * longer && pairs.length > bestPairs.length && stretchesHoldParameters(t.slots, tokens, pairs)) {
        best = t;
        bestPairs = pairs;
      }
    }
    if (!best) return undefined;
    // The merged template: the common constants in order, one gap wherever either side had more.
    const slots: Slot[] = [];
    const glue: boolean[] = [];
    let prevSlot = -1;
    let prevToken = -1;
    const gap = (slot: number, token: number) => {
      if (slots.length > 0 && slots[slots.length - 1] === null) return;
      slots.push(null);
      // Glued as what it replaces was (`uid=<*>`).
      glue.push(slot < best!.slots.length && slot > prevSlot ? best!.glue[slot] : token < tokens.length ? tokens[token].glued : false);
    };
    for (const [i, j] of bestPairs) {
      if (i > prevSlot + 1 || j > prevToken + 1) gap(prevSlot + 1, prevToken + 1);
      slots.push(best.slots[i]);
      glue.push(slots.length > 1 && best.glue[i] && tokens[j].glued);
      prevSlot = i;
      prevToken = j;
    }
    if (prevSlot < best.slots.length - 1 || prevToken < tokens.length - 1) gap(prevSlot + 1, prevToken + 1);
    const previousIds = [best.id];
    best.slots = slots;
    best.glue = glue;
    best.constants = countConstants(slots);
    if (!best.gaps) {
      this.removeFrom(this.fixed, `${best.length}\u0000${best.key}`, best);
      best.gaps = true;
    }
    this.retext(best);
    this.touch(best);
    best.lines++;
    const params = matchGaps(best.slots, tokens) ?? [];
    return previousIds[0] === best.id ? { id: best.id, template: best.text, parameters: params } : { id: best.id, template: best.text, parameters: params, previousIds };
  }

  private found(tokens: readonly Token[], key: string): MinedTemplate {
    const slots = tokens.map((t) => (t.variable ? null : t.text));
    const t: Template = { slots, glue: tokens.map((k, i) => i > 0 && k.glued), gaps: false, key, length: tokens.length, text: '', id: '', constants: countConstants(slots), lines: 1 };
    this.retext(t);
    this.hold(t);
    return { id: t.id, template: t.text, parameters: tokens.filter((k) => k.variable).map((k) => k.text) };
  }

  /** Indexes a new template as the most recently used; past maxTemplates the least recently used goes. */
  private hold(t: Template): void {
    this.addTo(this.fixed, `${t.length}\u0000${t.key}`, t);
    this.addTo(this.byKey, t.key, t);
    this.recency.set(t, true);
    if (this.recency.size > this.maxTemplates) this.remove(this.recency.keys().next().value as Template);
  }

  private retext(t: Template): void {
    t.text = render(t.slots, t.glue);
    t.id = templateId(t.text);
  }

  private touch(t: Template): void {
    this.recency.delete(t);
    this.recency.set(t, true);
  }

  private remove(t: Template): void {
    this.recency.delete(t);
    if (!t.gaps) this.removeFrom(this.fixed, `${t.length}\u0000${t.key}`, t);
    this.removeFrom(this.byKey, t.key, t);
  }

  private addTo(index: Map<string, Template[]>, key: string, t: Template): void {
    const list = index.get(key);
    if (list) list.push(t);
    else index.set(key, [t]);
  }

  private removeFrom(index: Map<string, Template[]>, key: string, t: Template): void {
    const list = index.get(key);
    if (!list) return;
    const at = list.indexOf(t);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) index.delete(key);
  }
}

const KEY_END = /=$/;

/**
 * Every stretch between common constants, on either side, is empty or holds a parameter, and
 * holds no key (`user=`): a field one statement prints and another lacks is not a gap.
 */
function stretchesHoldParameters(slots: readonly Slot[], tokens: readonly Token[], pairs: readonly [number, number][]): boolean {
  let prevSlot = -1;
  let prevToken = -1;
  const ok = (slotEnd: number, tokenEnd: number): boolean => {
    let slotParam = slotEnd === prevSlot + 1;
    for (let i = prevSlot + 1; i < slotEnd && !slotParam; i++) if (slots[i] === null) slotParam = true;
    let tokenParam = tokenEnd === prevToken + 1;
    for (let j = prevToken + 1; j < tokenEnd; j++) {
      if (tokens[j].key && KEY_END.test(tokens[j].text)) return false;
      if (tokens[j].variable) tokenParam = true;
    }
    for (let i = prevSlot + 1; i < slotEnd; i++) if (slots[i] !== null && KEY_END.test(slots[i]!)) return false;
    return slotParam && tokenParam;
  };
  for (const [i, j] of pairs) {
    if (!ok(i, j)) return false;
    prevSlot = i;
    prevToken = j;
  }
  return ok(slots.length, tokens.length);
}
