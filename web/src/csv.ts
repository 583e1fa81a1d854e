/**
 * An incremental RFC 4180 reader for the service's answer (fed as it streams in), and the CSV
 * the console sends for pasted lines.
 */

const SPECIAL = /[",\r\n]/g;

export class CsvReader {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  /** Inside quotes a quote was just read: the field's end, or the first of an escaped `""`. */
  private quoteSeen = false;
  /** A record ended at CR: a LF right after it belongs to the same line break. */
  private skipLf = false;

  /** Reads `chunk` and appends every record it completes to `out`. */
  push(chunk: string, out: string[][]): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (chunk.charCodeAt(i) === 34) {
            this.field += '"';
            i++;
            continue;
          }
          this.inQuotes = false;
          continue;
        }
        const q = chunk.indexOf('"', i);
        if (q < 0) {
          this.field += chunk.slice(i);
          return;
        }
        this.field += chunk.slice(i, q);
        this.quoteSeen = true;
        i = q + 1;
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === 10) {
          i++;
          continue;
        }
      }
      if (c === 34) {
        this.inQuotes = true;
        i++;
      } else if (c === 44) {
        this.record.push(this.field);
        this.field = '';
        i++;
      } else if (c === 10 || c === 13) {
        this.endRecord(out);
        this.skipLf = c === 13;
        i++;
      } else {
        SPECIAL.lastIndex = i;
        const m = SPECIAL.exec(chunk);
        const j = m ? m.index : n;
        this.field += chunk.slice(i, j);
        i = j;
      }
    }
  }

  /** The end of the input: the last record, when it has no line break after it. */
  end(out: string[][]): void {
    this.inQuotes = false;
    this.quoteSeen = false;
    this.endRecord(out);
  }

  private endRecord(out: string[][]): void {
    this.record.push(this.field);
    this.field = '';
    // A blank line is not a record.
    if (!(this.record.length === 1 && this.record[0] === '')) out.push(this.record);
    this.record = [];
  }
}

/** Reads a whole CSV text. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  const reader = new CsvReader();
  reader.push(text, out);
  reader.end(out);
  return out;
}

function cell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Pasted lines (one log line per line, blank lines skipped) as a `source,log_message` CSV. */
export function linesToCsv(text: string, source: string): { csv: string; lines: number } {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  const src = cell(source.trim() || 'console');
  return { csv: `source,log_message\r\n${lines.map((l) => `${src},${cell(l)}\r\n`).join('')}`, lines: lines.length };
}
