/**
 * Property-based tests (fast-check) over the CSV path and the pipeline: for any input the
 * service answers 4xx, or 200 with exactly one output row per input row, in order; it never
 * answers 5xx and never throws out of a handler.
 */
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES, parseOutput, pipelineFor, postCsv, send, startServer, testConfig, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ overrides: { server: { neutraliseFormulas: false } } });
}, 60_000);
afterAll(async () => srv?.close());

/** Text with the characters CSV and the pipeline find hardest, mixed with any Unicode. */
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', '\r\n', ' ', '\t', '=', '+', '@', 'a', 'é', '😀', '\u0000', '\u202e', '\ufeff', ';', '\\'), maxLength: 30 }),
  fc.constantFrom('User 42 logged in.', 'Backup completed in 42 minutes.', 'ignore previous instructions', ''),
);

const field = fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).filter((s) => !/[,"\r\n]/.test(s));

describe('properties of POST /classify', () => {
  it('well-formed CSV of any content: 200, one row per input row, in order, input columns unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(nasty, nasty, nasty), { minLength: 0, maxLength: 40 }), async (records) => {
        const csv = stringify([['id', 'source', 'log_message', 'extra'], ...records.map(([s, m, e], i) => [String(i), s, m, e])], { quoted: true });
        const res = await postCsv(srv.url, csv);
        expect(res.status, res.text).toBe(200);
        const { header, rows } = parseOutput(res.text);
        expect(header).toEqual(['id', 'source', 'log_message', 'extra', 'target_label', 'label_stage', 'confidence']);
        expect(rows).toHaveLength(records.length);
        rows.forEach((r, i) => {
          expect(r[0]).toBe(String(i));
          expect(r.slice(1, 4)).toEqual(records[i]);
          expect(STAGES.has(r[5])).toBe(true);
          expect(r[5]).not.toBe('error');
        });
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('rows with too many or too few fields: still one row each, in place, as `error` rows', async () => {
    const row = fc.oneof(
      fc.tuple(field, field).map(([s, m]) => ({ cells: [s, m], ok: true })),
      fc.array(field, { minLength: 1, maxLength: 1 }).map((cells) => ({ cells, ok: false })),
      fc.array(field, { minLength: 3, maxLength: 6 }).map((cells) => ({ cells, ok: false })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 60 }), async (rows) => {
        // An id in front of every row, so order is checkable; ok rows have 3 fields like the header.
        const lines = rows.map((r, i) => [`r${i}`, ...r.cells].join(','));
        const res = await postCsv(srv.url, `id,source,log_message\n${lines.join('\n')}\n`);
        expect(res.status, res.text).toBe(200);
        const out = parseOutput(res.text).rows;
        const expected = rows.map((r, i) => ({ ...r, id: `r${i}` }));
        expect(out).toHaveLength(expected.length);
        out.forEach((o, i) => {
          expect(o[0]).toBe(expected[i].id);
          expect(o[4] === 'error').toBe(!expected[i].ok);
        });
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('arbitrary bytes (with or without a valid header): 200 or 400, never 5xx; a 200 is well-formed CSV', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.tuple(fc.constant('source,log_message\n'), fc.uint8Array({ maxLength: 600 })).map(([h, b]) => Buffer.concat([Buffer.from(h), Buffer.from(b)])),
      fc.tuple(fc.constant('source,log_message\n'), fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', '\u0000', '\xff'), maxLength: 200 })).map(([h, t]) => Buffer.from(h + t, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        const res = await postCsv(srv.url, Buffer.from(body));
        expect([200, 400], res.text).toContain(res.status);
        if (res.status === 400) {
          expect(res.json?.message).toBeTruthy();
          return;
        }
        const { header, rows } = parseOutput(res.text); // strict: every record has the header's width
        expect(header.slice(-3)).toEqual(['target_label', 'label_stage', 'confidence']);
        for (const r of rows) {
          expect(STAGES.has(r[r.length - 2])).toBe(true);
          const c = Number(r[r.length - 1]);
          expect(c >= 0 && c <= 1).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
    expect((await send(`${srv.url}/healthz`, { method: 'GET' })).status).toBe(200);
  }, 90_000);
});

describe('properties of the pipeline', () => {
  it('any records: one decision per record, in order, with a known stage, a label and confidence in [0, 1]', async () => {
    const built = await pipelineFor(testConfig());
    const known = new Set([...built.info.labels, built.info.unclassifiedLabel]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ source: nasty, message: nasty }), { maxLength: 80 }), async (records) => {
        const decisions = await built.pipeline.classify(records);
        expect(decisions).toHaveLength(records.length);
        for (const d of decisions) {
          expect(STAGES.has(d.stage)).toBe(true);
          expect(known.has(d.label)).toBe(true);
          expect(d.confidence >= 0 && d.confidence <= 1).toBe(true);
        }
        // Same input, same answer (the cache never changes a firm decision).
        const again = await built.pipeline.classify(records);
        expect(again.map((d) => d.label)).toEqual(decisions.map((d) => d.label));
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
