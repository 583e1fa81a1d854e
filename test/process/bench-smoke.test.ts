/**
 * The benchmarks at a tiny size (seconds), so they never rot: every table of bench/RESULTS.md
 * is produced, with no HTTP errors. The real runs (`npm run bench`) are not part of the suite.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODEBASICS } from '../../bench/lib.js';
import { runAll } from '../../bench/run.js';

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
});
