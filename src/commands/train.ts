import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { createFeaturizer } from '../pipeline/build.js';
import { HEAD_KINDS, type HeadKind } from '../models/head-model.js';
import { saveHead } from '../models/head.js';
import { readLabelledCsv } from '../training/dataset.js';
import { formatReport } from '../training/metrics.js';
import { CLASS_WEIGHTINGS, type ClassWeighting } from '../training/heads.js';
import { MLP_DEFAULTS } from '../training/mlp.js';
import { trainHead } from '../training/train.js';

export const TRAIN_USAGE = `usage: logsift train --data FILE.csv [--embedder onnx|lexical] [--out DIR]
                     [--head ${HEAD_KINDS.join('|')}] [--class-weights fourth-root|sqrt|balanced|none]
                     [--split random|group] [--test-fraction 0.2] [--seed 42]
                     [--l2 N] [--epochs N] [--learning-rate N] [--hidden N] [--alpha N]

  --head            the model (default softmax); \`logsift eval --compare\` compares them
  --l2, --epochs, --learning-rate   softmax and mlp (defaults: softmax 5e-5, 20, 0.02;
                    mlp ${MLP_DEFAULTS.l2}, ${MLP_DEFAULTS.epochs}, ${MLP_DEFAULTS.learningRate})
  --hidden          mlp hidden units (default ${MLP_DEFAULTS.hidden})
  --alpha           naive-bayes smoothing (default 1)`;

const NUMBER_FLAGS = ['l2', 'epochs', 'learning-rate', 'hidden', 'alpha'] as const;

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
      head: { type: 'string', default: 'softmax' },
      'class-weights': { type: 'string', default: 'fourth-root' },
      l2: { type: 'string' },
      epochs: { type: 'string' },
      'learning-rate': { type: 'string' },
      hidden: { type: 'string' },
      alpha: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data) {
    console.error(TRAIN_USAGE);
    return values.help ? 0 : 2;
  }
  const kind = values.embedder;
  if (kind !== 'onnx' && kind !== 'lexical') throw new Error(`--embedder must be onnx or lexical, got ${kind}`);
  if (values.split !== 'random' && values.split !== 'group') throw new Error(`--split must be random or group, got ${values.split}`);
  const head = values.head as HeadKind;
  if (!HEAD_KINDS.includes(head)) throw new Error(`--head must be one of ${HEAD_KINDS.join(', ')}, got ${values.head}`);
  const classWeighting = values['class-weights'] as ClassWeighting;
  if (!CLASS_WEIGHTINGS.includes(classWeighting)) throw new Error(`--class-weights must be ${CLASS_WEIGHTINGS.join(' or ')}, got ${classWeighting}`);
  const numbers: Partial<Record<(typeof NUMBER_FLAGS)[number], number>> = {};
  for (const flag of NUMBER_FLAGS) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number, got ${raw}`);
    numbers[flag] = n;
  }

  const dataPath = resolve(values.data);
  const rows = await readLabelledCsv(dataPath);
  const embedder = await createFeaturizer(kind, config);
  const started = performance.now();
  const result = await trainHead(rows, embedder, {
    split: values.split,
    testFraction: Number(values['test-fraction']),
    seed: Number(values.seed),
    head,
    classWeighting,
    l2: numbers.l2,
    epochs: numbers.epochs,
    learningRate: numbers['learning-rate'],
    hidden: numbers.hidden,
    alpha: numbers.alpha,
    dataName: basename(dataPath),
  });
  await embedder.close?.();

  const outDir = values.out ? resolve(values.out) : resolvePath(config.head.dir);
  await mkdir(outDir, { recursive: true });
  const outPath = join(outDir, `head-${kind}.json`);
  await saveHead(outPath, result.head);

  const { train, validation, test } = result.counts;
  console.log(`${head} head (${classWeighting} class weights) trained on ${train} rows (${validation} for calibration), ${values.split} hold-out of ${test} rows, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(formatReport(result.report));
  console.log(`\ntemperature ${result.head.temperature.toFixed(3)}   expected calibration error ${result.ece.toFixed(4)}`);
  console.log(`wrote ${outPath}`);
  return 0;
}
