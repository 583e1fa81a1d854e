/**
 * Whether the onnx head on disk was trained for the configured transformer: same model bytes,
 * same folder settings and prompt (the embedder fingerprint). Set-up retrains on a mismatch and
 * the `auto` embedder choice falls back to `lexical` instead of starting with a head that would
 * be refused.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { headPath, resolvePath } from '../config/index.js';
import { embedderFingerprint } from '../embedding/index.js';
import { lineFeaturesFingerprint } from '../lines/feature-space.js';
import { loadHead } from './head.js';

export interface OnnxHeadStatus {
  /**
   * ready: the head fits; missing: no head file; stale: trained for another fingerprint;
   * unreadable: not a valid head file; unusable-model: the model folder's settings cannot be used.
   */
  readonly state: 'ready' | 'missing' | 'stale' | 'unreadable' | 'unusable-model';
  readonly path: string;
  /** One line saying what is wrong and what to do (for set-up, logs and /readyz). */
  readonly message: string;
}

/** Checks head-onnx.json against the configured onnx embedder without loading the model. Never throws. */
export async function onnxHeadStatus(config: Config): Promise<OnnxHeadStatus> {
  const path = headPath(config, 'onnx');
  let expected: string;
  try {
    // Heads see the embedding plus the line's header features (src/lines/features.ts).
    expected = lineFeaturesFingerprint(await embedderFingerprint('onnx', config));
  } catch (err) {
    const message = `cannot use the transformer in ${resolvePath(config.embedder.modelDir)}: ${(err as Error).message}`;
    return { state: 'unusable-model', path, message };
  }
  if (!existsSync(path)) {
    return { state: 'missing', path, message: `transformer installed but no ${path} (run \`logsift setup\` or \`logsift train --embedder onnx\`)` };
  }
  let trainedFor: string;
  try {
    trainedFor = (await loadHead(path)).embedderFingerprint;
  } catch (err) {
    return { state: 'unreadable', path, message: `${(err as Error).message} (run \`logsift setup\` to retrain it)` };
  }
  if (trainedFor !== expected) {
    const message =
      `${path} was trained with embedder ${trainedFor}, but the configured one is ${expected} ` +
      '(another model, prompt or folder setting): run `logsift setup` to retrain it from data/corpus.csv, ' +
      'or `logsift train --data FILE.csv --embedder onnx`';
    return { state: 'stale', path, message };
  }
  return { state: 'ready', path, message: 'transformer model and head installed' };
}
