/**
 * The classifier plugin's reload (http/plugins/classifier.ts) on scripted pipelines: a pipeline
 * whose local stages answer nonsense on the probe line is refused (the self-test), the errors
 * are told apart by status, and a refused pipeline never serves.
 */
import { describe, expect, it } from 'vitest';
import { HeaderParser } from '../../src/lines/header.js';
import { maskMessage } from '../../src/lines/masking.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import { HeadError, MaskRuleError } from '../../src/errors.js';
import { Classifier } from '../../src/http/plugins/classifier.js';
import type { BuiltPipeline, PipelineInfo } from '../../src/pipeline/build.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Stage, Verdict } from '../../src/stages/types.js';

const info = { labels: ['Error', 'User Action'], unclassifiedLabel: 'Unclassified', head: { path: 'h.json', labels: [] }, rules: 0 } as unknown as PipelineInfo;

function built(verdict: Verdict | undefined): BuiltPipeline {
  const embedding: Stage = { name: 'embedding', classify: async (records) => records.map(() => verdict) };
  const pipeline = new Pipeline({ stages: [embedding], llmSources: [], unclassifiedLabel: 'Unclassified', cacheSize: 0, preparer: new LinePreparer(new HeaderParser([]), maskMessage) });
  return { pipeline, info, embedder: { kind: 'lexical', dimension: 1, fingerprint: 'none', embed: async (texts) => texts.map(() => new Float32Array(1)) } };
}

describe('Classifier.reload', () => {
  it('swaps in a pipeline whose stages answer sanely', async () => {
    const first = built({ label: 'Error', confidence: 0.9 });
    const next = built({ label: 'User Action', confidence: 1 });
    const c = new Classifier(async () => next, {}, first);
    await expect(c.reload()).resolves.toMatchObject({ generation: 1 });
    expect(c.current).toBe(next);
  });

  it.each([
    ['a label no stage knows', { label: 'Bogus', confidence: 0.9 }],
    ['a confidence over 1', { label: 'Error', confidence: 1.5 }],
    ['a confidence that is not a number', { label: 'Error', confidence: Number.NaN }],
  ])('refuses a pipeline answering %s on the probe line (RELOAD_INVALID); the old one stays', async (_name, verdict) => {
    const first = built({ label: 'Error', confidence: 0.9 });
    const results: string[] = [];
    const c = new Classifier(async () => built(verdict), { reload: (r) => results.push(r) }, first);
    await expect(c.reload()).rejects.toMatchObject({ code: 'RELOAD_INVALID', statusCode: 422, message: expect.stringMatching(/self-test: the embedding stage answered/) });
    expect(c.current).toBe(first);
    expect(results).toEqual(['failed']);
  });

  it('tells an invalid file (422) from any other failure (500) by status, not by name', async () => {
    const c = (err: Error) => new Classifier(async () => Promise.reject(err), {}, built(undefined));
    await expect(c(new MaskRuleError('mask_rules.json is not valid JSON')).reload()).rejects.toMatchObject({ code: 'RELOAD_INVALID' });
    await expect(c(new HeadError('head-lexical.json: no such file')).reload()).rejects.toMatchObject({ code: 'RELOAD_INVALID' });
    await expect(c(new TypeError('Cannot read properties of undefined (reading "Rule")')).reload()).rejects.toMatchObject({ code: 'RELOAD_FAILED', statusCode: 500 });
  });

  it('shares one reload between concurrent callers', async () => {
    let builds = 0;
    const c = new Classifier(async () => (builds++, built(undefined)), {}, built(undefined));
    await Promise.all([c.reload(), c.reload(), c.reload()]);
    expect(builds).toBe(1);
  });
});
