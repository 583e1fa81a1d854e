/**
 * json/framer.ts: however the body is cut into chunks (inside a string, an escape, a multi-byte
 * character), the records framed are exactly the values JSON.parse reads from the whole body, in
 * order, each once; a record over the limit is one `oversize` frame in its place.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonFramer, type Frame, type JsonFormat } from '../../src/json/framer.js';

function frame(format: JsonFormat, body: Buffer, cuts: number[], limit = 1 << 20): Frame[] {
  const framer = new JsonFramer(format, limit);
  const out: Frame[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...framer.push(body.subarray(at, cut)));
    at = cut;
  }
  out.push(...framer.push(body.subarray(at)));
  if (framer.failure) throw framer.failure;
  out.push(...framer.end());
  return out;
}

const texts = (frames: Frame[]) => frames.map((f) => (f.kind === 'record' ? JSON.parse(f.text) : f));
// Strings full of what framing must look past: quotes, backslashes, brackets, commas, newlines, emoji.
const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', '\n', 'a', 'é', '😀', ' ') });
const record = fc.record({ source: tricky, log_message: tricky, n: fc.double({ noNaN: true, noDefaultInfinity: true }), nested: fc.array(fc.record({ k: tricky }), { maxLength: 3 }) });

describe('JsonFramer', () => {
  it('json: an array (compact or pretty) and objects back to back, cut anywhere', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 12 }), (records, pretty, rawCuts) => {
        const arrayBody = Buffer.from(JSON.stringify(records, null, pretty ? 2 : undefined));
        const cuts = rawCuts.map((c) => c % (arrayBody.length + 1));
        const expected = JSON.parse(JSON.stringify(records)) as unknown[]; // as JSON has them (-0 is 0)
        expect(texts(frame('json', arrayBody, cuts))).toEqual(expected);
        const streamBody = Buffer.from(records.map((r) => JSON.stringify(r)).join(pretty ? '\n' : ''));
        if (records.length) expect(texts(frame('json', streamBody, cuts.map((c) => c % (streamBody.length + 1))))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('ndjson: one record per line, blank lines skipped, line numbers counted, cut anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(record, fc.boolean()), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (rows, rawCuts) => {
        const lines = rows.flatMap(([r, blank]) => (blank ? ['', JSON.stringify(r)] : [JSON.stringify(r)]));
        const body = Buffer.from(lines.join('\n'));
        const frames = frame('ndjson', body, rawCuts.map((c) => c % (body.length + 1)));
        expect(texts(frames)).toEqual(JSON.parse(JSON.stringify(rows.map(([r]) => r))));
        expect(frames.map((f) => f.line)).toEqual(lines.flatMap((l, i) => (l === '' ? [] : [i + 1])));
      }),
      { numRuns: 200 },
    );
  });

  it('a record over the limit is one oversize frame in its place; the next is read whole', () => {
    const body = Buffer.from(`[{"a":"${'x'.repeat(500)}"},{"b":1}]`);
    const frames = frame('json', body, [10, 20, 300], 100);
    expect(frames.map((f) => f.kind)).toEqual(['oversize', 'record']);
    expect(frames[0]).toMatchObject({ index: 1, line: 1, bytes: 508 });
    expect(frames[1]).toMatchObject({ index: 2, text: '{"b":1}' });
  });
});
