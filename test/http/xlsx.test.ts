/**
 * .xlsx uploads over real HTTP, with workbooks generated here by exceljs: read as a CSV would be
 * (header row, the first sheet or ?sheet=), answered as CSV or, asked with Accept, as .xlsx; a
 * zip bomb stops at server.maxUploadBytes of decompressed bytes; a job takes one too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/fake-clock.js';
import { outputObjects, send, startServer, type TestServer } from '../helpers/server.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
let srv: TestServer;
let dataDir: string;
beforeAll(async () => {
  // The job test's files go to a folder of this file's own.
  dataDir = mkdtempSync(join(tmpdir(), 'logsift-xlsx-'));
  srv = await startServer({ overrides: { server: { maxUploadBytes: 200_000 }, data: { dir: dataDir } } });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Cell = string | number | Date | null;
async function workbook(sheets: Record<string, Cell[][]>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name);
    rows.forEach((row, i) => {
      if (row.length) ws.getRow(i + 1).values = row;
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function postForm(path: string, file: Buffer, name: string, headers: Record<string, string> = {}) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), name);
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', body: form, headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), body, text: body.toString('utf8') };
}

const LOGS: Cell[][] = [
  ['source', 'log_message', 'count', 'when'],
  ['billing', 'User 12345 logged in.', 3, new Date('2024-05-01T10:00:00Z')],
  ['gateway', 'Backup completed successfully.', 1.5, null],
  [],
  ['web', 'User 7 logged out.', null, null],
];

describe('an .xlsx upload', () => {
  it('is read like the same CSV: header row, cells as text, an empty row skipped; answered as CSV', async () => {
    const res = await postForm('/classify', await workbook({ Logs: LOGS, Other: [['source', 'message'], ['x', 'User 1 logged in.']] }), 'logs.xlsx');
    expect(res.status, res.text).toBe(200);
    expect(res.type).toBe('text/csv; charset=utf-8');
    const rows = outputObjects(res.text);
    expect(rows.map((r) => [r.source, r.log_message, r.count, r.when, r.target_label])).toEqual([
      ['billing', 'User 12345 logged in.', '3', '2024-05-01T10:00:00.000Z', 'User Action'],
      ['gateway', 'Backup completed successfully.', '1.5', '', rows[1].target_label],
      ['web', 'User 7 logged out.', '', '', 'User Action'],
    ]);
  });

  it('?sheet= names the worksheet; an unknown one is a 400 naming those there are', async () => {
    const file = await workbook({ Logs: LOGS, Other: [['source', 'message'], ['x', 'User 1 logged in.']] });
    const other = await postForm('/classify?sheet=Other', file, 'logs.xlsx');
    expect(outputObjects(other.text)).toEqual([{ source: 'x', message: 'User 1 logged in.', target_label: 'User Action', label_stage: 'regex', confidence: '1' }]);
    const missing = await postForm('/classify?sheet=Nope', file, 'logs.xlsx');
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text)).toMatchObject({ code: 'SHEET_NOT_FOUND', message: 'no worksheet named "Nope": the spreadsheet has "Logs", "Other"' });
  });

  it('answers .xlsx when Accept asks for it (raw body with the xlsx type)', async () => {
    const res = await send(`${srv.url}/classify`, { headers: { 'content-type': XLSX, accept: XLSX }, body: await workbook({ Logs: LOGS }) });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toBe(XLSX);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.body as unknown as ArrayBuffer);
    const rows = wb.worksheets[0].getSheetValues().filter(Boolean).map((r) => (r as Cell[]).slice(1));
    expect(rows[0]).toEqual(['source', 'log_message', 'count', 'when', 'target_label', 'label_stage', 'confidence']);
    expect(rows[1].slice(4)).toEqual(['User Action', 'regex', 1]);
    expect(rows).toHaveLength(4);
  });

  it('a zip bomb stops at server.maxUploadBytes of decompressed bytes: 413 saying so', async () => {
    // 1,000 rows of 1,000 characters, inline: about 1 MB of XML that deflates to a few KB.
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false });
    const ws = wb.addWorksheet('Logs');
    ws.addRow(['source', 'log_message']).commit();
    for (let i = 0; i < 1000; i++) ws.addRow(['a', 'x'.repeat(1000)]).commit();
    ws.commit();
    await wb.commit();
    const bomb = Buffer.concat(chunks);
    expect(bomb.length).toBeLessThan(200_000);
    const res = await postForm('/classify', bomb, 'bomb.xlsx');
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'UPLOAD_TOO_LARGE', message: expect.stringMatching(/^the decompressed spreadsheet exceeds the limit of 200000 bytes/) });
    const notZip = await postForm('/classify', Buffer.from('source,log_message\na,b\n'), 'fake.xlsx');
    expect(notZip.status).toBe(400);
    expect(JSON.parse(notZip.text)).toMatchObject({ code: 'XLSX_INVALID' });
  });

  it('a job takes one too: its result is the CSV /classify answers', async () => {
    const file = await workbook({ Logs: LOGS });
    const res = await postForm('/jobs', file, 'logs.xlsx');
    expect(res.status).toBe(202);
    const { id } = JSON.parse(res.text) as { id: string };
    await until(async () => (await send(`${srv.url}/jobs/${id}`, { method: 'GET' })).json?.status === 'done' || (await new Promise((r) => setTimeout(r, 10)), false), 'the job');
    const result = await send(`${srv.url}/jobs/${id}/result`, { method: 'GET' });
    expect(result.text).toBe((await postForm('/classify', file, 'logs.xlsx')).text);
  });
});
