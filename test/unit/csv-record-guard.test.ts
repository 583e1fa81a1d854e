/**
 * RecordGuard (src/csv/record-guard.ts): it must frame records exactly as csv-parse does with
 * the reader's options, or a dropped record's marker would land inside another record. Checked
 * against csv-parse itself on random inputs (quotes, escaped quotes, stray quotes, CR/LF/CRLF,
 * leading ASCII and Unicode whitespace before a quote) cut into random chunks; then the reader
 * (openCsv) on dropped records: one malformed row each, in place, with the right line number.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parse, type Options } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { openCsv, type CsvRow } from '../../src/csv/reader.js';
import { RecordGuard, newMarkerNonce, readMarker } from '../../src/csv/record-guard.js';

/** The reader's csv-parse options (csv-reader.ts), minus the streaming-only ones. */
const PARSE_OPTIONS = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  ltrim: true,
  record_delimiter: ['\r\n', '\n', '\r'] as string[],
  skip_empty_lines: true,
  skip_records_with_error: true,
} satisfies Options;

/** Records csv-parse reads from `text`, with `"(error)"` in place of a record it skipped. */
function records(text: string | Buffer): (string[] | '(error)')[] {
  const out: (string[] | '(error)')[] = [];
  const parsed = parse(text, { ...PARSE_OPTIONS, on_skip: () => {
      out.push('(error)');
    }, on_record: (r: string[]) => (out.push(r), null) }) as unknown;
  void parsed;
  return out;
}

async function guard(input: Buffer, cuts: number[], limits: { maxRecordBytes: number; maxColumns: number }, nonce: string): Promise<Buffer> {
  const g = new RecordGuard(limits, nonce);
  const out: Buffer[] = [];
  g.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => g.on('end', resolve).on('error', reject));
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < input.length)].sort((a, b) => a - b)) {
    g.write(input.subarray(at, cut));
    at = cut;
  }
  g.end(input.subarray(at));
  await done;
  return Buffer.concat(out);
}

const piece = fc.constantFrom('a', 'bc', ',', '"', '""', '\n', '\r', '\r\n', ' ', '\t', '\u00a0', '\u3000', '\ufeff', 'é', '😀', 'x"y', ' "', '\u00a0"', '\u2003"', '\ufeff"');
const csvText = fc.array(piece, { maxLength: 80 }).map((p) => p.join(''));
const cuts = fc.array(fc.nat({ max: 200 }), { maxLength: 8 });

describe('RecordGuard frames records as csv-parse does', () => {
  it('within the limits it passes every byte through unchanged, however the input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, cuts, async (text, at) => {
        const input = Buffer.from(text, 'utf8');
        const out = await guard(input, at, { maxRecordBytes: 1 << 20, maxColumns: 1000 }, newMarkerNonce());
        expect(out.equals(input)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('over the column limit: each such record, and only it, becomes one marker in its place', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, cuts, fc.integer({ min: 1, max: 4 }), async (text, at, maxColumns) => {
        const nonce = newMarkerNonce();
        const input = Buffer.from(text, 'utf8');
        const expected = records(input).map((r) => (r !== '(error)' && r.length > maxColumns ? 'marker' : r));
        const got = records(await guard(input, at, { maxRecordBytes: 1 << 20, maxColumns }, nonce)).map((r) =>
          r !== '(error)' && readMarker(r, nonce) ? 'marker' : r,
        );
        // An unterminated last record is an error for csv-parse; the guard may have counted its
        // fields past the limit and dropped it instead.
        if (expected.at(-1) === '(error)' && got.at(-1) === 'marker') got[got.length - 1] = '(error)';
        expect(got).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('over the byte limit: each such record becomes one marker in its place', async () => {
    // No blank-looking lines (whitespace only): csv-parse skips those, the guard counts them.
    const solid = fc.array(fc.constantFrom('a', 'bc', ',', '"', '""', '\n', '\r\n', 'é', 'x"y'), { maxLength: 60 }).map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(solid, cuts, fc.integer({ min: 1, max: 12 }), async (text, at, maxRecordBytes) => {
        const nonce = newMarkerNonce();
        const input = Buffer.from(text, 'utf8');
        const got = records(await guard(input, at, { maxRecordBytes, maxColumns: 1000 }, nonce));
        const expected: (string[] | '(error)' | 'marker')[] = [];
        parse(input, {
          ...PARSE_OPTIONS,
          raw: true,
          on_skip: () => {
            expected.push('(error)');
          },
          on_record: (({ record, raw }: { record: string[]; raw: string }) => {
            const content = raw.replace(/^(?:\r\n|\n|\r)+/, '').replace(/(?:\r\n|\n|\r)$/, '');
            expected.push(Buffer.byteLength(content) > maxRecordBytes ? 'marker' : record);
            return null;
          }) as unknown as Options['on_record'],
        });
        const seen = got.map((r) => (r !== '(error)' && readMarker(r, nonce) ? 'marker' : r));
        if (expected.at(-1) === '(error)' && seen.at(-1) === 'marker') seen[seen.length - 1] = '(error)';
        expect(seen).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the reader with the guard (openCsv)', () => {
  async function rowsOf(text: string, limits: { maxRecordBytes: number; maxColumns: number }, chunk = 7): Promise<CsvRow[]> {
    const bytes = Buffer.from(text, 'utf8');
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
    const csv = await openCsv(Readable.from(parts), limits);
    const out: CsvRow[] = [];
    for await (const run of csv.rows) out.push(...run);
    return out;
  }

  it('one malformed row per record over the limits, in place, naming its line and the limit; the lines after are counted right', async () => {
    const text = [
      'source,log_message',
      'A,one',
      'B,"two spans',
      'three lines and is too long"',
      '',
      'C,after a blank line',
      'D,a,b,c,d,e',
      'E,"quoted\r\nCRLF, short"',
      'F,last',
    ].join('\n');
    const rows = await rowsOf(text, { maxRecordBytes: 30, maxColumns: 4 });
    expect(rows.map((r) => [r.kind, r.line])).toEqual([
      ['row', 2],
      ['malformed', 3],
      ['row', 6],
      ['malformed', 7],
      ['row', 9], // a good row is numbered by the line it ends on, as before; a dropped one by its first
      ['row', 10],
    ]);
    const [, long, , wide] = rows as Extract<CsvRow, { kind: 'malformed' }>[];
    expect(long.reason).toMatch(/^record of 41 bytes, over the limit of 30 bytes per record \(server\.maxRecordBytes\)/);
    expect(long.raw).toContain('B,\\"two spans');
    expect(wide.reason).toMatch(/^record with 6 fields, over the limit of 4 fields per record \(server\.maxColumns\)/);
    expect((rows[4] as Extract<CsvRow, { kind: 'row' }>).fields).toEqual(['E', 'quoted\r\nCRLF, short']);
  });

  it('a record forged to look like a marker is an ordinary row', async () => {
    const rows = await rowsOf('source,log_message\nlogsift-dropped-0000,columns,1,1,1,0,eA==\n', { maxRecordBytes: 100, maxColumns: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0].kind).toBe('row');
  });

  it('an unterminated quote that runs past the limit says so', async () => {
    const rows = await rowsOf(`source,log_message\nA,"open ${'x'.repeat(100)}\nB,b\n`, { maxRecordBytes: 50, maxColumns: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'malformed', line: 2 });
    expect((rows[0] as Extract<CsvRow, { kind: 'malformed' }>).reason).toMatch(/input ended inside one of its quoted fields/);
  });
});
