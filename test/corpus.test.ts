import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { maskMessage } from '../src/pipeline/masking.js';
import { CORPUS_LABELS, generateCorpus, mulberry32, templateCounts } from '../src/training/corpus.js';

const BENCHMARK = new URL('../../shared/data/codebasics/synthetic_logs.csv', import.meta.url);
const benchmarkPath = BENCHMARK.pathname;

describe('corpus generator', () => {
  const rows = generateCorpus({ seed: 7, rowsPerLabel: 400 });

  it('mulberry32 is deterministic', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('gives the same rows for the same seed and different rows for another seed', () => {
    expect(generateCorpus({ seed: 7, rowsPerLabel: 400 })).toEqual(rows);
    expect(generateCorpus({ seed: 8, rowsPerLabel: 400 })).not.toEqual(rows);
  });

  it('has every label with the requested count and no empty fields', () => {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.target_label, (counts.get(r.target_label) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...CORPUS_LABELS].sort());
    for (const label of CORPUS_LABELS) expect(counts.get(label)).toBe(400);
    for (const r of rows) {
      // Background chatter may be as short as "ok"; category lines say something.
      expect(r.log_message.trim().length).toBeGreaterThan(r.target_label === 'Unclassified' ? 1 : 5);
      expect(r.source.trim().length).toBeGreaterThan(0);
      expect(r.log_message).not.toMatch(/[\u0001\u0002]/);
      // an unexpanded slot would mean a typo in a template
      expect(r.log_message).not.toMatch(/\{(user|uid|ip|host|svc|path|status|pct|mb|gb|id|order|ticket|job|module|repl|ver|major|date|clock)\}/);
    }
  });

  it('has at least 40 hand-written templates per label', () => {
    for (const [label, n] of Object.entries(templateCounts())) expect(n, label).toBeGreaterThanOrEqual(40);
  });

  it('has many distinct masked templates per label', () => {
    for (const label of CORPUS_LABELS) {
      const masked = new Set(rows.filter((r) => r.target_label === label).map((r) => maskMessage(r.log_message).toLowerCase()));
      expect(masked.size, label).toBeGreaterThanOrEqual(100);
    }
  });

  it('honours rowsPerLabel and labels options', () => {
    const small = generateCorpus({ seed: 1, rowsPerLabel: 3, labels: ['Error', 'User Action'] });
    expect(small).toHaveLength(6);
    expect(() => generateCorpus({ seed: 1, rowsPerLabel: 1, labels: ['Nope'] })).toThrow(/unknown corpus label/);
  });

  it.skipIf(!existsSync(benchmarkPath))('copies no message of the evaluation benchmark (masked, case-insensitive)', () => {
    const bench = parse(readFileSync(benchmarkPath), { columns: true }) as { log_message: string }[];
    const forbidden = new Set(bench.map((b) => maskMessage(b.log_message).toLowerCase()));
    const big = generateCorpus({ seed: 42, rowsPerLabel: 1000 });
    const hits = big.filter((r) => forbidden.has(maskMessage(r.log_message).toLowerCase())).map((r) => r.log_message);
    expect(hits).toEqual([]);
  });
});
