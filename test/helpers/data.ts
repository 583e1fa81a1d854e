/**
 * The log lines of the project's CSV files, parsed once per test process: with the suite's
 * shared worker (vitest.config.ts) several files compare every corpus line, and parsing
 * data/corpus.csv (160,000 rows) took over a second each time.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { resolvePath } from '../../src/config/index.js';

const parsed = new Map<string, readonly string[]>();

/** The `log_message` (or `message`) column of a CSV, a path relative to the project or absolute. */
export function messagesOf(path: string): readonly string[] {
  const file = resolvePath(path);
  let messages = parsed.get(file);
  if (!messages) {
    const rows = parse(readFileSync(file), { columns: true }) as { log_message?: string; message?: string }[];
    messages = Object.freeze(rows.map((r) => r.log_message ?? r.message ?? ''));
    parsed.set(file, messages);
  }
  return messages;
}

/**
 * Every second line of data/corpus.csv (80,000 lines of every family and label: what these
 * equivalence checks compare does not grow with the corpus) and every line of data/robustness.csv.
 */
export const corpusLines = (): readonly string[] => [...messagesOf('data/corpus.csv').filter((_, i) => i % 2 === 0), ...messagesOf('data/robustness.csv')];
