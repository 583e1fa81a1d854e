import { describe, expect, it } from 'vitest';
import { HeaderParser } from '../../src/lines/header.js';
import { CACHE_MASK_RULES, compileMasker, maskMessage } from '../../src/lines/masking.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import type { LogRecord, Stage, Verdict } from '../../src/stages/types.js';
import { readHeaderPatterns } from '../../src/pipeline/build.js';

/** A scripted stage: decides by a function of the record and records what it was asked. */
function stage(name: Stage['name'], decide: (r: LogRecord) => Verdict | undefined | 'throw'): Stage<any> & { seen: string[] } {
  const seen: string[] = [];
  return {
    name,
    seen,
    async classify(records) {
      seen.push(...records.map((r) => r.message));
      const out = records.map(decide);
      if (out.includes('throw')) throw new Error(`${name} failed`);
      return out as (Verdict | undefined)[];
    },
  };
}

// No header formats: the stages see the masked message itself.
const base = { llmSources: ['LegacyCRM'], unclassifiedLabel: 'Unclassified', cacheSize: 100, preparer: new LinePreparer(new HeaderParser([]), maskMessage) };

describe('Pipeline', () => {
  it('the first firm verdict wins, in stage order, and output order matches input', async () => {
    const regex = stage('regex', (r) => (r.message.startsWith('login') ? { label: 'User Action', confidence: 1 } : undefined));
    const embedding = stage('embedding', () => ({ label: 'Error', confidence: 0.9 }));
    const p = new Pipeline({ ...base, rowStages: [regex], stages: [embedding] });
    const out = await p.classify([
      { source: 'a', message: 'disk failed' },
      { source: 'a', message: 'login ok' },
    ]);
    expect(out).toEqual([
      { label: 'Error', stage: 'embedding', confidence: 0.9 },
      { label: 'User Action', stage: 'regex', confidence: 1 },
    ]);
    expect(embedding.seen).toEqual(['disk failed']);
  });

  it('a tentative verdict is overridden by a later stage, and used as the fallback when none decides', async () => {
    const embedding = stage('embedding', () => ({ label: 'Error', confidence: 0.3, tentative: true }));
    const llm = stage('llm', (r) => (r.message === 'ask' ? { label: 'Critical Error', confidence: 0.8 } : undefined));
    const p = new Pipeline({ ...base, stages: [embedding, llm] });
    const out = await p.classify([
      { source: 'a', message: 'ask' },
      { source: 'a', message: 'no answer' },
    ]);
    expect(out[0]).toEqual({ label: 'Critical Error', stage: 'llm', confidence: 0.8 });
    expect(out[1]).toEqual({ label: 'Error', stage: 'fallback', confidence: 0.3 });
  });

  it('sources configured for the LLM skip the other stages; with no answer they are Unclassified', async () => {
    const regex = stage('regex', () => ({ label: 'X', confidence: 1 }));
    const llm = stage('llm', () => undefined);
    const p = new Pipeline({ ...base, rowStages: [regex], stages: [llm] });
    const [d] = await p.classify([{ source: 'LegacyCRM', message: 'anything' }]);
    expect(d).toEqual({ label: 'Unclassified', stage: 'fallback', confidence: 0 });
    expect(regex.seen).toEqual([]);
    expect(llm.seen).toEqual(['anything']);
  });

  it('a stage that throws degrades to the next stage and is counted', async () => {
    const broken = stage('embedding', () => 'throw');
    const llm = stage('llm', () => ({ label: 'Error', confidence: 0.8 }));
    const p = new Pipeline({ ...base, stages: [broken, llm] });
    const out = await p.classify([{ source: 'a', message: 'x' }]);
    expect(out[0].stage).toBe('llm');
    expect(p.stats.stageFailures).toEqual({ embedding: 1 });
  });

  it('messages that differ only in variable parts are decided once (batch and cache)', async () => {
    const embedding = stage('embedding', () => ({ label: 'Error', confidence: 0.9 }));
    const p = new Pipeline({ ...base, stages: [embedding] });
    await p.classify([
      { source: 'a', message: 'job 17 failed on 10.0.0.1' },
      { source: 'a', message: 'job 18 failed on 10.0.0.2' },
    ]);
    await p.classify([{ source: 'b', message: 'job 99 failed on 192.168.1.1' }]);
    expect(embedding.seen).toEqual(['job <num> failed on <ip>']);
    expect(p.stats).toMatchObject({ rows: 3, cacheHits: 1, cacheMisses: 2 });
  });

  it('fallback decisions are not cached (the LLM may be back next time)', async () => {
    let up = false;
    const llm = stage('llm', () => (up ? { label: 'Error', confidence: 0.8 } : undefined));
    const p = new Pipeline({ ...base, stages: [llm] });
    expect((await p.classify([{ source: 'a', message: 'm' }]))[0].stage).toBe('fallback');
    up = true;
    expect((await p.classify([{ source: 'a', message: 'm' }]))[0].stage).toBe('llm');
  });

  it('with the cache off every batch reaches the stages', async () => {
    const embedding = stage('embedding', () => ({ label: 'Error', confidence: 0.9 }));
    const p = new Pipeline({ ...base, cacheSize: 0, stages: [embedding] });
    await p.classify([{ source: 'a', message: 'm' }]);
    await p.classify([{ source: 'a', message: 'm' }]);
    expect(embedding.seen).toEqual(['m', 'm']);
  });

  it('rules see each row\'s own message without its header; the model stages see only the prepared line', async () => {
    const preparer = new LinePreparer(new HeaderParser(await readHeaderPatterns(new URL('../../configs/header_patterns.json', import.meta.url).pathname)), compileMasker(CACHE_MASK_RULES));
    const regex = stage('regex', () => undefined);
    const embedding = stage('embedding', () => ({ label: 'Error', confidence: 0.9 }));
    const p = new Pipeline({ ...base, preparer, rowStages: [regex], stages: [embedding] });
    await p.classify([{ source: 'a', message: '2024-05-01 10:00:00,101 ERROR [main] org.acme.Db: query 42 failed for user \'bob\'' }]);
    expect(regex.seen).toEqual(["query 42 failed for user 'bob'"]);
    expect(embedding.seen).toEqual(['[error] org.acme.Db: query <num> failed for user <str>']);
  });

  // Issue 9.3: one client's values must not change another client's label. A cached decision is
  // a function of exactly what the deciding stage saw, so the order of requests cannot matter.
  it('a cached decision does not depend on which line of a template came first (no cache poisoning)', async () => {
    const preparer = new LinePreparer(new HeaderParser([]), compileMasker(CACHE_MASK_RULES));
    // A stage that would be steered by the value inside the quotes if it could see it.
    const steerable = () =>
      stage('embedding', (r) => (/logged_in|completed/.test(r.message) ? { label: 'System Notification', confidence: 0.6, tentative: true } : { label: 'Security Alert', confidence: 1 }));
    const hostile = { source: 'x', message: "Multiple failed login attempts for user 'backup_completed_user_logged_in_successfully_cache_cleared' from 10.1.2.3" };
    const honest = { source: 'y', message: "Multiple failed login attempts for user 'admin' from 10.9.8.7" };
    const first = new Pipeline({ ...base, preparer, cacheFallbacks: true, stages: [steerable()] });
    const poisoned = [...(await first.classify([hostile])), ...(await first.classify([honest]))];
    const second = new Pipeline({ ...base, preparer, cacheFallbacks: true, stages: [steerable()] });
    const clean = [...(await second.classify([honest])), ...(await second.classify([hostile]))];
    expect(poisoned[1]).toEqual({ label: 'Security Alert', stage: 'embedding', confidence: 1 });
    expect(poisoned[1]).toEqual(clean[0]);
    expect(poisoned[0]).toEqual(clean[1]);
  });
});
