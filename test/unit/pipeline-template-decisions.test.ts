import { describe, expect, it } from 'vitest';
import { compileHeaderPatterns, HeaderParser } from '../../src/lines/header.js';
import { maskMessage } from '../../src/lines/masking.js';
import type { Prepared } from '../../src/lines/prepare.js';
import { LinePreparer } from '../../src/lines/prepare.js';
import { hasConstantWord, isProblemWord, problemWords, templateDecisionKey } from '../../src/pipeline/decision-key.js';
import { Pipeline, type TemplateAssignment, type TemplateTracker } from '../../src/pipeline/pipeline.js';
import { compileRules, RegexStage } from '../../src/stages/regex.js';
import type { LogRecord, PreparedRecord, Stage, Verdict } from '../../src/stages/types.js';
import { TemplateNamer } from '../../src/templates/namer.js';

/** A model stage that says Error for a line with `fail` in it, and records what it was shown. */
function model(confidence = 0.9): Stage & { seen: string[] } {
  const seen: string[] = [];
  return {
    name: 'embedding',
    seen,
    async classify(records: readonly PreparedRecord[]): Promise<Verdict[]> {
      seen.push(...records.map((r) => r.message));
      return records.map((r) => ({ label: /fail/i.test(r.message) ? 'Error' : 'Notification', confidence, tentative: confidence < 0.5 }));
    },
  };
}

const preparer = () => new LinePreparer(new HeaderParser([]), maskMessage);
function pipeline(stage: Stage, options: { namer?: boolean; rules?: RegexStage; cacheFallbacks?: boolean } = {}): Pipeline {
  return new Pipeline({
    stages: [stage],
    rowStages: options.rules ? [options.rules] : [],
    llmSources: [],
    unclassifiedLabel: 'Unclassified',
    cacheSize: 100,
    cacheFallbacks: options.cacheFallbacks ?? true,
    preparer: preparer(),
    templateNamer: options.namer === false ? undefined : new TemplateNamer({ maxTemplates: 100 }),
  });
}
const rows = (...messages: string[]): LogRecord[] => messages.map((message) => ({ source: 's', message }));

describe('decision keys', () => {
  it('problem words: whole words and the parts of compounds, not words that merely start alike', () => {
    for (const w of ['failed', 'Failed:', 'FAIL_CONTAINER_CLEANUP', 'connectionRefused', 'ERROR', 'err', 'timeout,', 'java.net.NoRouteToHostException:', 'denied', 'down']) {
      expect(isProblemWord(w), w).toBe(true);
    }
    for (const w of ['alice', 'chrome.exe', 'succeeded', 'download', 'errand', 'badge', 'RUNNING', '<num>', 'x']) expect(isProblemWord(w), w).toBe(false);
    expect(problemWords('Job <num> FAILED after timeout on host alice')).toBe('FAILED timeout');
  });

  it('a template of nothing but parameters has no constant word', () => {
    expect(hasConstantWord('<*> <*>')).toBe(false);
    expect(hasConstantWord('<*>: <*>, = <*>')).toBe(false);
    expect(hasConstantWord('blk_<*> served')).toBe(true);
    expect(hasConstantWord('<*>Request:<*>')).toBe(true);
  });

  it('the key keeps the level and the problem words, and is unset for a template without a constant word', () => {
    const t = { id: 'abc', text: 'Connection to <*> <*>' };
    expect(templateDecisionKey(t, { level: 'error', text: 'Connection to host lost' })).not.toBe(templateDecisionKey(t, { level: 'info', text: 'Connection to host lost' }));
    expect(templateDecisionKey(t, { text: 'Connection to alice closed' })).toBe(templateDecisionKey(t, { text: 'Connection to bob closed' }));
    expect(templateDecisionKey(t, { text: 'Connection to alice failed' })).not.toBe(templateDecisionKey(t, { text: 'Connection to bob closed' }));
    expect(templateDecisionKey({ id: 'x', text: '<*> <*>' }, { text: 'a1 b2' })).toBeUndefined();
  });
});

describe('Pipeline: decisions shared per template', () => {
  it('lines of one template that differ in a user name are decided once (masked line keys would run the model for each)', async () => {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    const messages = users.map((u) => `Accepted publickey for ${u} from 10.0.0.1 port 22`);
    const shared = model();
    const out = await pipeline(shared).classify(rows(...messages));
    expect(new Set(out.map((d) => d.label))).toEqual(new Set(['Notification']));
    // The first three found templates of their own (the miner makes a place a parameter on its
    // third different word); from then on the template is one and its decision is shared.
    expect(shared.seen.length).toBeLessThan(users.length);

    const perLine = model();
    await pipeline(perLine, { namer: false }).classify(rows(...messages));
    expect(perLine.seen).toHaveLength(users.length);
  });

  it('a line with a problem word at a parameter place is not given the decision of the template\'s other lines', async () => {
    // Four states make `from <*> to <*>` parameters; FAIL_CONTAINER_CLEANUP is what makes the last line an error.
    const m = model();
    const p = pipeline(m);
    const states = ['NEW to UNASSIGNED', 'UNASSIGNED to ASSIGNED', 'ASSIGNED to RUNNING', 'RUNNING to COMMIT_PENDING', 'COMMIT_PENDING to SUCCEEDED', 'RUNNING to FAIL_CONTAINER_CLEANUP'];
    const out = await p.classify(rows(...states.map((s) => `attempt_${s.length}_01 TaskAttempt Transitioned from ${s}`)));
    expect(out.map((d) => d.label)).toEqual(['Notification', 'Notification', 'Notification', 'Notification', 'Notification', 'Error']);
    expect(m.seen.at(-1)).toContain('FAIL_CONTAINER_CLEANUP');
    expect(p.stats.templateHits + p.stats.batchDuplicates).toBeGreaterThan(0);
  });

  it('failed / succeeded stay apart, and a later line with a problem word is decided on its own', async () => {
    const m = model();
    const p = pipeline(m);
    const first = await p.classify(rows('Authentication failed for alice', 'Authentication succeeded for bob', 'Authentication succeeded for carol', 'Authentication succeeded for dave'));
    expect(first.map((d) => d.label)).toEqual(['Error', 'Notification', 'Notification', 'Notification']);
    const later = await p.classify(rows('Authentication failed for erin', 'Authentication timeout for frank', 'Authentication succeeded for gina'));
    expect(later.map((d) => d.label)).toEqual(['Error', 'Notification', 'Notification']);
    // `timeout` is a problem word: that line reached the model itself.
    expect(m.seen).toContain('Authentication timeout for frank');
    // A third word at the place made it a parameter: one template now, but a failure is still
    // not given the decision of its successes.
    const merged = await p.classify(rows('Authentication succeeded for henry', 'Authentication failed for zed'));
    expect(merged.map((d) => d.label)).toEqual(['Notification', 'Error']);
  });

  it('status=200 and status=500 are one prepared line for the model, as before; a rule that reads the digits decides per row, before any cache', async () => {
    const rules = new RegexStage(compileRules({ rules: [{ id: 'server-error', pattern: 'status=5\\d\\d', label: 'HTTP Error' }] }));
    const m = model();
    const p = pipeline(m, { rules });
    const out = await p.classify(rows('GET /a status=200 in 3 ms', 'GET /a status=500 in 4 ms', 'GET /a status=201 in 5 ms', 'GET /a status=503 in 9 ms'));
    expect(out.map((d) => [d.label, d.stage])).toEqual([
      ['Notification', 'embedding'],
      ['HTTP Error', 'regex'],
      ['Notification', 'embedding'],
      ['HTTP Error', 'regex'],
    ]);
    expect(m.seen).toHaveLength(1);
  });

  it('a template of nothing but parameters shares nothing: its lines are decided by their own prepared line', async () => {
    const m = model();
    const out = await pipeline(m).classify(rows('mapRequest:<memory:1024, vCores:1>', 'reduceRequest:<memory:2048, vCores:2>', 'failRequest:<memory:1, vCores:1>'));
    expect(m.seen).toHaveLength(3);
    expect(out[2].label).toBe('Error');
  });

  it('the level is part of the key', async () => {
    const m = model();
    const p = new Pipeline({
      stages: [m],
      llmSources: [],
      unclassifiedLabel: 'Unclassified',
      cacheSize: 100,
      preparer: new LinePreparer(new HeaderParser(compileHeaderPatterns({ patterns: [{ name: 'lvl', pattern: '^(?<level>[A-Z]+) (?<message>.*)$' }] })), maskMessage),
      templateNamer: new TemplateNamer({ maxTemplates: 100 }),
    });
    await p.classify(rows('INFO worker alice started', 'INFO worker bob started', 'INFO worker carol started', 'INFO worker dave started', 'ERROR worker erin started'));
    expect(m.seen.some((s) => s.includes('[error]'))).toBe(true);
  });

  it('unsure decisions are not shared while an LLM could still do better', async () => {
    const m = model(0.3);
    const p = pipeline(m, { cacheFallbacks: false });
    const users = ['alice', 'bob', 'carol', 'dave'];
    await p.classify(rows(...users.map((u) => `session opened for ${u}`)));
    await p.classify(rows('session opened for erin', 'session opened for frank'));
    expect(p.stats.templateHits).toBe(0);
  });

  it('with a tracker, the pipeline takes its names: rows it puts in one template share one decision', async () => {
    const m = model();
    const tracker: TemplateTracker = {
      assign: (records: readonly LogRecord[], _prepared: readonly Prepared[]): TemplateAssignment => ({ templates: records.map(() => ({ id: 'one', text: 'one template' })) }),
      record: () => undefined,
    };
    const p = pipeline(m);
    const out = await p.classify(rows('disk almost full', 'user logged in', 'cache warmed up'), tracker);
    expect(m.seen).toEqual(['disk almost full']);
    expect(new Set(out.map((d) => d.label)).size).toBe(1);
  });

  it('a repeated line is answered from the cache by shape without naming its template again', async () => {
    const m = model();
    const namer = new TemplateNamer({ maxTemplates: 100 });
    let named = 0;
    const name = namer.name.bind(namer);
    namer.name = (p) => (named++, name(p));
    const p = new Pipeline({ stages: [m], llmSources: [], unclassifiedLabel: 'Unclassified', cacheSize: 100, preparer: preparer(), templateNamer: namer });
    await p.classify(rows('job 1 done in 5 ms'));
    await p.classify(rows('job 2 done in 7 ms', 'job 3 done in 9 ms'));
    expect(named).toBe(1);
    expect(p.stats.cacheHits).toBe(2);
  });
});
