import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { resolvePath } from '../config.js';
import { createFeaturizer, createPreparer } from '../pipeline/build.js';
import type { ClassWeighting } from '../training/train.js';
import { saveHead } from '../models/head.js';
import { readLabelledCsv } from '../training/dataset.js';
import { formatReport } from '../training/metrics.js';
import { trainHead } from '../training/train.js';

export const TRAIN_USAGE = `usage: logsift train --data FILE.csv [--embedder onnx|lexical] [--out DIR]
                     [--split random|group] [--test-fraction 0.2] [--seed 42] [--l2 1e-4] [--epochs 40]
                     [--class-weights sqrt|balanced|none]`;

export async function trainCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      embedder: { type: 'string', default: 'lexical' },
      out: { type: 'string' },
      split: { type: 'string', default: 'random' },
      'test-fraction': { type: 'string', default: '0.2' },
      seed: { type: 'string', default: '42' },
      l2: { type: 'string', default: '1e-4' },
      epochs: { type: 'string', default: '40' },
      'class-weights': { type: 'string', default: 'sqrt' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    console.error(TRAIN_USAGE);
    return values.help ? 0 : 2;
  }
  const kind = values.embedder;
  if (kind !== 'onnx' && kind !== 'lexical') throw new Error(`--embedder must be onnx or lexical, got ${kind}`);
  if (!['balanced', 'sqrt', 'none'].includes(values['class-weights'])) throw new Error(`--class-weights must be balanced, sqrt or none, got ${values['class-weights']}`);
  if (values.split !== 'random' && values.split !== 'group') throw new Error(`--split must be random or group, got ${values.split}`);

  const dataPath = resolve(values.data);
  const rows = await readLabelledCsv(dataPath);
  const features = await createFeaturizer(kind, config);
  const started = performance.now();
  const result = await trainHead(rows, features, createPreparer(config), {
    split: values.split,
    testFraction: Number(values['test-fraction']),
    seed: Number(values.seed),
    l2: Number(values.l2),
    epochs: Number(values.epochs),
    dataName: basename(dataPath),
    classWeighting: values['class-weights'] as ClassWeighting,
  });
  await features.close();

  const outDir = values.out ? resolve(values.out) : resolvePath(config.head.dir);
  await mkdir(outDir, { recursive: true });
  const outPath = join(outDir, `head-${kind}.json`);
  await saveHead(outPath, result.head);

  const { train, validation, test } = result.counts;
  console.log(`trained on ${train} rows (${validation} for calibration), ${values.split} hold-out of ${test} rows, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(formatReport(result.report));
  console.log(`\ntemperature ${result.head.temperature.toFixed(3)}   expected calibration error ${result.ece.toFixed(4)}`);
  console.log(`wrote ${outPath}`);
  return 0;
}
