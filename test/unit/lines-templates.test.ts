import { describe, expect, it } from 'vitest';
import { HeaderParser } from '../../src/lines/header.js';
import { TemplateMiner, templateId, tokenize } from '../../src/lines/templates.js';
import { readHeaderPatterns } from '../../src/pipeline/build.js';

/** Every line through one miner; the results in order. */
function mine(lines: readonly string[], miner = new TemplateMiner()) {
  return lines.map((l) => miner.add(l));
}

// Written for this test, in the manner of sshd, Proxifier, Android and Hadoop lines.
const STREAM = [
  'Accepted password for fred from 10.0.0.1 port 4001 ssh2',
  'Invalid user alice from 10.0.0.2',
  'proxy.example.org:5070 close, 1190 bytes sent, 1671 bytes received, lifetime 00:02',
  'Invalid user bob from 10.0.0.3',
  'acquire lock=233570404, flags=0x1, tag="View Lock", name=com.android.systemui, ws=null, uid=10037, pid=2227',
  'Accepted password for gina from 10.0.0.4 port 4002 ssh2',
  'proxy.example.org:5070 close, 1143 bytes (1.11 KB) sent, 365 bytes received, lifetime <1 sec',
  'Invalid user carol from 10.0.0.5',
  'acquire lock=1, flags=0x2, tag="WindowManager", name=android, ws=null, uid=1000, pid=881',
  'Task attempt_01 Transitioned from NEW to RUNNING',
];

describe('template miner', () => {
  it('numbers are parameters, in order; the template keeps the words', () => {
    const [a, b] = mine(['Connection from 10.0.0.1 port 4001 closed after 12 s', 'Connection from 10.0.0.9 port 77 closed after 3 s']);
    expect(a.template).toBe('Connection from <*> port <*> closed after <*> s');
    expect(b).toEqual({ id: a.id, template: a.template, parameters: ['10.0.0.9', '77', '3'] });
  });

  it('a plain word becomes a parameter only once three different ones have stood there', () => {
    const miner = new TemplateMiner();
    const [root, admin] = mine(['Failed password for root from 1.2.3.4', 'Failed password for admin from 1.2.3.5'], miner);
    // Two words: two templates (password/none, begin/end are different statements).
    expect(root.template).toBe('Failed password for root from <*>');
    expect(admin.template).toBe('Failed password for admin from <*>');
    const guest = miner.add('Failed password for guest from 1.2.3.6');
    expect(guest.template).toBe('Failed password for <*> from <*>');
    expect(guest.parameters).toEqual(['guest', '1.2.3.6']);
    // The earlier templates are merged into it: their ids are named as replaced, and gone.
    expect(guest.previousIds).toEqual(expect.arrayContaining([root.id, admin.id]));
    expect(miner.size).toBe(1);
    expect(miner.add('Failed password for root from 9.9.9.9').id).toBe(guest.id);
  });

  it('a value printed in a varying number of tokens becomes one gap (Spell-style), keys do not', () => {
    const miner = new TemplateMiner();
    const [, kb, sec] = mine(
      [
        'p.example:80 close, 10 bytes sent, 20 bytes received, lifetime 00:02',
        'p.example:80 close, 1143 bytes (1.11 KB) sent, 20 bytes received, lifetime 00:01',
        'p.example:80 close, 7 bytes sent, 20 bytes received, lifetime <1 sec',
      ],
      miner,
    );
    expect(kb.template).toBe('<*> close, <*> bytes <*> sent, <*> bytes received, lifetime <*>');
    expect(kb.parameters).toEqual(['p.example:80', '1143', '(1.11 KB)', '20', '00:01']);
    expect(sec.template).toBe(kb.template);
    expect(sec.parameters.at(-1)).toBe('<1 sec');
    // A field one statement has and another lacks is not a gap.
    const [plain, withUser] = mine(['auth failure; uid=0 rhost=10.0.0.1', 'auth failure; uid=0 rhost=10.0.0.1 euid=1000'], new TemplateMiner());
    expect(withUser.id).not.toBe(plain.id);
  });

  it('is deterministic: the same lines in the same order give the same answers in a new miner', () => {
    expect(mine(STREAM)).toEqual(mine(STREAM));
  });

  it('ids are a hash of the template text: the same text has the same id in any miner, whatever came before', () => {
    const first = new TemplateMiner();
    const second = new TemplateMiner();
    mine(STREAM, second);
    const a = first.add('Deleted block blk_123 from disk 4');
    const b = second.add('Deleted block blk_999 from disk 7');
    expect(a.template).toBe('Deleted block <*> from disk <*>');
    expect(b.id).toBe(a.id);
    expect(a.id).toBe(templateId(a.template));
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(templateId('Deleted block <*> from disk')).not.toBe(a.id);
  });

  it('a generalised template names the id it had before; later lines get the new id', () => {
    const miner = new TemplateMiner();
    const before = miner.add('Opened session for /home/ana');
    const after = miner.add('Opened session for /srv/bob');
    expect(after.template).toBe('Opened session for <*>');
    expect(after.previousIds).toEqual([before.id]);
    expect(miner.add('Opened session for /tmp/x')).toEqual({ id: after.id, template: after.template, parameters: ['/tmp/x'] });
  });

  it('stays within maxTemplates under a flood of distinct lines, forgetting the least recently used', () => {
    const miner = new TemplateMiner({ maxTemplates: 50 });
    const kept = miner.add('Heartbeat from 1 ok');
    const words = (i: number) => Array.from({ length: 4 }, (_, k) => String.fromCharCode(97 + ((i >> (k * 4)) % 16) + k)).join('');
    for (let i = 0; i < 3_000; i++) {
      miner.add(`${words(i)} ${words(i * 7 + 1)} zq${words(i * 13 + 5)}`);
      // Used every few lines: never the least recently used.
      if (i % 20 === 0) expect(miner.add(`Heartbeat from ${i} ok`).id).toBe(kept.id);
      expect(miner.size).toBeLessThanOrEqual(50);
    }
    expect(miner.templates().map((t) => t.id)).toContain(kept.id);
  });

  it('a very long line is cut to maxTokens tokens, the rest one parameter', () => {
    const miner = new TemplateMiner({ maxTokens: 8 });
    const long = `start ${Array.from({ length: 5_000 }, (_, i) => `w${i}`).join(' ')}`;
    const r = miner.add(long);
    expect(r.template.split(' ')).toHaveLength(8);
    expect(r.parameters.at(-1)!.split(' ')).toHaveLength(5_001 - 7);
  });

  it('tokens: key=value split after the sign, a quoted value or a bracketed value with a digit is one token', () => {
    expect(tokenize('acquire lock=23, tag="View Lock", x (1.2 KB) y').map((t) => [t.text, t.variable])).toEqual([
      ['acquire', false],
      ['lock=', false],
      ['23,', true],
      ['tag=', false],
      ['"View Lock",', false],
      ['x', false],
      ['(1.2 KB)', true],
      ['y', false],
    ]);
    // Names with single digits are words; hex runs are ids; host:port stays one parameter.
    expect(tokenize('ssh2 SOCKS5 ffffffff host:8080 isOverlap:false').map((t) => [t.text, t.variable])).toEqual([
      ['ssh2', false],
      ['SOCKS5', false],
      ['ffffffff', true],
      ['host:8080', true],
      ['isOverlap:', false],
      ['false', false],
    ]);
  });

  it('mines the message after the header split: time, host and process are not in the template', async () => {
    const parser = new HeaderParser(await readHeaderPatterns(new URL('../../configs/header_patterns.json', import.meta.url).pathname));
    const miner = new TemplateMiner();
    const a = miner.add(parser.parse('Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by 10.0.0.1 [preauth]').message);
    const b = miner.add(parser.parse('Jan  2 23:01:07 other-host sshd[7]: Connection closed by 10.0.0.2 [preauth]').message);
    expect(a.template).toBe('Connection closed by <*> [preauth]');
    expect(b.id).toBe(a.id);
  });
});

describe('TemplateMiner.seed (the template store seeds the service miner at start-up)', () => {
  it('holds a template from its text, so a later line joins it with the same id instead of founding a more specific one', () => {
    const first = new TemplateMiner();
    let last;
    for (const who of ['alice', 'bob', 'carol']) last = first.add(`Session closed for user ${who} by peer`);
    expect(last!.template).toBe('Session closed for user <*> by peer');
    const fresh = new TemplateMiner();
    expect(fresh.add('Session closed for user dave by peer').template).toBe('Session closed for user dave by peer');
    const seeded = new TemplateMiner();
    expect(seeded.seed(last!.template)).toBe(true);
    expect(seeded.seed(last!.template)).toBe(false);
    expect(seeded.add('Session closed for user dave by peer')).toMatchObject({ id: last!.id, parameters: ['dave'] });
    expect(seeded.seed('uid=<*> gid=<*> logged')).toBe(true);
    expect(seeded.add('uid=10 gid=20 logged').template).toBe('uid=<*> gid=<*> logged');
  });
});
