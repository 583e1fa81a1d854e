import { describe, expect, it } from 'vitest';
import { resolvePath } from '../src/config.js';
import { compileRules, loadRules, RegexStage } from '../src/pipeline/regex-stage.js';

const rule = (over: Record<string, unknown> = {}) => ({ id: 'r1', pattern: 'disk full', label: 'Resource Usage', ...over });

describe('regex rules', () => {
  it('the shipped rules load and decide the fixed patterns with confidence 1', async () => {
    const stage = new RegexStage(await loadRules(resolvePath('configs/regex_rules.json')));
    const cases: [string, string | undefined][] = [
      ['User alice logged in.', 'User Action'],
      ['user 42 logged out', 'User Action'],
      ['Account with ID 981 created by admin7.', 'User Action'],
      ['Backup completed in 42 minutes', 'System Notification'],
      ['System updated to version 3.2.1.', 'System Notification'],
      ['File report_q3.pdf uploaded successfully by user u9.', 'User Action'],
      ['Disk cleanup completed, 3 GB freed', 'System Notification'],
      ['System reboot initiated by user ops1.', 'System Notification'],
      ['10.0.0.5 - - [01/Jan/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 512', 'HTTP Status'],
      ['The v1 billing API is deprecated and will be removed in version 5', 'Deprecation Warning'],
      ['Payment gateway timed out after 30 s', undefined],
    ];
    const verdicts = await stage.classify(cases.map(([message]) => ({ source: 's', message })));
    cases.forEach(([message, label], i) => {
      expect(verdicts[i]?.label, message).toBe(label);
      if (label) expect(verdicts[i]?.confidence).toBe(1);
    });
  });

  it('the first matching rule wins', async () => {
    const stage = new RegexStage(compileRules({ rules: [rule({ id: 'a', pattern: 'disk', label: 'A' }), rule({ id: 'b', pattern: 'disk full', label: 'B' })] }));
    expect((await stage.classify([{ source: '', message: 'disk full' }]))[0]?.label).toBe('A');
  });

  it('an invalid pattern stops start-up naming the rule', () => {
    expect(() => compileRules({ rules: [rule({ id: 'broken-one', pattern: '([a-z' })] })).toThrow(/rule broken-one has an invalid pattern/);
  });

  it('a catastrophically backtracking pattern is refused naming the rule', () => {
    expect(() => compileRules({ rules: [rule({ id: 'evil', pattern: '(a+)+$' })] })).toThrow(/rule evil may backtrack catastrophically/);
    expect(() => compileRules({ rules: [rule({ id: 'evil2', pattern: '^(\\w+\\s?)*$' })] })).toThrow(/evil2/);
  });

  it('schema errors name the rule and the field', () => {
    expect(() => compileRules({ rules: [rule(), rule({ id: 'no-label', label: '' })] }, 'rules.json')).toThrow(/rule #2 \(no-label\).*label/);
    expect(() => compileRules({ rules: [rule({ flags: 'g' })] })).toThrow(/flags/);
    expect(() => compileRules({ rules: [rule(), rule()] })).toThrow(/rule r1 is defined twice/);
    expect(() => compileRules({ nope: [] })).toThrow(/rules/);
  });

  it('a missing or malformed rules file is a clear error', async () => {
    await expect(loadRules('/nonexistent/rules.json')).rejects.toThrow(/regex rules file not found: \/nonexistent\/rules.json/);
  });
});
