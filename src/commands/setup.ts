import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { headPath, PROJECT_ROOT } from '../config.js';
import { weightsInstalled } from '../models/fetch.js';
import { modelsCommand } from './models.js';
import { trainCommand } from './train.js';

/**
 * First-run set-up (run by `npm start` before serving): installs the transformer files
 * (download, or LOGSIFT_MODEL_MIRROR) and, where the weights are installed but no head was
 * trained for them, trains one from the project's corpus. Never fails the start for missing
 * weights: the service then runs on the `lexical` embedder.
 */
export async function setupCommand(_argv: string[], config: Config): Promise<number> {
  const code = await modelsCommand(['--allow-partial'], config);
  if (code !== 0) return code;
  if (!(await weightsInstalled(config))) return 0;
  if (existsSync(headPath(config, 'onnx'))) return 0;
  console.log('\nTransformer installed but no head trained for it: training models/head-onnx.json from data/corpus.csv (once).');
  return trainCommand(['--data', join(PROJECT_ROOT, 'data/corpus.csv'), '--embedder', 'onnx'], config);
}
