import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CACHE_MASK_RULES, compileMaskRules, compileMasker, DEFAULT_MASK_RULES, maskMessage, MaskRuleError } from '../../src/lines/masking.js';
import { HeaderParser } from '../../src/lines/header.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { resolvePath } from '../../src/config/index.js';
import { readMaskRules } from '../../src/pipeline/build.js';
import { corpusLines } from '../helpers/data.js';

const shippedMask = compileMasker(await readMaskRules(resolvePath('configs/mask_rules.json')));

describe('cache-key masking rules', () => {
  const mask = shippedMask;

  it('the shipped file is the built-in cache rule set', async () => {
    const fields = (r: { name: string; pattern: string; flags: string; replacement: string }) => [r.name, r.pattern, r.flags, r.replacement];
    expect((await readMaskRules(resolvePath('configs/mask_rules.json'))).map(fields)).toEqual(CACHE_MASK_RULES.map(fields));
  });

  it('masks paths and short quoted values, not quoted sentences or and/or', () => {
    expect(mask('Disk usage on /var/lib/mysql exceeded 91% threshold')).toBe('Disk usage on <path> exceeded <num>% threshold');
    expect(mask("Plugin 'CsvBridge' is going away in release 4.0")).toBe('Plugin <str> is going away in release <num>');
    expect(mask('level=warn msg="Backup failed at 10:20"')).toBe('level=warn msg="Backup failed at <num>:<num>"');
    expect(mask('read and/or write')).toBe('read and/or write');
    expect(mask('GET /v2/abc/servers/detail HTTP/1.1 status: 200')).toBe('GET <path> HTTP/<num> status: <num>');
  });

  it('masks values that sit side by side, each one\'s closing character opening the next', () => {
    expect(mask("tags='red','blue' 'green'")).toBe('tags=<str>,<str> <str>');
    expect(mask('copy /srv/a/b:/srv/c/d')).toBe('copy <path>:<path>');
    expect(mask("'a' x='b'.")).toBe('<str> x=<str>.');
    expect(mask("it's 'fine'x")).toBe("it's 'fine'x");
  });

  it('refuses a bad rule file, naming the rule', () => {
    expect(() => compileMaskRules({ rules: [{ name: 'x', pattern: '(', replacement: '' }] })).toThrow(MaskRuleError);
    expect(() => compileMaskRules({ rules: [{ name: 'x', pattern: 'a', flags: 'y', replacement: '' }] })).toThrow(/flags/);
    expect(compileMaskRules({ rules: [{ name: 'off', pattern: 'a', replacement: 'b', enabled: false }] })).toEqual([]);
  });

  it('reports LRU and in-batch hit rates', async () => {
    const p = new Pipeline({
      stages: [{ name: 'embedding', classify: async (rs) => rs.map(() => ({ label: 'A', confidence: 1 })) }],
      llmSources: [],
      unclassifiedLabel: 'U',
      cacheSize: 10,
      preparer: new LinePreparer(new HeaderParser([]), mask),
    });
    await p.classify([{ source: 's', message: 'user 1 in' }, { source: 's', message: 'user 2 in' }]);
    await p.classify([{ source: 's', message: 'user 3 in' }, { source: 's', message: 'other' }]);
    expect(p.stats).toMatchObject({ rows: 4, cacheHits: 1, batchDuplicates: 1, decided: 2 });
    expect(p.cacheHitRate).toEqual({ lru: 0.25, overall: 0.5 });
  });
});

/**
 * The shipped rules as they were on V8's backtracking engine, with lookbehind and lookahead:
 * the reference the lookaround-free rules are checked against.
 */
const LOOKAROUND_RULES: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/(?<=^|[\s=(:,[])(?:'[^'\s]{1,100}'|"[^"\s]{1,100}")(?=$|[\s.,;:)\]])/g, '<str>'],
  [/(?<=^|[\s"'=(:])(?:[a-z]:\\|\/)[\w.~%+-]+(?:[/\\][\w.~%+-]*)+/gi, '<path>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  // `\dx` where the rule had `0x`: a literal digit would make it tell digits apart (isDigitBlind).
  [/\b(?:\dx)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, '<hex>'],
  [/\d+(?:\.\d+)?/g, '<num>'],
];
const lookaroundMask = (rules: [RegExp, string][]) => (line: string) =>
  rules.reduce((out, [regex, replacement]) => out.replace(regex, replacement), line).replace(/\s+/g, ' ').trim();

describe('mask rules on the linear-time engine (issue 9: CPU denial of service)', () => {
  const mask = shippedMask;
  const reference = lookaroundMask(LOOKAROUND_RULES);
  const referenceDefault = lookaroundMask([LOOKAROUND_RULES[0], ...LOOKAROUND_RULES.slice(3)]);

  // 80,000 corpus lines through four maskers: seconds of CPU, more on a loaded machine.
  it('mask corpus lines exactly as the lookaround rules did', { timeout: 30_000 }, () => {
    const lines = corpusLines();
    expect(lines.filter((line) => mask(line) !== reference(line))).toEqual([]);
    expect(lines.filter((line) => maskMessage(line) !== referenceDefault(line))).toEqual([]);
    expect(lines.filter((line) => mask(line) !== line).length).toBeGreaterThan(5000);
  });

  it('mask any text built from the characters the rules care about exactly as the lookaround rules did', () => {
    // Lines of runs of hex digits (the hex rule counts lengths and mixes) between the
    // characters the context rules look at.
    const hexRun = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABF'.split('')), minLength: 1, maxLength: 10 });
    const other = fc.constantFrom(
      ' ', '\t', '\u00a0', '\u2028', '\ufeff', "'", '"', '/', '\\', ':', '=', '(', ')', '[', ']', ',', '.', ';', '-', '_', '%', 'x', 'g', 'é', 'ſ', 'C:\\', '0x',
    );
    const line = fc.array(fc.oneof(hexRun, other, other), { maxLength: 16 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(line, (text) => {
        expect(mask(text)).toBe(reference(text));
        expect(maskMessage(text)).toBe(referenceDefault(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('an exponential pattern in a mask rules file (LOGSIFT_MASK_RULES) runs in linear time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logsift-mask-'));
    const path = join(dir, 'mask_rules.json');
    writeFileSync(path, JSON.stringify({ rules: [{ name: 'evil', pattern: '(a+)+$', replacement: '<a>' }] }));
    const evil = compileMasker(await readMaskRules(path));
    const hostile = `${'a'.repeat(28)}!`;
    const started = performance.now();
    expect(evil(hostile)).toBe(hostile);
    expect(performance.now() - started).toBeLessThan(100);
    expect(evil('baaa')).toBe('b<a>');
  });

  it('a lookbehind rule is refused at load with the file and the rule named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logsift-mask-'));
    const path = join(dir, 'mask_rules.json');
    writeFileSync(path, JSON.stringify({ rules: [{ name: 'after-user', pattern: '(?<=user )\\w+', replacement: '<user>' }] }));
    await expect(readMaskRules(path)).rejects.toThrow(MaskRuleError);
    await expect(readMaskRules(path)).rejects.toThrow(new RegExp(`^${path}: rule after-user: pattern .* lookbehind is not supported`));
  });

  it('a mask group that can match empty steps over whole characters, as String#replace does', () => {
    const masker = (pattern: string, replacement: string) => compileMasker(compileMaskRules({ rules: [{ name: 'm', pattern, replacement }] }));
    expect(masker('(?<mask>é*)', '<e>')('aé b')).toBe('aé b'.replace(/é*/g, '<e>'));
    expect(masker('(?<mask>)', '-')('😀x😀')).toBe('-😀-x-😀-');
  });

  it('the built-in rules are compiled on the same engine', () => {
    expect(DEFAULT_MASK_RULES.map((r) => r.name)).toEqual(['uuid', 'ipv4', 'hex', 'number']);
    expect(DEFAULT_MASK_RULES.every((r) => r.regex.constructor.name === 'RE2')).toBe(true);
  });
});
