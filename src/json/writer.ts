/**
 * Rows → the labelled JSON or NDJSON's text, beside csv/writer.ts: each input object as it was
 * sent, then `target_label`, `label_stage` and `confidence`; one text chunk per batch. Which rows
 * and decisions go out is the batch driver's (pipeline/run.ts).
 *
 * An object is written from its own text with our three fields spliced in before its closing
 * brace, so every field keeps its order and exact value (numbers past double precision, escapes).
 * An object that already has one of our field names is written from its parsed value instead,
 * that field renamed `input_<name>` (as the CSV writer renames such a column), so nothing is
 * overwritten. A row that is no object (an unreadable record, the closing row) is our three
 * fields alone.
 */
import { OUTPUT_COLUMNS } from '../csv/writer.js';
import type { JsonCells } from './reader.js';

/** One output row as the writers need it (pipeline/run.ts OutputRow<JsonCells | undefined>). */
export interface LabelledJsonRow {
  readonly cells: JsonCells | undefined;
  readonly decision: { readonly label: string; readonly stage: string; readonly confidence: number };
}

const OURS = new Set<string>(OUTPUT_COLUMNS);

/** As the CSV writer: four decimals. */
function formatConfidence(c: number): string {
  return (Math.round(c * 10_000) / 10_000).toString();
}

/** One labelled object as JSON text (one line unless the input object spanned lines). */
export function labelledObject({ cells, decision }: LabelledJsonRow): string {
  const ours = `"target_label":${JSON.stringify(decision.label)},"label_stage":${JSON.stringify(decision.stage)},"confidence":${formatConfidence(decision.confidence)}`;
  if (!cells) return `{${ours}}`;
  const keys = Object.keys(cells.value);
  if (keys.some((k) => OURS.has(k))) {
    const taken = new Set(keys);
    const renamed: [string, unknown][] = keys.map((k) => {
      if (!OURS.has(k)) return [k, cells.value[k]];
      let name = `input_${k}`;
      while (taken.has(name)) name = `input_${name}`;
      taken.add(name);
      return [name, cells.value[k]];
    });
    const text = JSON.stringify(Object.fromEntries(renamed));
    return `${text.slice(0, -1)}${renamed.length ? ',' : ''}${ours}}`;
  }
  const text = cells.text.trimEnd();
  return `${text.slice(0, -1)}${keys.length ? ',' : ''}${ours}}`;
}

/**
 * The labelled JSON array as text chunks: `[` goes out with the first batch (so that an input
 * failing before then can still be answered with a 4xx), then one chunk per batch, then `]`.
 */
export async function* labelledJson(batches: AsyncIterable<readonly LabelledJsonRow[]>): AsyncGenerator<string> {
  let opened = false;
  let written = false;
  for await (const batch of batches) {
    let chunk = opened ? '' : '[';
    opened = true;
    if (batch.length) {
      chunk += (written ? ',\n' : '\n') + batch.map(labelledObject).join(',\n');
      written = true;
    }
    if (chunk) yield chunk;
  }
  yield !opened ? '[]\n' : written ? '\n]\n' : ']\n';
}

/** The labelled NDJSON as text chunks: one object per line, one chunk per batch. */
export async function* labelledNdjson(batches: AsyncIterable<readonly LabelledJsonRow[]>): AsyncGenerator<string> {
  for await (const batch of batches) {
    if (batch.length) yield batch.map((row) => `${labelledObject(row)}\n`).join('');
  }
}
