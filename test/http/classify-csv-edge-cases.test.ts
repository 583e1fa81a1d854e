/**
 * CSV edge cases through the real /classify route (real HTTP, real pipeline): encodings, line
 * endings, quoting, malformed rows, formula injection. Every non-4xx answer must have exactly
 * one output row per input row, in input order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT_COLUMNS, STAGES, parseOutput, postCsv, postMultipart, type TestServer, startServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

/** POSTs raw, checks 200 and strict output framing; returns header and rows. */
async function classify(csv: string | Buffer): Promise<{ header: string[]; rows: string[][]; text: string }> {
  const res = await postCsv(srv.url, csv);
  expect(res.status, res.text).toBe(200);
  const { header, rows } = parseOutput(res.text);
  for (const r of rows) {
    expect(STAGES.has(r[r.length - 2])).toBe(true);
    const c = Number(r[r.length - 1]);
    expect(c >= 0 && c <= 1).toBe(true);
  }
  return { header, rows, text: res.text };
}

const LOGIN = 'User 42 logged in.';

describe('encodings and line endings', () => {
  it('strips a UTF-8 BOM from the header', async () => {
    const { header, rows } = await classify(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`source,log_message\nA,${LOGIN}\n`)]));
    expect(header).toEqual(['source', 'log_message', ...OUT_COLUMNS]);
    expect(rows).toEqual([['A', LOGIN, 'User Action', 'regex', '1']]);
  });

  it('reads CRLF line endings', async () => {
    const { rows } = await classify(`source,log_message\r\nA,${LOGIN}\r\nB,Backup started\r\n`);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['A', LOGIN],
      ['B', 'Backup started'],
    ]);
    expect(rows.every((r) => !r.join('').includes('\r'))).toBe(true);
  });

  it('reads mixed line endings (LF, CRLF, CR) and no final newline', async () => {
    const { rows } = await classify(`source,log_message\nA,one\r\nB,two\rC,three\nD,four`);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['A', 'one'],
      ['B', 'two'],
      ['C', 'three'],
      ['D', 'four'],
    ]);
  });

  it('skips empty lines without emitting rows for them', async () => {
    const { rows } = await classify(`source,log_message\n\nA,one\n\n\r\nB,two\n\n`);
    expect(rows.map((r) => r[0])).toEqual(['A', 'B']);
  });

  it('preserves unicode (CJK, emoji, RTL, combining marks) byte-exact in pass-through columns', async () => {
    const values = ['日本語のログ 服务器错误', '🔥💾 disk 🚀 ok 👩‍💻', 'שגיאה בשרת مرحبا بالعالم', '\u202Eevil\u202C and e\u0301 and 𝔘𝔫𝔦'];
    const csv = `id,note,source,log_message\n${values.map((v, i) => `${i},${v},Src${v.slice(0, 2)},${v}`).join('\n')}\n`;
    const res = await postCsv(srv.url, Buffer.from(csv, 'utf8'));
    expect(res.status).toBe(200);
    const { rows } = parseOutput(res.text);
    expect(rows).toHaveLength(values.length);
    rows.forEach((r, i) => {
      expect(Buffer.from(r[1], 'utf8').equals(Buffer.from(values[i], 'utf8'))).toBe(true);
      expect(r[2]).toBe(`Src${values[i].slice(0, 2)}`);
      expect(r[3]).toBe(values[i]);
    });
    // The raw output bytes contain each value verbatim.
    for (const v of values) expect(res.body.includes(Buffer.from(v, 'utf8'))).toBe(true);
  });
});

describe('quoting', () => {
  it('handles quoted commas, embedded newlines and escaped quotes', async () => {
    const csv = [
      'source,log_message,note',
      `A,"${LOGIN}","a, b, c"`,
      'B,"multi\nline\r\nmessage","x"',
      'C,"She said ""hi"" twice","""quoted"""',
      'D, "leading space then quotes, with comma",y',
    ].join('\n');
    const { rows } = await classify(csv);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['A', LOGIN, 'a, b, c'],
      ['B', 'multi\nline\r\nmessage', 'x'],
      ['C', 'She said "hi" twice', '"quoted"'],
      ['D', 'leading space then quotes, with comma', 'y'],
    ]);
    expect(rows[0].slice(3)).toEqual(['User Action', 'regex', '1']);
    expect(rows.every((r) => r[4] !== 'error')).toBe(true);
  });

  it('keeps a stray quote inside a field as text instead of losing later rows', async () => {
    const csv = 'seq,source,log_message\n0,A,"x"y\n1,B,say "hi" now\n2,C,' + LOGIN + '\n';
    const { rows } = await classify(csv);
    expect(rows.map((r) => r[0])).toEqual(['0', '1', '2']);
    expect(rows[0][2]).toBe('"x"y');
    expect(rows[1][2]).toBe('say "hi" now');
    expect(rows[2].slice(3)).toEqual(['User Action', 'regex', '1']);
  });

  it('an unterminated quote at the end becomes one error row after the good rows', async () => {
    const { rows } = await classify(`seq,source,log_message\n0,A,${LOGIN}\n1,B,Backup started\n2,C,"never closed\n3,D,more\n`);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r[0]).slice(0, 2)).toEqual(['0', '1']);
    expect(rows[0][4]).toBe('regex');
    expect(rows[1][4]).not.toBe('error');
    const last = rows[2];
    expect(last[4]).toBe('error');
    expect(last[5]).toBe('0');
    expect(last[3]).toMatch(/^line \d+: unterminated quoted field/);
  });
});

describe('malformed rows', () => {
  it('too many / too few fields: that row is an error naming the line, neighbours labelled, order kept', async () => {
    const csv = [
      'seq,source,log_message',
      `0,A,${LOGIN}`,
      `1,B,${LOGIN},extra,fields`,
      `2,C,${LOGIN}`,
      '3,D',
      `4,E,${LOGIN}`,
    ].join('\n');
    const { rows } = await classify(csv);
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r[0])).toEqual(['0', '1', '2', '3', '4']);
    for (const i of [0, 2, 4]) expect(rows[i].slice(3)).toEqual(['User Action', 'regex', '1']);
    expect(rows[1][4]).toBe('error');
    expect(rows[1][3]).toMatch(/^line 3: expected 3 fields, found 5/);
    expect(rows[1][3]).toContain('extra');
    expect(rows[1].slice(0, 3)).toEqual(['1', 'B', LOGIN]);
    expect(rows[3][4]).toBe('error');
    expect(rows[3][3]).toMatch(/^line 5: expected 3 fields, found 2/);
    expect(rows[3].slice(0, 3)).toEqual(['3', 'D', '']);
    expect(rows[1][5]).toBe('0');
  });

  it('line numbers count CRLF inside quoted fields and skipped empty lines as an editor would', async () => {
    // line 1 header, 2 empty, 3–4 a quoted CRLF field, 5–6 empty, 7 a short row
    const csv = ['seq,source,log_message', '', `0,A,"two\r\nlines"`, '', '', '1,B'].join('\r\n');
    const { rows } = await classify(csv);
    expect(rows).toHaveLength(2);
    expect(rows[0].slice(0, 3)).toEqual(['0', 'A', 'two\r\nlines']);
    expect(rows[1][4]).toBe('error');
    expect(rows[1][3]).toMatch(/^line 7: expected 3 fields, found 2/);
  });

  it('error rows across batch boundaries keep their place', async () => {
    const lines = ['seq,source,log_message'];
    for (let i = 0; i < 1000; i++) lines.push(i % 97 === 5 ? `${i},X` : `${i},S${i % 3},Backup started ${i}`);
    const { rows } = await classify(lines.join('\n'));
    expect(rows).toHaveLength(1000);
    rows.forEach((r, i) => {
      expect(r[0]).toBe(String(i));
      expect(r[4] === 'error').toBe(i % 97 === 5);
      if (i % 97 === 5) expect(r[3]).toContain(`line ${i + 2}:`);
    });
  });
});

describe('formula injection', () => {
  it("prefixes = + - @ cells in pass-through columns with '", async () => {
    const csv = ['source,log_message,note', `=1+1,${LOGIN},+SUM(A1)`, `-2,Backup started,@cmd`, `A,=HYPERLINK("http://x"),ok`, 'B,plain,x-y=z'].join('\n');
    const { rows } = await classify(csv);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["'=1+1", LOGIN, "'+SUM(A1)"],
      ["'-2", 'Backup started', "'@cmd"],
      ['A', `'=HYPERLINK("http://x")`, 'ok'],
      ['B', 'plain', 'x-y=z'],
    ]);
    // The classifier still sees the original message.
    expect(rows[0].slice(3)).toEqual(['User Action', 'regex', '1']);
  });
});

describe('multipart carries the same CSV handling', () => {
  it('BOM + CRLF + quoting through multipart', async () => {
    const csv = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`Source,MESSAGE\r\n"A, Inc.","${LOGIN}"\r\nB,"x\r\ny"\r\n`)]);
    const res = await postMultipart(srv.url, csv);
    expect(res.status).toBe(200);
    const { header, rows } = parseOutput(res.text);
    expect(header).toEqual(['Source', 'MESSAGE', ...OUT_COLUMNS]);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['A, Inc.', LOGIN],
      ['B', 'x\r\ny'],
    ]);
  });
});
