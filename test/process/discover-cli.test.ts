/**
 * `logsift discover` as a process, on a small generated file in a temp dir: the four files, their
 * columns, the families, and rules the service's loader takes that decide their templates' lines.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { compileRules, RegexStage } from '../../src/stages/regex.js';

const dir = mkdtempSync(join(tmpdir(), 'discover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 40 disk lines, 12 longer disk lines (the same family), 40 payment time-outs, 30 log-outs (a configured rule), 1 odd line (5 templates). */
function generated(): string {
  const rows: string[][] = [];
  for (let i = 0; i < 40; i++) {
    rows.push(['db', `Disk usage on /data${i % 5} reached ${90 + (i % 9)}% of ${100 * ((i % 4) + 1)} GB`, 'Resource Usage']);
    rows.push(['app', `Payment service timed out after ${i * 100} ms for order ${5000 + i}`, 'Error']);
    if (i < 30) rows.push(['web', `User u${i} logged out.`, 'User Action']);
    if (i < 12) rows.push(['db', `Disk usage on /data${i % 5} reached ${90 + (i % 9)}% of ${100 * ((i % 4) + 1)} GB and rising`, 'Resource Usage']);
  }
  rows.push(['x', 'something odd happened once', 'Error']);
  return ['source,log_message,target_label', ...rows.map((r) => r.map((c) => `"${c}"`).join(','))].join('\n');
}

describe('logsift discover', () => {
  it('writes templates.csv, families.csv, suggested_rules.json and report.md', async () => {
    const data = join(dir, 'small.csv');
    writeFileSync(data, generated());
    const out = join(dir, 'out');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'discover', '--data', data, '--out', out], { cwd: PROJECT_ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/^123 rows, 5 templates, 4 families, 2 rules suggested \(0 rejected\): they take 52 lines/);

    const templates = parse(readFileSync(join(out, 'templates.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(templates[0])).toEqual(['id', 'template', 'count', 'label', 'stage', 'confidence', 'family', 'example']);
    const by = (t: string) => templates.find((r) => r.template === t)!;
    const disk = by('Disk usage on <*> reached <*> of <*> GB');
    const rising = by('Disk usage on <*> reached <*> of <*> GB and rising');
    expect(disk).toMatchObject({ count: '40', label: 'Resource Usage', stage: 'embedding', family: '0' });
    expect(rising.family).toBe(disk.family);
    expect(by('User <*> logged out.')).toMatchObject({ count: '30', stage: 'regex', confidence: '1' });
    expect(new Set(templates.map((t) => t.family)).size).toBe(4);

    const families = parse(readFileSync(join(out, 'families.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(families[0]).toEqual({ family: '0', templates: '2', lines: '52', representative_id: disk.id, representative: disk.template, labels: 'Resource Usage: 52' });

    // The rules file loads as configs/regex_rules.json does, and each rule takes its template's lines only.
    const file = JSON.parse(readFileSync(join(out, 'suggested_rules.json'), 'utf8'));
    const stage = new RegexStage(compileRules(file, 'suggested_rules.json'));
    expect(file.rules.map((r: { id: string }) => r.id).sort()).toEqual([`tpl-${disk.id}`, `tpl-${rising.id}`].sort());
    expect(stage.match('Disk usage on /x reached 1% of 2 GB')?.id).toBe(`tpl-${disk.id}`);
    expect(stage.match('Disk usage on /x reached 1% of 2 GB and rising')?.id).toBe(`tpl-${rising.id}`);
    expect(stage.match('Payment service timed out after 1 ms for order 2')).toBeUndefined();

    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('the suggested rules take **52 of 123 lines (42.3 %)**, of which the model labels 100.0 % the same and the ground truth (target_label) agrees on 100.0 %');
    expect(report).toContain('the configured rules take 30 lines');
  }, 60_000);
});
