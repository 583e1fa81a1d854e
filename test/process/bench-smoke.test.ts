/**
 * The benchmarks at a tiny size (seconds), so they never rot: every table of bench/RESULTS.md
 * is produced, with no HTTP errors. The real runs (`npm run bench`) are not part of the suite.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CODEBASICS } from '../../bench/lib.js';
import { runAll } from '../../bench/run.js';
import { PROJECT_ROOT } from '../../src/config/index.js';

// The benchmarks read the Codebasics set from ../shared, which a checkout may not have.
describe.skipIf(!existsSync(CODEBASICS))('benchmarks (smoke size)', () => {
  it('runs every benchmark end to end, lexical, and the load runs see no errors', async () => {
    const lines = await runAll({ small: true, skipOnnx: true, source: true, log: () => undefined });
    const text = lines.join('\n');
    expect(text).toContain('### Pipeline throughput');
    expect(text).toContain('### HTTP load');
    expect(text).toContain('### Streaming');
    expect(text).toContain('### Start-up');
    const load = lines.filter((l) => /^\| lexical \| 10 \| \d+ \|/.test(l));
    expect(load.length).toBe(2);
    // errors and non-2xx are the last two cells
    for (const row of load) expect(row.split('|').slice(-3, -1).map((c) => c.trim())).toEqual(['0', '0']);
    const stream = lines.find((l) => l.startsWith('| lexical | fast |'))!;
    expect(stream.split('|')[3].trim()).toBe('2,000');
  }, 120_000);

  it('bench/limits.ts compares an upload with the bare Fastify server, both answering every row', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/limits.ts', 'upload', '--rows', '2300', '--rounds', '1', '--source'], {
      cwd: PROJECT_ROOT,
      timeout: 60_000,
    });
    const rows = stdout.split('\n').filter((l) => /^\| (bare Fastify|logsift) /.test(l));
    expect(rows.map((l) => l.split('|')[2].trim())).toEqual(['2,300', '2,300']);
    expect(stdout).toMatch(/logsift ÷ reference: \d+\.\d\d \(rows\/s\)/);
  }, 90_000);
});
