import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalCommand } from '../../src/commands/eval.js';
import { loadConfig, resolvePath } from '../../src/config/index.js';

const config = loadConfig({});
const dir = mkdtempSync(join(tmpdir(), 'eval-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('logsift eval', () => {
  it('scores the installed pipeline and writes a stable report.json, report.md and charts', async () => {
    const data = write(
      'small.csv',
      [
        'source,log_message,target_label',
        'web,User alice logged in.,User Action',
        'web,"10.0.0.1 - - [01/Jan/2026:00:00:01 +0000] ""GET /x HTTP/1.1"" 200 12",HTTP Status',
        'db,Disk usage on /var reached 97% of 500 GB,Resource Usage',
        'auth,Blocked IP 203.0.113.9 after 30 failed logins,Security Alert',
        'crm,A label nobody knows,Weird Label',
      ].join('\n'),
    );
    const out = join(dir, 'report-none');
    expect(await evalCommand(['--data', data, '--split', 'none', '--out', out], config)).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.rows).toBe(5);
    expect(report.unknownLabels).toEqual(['Weird Label']);
    expect(report.report.support).toBe(5);
    expect(report.report.perLabel.find((s: { label: string }) => s.label === 'User Action')).toMatchObject({ recall: 1, support: 1 });
    expect(report.stages.find((s: { stage: string }) => s.stage === 'regex').rows).toBeGreaterThanOrEqual(2);
    expect(report.calibration.ece).toBeGreaterThanOrEqual(0);
    expect(report.thresholdCurve.length).toBeGreaterThan(0);
    for (const f of ['report.md', 'confusion.svg', 'reliability.svg', 'predictions.csv']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('no stage can produce');
    expect(readFileSync(join(out, 'confusion.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
  }, 60_000);

  it('trains on one side of a template-grouped split and scores the other', async () => {
    const out = join(dir, 'report-group');
    const data = resolvePath('data/robustness.csv');
    expect(await evalCommand(['--data', data, '--split', 'group', '--llm-sources', 'none', '--out', out], config)).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report['test rows whose masked template is also in training']).toBe('0.0 %');
    expect(report.rows).toBeGreaterThan(30);
    expect(report.report.accuracy).toBeGreaterThan(0);
  }, 120_000);

  it('bad input is a clear error', async () => {
    await expect(evalCommand(['--data', join(dir, 'missing.csv')], config)).rejects.toThrow(/cannot read .*missing.csv: ENOENT/);
    await expect(evalCommand(['--data', write('nolabel.csv', 'source,log_message\na,b\n')], config)).rejects.toThrow(/lacks column\(s\): target_label/);
    await expect(evalCommand(['--data', write('empty.csv', '')], config)).rejects.toThrow(/is empty/);
    await expect(evalCommand(['--data', write('x.csv', 'log_message,target_label\na,b\n'), '--split', 'sideways'], config)).rejects.toThrow(/--split must be/);
    expect(await evalCommand([], config)).toBe(2);
  });
});
