import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../src/commands/eval.js';
import { loadConfig } from '../../src/config/index.js';
import { perSourceAccuracy, templateAccuracy, templateKey } from '../../src/evaluation/compare-heads.js';
import { HEAD_KINDS } from '../../src/models/head-model.js';

const config = loadConfig({ LOGSIFT_EMBEDDER: 'lexical' });
const dir = mkdtempSync(join(tmpdir(), 'eval-compare-'));
const write = (name: string, lines: string[]) => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
};

const TEMPLATES: Record<string, (i: number) => string> = {
  'Resource Usage': (i) => `disk usage at ${50 + i}% on node-${i}`,
  'User Action': (i) => `user u${i} signed in from the web portal`,
  'Security Alert': (i) => `brute force attempt blocked from host 10.0.${i}.1`,
};
const train = write('train.csv', [
  'source,log_message,target_label',
  ...Object.entries(TEMPLATES).flatMap(([label, t]) => Array.from({ length: 20 }, (_, i) => `app,${t(i)},${label}`)),
]);
// With event ids and sources: 6 rows, 3 templates; one row is a template no head has seen.
const withIds = write('with-ids/eval.csv', [
  'source,log_message,target_label,event_id',
  'web,disk usage at 99% on node-77,Resource Usage,E1',
  'web,disk usage at 12% on node-3,Resource Usage,E1',
  'auth,user u900 signed in from the web portal,User Action,E2',
  'auth,user u901 signed in from the web portal,User Action,E2',
  'auth,brute force attempt blocked from host 10.9.9.1,Security Alert,E3',
  'auth,kernel panic on cpu 3,Critical Error,E4',
]);
// No event ids, no sources: templates come from masked messages.
const plain = write('plain/eval.csv', [
  'log_message,target_label',
  'disk usage at 42% on node-8,Resource Usage',
  'user u5 signed in from the web portal,User Action',
  'user u6 signed in from the web portal,User Action',
]);

afterEach(() => vi.restoreAllMocks());

async function runCompare(args: string[]): Promise<{ code: number; printed: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  const code = await evalCommand(args, config);
  return { code, printed: lines.join('\n') };
}

describe('logsift eval --compare', () => {
  it('trains every head on --train, scores each on every --data and prints one row per head', async () => {
    const out = join(dir, 'report');
    const { code, printed } = await runCompare(['--compare', '--train', train, '--data', withIds, '--data', plain, '--out', out]);
    expect(code).toBe(0);
    expect(printed).toContain('with-ids/eval.csv');
    expect(printed).toContain('plain/eval.csv');
    const headRows = printed.split('\n').filter((l) => HEAD_KINDS.some((h) => l.startsWith(`${h} `)));
    expect(headRows.map((l) => l.split(/\s+/)[0])).toEqual([...HEAD_KINDS]);
    for (const row of headRows) {
      const [trainSeconds, linesPerSecond, ...metrics] = row.trim().split(/\s+/).slice(1).map((c) => Number(c.replace(/,/g, '')));
      expect(trainSeconds).toBeGreaterThanOrEqual(0);
      expect(linesPerSecond).toBeGreaterThan(0);
      expect(metrics).toHaveLength(6); // accuracy, macro-F1, template accuracy × 2 data sets
      for (const m of metrics) expect(m >= 0 && m <= 1, row).toBe(true);
    }

    const report = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(report.training).toMatchObject({ rows: 60, fit: 51, validation: 9 });
    expect(report.dataSets).toEqual([
      { name: 'with-ids/eval.csv', rows: 6, templates: 4, templateKey: 'event_id', sources: 2, unseenLabels: ['Critical Error'] },
      { name: 'plain/eval.csv', rows: 3, templates: 2, templateKey: 'masked message', sources: 0, unseenLabels: [] },
    ]);
    expect(report.heads.map((h: { head: string }) => h.head)).toEqual([...HEAD_KINDS]);
    for (const h of report.heads) {
      // Every head learns the three templates; the Critical Error row is wrong for all of them.
      expect(h.scores['with-ids/eval.csv']).toMatchObject({ accuracy: 5 / 6, templateAccuracy: 3 / 4 });
      expect(h.scores['with-ids/eval.csv'].perSource).toEqual([
        { source: 'auth', rows: 4, accuracy: 3 / 4 },
        { source: 'web', rows: 2, accuracy: 1 },
      ]);
      expect(h.scores['plain/eval.csv']).toMatchObject({ accuracy: 1, macroF1: 1, templateAccuracy: 1 });
      expect(h.scores['plain/eval.csv'].perSource).toBeUndefined();
    }
    const markdown = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(markdown).toContain('| head | train s | predict lines/s |');
    expect(markdown).toContain('## Accuracy per source: with-ids/eval.csv');
    expect(markdown).not.toContain('## Accuracy per source: plain/eval.csv');
  }, 60_000);

  it('--heads picks the heads, in the order given', async () => {
    const out = join(dir, 'report-two');
    const { code } = await runCompare(['--compare', '--train', train, '--data', plain, '--heads', 'naive-bayes,softmax', '--out', out]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(report.heads.map((h: { head: string }) => h.head)).toEqual(['naive-bayes', 'softmax']);
  }, 60_000);

  it('bad flag combinations are clear errors', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await evalCommand(['--compare', '--data', plain], config)).toBe(2);
    await expect(evalCommand(['--compare', '--train', train, '--data', plain, '--split', 'group'], config)).rejects.toThrow(/--split do\(es\) not apply to --compare/);
    await expect(evalCommand(['--compare', '--train', train, '--data', plain, '--heads', 'softmax,forest'], config)).rejects.toThrow(/--heads must be one of softmax, naive-bayes, mlp, got forest/);
    await expect(evalCommand(['--compare', '--train', train, '--data', plain, '--data', plain], config)).rejects.toThrow(/names one file twice/);
    await expect(evalCommand(['--data', plain, '--data', withIds], config)).rejects.toThrow(/--data may be given once without --compare/);
    await expect(evalCommand(['--data', plain, '--train', train], config)).rejects.toThrow(/--train only appl\(ies\) with --compare/);
  });
});

describe('logsift eval --split with --head', () => {
  it('trains and scores the chosen head kind on the split', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const out = join(dir, 'split-nb');
    expect(await evalCommand(['--data', withIds, '--split', 'random', '--head', 'naive-bayes', '--llm-sources', 'none', '--out', out], config)).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report['trained head']).toBe('naive-bayes, fourth-root class weights');
    await expect(evalCommand(['--data', withIds, '--head', 'forest'], config)).rejects.toThrow(/--head must be one of softmax, naive-bayes, mlp, got forest/);
  }, 60_000);
});

describe('comparison metrics', () => {
  it('template accuracy averages over templates, not rows', () => {
    // Template a: 3 of 4 right; template b: 0 of 1 → (0.75 + 0) / 2, where line accuracy is 3/5.
    expect(templateAccuracy(['a', 'a', 'a', 'a', 'b'], [true, true, true, false, false])).toBe(0.375);
  });
  it('a row’s template is its event id, else its masked message', () => {
    expect(templateKey({ source: '', message: 'job 17 failed on 10.0.0.1', label: 'x', template: 'E9' })).toBe('E9');
    expect(templateKey({ source: '', message: 'Job 17 failed on 10.0.0.1', label: 'x' })).toBe(templateKey({ source: '', message: 'job 4242 failed on 10.1.2.3', label: 'x' }));
  });
  it('per-source accuracy', () => {
    expect(perSourceAccuracy(['b', 'a', 'b'], [true, false, false])).toEqual([
      { source: 'a', rows: 1, accuracy: 0 },
      { source: 'b', rows: 2, accuracy: 0.5 },
    ]);
  });
});
