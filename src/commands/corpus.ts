/**
 * `logsift corpus`: writes the project's own deterministic training corpus
 * (`source,log_message,target_label`) from the family template files in data/templates/,
 * or prints a sample of one family for whoever is writing its templates.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { CORPUS_LABELS, familyMix, generateCorpus, generateLine, loadFamilies, mulberry32, TEMPLATES_DIR, templateCounts } from '../training/corpus.js';
import { Rng } from '../training/slots.js';

const USAGE = `usage: logsift corpus [--out data/corpus.csv] [--rows N] [--seed N] [--templates DIR]
       logsift corpus --sample N [--family NAME] [--label LABEL]

Generates the labelled training corpus from the family template files (data/templates/*.yaml).

  --out FILE        where to write the CSV (default: data/corpus.csv)
  --rows N          rows in all (default: 160000)
  --seed N          PRNG seed; the same seed and templates always give the same file (default: 42)
  --templates DIR   template folder (default: data/templates)
  --sample N        print N generated lines per label instead of writing a file
  --family NAME     with --sample: only this family
  --label LABEL     with --sample: only this label
  -h, --help        show this help`;

function nonNegativeInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export async function corpusCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        rows: { type: 'string' },
        seed: { type: 'string' },
        templates: { type: 'string' },
        sample: { type: 'string' },
        family: { type: 'string' },
        label: { type: 'string' },
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
  let rows: number;
  let seed: number;
  let sample: number;
  try {
    rows = nonNegativeInt(values.rows, '--rows', 160_000);
    seed = nonNegativeInt(values.seed, '--seed', 42);
    sample = nonNegativeInt(values.sample, '--sample', 0);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const families = loadFamilies(values.templates ? resolve(values.templates) : TEMPLATES_DIR);

  if (sample > 0) {
    const chosen = values.family ? families.filter((f) => f.family === values.family) : families;
    if (chosen.length === 0) throw new Error(`no family ${values.family}; have: ${families.map((f) => f.family).join(', ')}`);
    const r = new Rng(mulberry32(seed));
    for (const family of chosen) {
      for (const label of Object.keys(familyMix(family)) as (typeof CORPUS_LABELS)[number][]) {
        if (values.label && values.label !== label) continue;
        console.log(`== ${family.family} · ${label}`);
        for (let i = 0; i < sample; i++) console.log(generateLine(family, label, r));
      }
    }
    return 0;
  }

  const out = resolve(process.cwd(), values.out ?? 'data/corpus.csv');
  const generated = generateCorpus({ seed, rows, families });
  const csv = stringify(generated, { header: true, columns: ['source', 'log_message', 'target_label', 'family'] });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, csv);
  const counts = templateCounts(families);
  const perLabel = new Map<string, number>();
  for (const row of generated) perLabel.set(row.target_label, (perLabel.get(row.target_label) ?? 0) + 1);
  console.log(`wrote ${generated.length} rows (seed ${seed}) from ${families.length} families to ${out} (${(Buffer.byteLength(csv) / 1024).toFixed(0)} KiB)`);
  for (const label of CORPUS_LABELS) console.log(`  ${label.padEnd(20)} ${String(perLabel.get(label) ?? 0).padStart(6)} rows from ${counts[label]} templates`);
  return 0;
}
