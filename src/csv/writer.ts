/**
 * Rows → the labelled CSV's bytes: the input's columns, then ours; one CSV string per batch (far
 * fewer stream chunks and writes than one per row); cells that a spreadsheet would run as a
 * formula neutralised. Nothing else: which rows and decisions go out is the batch driver's
 * (pipeline/run.ts).
 */
import { stringify } from 'csv-stringify/sync';

export const OUTPUT_COLUMNS = ['target_label', 'label_stage', 'confidence'] as const;
/** Appended after OUTPUT_COLUMNS when the request explains (`?explain=true`). */
export const EXPLAIN_COLUMNS = ['template_id', 'template', 'rule'] as const;

/** One output row as the writer needs it (pipeline/run.ts OutputRow<string[]>). */
export interface LabelledRow {
  /** The input row's fields; unset or short for an `error` row (padded with empty cells). */
  readonly cells: readonly string[] | undefined;
  readonly decision: { readonly label: string; readonly stage: string; readonly confidence: number; readonly rule?: string };
  /** The row's mined template (explained runs; unset for `error` rows: empty cells). */
  readonly template?: { readonly id: string; readonly template: string };
}

export interface WriterOptions {
  /** Prefix cells starting with = + - @ (and tab/CR) with a quote so spreadsheets do not run them. Default true. */
  readonly neutraliseFormulas?: boolean;
  /** Append EXPLAIN_COLUMNS: the template id and text, and the deciding rule's id. Default false. */
  readonly explain?: boolean;
}

/** Whether a cell starts with = + - @ tab or CR (what a spreadsheet may run as a formula). */
function formulaLike(cell: string): boolean {
  const c = cell.charCodeAt(0);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;
}

/**
 * The output header: the input's columns in order, then ours. An input column that already
 * bears one of our names is kept as `input_<name>` so no value is lost or overwritten.
 */
export function outputHeader(header: readonly string[], explain = false): string[] {
  const columns: readonly string[] = explain ? [...OUTPUT_COLUMNS, ...EXPLAIN_COLUMNS] : OUTPUT_COLUMNS;
  const ours = new Set<string>(columns);
  return [...header.map((h) => (ours.has(h.trim().toLowerCase()) ? `input_${h}` : h)), ...columns];
}

/**
 * The labelled CSV as text chunks: the header goes out with the first batch (so that an input
 * failing before then can still be answered with a 4xx), then one chunk per batch.
 */
export async function* labelledCsv(header: readonly string[], batches: AsyncIterable<readonly LabelledRow[]>, options: WriterOptions = {}): AsyncGenerator<string> {
  const width = header.length;
  const neutralise = options.neutraliseFormulas ?? true;
  const safe = (cell: string) => (neutralise && formulaLike(cell) ? `'${cell}` : cell);
  // Header cells are cells too: a spreadsheet runs `=cmd|x` in the first line as readily.
  const explain = options.explain ?? false;
  let pendingHeader: string | undefined = stringify([outputHeader(header, explain).map(safe)]);
  // Our three cells by decision object: the rows of a cached template share one decision, so
  // its label is checked and its confidence formatted once, not on every row.
  const ours = new WeakMap<LabelledRow['decision'], readonly [string, string, string]>();
  const record = ({ cells, decision, template }: LabelledRow): string[] => {
    const out = new Array<string>(width + 3);
    for (let i = 0; i < width; i++) {
      const cell = cells?.[i];
      out[i] = cell === undefined ? '' : safe(cell);
    }
    let tail = ours.get(decision);
    if (!tail) {
      tail = [safe(decision.label), decision.stage, formatConfidence(decision.confidence)];
      ours.set(decision, tail);
    }
    out[width] = tail[0];
    out[width + 1] = tail[1];
    out[width + 2] = tail[2];
    if (explain) out.push(template?.id ?? '', safe(template?.template ?? ''), decision.rule ?? '');
    return out;
  };
  for await (const batch of batches) {
    const text = (pendingHeader ?? '') + (batch.length ? stringify(batch.map(record)) : '');
    pendingHeader = undefined;
    if (text) yield text;
  }
}

function formatConfidence(c: number): string {
  return (Math.round(c * 10_000) / 10_000).toString();
}
