/**
 * The per-row fast paths of issue 12 must give the same answers, bit for bit, as the slow ones:
 * pattern sets (one RE2::Set pass) against each pattern tried alone, the header's head-only match
 * against the whole pattern, and the preparer's shape cache against preparing every line.
 */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolvePath } from '../../src/config/index.js';
import { compileHeaderPatterns, HeaderParser } from '../../src/lines/header.js';
import { compileLinear, isDigitBlind, LinearPatternSet } from '../../src/lines/linear-regex.js';
import { compileMasker, compileMaskRules, maskMessage } from '../../src/lines/masking.js';
import { LinePreparer, type Prepared } from '../../src/lines/prepare.js';
import { readHeaderPatterns, readMaskRules, readRules } from '../../src/pipeline/build.js';
import { compileRules, RegexStage } from '../../src/stages/regex.js';
import { messagesOf } from '../helpers/data.js';

const LOGHUB_DEV = resolvePath('../shared/data/loghub-2k-dev/categories.csv');
// 5,000 corpus lines of every family (every 32nd of 160,000).
const corpus = messagesOf(resolvePath('data/corpus.csv')).filter((_, i) => i % 32 === 0);
const lines = [...corpus, ...messagesOf(resolvePath('data/robustness.csv')), ...(existsSync(LOGHUB_DEV) ? messagesOf(LOGHUB_DEV).filter((_, i) => i % 3 === 0) : [])];

const headerPatterns = await readHeaderPatterns(resolvePath('configs/header_patterns.json'));
const maskRules = await readMaskRules(resolvePath('configs/mask_rules.json'));
const shipped = () => new LinePreparer(new HeaderParser(headerPatterns), compileMasker(maskRules));
const uncached = () => new LinePreparer(new HeaderParser(headerPatterns), compileMasker(maskRules), { shapeCacheChars: 0 });
/** What a preparer answers, without the shape object (which only the cached one has). */
const answer = ({ body, line, text }: Prepared) => ({ body, line, text });

describe('digit-blind patterns', () => {
  it('a pattern is digit-blind when every atom matches all ten digits or none', () => {
    const blind = ['\\d+', '[0-9a-f]{4}', '\\w+\\s\\S.', '[^\\d]', '\\p{N}', 'HTTP/\\d', '^(?<level>[IWEF])\\d{4}', 'a{2,3}b', '\\b(?:\\dx)?[a-f]'];
    // The last three are RE2 syntax that JavaScript reads otherwise (`\\x{35}` is "5" to RE2):
    // not judged, so not blind.
    const sighted = ['(?:0x)?', '[1-5]\\d\\d', '[^5]', '\\x35', 'port 22', '[0-8]', 'code \\x{35}\\d\\d', 'code \\Q[0-9]\\E', '[[:digit:]]'];
    for (const p of blind) expect([p, isDigitBlind(p, 'u')]).toEqual([p, true]);
    for (const p of sighted) expect([p, isDigitBlind(p, 'u')]).toEqual([p, false]);
  });

  it('the shipped header formats, mask rules and regex rules are all digit-blind (else the fast paths turn off)', async () => {
    expect(headerPatterns.filter((p) => !p.digitBlind).map((p) => p.name)).toEqual([]);
    expect(maskRules.filter((r) => !r.digitBlind).map((r) => r.name)).toEqual([]);
    expect((await readRules(resolvePath('configs/regex_rules.json'))).filter((r) => !r.digitBlind).map((r) => r.id)).toEqual([]);
    expect(shipped().shapeCached).toBe(true);
  });
});

describe('pattern sets', () => {
  it('one set pass finds exactly the patterns that match alone, across flags', () => {
    const patterns = [...headerPatterns.map((p) => p.regex), ...maskRules.map((r) => r.regex), compileLinear('sshd|kernel', 'i', 'test'), compileLinear('^\\S+$', 'm', 'test')];
    const set = new LinearPatternSet(patterns);
    for (const line of lines) {
      const alone = patterns.flatMap((p, i) => {
        p.lastIndex = 0;
        return p.test(line) ? [i] : [];
      });
      expect(set.matching(line)).toEqual(alone);
      expect(set.first(line)).toBe(alone.length ? alone[0] : -1);
    }
  });
});

describe('pattern sets past RE2::Set\'s program budget', () => {
  // Compiling 80 large programs is CPU-bound: ~1.7 s alone, over vitest's 5 s on a loaded machine.
  it('fall back to trying each pattern alone, with the same answers', { timeout: 20_000 }, () => {
    // 80 long patterns compile one by one but not as one set.
    const big = Array.from({ length: 80 }, (_, i) => compileLinear(`[a-z]{1000}[0-9]{1,1000}y${i}`, '', 'test'));
    const patterns = [compileLinear('disk (full|failed)', 'i', 'test'), ...big, compileLinear('^\\d+$', '', 'test')];
    const set = new LinearPatternSet(patterns);
    for (const text of ['Disk FULL on /var', '12345']) {
      const alone = patterns.flatMap((p, i) => (p.test(text) ? [i] : []));
      expect(set.matching(text)).toEqual(alone);
      expect(set.first(text)).toBe(alone[0]);
    }
    // "…7y79": big[7] (…y7) and big[79] (…y79), then the first pattern.
    expect(set.matching(`${'a'.repeat(1000)}7y79 disk failed`)).toEqual([0, 8, 80]);
  });
});

describe('header formats matched by their head', () => {
  it('parse every line as the whole patterns do', () => {
    const parser = new HeaderParser(headerPatterns);
    const whole = new HeaderParser(headerPatterns.map((p) => ({ ...p, head: undefined })));
    expect(headerPatterns.filter((p) => p.head).length).toBeGreaterThan(10);
    for (const line of [...lines, 'May  1 10:00:00 web-3 sshd[4242]: two\nlines', 'May  1 10:00:00 web-3 sshd[4242]: carriage\rreturn']) {
      const a = parser.parse(line);
      expect(a).toEqual(whole.parse(line));
      if (a.span) expect(line.trim().slice(a.span[0], a.span[1])).toBe(a.message);
    }
  });

  it('a pattern with a top-level alternation is matched whole', () => {
    const patterns = compileHeaderPatterns({ patterns: [{ name: 'alt', pattern: '^--$|^B (?<message>.*)$' }] });
    expect(patterns[0].head).toBeUndefined();
    const parser = new HeaderParser(patterns);
    expect(parser.parse('B hello').message).toBe('hello');
    expect(parser.parse('--')).toEqual({ message: '--', span: [0, 2] });
  });
});

describe('the shape cache', () => {
  it('prepares every line exactly as preparing it afresh does, in any order and with any digits', () => {
    const cached = shipped();
    const fresh = uncached();
    const digits = /\d/g;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: lines.length - 1 }), { minLength: 50, maxLength: 200 }), fc.integer({ min: 1, max: 2 ** 30 }), (picks, seed) => {
        let s = seed;
        const redraw = () => String(((s = (s * 1103515245 + 12345) >>> 0) >>> 16) % 10);
        for (const k of picks) {
          // The line as it is, then with other digits in the same places: the second is a shape hit.
          for (const line of [lines[k], lines[k].replace(digits, redraw)]) expect(answer(cached.prepare(line))).toEqual(answer(fresh.prepare(line)));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('gives lines of one shape one shared object, and hits on most lines of real logs', () => {
    const cached = shipped();
    const first = cached.prepare('May  1 10:00:00 web-3 sshd[4242]: Accepted publickey for deploy from 192.0.2.4 port 50312 ssh2');
    const again = cached.prepare('May  2 11:07:09 web-3 sshd[7777]: Accepted publickey for deploy from 198.5.0.9 port 61833 ssh2');
    expect(first.shape).toBeDefined();
    expect(again.shape).toBe(first.shape);
    expect(again.body).toBe('Accepted publickey for deploy from 198.5.0.9 port 61833 ssh2');
    if (existsSync(LOGHUB_DEV)) {
      const seen = new Set<object>();
      let hits = 0;
      for (const line of messagesOf(LOGHUB_DEV)) {
        const { shape } = cached.prepare(line);
        if (shape && seen.has(shape)) hits++;
        if (shape) seen.add(shape);
      }
      expect(hits / 16_000).toBeGreaterThan(0.8);
    }
  });

  it('masks a known message once more only when its shape is new: another header, a JSON record', () => {
    const cached = shipped();
    const a = cached.prepare('May  1 10:00:00 web-3 sshd[4242]: Connection closed by 192.0.2.4 port 50312');
    // Another host name length: a new line shape, but the same message shape.
    const b = cached.prepare('May  1 10:00:00 web-30 sshd[4242]: Connection closed by 192.0.2.7 port 50399');
    expect(b.shape).not.toBe(a.shape);
    expect(b.line).toBe(a.line);
    expect(b.body).toBe('Connection closed by 192.0.2.7 port 50399');
    const j1 = cached.prepare('{"level":"warn","logger":"db","msg":"query 4411 timed out after 30 s"}');
    const j2 = cached.prepare('{"level":"warn","logger":"db","msg":"query 9020 timed out after 45 s"}');
    // Same hash (levels of one length), told apart by the level itself.
    const j3 = cached.prepare('{"level":"info","logger":"db","msg":"query 9020 timed out after 45 s"}');
    expect(j2.line).toBe(j1.line);
    expect(j3.line).not.toBe(j1.line);
    expect([j1.line.level, j3.line.level]).toEqual(['warn', 'info']);
    expect(answer(j2)).toEqual(answer(uncached().prepare('{"level":"warn","logger":"db","msg":"query 9020 timed out after 45 s"}')));
  });

  it('keeps lines apart whose prepared text still holds digits (no number mask)', () => {
    const noNumbers = compileMaskRules({ rules: [{ name: 'ip', pattern: '\\b\\d{1,3}(?:\\.\\d{1,3}){3}\\b', replacement: '<ip>' }] });
    const preparer = new LinePreparer(new HeaderParser([]), compileMasker(noNumbers));
    expect(preparer.shapeCached).toBe(true);
    expect(preparer.prepare('disk 1 failed').text).toBe('disk 1 failed');
    expect(preparer.prepare('disk 7 failed').text).toBe('disk 7 failed');
  });

  it('turns itself off when a format or mask rule can tell digits apart', () => {
    const sighted = compileHeaderPatterns({ patterns: [{ name: 'v', pattern: '^(?<level>[1-5]) (?<message>.*)$' }] });
    expect(new LinePreparer(new HeaderParser(sighted), maskMessage).shapeCached).toBe(false);
    const sightedMask = compileMaskRules({ rules: [{ name: 'zero', pattern: '\\b0\\b', replacement: '<zero>' }] });
    const preparer = new LinePreparer(new HeaderParser(headerPatterns), compileMasker(sightedMask));
    expect(preparer.shapeCached).toBe(false);
    expect(preparer.prepare('retry 0 of 3').text).toBe('retry <zero> of 3');
    expect(preparer.prepare('retry 1 of 3').text).toBe('retry 1 of 3');
  });

  it('never shares a line shape for JSON records or numeric levels, which depend on the digits; their shape object is the masked entry, shared only by lines that prepare alike', () => {
    const cached = shipped();
    const a = cached.prepare('{"level":30,"msg":"db timeout"}');
    const b = cached.prepare('{"level":50,"msg":"db timeout"}');
    expect([a.line.level, b.line.level]).toEqual(['info', 'error']);
    expect(a.shape).toBeDefined();
    expect(b.shape).not.toBe(a.shape);
    const c = cached.prepare('{"level":30,"msg":"db timeout","ts":1700000001}');
    const d = cached.prepare('{"level":30,"msg":"db timeout","ts":1700000299}');
    expect(d.shape).toBe(c.shape);
    expect(c.shape).toBe(a.shape);
    // `{"n":01}` is not JSON; `{"n":11}` is: same shape, different parses.
    expect(answer(cached.prepare('{"n":11,"msg":"x"}'))).toEqual(answer(uncached().prepare('{"n":11,"msg":"x"}')));
    expect(answer(cached.prepare('{"n":01,"msg":"x"}'))).toEqual(answer(uncached().prepare('{"n":01,"msg":"x"}')));
  });
});

describe('regex rules with the shape memo', () => {
  it('a digit-sensitive rule is still decided on every row of a shared shape', () => {
    const rules = compileRules({
      rules: [
        { id: 'server-error', pattern: ' [5]\\d\\d$', flags: '', label: 'Error' },
        { id: 'request', pattern: 'GET \\S+ \\d+$', flags: '', label: 'HTTP Status' },
      ],
    });
    expect(rules.map((r) => r.digitBlind)).toEqual([false, true]);
    const stage = new RegexStage(rules);
    const shape = {};
    expect(stage.match('GET /a 200', shape)?.id).toBe('request');
    expect(stage.match('GET /a 500', shape)?.id).toBe('server-error');
    expect(stage.match('GET /a 201', shape)?.id).toBe('request');
  });

  it('decides every line as without the memo', async () => {
    const rules = await readRules(resolvePath('configs/regex_rules.json'));
    const stage = new RegexStage(rules);
    const preparer = shipped();
    for (const line of lines) {
      const { body, shape } = preparer.prepare(line);
      expect(stage.match(body, shape)?.id).toBe(rules.find((r) => r.regex.test(body))?.id);
    }
  });
});
