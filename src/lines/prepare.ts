import { LRUCache } from 'lru-cache';
import type { HeaderParser } from './header.js';
import type { PreparedLine } from './types.js';

/** A line split and masked: the body the rules see, and the prepared line the models see. */
export interface Prepared {
  /** The message without its header, unmasked (what the regex rules match). */
  readonly body: string;
  readonly line: PreparedLine;
  /** The prepared line as one string: the cache key and what the LLM is shown. */
  readonly text: string;
  /**
   * An object shared by the lines that prepare alike and whose bodies have one shape (RowRecord.shape):
   * the line's shape entry when the shape cache answered or learnt it; for a line it does not
   * take (a JSON or logfmt record, a level read from digits), the masked cache's entry for its
   * message, component and level shapes. The same object for every such line, for as long as it is
   * cached; unset when neither cache holds the line (its prepared text keeps a digit, a long line).
   */
  readonly shape?: object;
}

/** `[warn] QuorumCnxManager: Connection broken for id <num>`: level, component, masked message. */
export function preparedText(line: PreparedLine): string {
  return `${line.level ? `[${line.level}] ` : ''}${line.component ? `${line.component}: ` : ''}${line.text}`;
}

export interface PreparerOptions {
  /** Characters of a line that are parsed and masked (the output keeps the whole line). Default 10,000. */
  readonly maxChars?: number;
  /**
   * Size of the shape cache (see LinePreparer), in characters of the lines and prepared texts it
   * holds plus 64 per entry for the rest (the second level gets half as much); 0 turns both off.
   * Default 4,000,000.
   */
  readonly shapeCacheChars?: number;
}

/** What a shape's lines share: the message's place in the trimmed line, and the prepared line. */
interface ShapeEntry {
  /** A line of the shape (the one it was learnt from): lookups by hash are checked against it. */
  readonly sample: string;
  readonly start: number;
  readonly end: number;
  readonly line: PreparedLine;
  readonly text: string;
}

/** A masked message and component: what any message and component of their shapes mask to. */
interface MaskedEntry {
  readonly message: string;
  readonly component: string | undefined;
  readonly level: PreparedLine['level'];
  readonly line: PreparedLine;
  readonly text: string;
  /** In the cache (an answer for every message of its shapes); false: this message's alone (its masked text keeps a digit). */
  readonly cached: boolean;
}

const DIGIT = /\d/;
const ZERO = 48;
const NINE = 57;

/** FNV-1a over the UTF-16 code units of the line's shape (every ASCII digit read as 0), without building it. */
function shapeHash(line: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    h = Math.imul(h ^ (c > ZERO && c <= NINE ? ZERO : c), 0x01000193);
  }
  return h >>> 0;
}

/** The two lines have the same shape: equal but for which ASCII digits stand where. */
function sameShape(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && !(x >= ZERO && x <= NINE && y >= ZERO && y <= NINE)) return false;
  }
  return true;
}
/** Longer lines are prepared every time: their shapes would crowd the cache for little gain. */
const MAX_SHAPE_CHARS = 2_000;

/**
 * Header parsing then masking, once per row. The masked form drops what varies between lines
 * of one template (numbers, ids, addresses, paths, quoted values; the timestamp and host are
 * in the header), so the models decide each template once and cannot be steered by a value.
 *
 * Lines of one template mostly differ in their digits only. When neither the header formats nor
 * the mask rules can tell one digit from another (isDigitBlind), two lines with the same shape
 * (every digit read as 0) are split at the same places and masked alike; if no digit survives
 * into the prepared line, both prepare to the same result. The preparer remembers that result
 * per shape, so a repeat costs a digit pass and a lookup instead of a header match and the mask
 * rules: the same answers, bit for bit, a fraction of the time.
 */
export class LinePreparer {
  private readonly maxChars: number;
  /** Shapes by their hash; an entry answers only a line of its own shape (sameShape). */
  private readonly shapes?: LRUCache<number, ShapeEntry>;
  /**
   * Second level, after the header split: masked lines by the shapes of their message and
   * component (and their level), so a line whose header is new (another host, a longer pid) but
   * whose message is a known shape skips the mask rules — as do JSON records, which the shape
   * cache never takes. Needs only the mask rules to be digit-blind.
   */
  private readonly masked?: LRUCache<number, MaskedEntry>;

  constructor(
    private readonly parser: HeaderParser,
    private readonly mask: ((text: string) => string) & { readonly digitBlind?: boolean },
    options: PreparerOptions = {},
  ) {
    this.maxChars = options.maxChars ?? 10_000;
    const shapeChars = options.shapeCacheChars ?? 4_000_000;
    if (shapeChars > 0 && parser.digitBlind && mask.digitBlind === true) {
      this.shapes = new LRUCache({ maxSize: shapeChars, sizeCalculation: (entry) => entry.sample.length + entry.text.length + 64 });
    }
    if (shapeChars > 0 && mask.digitBlind === true) {
      this.masked = new LRUCache({ maxSize: shapeChars / 2, sizeCalculation: (entry) => entry.message.length + (entry.component?.length ?? 0) + entry.text.length + 64 });
    }
  }

  /** Whether repeats of a shape are answered from the shape cache (the patterns are digit-blind). */
  get shapeCached(): boolean {
    return this.shapes !== undefined;
  }

  prepare(message: string): Prepared {
    const clipped = message.length > this.maxChars ? message.slice(0, this.maxChars) : message;
    const shapes = clipped.length <= MAX_SHAPE_CHARS ? this.shapes : undefined;
    const hash = shapes ? shapeHash(clipped) : 0;
    if (shapes) {
      const known = shapes.get(hash);
      if (known && sameShape(known.sample, clipped)) return { body: clipped.trim().slice(known.start, known.end), line: known.line, text: known.text, shape: known };
    }
    const parsed = this.parser.parse(clipped);
    const masked = this.maskParsed(parsed.message, parsed.component, parsed.level);
    const { line, text } = masked;
    // Digits left in the prepared line would differ between lines of the shape.
    if (shapes && parsed.span && !DIGIT.test(text)) {
      const entry: ShapeEntry = { sample: clipped, start: parsed.span[0], end: parsed.span[1], line, text };
      shapes.set(hash, entry);
      return { body: parsed.message, line, text, shape: entry };
    }
    // Not a shape of its own (a JSON record, say), but the masked entry stands for the lines
    // whose message (the body), component and level have these shapes: they prepare alike.
    // `shape` is always set (if undefined): one object shape for every Prepared keeps the code
    // that reads it on every row monomorphic.
    return { body: parsed.message, line, text, shape: masked.cached ? masked : undefined };
  }

  /**
   * The masked line of a split line, from the second-level cache when its shapes are known: the
   * cache's entry (found or learnt), or one for this message alone (`cached` false).
   */
  private maskParsed(message: string, component: string | undefined, level: PreparedLine['level']): MaskedEntry {
    const masked = this.masked;
    const hash = masked && message.length <= MAX_SHAPE_CHARS ? (Math.imul(shapeHash(message), 31) ^ shapeHash(component ?? '\u0000') ^ (level?.length ?? 0)) >>> 0 : undefined;
    if (hash !== undefined) {
      const known = masked!.get(hash);
      if (
        known &&
        known.level === level &&
        (known.component === undefined) === (component === undefined) &&
        sameShape(known.message, message) &&
        sameShape(known.component ?? '', component ?? '')
      ) {
        return known;
      }
    }
    const line: PreparedLine = { level, component: component === undefined ? undefined : this.mask(component), text: this.mask(message) };
    const text = preparedText(line);
    // Digits left in the masked line would differ between messages of the shape.
    if (hash !== undefined && !DIGIT.test(text)) {
      const entry: MaskedEntry = { message, component, level, line, text, cached: true };
      masked!.set(hash, entry);
      return entry;
    }
    return { message, component, level, line, text, cached: false };
  }
}
