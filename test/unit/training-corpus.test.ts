import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { HeaderParser } from '../../src/lines/header.js';
import { maskMessage } from '../../src/lines/masking.js';
import { CORPUS_LABELS, CorpusError, expandTemplate, generateCorpus, loadFamilies, mulberry32, templateCounts } from '../../src/training/corpus.js';
import { Rng } from '../../src/training/slots.js';
import { readHeaderPatterns } from '../../src/pipeline/build.js';

const SHARED = new URL('../../../shared/data/', import.meta.url).pathname;
const CODEBASICS = join(SHARED, 'codebasics/synthetic_logs.csv');
const LOGHUB_DEV = join(SHARED, 'loghub-2k-dev/categories.csv');

/** Masked, lower-cased, digits gone: two lines of one template compare equal. */
const shape = (line: string): string => maskMessage(line).toLowerCase().replace(/\s+/g, ' ').trim();
const headers = new HeaderParser(await readHeaderPatterns(new URL('../../configs/header_patterns.json', import.meta.url).pathname));
/** The shape of a line's message, its header removed: a copied message is caught whatever header it is given. */
const messageShape = (line: string): string => shape(headers.parse(line).message);

describe('corpus generator', () => {
  const families = loadFamilies();
  const rows = generateCorpus({ seed: 7, rows: 20_000, families });

  it('mulberry32 is deterministic', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('gives the same rows for the same seed and different rows for another seed', () => {
    // 2,000 rows: determinism does not depend on the size (the 20,000 above were 0.9 s more).
    const sample = generateCorpus({ seed: 7, rows: 2_000, families });
    expect(generateCorpus({ seed: 7, rows: 2_000, families })).toEqual(sample);
    expect(generateCorpus({ seed: 8, rows: 2_000, families })).not.toEqual(sample);
  });

  it('covers every label, with routine System Notification lines the largest class, as in real logs', () => {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.target_label, (counts.get(r.target_label) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...CORPUS_LABELS].sort());
    const notifications = counts.get('System Notification')!;
    for (const [label, n] of counts) if (label !== 'System Notification') expect(n, label).toBeLessThan(notifications);
    expect(notifications / rows.length).toBeGreaterThan(0.3);
  });

  it('expands every slot (no template names a slot that does not exist)', () => {
    // One assertion over all rows (three expect() calls per row were half a second), naming each bad row's family.
    const unexpanded = /\{(?:[a-z]+_)*(?:ts|ip|pid|host|user|num|level|hex\d*|n)\}/;
    const bad = rows.filter((r) => r.log_message.trim().length === 0 || /[\u0001\u0002]/.test(r.log_message) || unexpanded.test(r.log_message));
    expect(bad.map((r) => [r.family, r.log_message])).toEqual([]);
  });

  it('writes whole lines: most carry a header with a timestamp', () => {
    const stamped = rows.filter((r) => /\d\d:\d\d:\d\d|\b\d{10}\b/.test(r.log_message)).length;
    expect(stamped / rows.length).toBeGreaterThan(0.6);
  });

  it('has many families, each with many templates, and many distinct lines per label', () => {
    expect(families.length).toBeGreaterThanOrEqual(10);
    const counts = templateCounts(families);
    for (const label of CORPUS_LABELS) expect(counts[label], label).toBeGreaterThanOrEqual(label === 'System Notification' ? 300 : 25);
    for (const label of CORPUS_LABELS) {
      const shapes = new Set(rows.filter((r) => r.target_label === label).map((r) => shape(r.log_message)));
      expect(shapes.size, label).toBeGreaterThanOrEqual(50);
    }
  });

  it('expands alternatives, ranges and slots, and keeps other braces', () => {
    const r = new Rng(mulberry32(3));
    const line = expandTemplate('{a|b} {5-5} {pid} {"k": 1} Token{x=1} {word}', r, { slots: { word: ['w'] } }, 'warn');
    expect(line).toMatch(/^[ab] 5 \d+ \{"k": 1\} Token\{x=1\} w$/);
    expect(expandTemplate('{level}/{level_1}', r, undefined, 'error')).toBe('ERROR/E');
  });

  it('refuses a family file with an unknown slot or label, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logsift-templates-'));
    writeFileSync(join(dir, 'bad.yaml'), 'family: bad\nsources: [x]\ntemplates:\n  Error:\n    - "disk {nosuchslot} failed"\n');
    expect(() => loadFamilies(dir)).toThrow(CorpusError);
    expect(() => loadFamilies(dir)).toThrow(/bad\.yaml: unknown slot \{nosuchslot\}/);
    writeFileSync(join(dir, 'bad.yaml'), 'family: bad\nsources: [x]\ntemplates:\n  Nonsense:\n    - "x"\n');
    expect(() => loadFamilies(dir)).toThrow(/bad\.yaml: templates/);
  });

  // The evaluation sets must stay unseen: no generated line may be one of theirs, masked. The
  // shipped corpus (seed 42, default size) is generated and shaped once for both sets.
  let shippedShapes: { line: string; whole: string; message: string }[] | undefined;
  const shipped = () => (shippedShapes ??= generateCorpus({ seed: 42, families }).map((r) => ({ line: r.log_message, whole: shape(r.log_message), message: messageShape(r.log_message) })));
  for (const [name, path] of [['Codebasics', CODEBASICS], ['Loghub 2k dev', LOGHUB_DEV]] as const) {
    it.skipIf(!existsSync(path))(`copies no line of the ${name} evaluation set (masked, case-insensitive)`, { timeout: 120_000 /* masks 160,000 generated and up to 16,000 evaluation lines */ }, () => {
      const evalRows = parse(readFileSync(path), { columns: true }) as { log_message: string }[];
      const forbidden = new Set(evalRows.flatMap((e) => [shape(e.log_message), messageShape(e.log_message)]));
      const hits = [...new Set(shipped().filter((r) => forbidden.has(r.whole) || forbidden.has(r.message)).map((r) => r.line))];
      expect(hits).toEqual([]);
    });
  }
});
