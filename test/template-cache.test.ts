import { describe, expect, it } from 'vitest';
import { CACHE_MASK_RULES, compileMaskRules, compileMasker, loadMaskRules, MaskRuleError } from '../src/pipeline/masking.js';
import { MicroBatchingEmbedder } from '../src/pipeline/micro-batcher.js';
import { HeaderParser } from '../src/pipeline/line-header.js';
import { LinePreparer } from '../src/pipeline/prepare.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { resolvePath } from '../src/config.js';
import type { Embedder, Vector } from '../src/embedders/types.js';

describe('cache-key masking rules', () => {
  const mask = compileMasker(loadMaskRules(resolvePath('configs/mask_rules.json')));

  it('the shipped file is the built-in cache rule set', () => {
    expect(loadMaskRules(resolvePath('configs/mask_rules.json')).map((r) => [r.name, r.pattern.source, r.replacement])).toEqual(
      CACHE_MASK_RULES.map((r) => [r.name, r.pattern.source, r.replacement]),
    );
  });

  it('masks paths and short quoted values, not quoted sentences or and/or', () => {
    expect(mask('Disk usage on /var/lib/mysql exceeded 91% threshold')).toBe('Disk usage on <path> exceeded <num>% threshold');
    expect(mask("Plugin 'CsvBridge' is going away in release 4.0")).toBe('Plugin <str> is going away in release <num>');
    expect(mask('level=warn msg="Backup failed at 10:20"')).toBe('level=warn msg="Backup failed at <num>:<num>"');
    expect(mask('read and/or write')).toBe('read and/or write');
    expect(mask('GET /v2/abc/servers/detail HTTP/1.1 status: 200')).toBe('GET <path> HTTP/<num> status: <num>');
  });

  it('refuses a bad rule file, naming the rule', () => {
    expect(() => compileMaskRules({ rules: [{ name: 'x', pattern: '(', replacement: '' }] })).toThrow(MaskRuleError);
    expect(() => compileMaskRules({ rules: [{ name: 'x', pattern: 'a', flags: 'y', replacement: '' }] })).toThrow(/flags/);
    expect(compileMaskRules({ rules: [{ name: 'off', pattern: 'a', replacement: 'b', enabled: false }] })).toEqual([]);
  });

  it('reports LRU and in-batch hit rates', async () => {
    const p = new Pipeline({
      stages: [{ name: 'embedding', classify: async (rs) => rs.map(() => ({ label: 'A', confidence: 1 })) }],
      llmSources: [],
      unclassifiedLabel: 'U',
      cacheSize: 10,
      preparer: new LinePreparer(new HeaderParser([]), mask),
    });
    await p.classify([{ source: 's', message: 'user 1 in' }, { source: 's', message: 'user 2 in' }]);
    await p.classify([{ source: 's', message: 'user 3 in' }, { source: 's', message: 'other' }]);
    expect(p.stats).toMatchObject({ rows: 4, cacheHits: 1, batchDuplicates: 1, decided: 2 });
    expect(p.cacheHitRate).toEqual({ lru: 0.25, overall: 0.5 });
  });
});

class CountingEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  readonly dimension = 1;
  readonly fingerprint = 'count';
  calls: string[][] = [];
  async embed(texts: readonly string[]): Promise<Vector[]> {
    this.calls.push([...texts]);
    await new Promise((r) => setTimeout(r, 5));
    return texts.map((t) => Float32Array.of(t.length));
  }
}

describe('MicroBatchingEmbedder', () => {
  it('runs concurrent calls together, once per distinct text, each caller getting its own order', async () => {
    const inner = new CountingEmbedder();
    const e = new MicroBatchingEmbedder(inner, { windowMs: 5, maxBatch: 100 });
    const [a, b] = await Promise.all([e.embed(['aa', 'b']), e.embed(['ccc', 'aa'])]);
    expect(inner.calls).toEqual([['aa', 'b', 'ccc']]);
    expect(a.map((v) => (v as Float32Array)[0])).toEqual([2, 1]);
    expect(b.map((v) => (v as Float32Array)[0])).toEqual([3, 2]);
  });

  it('never runs the inner embedder twice at once; what waits during a run goes next', async () => {
    const inner = new CountingEmbedder();
    const e = new MicroBatchingEmbedder(inner, { windowMs: 0, maxBatch: 2 });
    const results = await Promise.all([e.embed(['a', 'b']), e.embed(['c']), e.embed(['d']), e.embed(['e', 'f', 'g'])]);
    expect(inner.calls).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f', 'g']]);
    expect(results.flat().length).toBe(7);
  });

  it('passes an inner failure to every caller of that run', async () => {
    const e = new MicroBatchingEmbedder(
      { kind: 'onnx', dimension: 1, fingerprint: 'x', embed: async () => Promise.reject(new Error('boom')) },
      { windowMs: 1, maxBatch: 10 },
    );
    await expect(Promise.all([e.embed(['a']), e.embed(['b'])])).rejects.toThrow('boom');
  });
});
