/**
 * The log lines of the project's CSV files, parsed once per test process: with the suite's
 * shared worker (vitest.config.ts) several files compare every corpus line, and parsing
 * data/corpus.csv (80,000 rows) took about 0.7 s each time.
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

/** Every line of data/corpus.csv and data/robustness.csv, in that order. */
export const corpusLines = (): readonly string[] => [...messagesOf('data/corpus.csv'), ...messagesOf('data/robustness.csv')];
