/**
 * Tests that fail when the labels are wrong, not only when the service breaks: each one pins a
 * decision rule of the pipeline — the confidence threshold, the head's argmax, the order of the
 * regex rules and of the stages, and the LLM route for sources sent straight to it — on scripted
 * parts, then on the real pipeline (shipped rules, lexical head, a fake OpenAI server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config/index.js';
import type { LineFeaturizer } from '../../src/lines/features.js';
import { HeaderParser } from '../../src/lines/header.js';
import { maskMessage } from '../../src/lines/masking.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import type { LoadedHead } from '../../src/models/head.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { classifyAll } from '../../src/pipeline/run.js';
import { EmbeddingStage } from '../../src/stages/embedding.js';
import { compileRules, RegexStage } from '../../src/stages/regex.js';
import type { LogRecord, PreparedLine, Stage, Verdict } from '../../src/stages/types.js';
import { FakeOpenAI, answer } from '../helpers/fake-openai.js';

const LABELS = ['Error', 'Security Alert', 'User Action'];
const preparer = new LinePreparer(new HeaderParser([]), maskMessage);

/**
 * An embedding stage over a scripted head: each message's probabilities over LABELS are given
 * by the test, and the stage must pick the largest and apply the threshold itself.
 */
function scriptedEmbedding(probabilities: Record<string, number[]>, threshold: number): EmbeddingStage {
  const texts: string[] = [];
  const features = {
    kind: 'lexical',
    dimension: 1,
    fingerprint: 'scripted',
    preparer,
    async featurize(lines: readonly PreparedLine[]) {
      return lines.map((l) => {
        texts.push(l.text);
        return { indices: Uint32Array.of(0), values: Float32Array.of(texts.length - 1) };
      });
    },
    async close() {},
  } as unknown as LineFeaturizer;
  const head = {
    labels: LABELS,
    embedderKind: 'lexical',
    assertCompatible() {},
    predictProba(v: { values: Float32Array }) {
      const p = probabilities[texts[v.values[0]]];
      if (!p) throw new Error(`no probabilities scripted for ${texts[v.values[0]]}`);
      return Float32Array.from(p);
    },
  } as unknown as LoadedHead;
  return new EmbeddingStage(features, head, threshold);
}

const base = { llmSources: ['LegacyCRM'], unclassifiedLabel: 'Unclassified', cacheSize: 0, preparer };

describe('the embedding stage decides by the head\'s argmax and the confidence threshold', () => {
  const probabilities = {
    'sure of the second label': [0.05, 0.9, 0.05],
    'sure of the last label': [0.1, 0.1, 0.8],
    'unsure, leaning to the last label': [0.2, 0.35, 0.45],
    'just under the threshold': [0.1, 0.16, 0.74],
    // 0.75 is exact in float32 (0.7 is not: it would read 0.69999999).
    'at the threshold': [0.05, 0.2, 0.75],
  };
  const records = Object.keys(probabilities).map((message) => ({ source: 'app', message }));

  it('labels each line with the most probable label, whatever its position', async () => {
    const verdicts = await scriptedEmbedding(probabilities, 0.75).classify(records.map((r) => ({ ...r, line: preparer.prepare(r.message).line })));
    expect(verdicts.map((v) => v.label)).toEqual(['Security Alert', 'User Action', 'User Action', 'User Action', 'User Action']);
    expect(verdicts.map((v) => v.confidence)).toEqual([0.9, 0.8, 0.45, 0.74, 0.75].map((p) => Math.fround(p)));
  });

  it('a verdict under the threshold is only a guess: the pipeline answers it as fallback, at or over it as embedding', async () => {
    const p = new Pipeline({ ...base, stages: [scriptedEmbedding(probabilities, 0.75)] });
    const out = await p.classify(records);
    expect(out.map((d) => `${d.stage}:${d.label}`)).toEqual([
      'embedding:Security Alert',
      'embedding:User Action',
      'fallback:User Action',
      'fallback:User Action',
      'embedding:User Action',
    ]);
  });

  it('the threshold is the configured one: raising it turns embedding answers into fallbacks', async () => {
    const strict = new Pipeline({ ...base, stages: [scriptedEmbedding(probabilities, 0.95)] });
    expect((await strict.classify(records)).map((d) => d.stage)).toEqual(['fallback', 'fallback', 'fallback', 'fallback', 'fallback']);
    const lax = new Pipeline({ ...base, stages: [scriptedEmbedding(probabilities, 0.3)] });
    expect((await lax.classify(records)).map((d) => d.stage)).toEqual(['embedding', 'embedding', 'embedding', 'embedding', 'embedding']);
  });
});

describe('regex rules decide first, in file order', () => {
  const rules = [
    { id: 'failed-login', pattern: '\\blogin failed\\b', label: 'Security Alert' },
    { id: 'login', pattern: '\\blogin\\b', label: 'User Action' },
  ];
  const line = { source: 'app', message: 'login failed for user 7' };

  it('the first matching rule in the file wins', async () => {
    expect(await new RegexStage(compileRules({ rules })).classify([line])).toEqual([{ label: 'Security Alert', confidence: 1, rule: 'failed-login' }]);
    expect(await new RegexStage(compileRules({ rules: [...rules].reverse() })).classify([line])).toEqual([{ label: 'User Action', confidence: 1, rule: 'login' }]);
  });

  it('a rule hit is final: the model stages never see the line', async () => {
    const seen: string[] = [];
    const embedding: Stage = {
      name: 'embedding',
      async classify(records) {
        seen.push(...records.map((r) => r.message));
        return records.map((): Verdict => ({ label: 'Error', confidence: 0.99 }));
      },
    };
    const p = new Pipeline({ ...base, rowStages: [new RegexStage(compileRules({ rules }))], stages: [embedding] });
    const out = await p.classify([line, { source: 'app', message: 'disk on fire' }]);
    expect(out).toEqual([
      { label: 'Security Alert', stage: 'regex', confidence: 1, rule: 'failed-login' },
      { label: 'Error', stage: 'embedding', confidence: 0.99 },
    ]);
    expect(seen).toEqual(['disk on fire']);
  });
});

describe('a source routed to the LLM is decided by the LLM only', () => {
  it('skips the rules and the head, even for a line they would decide', async () => {
    const asked: string[] = [];
    const never = (name: Stage['name']): Stage<LogRecord> & Stage => ({
      name,
      async classify() {
        throw new Error(`${name} saw a routed line`);
      },
    });
    const llm: Stage = {
      name: 'llm',
      async classify(records) {
        asked.push(...records.map((r) => r.message));
        return records.map(() => ({ label: 'Workflow Error', confidence: 0.8 }));
      },
    };
    const p = new Pipeline({ ...base, rowStages: [never('regex')], stages: [never('embedding'), llm] });
    expect(await p.classify([{ source: 'LegacyCRM', message: 'User 12345 logged in.' }])).toEqual([{ label: 'Workflow Error', stage: 'llm', confidence: 0.8 }]);
    expect(asked).toEqual(['User <num> logged in.']);
  });
});

describe('the real pipeline (shipped rules, lexical head)', () => {
  const config = (over: ConfigInput = {}) => loadConfig({}, { embedder: { kind: 'lexical' }, ...over });
  const lines: LogRecord[] = [
    { source: 'billing', message: 'User 12345 logged in.' },
    { source: 'LegacyCRM', message: 'Quote approval stalled for deal 8910: approver is on leave' },
    { source: 'gateway', message: 'Firewall dropped traffic from 203.0.113.45 after a port scan' },
    { source: 'ModernHR', message: 'Disk usage on node-7 crossed 91 percent' },
    { source: 'ModernCRM', message: 'Payment service returned HTTP 502 upstream error' },
    { source: 'worker', message: 'Deprecated API v1 called by client; migrate to v2' },
  ];

  it('every embedding answer is at or over the threshold, every guess under it, and the threshold moves them', async () => {
    for (const threshold of [0, 0.7, 1]) {
      const built = await buildPipeline(config({ pipeline: { confidenceThreshold: threshold } }));
      const out = await classifyAll(lines, built.pipeline, { batchSize: 4 });
      for (const d of out) {
        if (d.stage === 'embedding') expect(d.confidence).toBeGreaterThanOrEqual(threshold);
        if (d.stage === 'fallback' && d.label !== 'Unclassified') expect(d.confidence).toBeLessThan(threshold);
      }
      const modelDecided = out.filter((d) => d.stage === 'embedding' || d.stage === 'fallback').length;
      if (threshold === 0) expect(out.filter((d) => d.stage === 'embedding').length).toBe(modelDecided);
      if (threshold === 1) expect(out.filter((d) => d.stage === 'embedding').length).toBe(0);
      await built.pipeline.close();
    }
  });

  it('the head\'s answer is its most probable label, for every line', async () => {
    const built = await buildPipeline(config({ pipeline: { confidenceThreshold: 0 } }));
    const verdicts = await built.pipeline.stageVerdicts('embedding', lines);
    const head = built.pipeline.stages.find((s): s is EmbeddingStage => s instanceof EmbeddingStage)!;
    const vectors = await head.features.featurizeMessages(lines.map((l) => l.message));
    const labels = new Set<string>();
    vectors.forEach((v, i) => {
      const p = [...head.head.predictProba(v)];
      const best = p.indexOf(Math.max(...p));
      expect(verdicts[i]).toMatchObject({ label: head.head.labels[best], confidence: p[best] });
      labels.add(head.head.labels[best]);
    });
    // Not one label for everything: these lines are of different kinds.
    expect(labels.size).toBeGreaterThan(2);
    await built.pipeline.close();
  });

  it('the shipped rules decide a login before the head is asked', async () => {
    const built = await buildPipeline(config());
    expect((await classifyAll([lines[0]], built.pipeline, { batchSize: 1 }))[0]).toEqual({ label: 'User Action', stage: 'regex', confidence: 1, rule: 'user-login' });
    await built.pipeline.close();
  });

  describe('with an LLM configured', () => {
    let llm: FakeOpenAI;
    beforeAll(async () => {
      llm = await new FakeOpenAI().start();
      llm.respond(() => answer('Workflow Error'));
    });
    afterAll(async () => llm.close());

    it('LegacyCRM lines go to the LLM, even one the rules would decide; other sources do not', async () => {
      const built = await buildPipeline(config({ llm: { baseUrl: llm.baseUrl, retries: 0 } }));
      const out = await classifyAll(
        [
          { source: 'LegacyCRM', message: 'User 12345 logged in.' },
          { source: 'billing', message: 'User 12345 logged in.' },
        ],
        built.pipeline,
        { batchSize: 8 },
      );
      expect(out).toEqual([
        { label: 'Workflow Error', stage: 'llm', confidence: 0.8 },
        { label: 'User Action', stage: 'regex', confidence: 1, rule: 'user-login' },
      ]);
      expect(llm.requests).toHaveLength(1);
      await built.pipeline.close();
    });
  });
});
