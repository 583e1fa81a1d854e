/**
 * `logsift corpus [--out data/corpus.csv] [--rows-per-label N] [--seed N]`: writes the
 * project's own deterministic, generated training corpus as CSV
 * (`source,log_message,target_label`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { CORPUS_LABELS, generateCorpus, templateCounts } from '../training/corpus.js';

const USAGE = `usage: logsift corpus [--out data/corpus.csv] [--rows-per-label N] [--seed N]

Generates the labelled training corpus from the project's own templates.

  --out FILE            where to write the CSV (default: data/corpus.csv)
  --rows-per-label N    rows generated for each of the ${CORPUS_LABELS.length} labels (default: 1000)
  --seed N              PRNG seed; the same seed always gives the same file (default: 42)
  -h, --help            show this help`;

function positiveInt(value: string | undefined, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  return n;
}

export async function corpusCommand(argv: string[]): Promise<number> {
  let values: { out?: string; 'rows-per-label'?: string; seed?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        'rows-per-label': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let rowsPerLabel: number;
  let seed: number;
  try {
    rowsPerLabel = positiveInt(values['rows-per-label'], '--rows-per-label', 1000);
    seed = positiveInt(values.seed, '--seed', 42, true);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const out = resolve(process.cwd(), values.out ?? 'data/corpus.csv');
  const rows = generateCorpus({ seed, rowsPerLabel });
  const csv = stringify(rows, { header: true, columns: ['source', 'log_message', 'target_label'] });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, csv);
  const counts = templateCounts();
  console.log(`wrote ${rows.length} rows (${rowsPerLabel} per label, seed ${seed}) to ${out} (${(Buffer.byteLength(csv) / 1024).toFixed(0)} KiB)`);
  for (const label of CORPUS_LABELS) console.log(`  ${label.padEnd(20)} ${rowsPerLabel} rows from ${counts[label]} templates`);
  return 0;
}
