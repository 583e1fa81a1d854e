/**
 * Rows → a labelled .xlsx, beside csv/writer.ts: one worksheet (`labelled`) with the input's
 * columns, then target_label, label_stage and confidence (a number). Written with exceljs's
 * streaming WorkbookWriter: each row is committed (serialised into the zip) as it is added, so
 * rows are not held; the zip comes out in chunks as it is compressed. Cells are written as text
 * values, never formulas, so no cell can run (no `'` prefix needed as in CSV).
 */
import { PassThrough } from 'node:stream';
import { outputHeader, type LabelledRow } from '../csv/writer.js';
import { loadExcel } from './reader.js';

/** Bytes of the zip not yet read by the client past which rows wait (bounded memory for a slow reader). */
const HIGH_WATER = 4 * 1024 * 1024;

export async function* labelledXlsx(header: readonly string[], batches: AsyncIterable<readonly LabelledRow[]>): AsyncGenerator<Buffer> {
  const width = header.length;
  const source = batches[Symbol.asyncIterator]();
  // The first batch before anything is written: an input failing before then is still a 4xx.
  const first = await source.next();
  const { default: ExcelJS } = await loadExcel();
  const out = new PassThrough({ highWaterMark: HIGH_WATER });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet('labelled');
  sheet.addRow(outputHeader(header)).commit();
  const write = (batch: readonly LabelledRow[]) => {
    for (const { cells, decision } of batch) {
      const fields: (string | number)[] = (cells ?? []).slice(0, width);
      while (fields.length < width) fields.push('');
      fields.push(decision.label, decision.stage, Math.round(decision.confidence * 10_000) / 10_000);
      sheet.addRow(fields).commit();
    }
  };
  const produce = (async () => {
    if (!first.done) write(first.value);
    for (;;) {
      // Wait while the client has not read what is already compressed.
      while (out.readableLength > HIGH_WATER && !out.destroyed) await new Promise((r) => setTimeout(r, 5));
      const next = await source.next();
      if (next.done) break;
      write(next.value);
    }
    sheet.commit();
    await workbook.commit();
  })();
  produce.catch((err: unknown) => out.destroy(err as Error));
  try {
    for await (const chunk of out) yield chunk as Buffer;
    await produce;
  } finally {
    if (!out.destroyed) out.destroy();
    await source.return?.(undefined);
  }
}
