/** Rules suggested from templates (src/discovery/rules.ts), checked by the service's own loader. */
import { describe, expect, it } from 'vitest';
import { compileRules, RegexStage } from '../../src/stages/regex.js';
import { suggestRules, templatePattern } from '../../src/discovery/rules.js';

const candidate = (id: string, template: string, label = 'User Action') => ({ id, template, label, confidence: 0.97, lines: 40 });

describe('suggestRules', () => {
  const templates = [
    { id: 'out', samples: ['User alice logged out.', 'User bob logged out.'] },
    { id: 'in', samples: ['User alice logged in.', 'User carol logged in.'] },
    { id: 'disk', samples: ['Disk /dev/sda1 at 91% of 500 GB on db-2', 'Disk /var at 97% of 20 GB on web-11'] },
  ];

  it("gives each template an anchored rule that matches its template's lines and no other template's", () => {
    const { rules, rejected } = suggestRules([candidate('out', 'User <*> logged out.'), candidate('in', 'User <*> logged in.'), candidate('disk', 'Disk <*> at <*> of <*> GB on <*>', 'Resource Usage')], templates);
    expect(rejected).toEqual([]);
    expect(rules.map((r) => [r.id, r.label])).toEqual([['tpl-out', 'User Action'], ['tpl-in', 'User Action'], ['tpl-disk', 'Resource Usage']]);
    // The file the service would load; the regex stage decides each line by its template's rule.
    const stage = new RegexStage(compileRules({ rules }));
    expect(stage.match('User dave logged out.')?.id).toBe('tpl-out');
    expect(stage.match('User dave logged in.')?.id).toBe('tpl-in');
    expect(stage.match('Disk /tmp at 5% of 1 GB on x')?.id).toBe('tpl-disk');
    // Anchored, one token per <*>: more or less around it is another line.
    expect(stage.match('User dave logged out. Again')).toBeUndefined();
    expect(stage.match('Then User dave logged out.')).toBeUndefined();
    expect(stage.match('User dave smith logged out.')).toBeUndefined();
    // Digits in constants are \d: the rule stays digit-blind (the regex stage caches it per line shape).
    expect(templatePattern('ssh2 session <*> closed')).toBe('^\\s*ssh\\d\\s+session\\s+\\S{1,128}\\s+closed\\s*$');
  });

  it('takes a wide rule where a <*> stands for several tokens, or none', () => {
    const { rules } = suggestRules([candidate('gap', 'Sent <*> to <*>')], [{ id: 'gap', samples: ['Sent (1.2 KB) to db-1', 'Sent to db-2', 'Sent 3 bytes to "cache a"'] }]);
    expect(rules).toHaveLength(1);
    expect(rules[0].pattern).toContain('.{1,256}');
  });

  it("rejects a rule that would take another template's lines", () => {
    const { rules, rejected } = suggestRules(
      [candidate('done', 'Job <*> done')],
      [
        { id: 'done', samples: ['Job 12 of batch 7 done'] },
        { id: 'never', samples: ['Job was not done'] },
      ],
    );
    expect(rules).toEqual([]);
    expect(rejected).toEqual([{ template_id: 'done', template: 'Job <*> done', reason: expect.stringMatching(/^also matches a line of template never/) }]);
  });

  it('rejects a rule the rules loader refuses, and one RE2 compiles but cannot run on its own line', () => {
    // 1,000 bounded classes: past RE2's program size, so the loader (compileRules) refuses it.
    const huge = `x ${Array(1000).fill('<*>').join(' ')}`;
    // 100: RE2 compiles it, then runs out of memory matching and answers "no match".
    const wide = `x ${Array(100).fill('<*>').join(' ')}`;
    const { rules, rejected } = suggestRules(
      [candidate('huge', huge), candidate('wide', wide), candidate('vars', '<*> <*>')],
      [
        { id: 'huge', samples: [`x ${Array.from({ length: 1000 }, (_, i) => `v${i}`).join(' ')}`] },
        { id: 'wide', samples: [`x ${Array.from({ length: 100 }, (_, i) => `v${i}`).join(' ')}`] },
        { id: 'vars', samples: ['a b'] },
      ],
    );
    expect(rules).toEqual([]);
    expect(rejected.find((r) => r.template_id === 'huge')?.reason).toMatch(/one token per <\*>: the rules loader refuses it: suggested rules: rule tpl-huge: pattern .* cannot be used/);
    expect(rejected.find((r) => r.template_id === 'wide')?.reason).toMatch(/does not match its own line "x v0 v1/);
    expect(rejected.find((r) => r.template_id === 'vars')?.reason).toBe('no constant word to anchor a rule on');
  });
});
