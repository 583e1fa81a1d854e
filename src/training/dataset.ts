import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

export interface LabelledLogRow {
  readonly source: string;
  readonly message: string;
  readonly label: string;
  /** The row's template id, from an `event_id` column when the file has one (e.g. Loghub's EventId). */
  readonly eventId?: string;
}

export class DatasetError extends Error {}

const MESSAGE_COLUMNS = ['log_message', 'message'];
const LABEL_COLUMNS = ['target_label', 'label'];

/** Reads a labelled CSV (source, log_message|message, target_label|label, optional event_id) with errors that name the problem. */
export async function readLabelledCsv(path: string): Promise<LabelledLogRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DatasetError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    throw new DatasetError(`${path} is not valid CSV: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new DatasetError(`${path} is empty`);
  const header = records[0].map((h) => h.trim().toLowerCase());
  const find = (names: string[]) => header.findIndex((h) => names.includes(h));
  const sourceAt = header.indexOf('source');
  const messageAt = find(MESSAGE_COLUMNS);
  const labelAt = find(LABEL_COLUMNS);
  const eventIdAt = header.indexOf('event_id');
  const missing = [
    messageAt < 0 ? 'log_message' : '',
    labelAt < 0 ? 'target_label' : '',
  ].filter(Boolean);
  if (missing.length) throw new DatasetError(`${path} lacks column(s): ${missing.join(', ')} (header: ${records[0].join(',')})`);
  const rows: LabelledLogRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i];
    const message = r[messageAt] ?? '';
    const label = r[labelAt] ?? '';
    if (!label) throw new DatasetError(`${path} row ${i + 1}: empty target_label`);
    const row = { source: sourceAt >= 0 ? (r[sourceAt] ?? '') : '', message, label };
    rows.push(eventIdAt >= 0 ? { ...row, eventId: r[eventIdAt] ?? '' } : row);
  }
  if (rows.length === 0) throw new DatasetError(`${path} has a header but no rows`);
  return rows;
}
