import { rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.js';
import { PROJECT_ROOT, resolvePath } from '../config/index.js';
import { weightsInstalled } from '../models/fetch.js';
import { onnxHeadStatus } from '../models/head-status.js';
import { ownModelFile } from '../models/sentence-model.js';
import { installWordVectors, modelsCommand } from './models.js';
import { trainCommand } from './train.js';

const USAGE = `usage: logsift setup [--data FILE.csv]

Installs the pinned all-MiniLM-L6-v2 into embedder.modelDir (unless that folder holds your own
model), then trains models/head-onnx.json when no head fits the transformer (none yet, or one
trained for another model, prompt or setting: that one is kept as head-onnx.previous.json).

  --data FILE.csv   training data for the head (default: data/corpus.csv)
  -h, --help        show this help`;

/**
 * First-run set-up (run by `npm start` before serving): installs the transformer files
 * (download, or LOGSIFT_MODEL_MIRROR) — or takes the user's own sentence-transformers folder
 * as it is — and, where no head fits the installed transformer, trains one. Never fails the
 * start for missing weights: the service then runs on the `lexical` embedder.
 */
export async function setupCommand(argv: string[], config: Config): Promise<number> {
  let values: { data?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { data: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`logsift setup: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const data = values.data ? resolve(values.data) : join(PROJECT_ROOT, 'data/corpus.csv');

  const own = await ownModelFile(resolvePath(config.embedder.modelDir), config.embedder.modelFile);
  if (own) {
    const code = await installWordVectors(config);
    if (code !== 0) return code;
    console.log(`Using your own transformer ${own} (not the pinned all-MiniLM-L6-v2: nothing to download).`);
  } else {
    const code = await modelsCommand(['--allow-partial'], config);
    if (code !== 0) return code;
  }
  if (!(await weightsInstalled(config))) return 0;

  const head = await onnxHeadStatus(config);
  switch (head.state) {
    case 'ready':
      return 0;
    case 'unusable-model':
      console.error(`logsift setup: ${head.message}`);
      // `auto` then serves with the lexical embedder; `onnx` could not start.
      return config.embedder.kind === 'onnx' ? 1 : 0;
    case 'stale':
    case 'unreadable': {
      const kept = head.path.replace(/\.json$/, '.previous.json');
      await rename(head.path, kept);
      console.log(`\n${head.message}\nRetraining it from ${data}; the old head is kept as ${kept}.`);
      break;
    }
    case 'missing':
      console.log(`\nTransformer installed but no head trained for it: training ${head.path} from ${data} (once).`);
      break;
  }
  return trainCommand(['--data', data, '--embedder', 'onnx'], config);
}
