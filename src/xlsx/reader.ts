/**
 * An .xlsx upload → CSV text for csv/reader.ts, so that a spreadsheet is read under exactly the
 * rules and limits of a CSV (header row, required columns, server.maxColumns,
 * server.maxRecordBytes, error rows in place). The first worksheet, or the one `?sheet=` names;
 * its first row is the header. Cells become text: numbers as written, dates as ISO 8601, rich
 * text as its text, formulas as their cached result.
 *
 * A zip must be read from its end (the central directory), so an uploaded file is spooled to disk
 * first (a job's is already). Then, before anything parses it, one pass inflates every entry in
 * the order exceljs will read them (unzipper's sequential Parse, the same reader exceljs uses),
 * counting bytes: past server.maxUploadBytes of decompressed data it stops — a zip bomb costs at
 * most that much inflating, never memory — and the upload is refused with UPLOAD_TOO_LARGE. Only
 * then does exceljs's streaming WorkbookReader read the rows (one at a time; shared strings are
 * held, bounded by the same limit).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type ExcelJS from 'exceljs';
import { stringify } from 'csv-stringify/sync';
import type unzipper from 'unzipper';
import { SheetNotFound, UploadTooLarge, XlsxInvalid, hasStatus } from '../errors.js';

export interface XlsxReadOptions {
  /** The worksheet to read; default the first. */
  readonly sheet?: string;
  /** Bytes the zip's entries may inflate to, together. */
  readonly maxBytes: number;
  /** Where an uploaded stream is spooled (default the OS's temporary folder). */
  readonly spoolDir?: string;
}

/** Inflates every entry in order, counting; throws UPLOAD_TOO_LARGE past `maxBytes`, XLSX_INVALID for a broken zip. */
export async function checkInflatedSize(path: string, maxBytes: number): Promise<number> {
  let total = 0;
  const { default: unzip } = await import('unzipper');
  const file = createReadStream(path);
  const zip = file.pipe(unzip.Parse({ forceStream: true }));
  file.on('error', (err) => zip.destroy(err));
  try {
    for await (const entry of zip as AsyncIterable<unzipper.Entry>) {
      for await (const chunk of entry) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) {
          throw new UploadTooLarge(`the decompressed spreadsheet exceeds the limit of ${maxBytes} bytes (server.maxUploadBytes; entry ${JSON.stringify(entry.path)}): a zip bomb, or a sheet too large to read`);
        }
      }
    }
  } catch (err) {
    if (hasStatus(err)) throw err;
    throw new XlsxInvalid(`not a readable .xlsx file (a zip of worksheets): ${(err as Error).message}`);
  } finally {
    file.destroy();
    zip.destroy();
  }
  if (total === 0) throw new XlsxInvalid('not a readable .xlsx file: the zip has no entries');
  return total;
}

type Cell = ExcelJS.CellValue;

/** exceljs on first use: it takes about 0.4 s to load, which a service that never sees a spreadsheet need not pay at start-up. */
export const loadExcel = (): Promise<{ default: typeof ExcelJS }> => import('exceljs') as Promise<{ default: typeof ExcelJS }>;

/** A cell as the text a CSV would hold. */
export function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (typeof v === 'object') {
    const o = v as unknown as Record<string, unknown>;
    if (Array.isArray(o.richText)) return (o.richText as { text: string }[]).map((r) => r.text).join('');
    if ('result' in o) return cellText(o.result as Cell);
    if ('formula' in o || 'sharedFormula' in o) return '';
    if (typeof o.text === 'string') return o.text;
    if (typeof o.error === 'string') return o.error;
  }
  return String(v);
}

/**
 * The worksheet's rows as CSV text. Resolves once the file is spooled and checked, so the caller
 * can still answer 4xx; a missing sheet cuts the input (`cut`) with SHEET_NOT_FOUND, which the CSV
 * reader reports when it reads the header.
 */
export async function xlsxAsCsv(input: Readable | string, options: XlsxReadOptions, cut: AbortController): Promise<Readable> {
  let path: string;
  let spooled: string | undefined;
  if (typeof input === 'string') path = input;
  else {
    spooled = path = join(options.spoolDir ?? tmpdir(), `logsift-upload-${randomUUID()}.xlsx`);
    try {
      await pipeline(input, createWriteStream(spooled));
    } catch (err) {
      await unlink(spooled).catch(() => undefined);
      if (cut.signal.aborted) throw cut.signal.reason as Error;
      throw err;
    }
    if (cut.signal.aborted) {
      await unlink(spooled).catch(() => undefined);
      throw cut.signal.reason as Error;
    }
  }
  try {
    await checkInflatedSize(path, options.maxBytes);
  } catch (err) {
    if (spooled) await unlink(spooled).catch(() => undefined);
    throw err;
  }
  async function* csvText(): AsyncGenerator<string> {
    const seen: string[] = [];
    try {
      const { default: Excel } = await loadExcel();
      const workbook = new Excel.stream.xlsx.WorkbookReader(path, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'ignore' });
      let found = false;
      for await (const sheet of workbook) {
        const name = (sheet as unknown as { name: string }).name;
        seen.push(name);
        // The first sheet in the workbook's own order (its tabs), else the first in the file.
        const wanted = options.sheet ?? (workbook as unknown as { model?: { sheets?: { name: string }[] } }).model?.sheets?.[0]?.name ?? name;
        if (name !== wanted) continue;
        found = true;
        let last = 0;
        let width = 0;
        for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
          const values = Array.from((row.values as Cell[]).slice(1), cellText);
          // A row ends at its last filled cell: empty cells after it are the header's width of empty fields.
          if (width === 0) width = values.length;
          while (values.length < width) values.push('');
          // Skipped (empty) rows stay empty lines, so the CSV reader's line numbers are the sheet's rows.
          const gap = row.number - last - 1;
          last = row.number;
          yield (gap > 0 ? '\n'.repeat(Math.min(gap, 1_000_000)) : '') + stringify([values]);
        }
        break;
      }
      if (!found) {
        const names = seen.map((n) => JSON.stringify(n)).join(', ');
        cut.abort(options.sheet === undefined ? new XlsxInvalid('the spreadsheet has no worksheet') : new SheetNotFound(`no worksheet named ${JSON.stringify(options.sheet)}: the spreadsheet has ${names || 'none'}`));
      }
    } catch (err) {
      if (!cut.signal.aborted) cut.abort(hasStatus(err) ? err : new XlsxInvalid(`not a readable .xlsx file: ${(err as Error).message}`));
    } finally {
      if (spooled) await unlink(spooled).catch(() => undefined);
    }
  }
  return Readable.from(csvText());
}

