/**
 * The labelled rows as they stream in, with running counts for the charts, and the filtered and
 * sorted view of them the table shows.
 */
import { CsvReader } from './csv.js';
import { ERROR_KEY } from './colors.js';

export interface Row {
  /** 1-based data row number (input order). */
  readonly n: number;
  readonly source: string;
  readonly message: string;
  /** target_label as returned; for an `error` row, the reason. */
  readonly label: string;
  readonly stage: string;
  readonly confidence: number;
  /** Milliseconds since the epoch from the timestamp column, NaN when none or unreadable. */
  readonly time: number;
}

/** The label a row counts under in charts and filters (every error row under one key). */
export const labelKey = (row: Row): string => (row.stage === 'error' ? ERROR_KEY : row.label);

const TIME_COLUMN = /^(@?timestamp|time|datetime|date_?time|date|ts|time_?stamp|log_?time|event_?time|logged_?at|created_?at)$/i;

/** A timestamp cell: ISO 8601 and other Date.parse forms, or epoch seconds / milliseconds. */
export function parseTime(value: string): number {
  const v = value.trim();
  if (v === '') return NaN;
  if (/^\d{9,13}(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n >= 1e12 ? n : n * 1000;
  }
  // "2024-05-01 12:00:00" (a space instead of T) is not read by every browser's Date.parse.
  return Date.parse(/^\d{4}-\d\d-\d\d \d/.test(v) ? v.replace(' ', 'T') : v);
}

export class Results {
  readonly rows: Row[] = [];
  header: string[] | undefined;
  /** Counts per label key, per stage, and per label key and stage. */
  readonly labels = new Map<string, number>();
  readonly stages = new Map<string, number>();
  readonly labelStages = new Map<string, Map<string, number>>();
  timeColumn: string | undefined;
  timedRows = 0;
  private reader = new CsvReader();
  private records: string[][] = [];
  private msgIdx = -1;
  private srcIdx = -1;
  private timeIdx = -1;

  /** Reads the next piece of the answer. */
  push(chunk: string): void {
    this.reader.push(chunk, this.records);
    this.take();
  }

  end(): void {
    this.reader.end(this.records);
    this.take();
  }

  /** Whether enough rows carry a readable timestamp for a chart over time. */
  get hasTime(): boolean {
    return this.timeColumn !== undefined && this.timedRows >= 2 && this.timedRows >= this.rows.length / 2;
  }

  private take(): void {
    const records = this.records;
    this.records = [];
    for (const rec of records) {
      if (!this.header) {
        this.header = rec;
        const plain = rec.map((h) => h.trim().toLowerCase());
        this.msgIdx = plain.indexOf('log_message') >= 0 ? plain.indexOf('log_message') : plain.indexOf('message');
        this.srcIdx = plain.indexOf('source');
        this.timeIdx = plain.findIndex((h) => TIME_COLUMN.test(h));
        if (this.timeIdx >= 0) this.timeColumn = rec[this.timeIdx];
        continue;
      }
      // The three label columns are always the last three, whatever the row's width (an error
      // row for a malformed record may have fewer or more fields than the header).
      const k = rec.length;
      const stage = rec[k - 2] ?? 'error';
      const time = this.timeIdx >= 0 && k === this.header.length ? parseTime(rec[this.timeIdx] ?? '') : NaN;
      const row: Row = {
        n: this.rows.length + 1,
        source: this.srcIdx >= 0 && this.srcIdx < k - 3 ? rec[this.srcIdx] : '',
        message: this.msgIdx >= 0 && this.msgIdx < k - 3 ? rec[this.msgIdx] : rec.slice(0, Math.max(0, k - 3)).join(','),
        label: rec[k - 3] ?? '',
        stage,
        confidence: Number(rec[k - 1] ?? 0),
        time,
      };
      this.rows.push(row);
      if (!Number.isNaN(time)) this.timedRows++;
      const key = labelKey(row);
      this.labels.set(key, (this.labels.get(key) ?? 0) + 1);
      this.stages.set(stage, (this.stages.get(stage) ?? 0) + 1);
      let per = this.labelStages.get(key);
      if (!per) this.labelStages.set(key, (per = new Map()));
      per.set(stage, (per.get(stage) ?? 0) + 1);
    }
  }
}

export interface Filter {
  readonly label?: string;
  readonly stage?: string;
  readonly text?: string;
}

export type Sort = 'none' | 'asc' | 'desc';

/** Indexes of the rows that pass `filter`, in input order or by confidence. */
export function view(rows: readonly Row[], filter: Filter, sort: Sort): Int32Array {
  const text = filter.text?.trim().toLowerCase() ?? '';
  const out = new Int32Array(rows.length);
  let m = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (filter.label !== undefined && labelKey(r) !== filter.label) continue;
    if (filter.stage !== undefined && r.stage !== filter.stage) continue;
    if (text && !r.message.toLowerCase().includes(text) && !r.source.toLowerCase().includes(text) && !r.label.toLowerCase().includes(text)) continue;
    out[m++] = i;
  }
  const idx = out.slice(0, m);
  if (sort !== 'none') {
    const dir = sort === 'asc' ? 1 : -1;
    idx.sort((a, b) => (rows[a].confidence - rows[b].confidence) * dir || a - b);
  }
  return idx;
}

/** Lines per label and time bucket: a "nice" bucket width for about 60 buckets over the range. */
export function timeSeries(rows: readonly Row[]): { bucketMs: number; series: Map<string, Map<number, number>> } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    if (Number.isNaN(r.time)) continue;
    if (r.time < lo) lo = r.time;
    if (r.time > hi) hi = r.time;
  }
  const steps = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400].map((s) => s * 1000);
  const span = Math.max(hi - lo, 1);
  const bucketMs = steps.find((s) => span / s <= 60) ?? steps[steps.length - 1];
  const series = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (Number.isNaN(r.time)) continue;
    const b = Math.floor(r.time / bucketMs) * bucketMs;
    const key = labelKey(r);
    let s = series.get(key);
    if (!s) series.set(key, (s = new Map()));
    s.set(b, (s.get(b) ?? 0) + 1);
  }
  return { bucketMs, series };
}
