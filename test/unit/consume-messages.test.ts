/**
 * src/consume/ without a server: what a message becomes (messages.ts), where its answer goes and
 * under which id, how messages are gathered into batches (worker.ts gather), and the consume
 * configuration. The worker against a real nats-server: test/process/nats-consume.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { messageRow, outputMsgId, outputSubject, sampleOutputSubjects, subjectMatches, subjectToken, type InputMessage } from '../../src/consume/messages.js';
import { gather, redactServer } from '../../src/consume/worker.js';
import type { Decision } from '../../src/stages/types.js';

const encoder = new TextEncoder();
function msg(data: string | Uint8Array, seq = 7, hdrs: Record<string, string> = {}): InputMessage {
  return {
    subject: 'logs.raw.app',
    seq,
    data: typeof data === 'string' ? encoder.encode(data) : data,
    headers: { get: (name: string) => hdrs[name] ?? '' },
  };
}
const options = { maxColumns: 400 };

describe('a message as a row', () => {
  it('a JSON record as on /classify: log_message or message, its source, every field kept', () => {
    const row = messageRow(msg('{"id":1,"source":"billing","message":"User 5 logged in.","host":"web-1"}'), options);
    expect(row.record).toEqual({ source: 'billing', message: 'User 5 logged in.' });
    expect(row.cells?.value).toEqual({ id: 1, source: 'billing', message: 'User 5 logged in.', host: 'web-1' });
    expect(row.line).toBe(7);
  });

  it('a plain line: the Logsift-Source header, else consume.source, is its source', () => {
    expect(messageRow(msg('Disk usage at 91%\n', 3, { 'Logsift-Source': 'node-3' }), { ...options, defaultSource: 'cfg' })).toMatchObject({
      record: { source: 'node-3', message: 'Disk usage at 91%' },
      cells: { value: { source: 'node-3', log_message: 'Disk usage at 91%' } },
    });
    expect(messageRow(msg('Disk usage at 91%'), { ...options, defaultSource: 'cfg' }).record).toEqual({ source: 'cfg', message: 'Disk usage at 91%' });
    expect(messageRow(msg('{not json'), options).record).toEqual({ source: '', message: '{not json' });
  });

  it('consume.field names the field; a record without it is an error row naming the setting', () => {
    expect(messageRow(msg('{"log":"Backup completed"}'), { ...options, messageField: 'log' }).record?.message).toBe('Backup completed');
    const missing = messageRow(msg('{"id":4,"text":"x"}', 12), options);
    expect(missing.record).toBeUndefined();
    expect(missing.error).toBe('seq 12: no "log_message" or "message" field (name the field holding the line with consume.field (LOGSIFT_NATS_FIELD))');
    expect(missing.cells?.value).toEqual({ id: 4, text: 'x' });
    expect(messageRow(msg('{"id":4}'), { ...options, messageField: 'log' }).error).toBe('seq 7: no "log" field (named by consume.field (LOGSIFT_NATS_FIELD))');
  });

  it('a payload that is not UTF-8 is an error row, not a guess', () => {
    expect(messageRow(msg(new Uint8Array([0xff, 0xfe, 0x41]), 9), options)).toEqual({ line: 9, cells: undefined, error: 'seq 9: the payload (3 bytes) is not UTF-8 text' });
  });
});

describe('where the answer goes', () => {
  const decision = (label: string, stage: Decision['stage'] = 'regex'): Decision => ({ label, stage, confidence: 1 });

  it('the output id: the input stream and sequence, or the producer’s own Nats-Msg-Id', () => {
    expect(outputMsgId('LOGS', msg('x', 42))).toBe('LOGS:seq:42');
    expect(outputMsgId('LOGS', msg('x', 42, { 'Nats-Msg-Id': 'abc' }))).toBe('LOGS:id:abc');
  });

  it('the output subject fills in {subject}, {label} (one token) and {stage}', () => {
    expect(outputSubject('logs.labelled', 'logs.raw.app', decision('User Action'))).toBe('logs.labelled');
    expect(outputSubject('labelled.{label}', 'logs.raw.app', decision('User Action'))).toBe('labelled.User_Action');
    expect(outputSubject('out.{stage}.{subject}', 'logs.raw.app', decision('x', 'embedding'))).toBe('out.embedding.logs.raw.app');
    expect(outputSubject('labelled.{label}', 'a', { label: 'seq 3: not UTF-8', stage: 'error', confidence: 0 })).toBe('labelled.error');
    expect(subjectToken('a.b *>')).toBe('a_b___');
  });

  it('subjects match as NATS matches them, so an output the input stream would store again is found', () => {
    expect(subjectMatches('logs.>', 'logs.labelled')).toBe(true);
    expect(subjectMatches('logs.>', 'logs')).toBe(false);
    expect(subjectMatches('logs.*', 'logs.a.b')).toBe(false);
    expect(subjectMatches('logs.*.b', 'logs.a.b')).toBe(true);
    expect(subjectMatches('logs.raw.>', 'logs.labelled')).toBe(false);
    expect(sampleOutputSubjects('{subject}.labelled', ['logs.>', 'app.*.raw'])).toEqual(['logs.x.labelled', 'app.x.raw.labelled']);
    expect(sampleOutputSubjects('labelled.{label}', [])).toEqual(['labelled.x']);
  });
});

describe('batches', () => {
  it('what has arrived by the time the event loop turns goes together, at most `max`', async () => {
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) yield i; // arrived together
      await new Promise((r) => setTimeout(r, 20));
      yield 5; // later
    }
    const batches: number[][] = [];
    for await (const b of gather(source(), 3)) batches.push(b);
    expect(batches).toEqual([[0, 1, 2], [3, 4], [5]]);
  });
});

describe('consume configuration', () => {
  it('reads its environment variables, lists comma-separated', () => {
    const c = loadConfig({ LOGSIFT_NATS_URL: 'nats://a:4222, nats://b:4222', LOGSIFT_NATS_SUBJECTS: 'logs.raw.>', LOGSIFT_NATS_OUTPUT: 'labelled.{label}', LOGSIFT_NATS_BATCH: '64' });
    expect(c.consume).toMatchObject({ servers: ['nats://a:4222', 'nats://b:4222'], subjects: ['logs.raw.>'], output: 'labelled.{label}', batchSize: 64, stream: 'LOGS', durable: 'logsift', ackWaitMs: 30_000 });
  });

  it('refuses an output subject with wildcards, unknown placeholders or empty tokens, and a durable name with dots', () => {
    for (const output of ['logs.>', 'logs.*.x', 'a.{foo}', 'a..b', 'has space']) expect(() => loadConfig({ LOGSIFT_NATS_OUTPUT: output }), output).toThrow(/consume\.output/);
    expect(() => loadConfig({ LOGSIFT_NATS_DURABLE: 'a.b' })).toThrow(/consume\.durable/);
    expect(() => loadConfig({ LOGSIFT_NATS_FETCH_EXPIRES_MS: '10' })).toThrow(/consume\.fetchExpiresMs/);
  });

  it('a server URL is logged without its user and password', () => {
    expect(redactServer('nats://alice:s3cret@nats.example:4222')).toBe('nats://[redacted]@nats.example:4222');
    expect(redactServer('nats://nats.example:4222')).toBe('nats://nats.example:4222');
  });
});
