import type { HeaderParser } from './header.js';
import type { PreparedLine } from './types.js';

/** A line split and masked: the body the rules see, and the prepared line the models see. */
export interface Prepared {
  /** The message without its header, unmasked (what the regex rules match). */
  readonly body: string;
  readonly line: PreparedLine;
  /** The prepared line as one string: the cache key and what the LLM is shown. */
  readonly text: string;
}

/** `[warn] QuorumCnxManager: Connection broken for id <num>`: level, component, masked message. */
export function preparedText(line: PreparedLine): string {
  return `${line.level ? `[${line.level}] ` : ''}${line.component ? `${line.component}: ` : ''}${line.text}`;
}

/**
 * Header parsing then masking, once per row. The masked form drops what varies between lines
 * of one template (numbers, ids, addresses, paths, quoted values; the timestamp and host are
 * in the header), so the models decide each template once and cannot be steered by a value.
 */
export class LinePreparer {
  constructor(
    private readonly parser: HeaderParser,
    private readonly mask: (text: string) => string,
    /** Characters of a line that are parsed and masked (the output keeps the whole line). */
    private readonly maxChars = 10_000,
  ) {}

  prepare(message: string): Prepared {
    const clipped = message.length > this.maxChars ? message.slice(0, this.maxChars) : message;
    const parsed = this.parser.parse(clipped);
    const line: PreparedLine = {
      level: parsed.level,
      component: parsed.component === undefined ? undefined : this.mask(parsed.component),
      text: this.mask(parsed.message),
    };
    return { body: parsed.message, line, text: preparedText(line) };
  }
}
