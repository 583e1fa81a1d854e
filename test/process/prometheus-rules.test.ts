/**
 * The example alerting rules (docs/prometheus/logsift-alerts.yml) are valid Prometheus rules
 * (`promtool check rules`) and use the metrics the service really exports.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolvePath } from '../../src/config/index.js';
import { createMetrics } from '../../src/http/plugins/metrics.js';

const RULES = resolvePath('docs/prometheus/logsift-alerts.yml');
// Debian's `prometheus` package has promtool (.ci/run installs it).
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe('docs/prometheus/logsift-alerts.yml', () => {
  it.skipIf(!promtool)('passes `promtool check rules` (skipped only when promtool is not installed: apt-get install prometheus)', async () => {
    const { stdout } = await promisify(execFile)('promtool', ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: 3 rules found/);
  });

  it('names only metrics (and label values) the service exports', async () => {
    const text = readFileSync(RULES, 'utf8');
    const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = [...new Set(text.match(/\blogsift_[a-z_]+/g) ?? [])];
    expect(used.sort()).toEqual(['logsift_rows_total', 'logsift_templates_new_total']);
    for (const name of used) expect(exported, name).toContain(name);
    const labels = JSON.parse(readFileSync(resolvePath('configs/labels.json'), 'utf8')) as { definitions: Record<string, string> };
    for (const [, label] of text.matchAll(/label="([^"]+)"/g)) expect(Object.keys(labels.definitions)).toContain(label);
  });
});
