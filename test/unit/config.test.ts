import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig, resolvePath } from '../../src/config/index.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.server.port).toBe(8000);
    expect(c.pipeline.llmSources).toEqual(['LegacyCRM']);
    expect(c.embedder.kind).toBe('auto');
    expect(c.llm.baseUrl).toBeUndefined();
  });

  it('reads the environment (PORT, lists, numbers)', () => {
    const c = loadConfig({ PORT: '9001', LOGSIFT_LLM_SOURCES: 'A, B', LOGSIFT_CONFIDENCE_THRESHOLD: '0.7', LOGSIFT_LLM_BASE_URL: 'http://localhost:11434/v1' });
    expect(c.server.port).toBe(9001);
    expect(c.pipeline.llmSources).toEqual(['A', 'B']);
    expect(c.pipeline.confidenceThreshold).toBe(0.7);
    expect(c.llm.baseUrl).toBe('http://localhost:11434/v1');
    expect(loadConfig({ LOGSIFT_LLM_BREAKER_THRESHOLD: '20', LOGSIFT_LLM_BREAKER_COOLDOWN_MS: '5000' }).llm).toMatchObject({ breakerThreshold: 20, breakerCooldownMs: 5000 });
  });

  it('reads the LLM limits and the label definitions path, with defaults', () => {
    const d = loadConfig({});
    expect(d.llm).toMatchObject({ maxRetryAfterMs: 10_000, maxResponseBytes: 65_536 });
    expect(d.llm.callBudgetMs).toBeUndefined();
    expect(d.pipeline.labelsPath).toBe('configs/labels.json');
    const c = loadConfig({ LOGSIFT_LLM_MAX_RETRY_AFTER_MS: '0', LOGSIFT_LLM_MAX_RESPONSE_BYTES: '4096', LOGSIFT_LLM_CALL_BUDGET_MS: '8000', LOGSIFT_LABELS: 'my/labels.json' });
    expect(c.llm).toMatchObject({ maxRetryAfterMs: 0, maxResponseBytes: 4096, callBudgetMs: 8000 });
    expect(c.pipeline.labelsPath).toBe('my/labels.json');
    expect(() => loadConfig({ LOGSIFT_LLM_MAX_RESPONSE_BYTES: '0' })).toThrow(/llm\.maxResponseBytes/);
  });

  it('layers defaults ← file ← environment ← overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'logsift.json');
    writeFileSync(file, JSON.stringify({ server: { port: 7000, logLevel: 'warn' }, llm: { model: 'llama3' } }));
    const c = loadConfig({ LOGSIFT_CONFIG: file, PORT: '7100' }, { llm: { retries: 0 } });
    expect(c.server).toMatchObject({ port: 7100, logLevel: 'warn' });
    expect(c.llm).toMatchObject({ model: 'llama3', retries: 0 });
  });

  it('names every invalid field', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOGSIFT_CONFIDENCE_THRESHOLD: '2' })).toThrow(/server\.port[\s\S]*pipeline\.confidenceThreshold/);
    expect(() => loadConfig({ LOGSIFT_EMBEDDER: 'bert' })).toThrow(/embedder\.kind/);
    expect(() => loadConfig({ LOGSIFT_LLM_BASE_URL: 'not a url' })).toThrow(/llm\.baseUrl/);
    expect(() => loadConfig({ LOGSIFT_CONFIG: '/nonexistent.json' })).toThrow(/config file not found/);
  });
});

describe('one list of configuration names', () => {
  const readme = readFileSync(resolvePath('README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n\n', readme.indexOf('| environment |')));
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| environment') && !l.startsWith('|---'));
  const cells = rows.map((r) => r.split('|').slice(1, 3).map((c) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1])));

  it('every environment variable is named on its schema field, and README lists exactly those', () => {
    const documented = cells.flatMap(([envs]) => envs).sort();
    expect(documented).toEqual(Object.keys(ENV_VARS).sort());
  });

  it('README pairs each variable with the config path the schema gives it', () => {
    for (const [envs, paths] of cells) {
      if (envs.length === 0 || envs.length !== paths.length) continue;
      envs.forEach((env, i) => expect(`${env} → ${ENV_VARS[env]}`).toBe(`${env} → ${paths[i]}`));
    }
  });

  it('a list variable is read as a comma-separated list', () => {
    const c = loadConfig({ LOGSIFT_CORS_ORIGINS: 'https://a.example, https://b.example', LOGSIFT_LLM_SOURCES: 'A' });
    expect(c.cors.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.pipeline.llmSources).toEqual(['A']);
  });
});
