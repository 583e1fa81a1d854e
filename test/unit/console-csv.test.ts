/**
 * The console's incremental CSV reader (web/src/csv.ts) reads the service's answer as it streams
 * in, in pieces cut anywhere: it must give the records csv-stringify wrote, however the text is cut.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { CsvReader, linesToCsv, parseCsv } from '../../web/src/csv.js';
import { parseTime, Results, view } from '../../web/src/results.js';
import { labelColor, MUTED, textOn } from '../../web/src/colors.js';

const field = fc.oneof(fc.string(), fc.constantFrom('', '"', '""', ',', '\n', '\r\n', ' a ', '=1+2', 'é日本🚨'));

describe('console CSV reader', () => {
  it('reads any records, cut into any pieces, as csv-stringify wrote them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (records, cuts, crlf) => {
          // A record of one empty field is written as an empty line: not a record.
          const recs = records.filter((r) => !(r.length === 1 && r[0] === ''));
          // The service writes csv-stringify's defaults (LF); CRLF only with every field quoted
          // (csv-stringify leaves a lone LF unquoted when the delimiter is CRLF).
          const text = stringify(recs, crlf ? { record_delimiter: 'windows', quoted: true } : {});
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const reader = new CsvReader();
          const out: string[][] = [];
          let at = 0;
          for (const p of [...points, text.length]) {
            reader.push(text.slice(at, p), out);
            at = p;
          }
          reader.end(out);
          expect(out).toEqual(recs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('pasted lines become a source,log_message CSV, one row per non-blank line', () => {
    const { csv, lines } = linesToCsv('User 1 logged in.\n\n  a "quoted", line  \r\nlast', 'web, app');
    expect(lines).toBe(3);
    expect(parseCsv(csv)).toEqual([
      ['source', 'log_message'],
      ['web, app', 'User 1 logged in.'],
      ['web, app', '  a "quoted", line  '],
      ['web, app', 'last'],
    ]);
  });

  it('reads the label columns as the last three, counts per label and stage, and filters and sorts', () => {
    const r = new Results();
    r.push('time,source,log_message,target_label,label_stage,confidence\n2026-01-01 10:00:00,a,x,Error,embedding,0.9\n');
    r.push('2026-01-01T10:05:00Z,b,"y, z",HTTP Status,regex,1\n1767261900,c,w,"line 4: 2 fields, expected 3",error,0\n');
    r.end();
    expect(r.rows.map((x) => [x.source, x.message, x.label, x.stage, x.confidence])).toEqual([
      ['a', 'x', 'Error', 'embedding', 0.9],
      ['b', 'y, z', 'HTTP Status', 'regex', 1],
      ['c', 'w', 'line 4: 2 fields, expected 3', 'error', 0],
    ]);
    expect(Object.fromEntries(r.labels)).toEqual({ Error: 1, 'HTTP Status': 1, error: 1 });
    expect(r.hasTime).toBe(true);
    expect(r.timeColumn).toBe('time');
    expect(parseTime('1767261900')).toBe(Date.UTC(2026, 0, 1, 10, 5));
    expect([...view(r.rows, {}, 'asc')]).toEqual([2, 0, 1]);
    expect([...view(r.rows, { label: 'error' }, 'none')]).toEqual([2]);
    expect([...view(r.rows, { text: 'Y, Z' }, 'none')]).toEqual([1]);
  });

  it('label colours are stable, and badge text contrasts at least 4.5:1', () => {
    expect(labelColor('Security Alert')).toBe(labelColor('Security Alert'));
    expect(labelColor('Some Custom Label')).toBe(labelColor('Some Custom Label'));
    const lum = (hex: string) =>
      [1, 3, 5]
        .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
        .map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    for (const bg of [...MUTED, '#DDDDDD', '#444444']) {
      const [a, b] = [lum(bg), lum(textOn(bg))].sort((x, y) => y - x);
      expect((a + 0.05) / (b + 0.05)).toBeGreaterThanOrEqual(4.5);
    }
  });
});
