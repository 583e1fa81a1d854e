/**
 * Bring your own sentence model: a sentence-transformers ONNX export in a folder (E5, BGE, GTE…)
 * is read with its pooling, normalisation, prompt and max_seq_length; its fingerprint covers them;
 * set-up trains a head for it; a head trained for other settings is refused.
 *
 * The folders are built in a temp dir from the random-weight MiniLM in ../shared/models (its ONNX
 * file linked in, never copied into the repository) plus settings files written here.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { modelsCommand } from '../../src/commands/models.js';
import { setupCommand } from '../../src/commands/setup.js';
import { embedderFingerprint } from '../../src/embedding/index.js';
import { createOnnxEmbedder, poolTokens, type OnnxEmbedder, type OnnxEmbedderOptions } from '../../src/embedding/onnx.js';
import { onnxHeadStatus } from '../../src/models/head-status.js';
import { headFileV2Schema as headFileSchema } from '../../src/models/head.js';
import { lineFeaturesFingerprint } from '../../src/lines/features.js';
import { readSentenceModel, sentenceModelFingerprint, type PoolingMode } from '../../src/models/sentence-model.js';
import { buildPipeline, chooseEmbedder } from '../../src/pipeline/build.js';
import { RANDOM_MINILM_DIR } from '../helpers/shared.js';
import { outputObjects, postCsv, startServer, testConfig } from '../helpers/server.js';

const RANDOM_ONNX = resolve(RANDOM_MINILM_DIR, 'onnx/model_quantized.onnx');
const HAVE_MODEL = existsSync(RANDOM_ONNX);
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'special_tokens_map.json', 'vocab.txt'];

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `logsift-${prefix}-`));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

// ---- the files of a sentence-transformers export, as SentenceTransformer.save writes them ----

const TRANSFORMER = { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' };
const POOLING = { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' };
const NORMALIZE = { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' };

function poolingConfig(mode: PoolingMode, includePrompt = true): Record<string, unknown> {
  return {
    word_embedding_dimension: 384,
    pooling_mode_cls_token: mode === 'cls',
    pooling_mode_mean_tokens: mode === 'mean',
    pooling_mode_max_tokens: mode === 'max',
    pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens',
    pooling_mode_weightedmean_tokens: mode === 'weightedmean',
    pooling_mode_lasttoken: mode === 'lasttoken',
    include_prompt: includePrompt,
  };
}

interface ExportSettings {
  readonly pooling?: PoolingMode;
  readonly normalize?: boolean;
  /** config_sentence_transformers.json */
  readonly prompts?: Record<string, string>;
  readonly defaultPromptName?: string | null;
  /** sentence_bert_config.json */
  readonly maxSeqLength?: number;
  readonly modules?: unknown[];
}

/** Settings files only (no tokenizer), in `dir`. */
function writeSettings(dir: string, s: ExportSettings): void {
  writeJson(join(dir, 'modules.json'), s.modules ?? [TRANSFORMER, POOLING, ...(s.normalize === false ? [] : [NORMALIZE])]);
  writeJson(join(dir, '1_Pooling/config.json'), poolingConfig(s.pooling ?? 'mean'));
  if (s.normalize !== false) mkdirSync(join(dir, '2_Normalize'), { recursive: true });
  writeJson(join(dir, 'config_sentence_transformers.json'), {
    __version__: { sentence_transformers: '3.3.1', transformers: '4.46.3', pytorch: '2.5.1' },
    prompts: s.prompts ?? {},
    default_prompt_name: s.defaultPromptName ?? null,
    similarity_fn_name: 'cosine',
  });
  writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: s.maxSeqLength ?? 512, do_lower_case: false });
}

/** A full export: the random MiniLM's tokenizer and ONNX file (linked, as onnx/model.onnx) plus the settings. */
function exportFolder(s: ExportSettings): string {
  const dir = tempDir('st-model');
  for (const f of TOKENIZER_FILES) symlinkSync(resolve(RANDOM_MINILM_DIR, f), join(dir, f));
  mkdirSync(join(dir, 'onnx'));
  symlinkSync(RANDOM_ONNX, join(dir, 'onnx/model.onnx'));
  writeSettings(dir, s);
  return dir;
}

const E5_PROMPTS = { prompts: { query: 'query: ', passage: 'passage: ' }, defaultPromptName: 'query' };

// ---- reading the folder ----

describe('readSentenceModel', () => {
  /** A folder with settings files and an empty stand-in for the ONNX file. */
  function settingsFolder(s?: ExportSettings, modelFile = 'onnx/model.onnx'): string {
    const dir = tempDir('st-settings');
    writeJson(join(dir, modelFile), {});
    if (s) writeSettings(dir, s);
    return dir;
  }

  it('without sentence-transformers files behaves as all-MiniLM-L6-v2 (mean, normalised, 256 tokens, no prompt)', () => {
    expect(readSentenceModel(settingsFolder(undefined, 'onnx/model_quantized.onnx'))).toEqual({
      modelFile: 'onnx/model_quantized.onnx',
      pooling: ['mean'],
      normalize: true,
      maxSeqLength: 256,
      prompt: '',
      poolPrompt: true,
      lowerCase: false,
    });
  });

  it('finds the ONNX file where exports keep it, the configured one first', () => {
    expect(readSentenceModel(settingsFolder(undefined, 'model.onnx')).modelFile).toBe('model.onnx');
    expect(readSentenceModel(settingsFolder(undefined, 'onnx/model.onnx')).modelFile).toBe('onnx/model.onnx');
    expect(readSentenceModel(settingsFolder(undefined, 'model.onnx'), { modelFile: 'onnx/other.onnx' }).modelFile).toBe('onnx/other.onnx');
    expect(() => readSentenceModel(tempDir('empty'))).toThrow(/no ONNX model in .*onnx\/model_quantized\.onnx, onnx\/model\.onnx, model\.onnx/);
  });

  it('reads pooling, Normalize, max_seq_length and the default prompt', () => {
    const dir = settingsFolder({ pooling: 'cls', normalize: false, maxSeqLength: 384, ...E5_PROMPTS });
    expect(readSentenceModel(dir)).toMatchObject({ pooling: ['cls'], normalize: false, maxSeqLength: 384, prompt: 'query: ' });
  });

  it('configuration overrides the prompt ("" for none) and the length', () => {
    const dir = settingsFolder(E5_PROMPTS);
    expect(readSentenceModel(dir, { promptPrefix: 'passage: ' }).prompt).toBe('passage: ');
    expect(readSentenceModel(dir, { promptPrefix: '' }).prompt).toBe('');
    expect(readSentenceModel(dir, { maxSeqLength: 64 }).maxSeqLength).toBe(64);
  });

  it('uses no prompt without default_prompt_name, as sentence-transformers does', () => {
    expect(readSentenceModel(settingsFolder({ prompts: { query: 'query: ' } })).prompt).toBe('');
  });

  it('concatenates several pooling modes in sentence-transformers order', () => {
    const dir = settingsFolder({});
    writeJson(join(dir, '1_Pooling/config.json'), { ...poolingConfig('mean'), pooling_mode_cls_token: true, pooling_mode_max_tokens: true });
    expect(readSentenceModel(dir).pooling).toEqual(['cls', 'max', 'mean']);
  });

  it('refuses what it cannot run, saying why', () => {
    const dense = settingsFolder({ modules: [TRANSFORMER, POOLING, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' }] });
    expect(() => readSentenceModel(dense)).toThrow(/Dense \(2_Dense\).*Transformer → Pooling → Normalize only/);
    expect(() => readSentenceModel(settingsFolder({ prompts: { query: 'q: ' }, defaultPromptName: 'passage' }))).toThrow(
      /default_prompt_name "passage" is not one of its prompts/,
    );
    const badPooling = settingsFolder({});
    writeJson(join(badPooling, '1_Pooling/config.json'), { pooling_mode_mean_tokens: 'yes' });
    expect(() => readSentenceModel(badPooling)).toThrow(/1_Pooling\/config\.json .*pooling_mode_mean_tokens/);
  });
});

describe('sentenceModelFingerprint', () => {
  const sha = 'ab'.repeat(32);
  const minilm = { modelFile: 'onnx/model_quantized.onnx', pooling: ['mean'], normalize: true, maxSeqLength: 256, prompt: '', poolPrompt: true, lowerCase: false } as const;

  it("is the pre-existing MiniLM fingerprint for MiniLM's settings (its heads stay valid)", () => {
    expect(sentenceModelFingerprint(minilm, sha)).toBe(`onnx:${'ab'.repeat(8)}:256`);
    // where the file is does not change a vector
    expect(sentenceModelFingerprint({ ...minilm, modelFile: 'model.onnx' }, sha)).toBe(sentenceModelFingerprint(minilm, sha));
  });

  it('changes with the model bytes and with every setting that changes a vector', () => {
    const variants = [
      sentenceModelFingerprint(minilm, sha),
      sentenceModelFingerprint(minilm, 'cd'.repeat(32)),
      sentenceModelFingerprint({ ...minilm, maxSeqLength: 512 }, sha),
      sentenceModelFingerprint({ ...minilm, pooling: ['cls'] }, sha),
      sentenceModelFingerprint({ ...minilm, pooling: ['cls', 'mean'] }, sha),
      sentenceModelFingerprint({ ...minilm, normalize: false }, sha),
      sentenceModelFingerprint({ ...minilm, lowerCase: true }, sha),
      sentenceModelFingerprint({ ...minilm, prompt: 'query: ' }, sha),
      sentenceModelFingerprint({ ...minilm, prompt: 'passage: ' }, sha),
      sentenceModelFingerprint({ ...minilm, prompt: 'passage: ', poolPrompt: false }, sha),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });
});

describe('poolTokens', () => {
  // batch 2, seq 3, dim 2: text 0 has 3 tokens, text 1 has 2 (its third position is padding: 99)
  const data = new Float32Array([1, 0, 3, 4, 5, -2, 0, 2, 4, -6, 99, 99]);
  const dims = [2, 3, 2];
  const lengths = [3, 2];
  const pooled = (modes: PoolingMode[], skip = 0) => poolTokens(data, dims, lengths, modes, skip).map((v) => Array.from(v));

  it('cls is the first token, lasttoken the last real one', () => {
    expect(pooled(['cls'])).toEqual([[1, 0], [0, 2]]);
    expect(pooled(['lasttoken'])).toEqual([[5, -2], [4, -6]]);
  });

  it('max, mean, mean_sqrt_len_tokens and weightedmean skip the padding', () => {
    expect(pooled(['max'])).toEqual([[5, 4], [4, 2]]);
    expect(pooled(['mean'])).toEqual([[3, 2 / 3], [2, -2]]);
    expect(pooled(['mean_sqrt_len_tokens'])).toEqual([[9 / Math.sqrt(3), 2 / Math.sqrt(3)], [4 / Math.sqrt(2), -4 / Math.sqrt(2)]]);
    // weights 1, 2, 3 by position
    expect(pooled(['weightedmean'])).toEqual([[(1 + 6 + 15) / 6, (0 + 8 - 6) / 6], [(0 + 8) / 3, (2 - 12) / 3]]);
  });

  it('concatenates modes in the order given', () => {
    expect(pooled(['cls', 'mean'])[1]).toEqual([0, 2, 2, -2]);
  });

  it('leaves excluded prompt tokens out of every mode but cls', () => {
    expect(pooled(['mean'], 1)).toEqual([[4, 1], [4, -6]]);
    expect(pooled(['cls'], 1)).toEqual(pooled(['cls']));
  });
});

// ---- the embedder on a real export folder ----

const SUITE = HAVE_MODEL
  ? 'a sentence-transformers export of the random-weight MiniLM'
  : `sentence-transformers export — SKIPPED: ${RANDOM_ONNX} not found (random-weight MiniLM)`;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const unit = (v: ArrayLike<number>): number[] => {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => x / n);
};

describe.skipIf(!HAVE_MODEL)(SUITE, () => {
  const TEXTS = ['x', 'User 1234 logged in', 'ERROR: connection refused while connecting to db-01:5432'];
  const base = { threads: 1, batchSize: 8 } satisfies Partial<OnnxEmbedderOptions>;
  const open: OnnxEmbedder[] = [];
  const embedderFor = async (options: Partial<OnnxEmbedderOptions> & { modelDir: string }): Promise<OnnxEmbedder> => {
    const e = await createOnnxEmbedder({ ...base, ...options });
    open.push(e);
    return e;
  };
  const embedOne = async (e: OnnxEmbedder, text: string) => ((await e.embed([text])) as Float32Array[])[0];
  let plain: OnnxEmbedder;

  beforeAll(async () => {
    plain = await embedderFor({ modelDir: RANDOM_MINILM_DIR });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(open.map((e) => e.close()));
  });

  it('(a) with prompts + default_prompt_name "query", "x" embeds as "query: x" does without, and the fingerprint differs', async () => {
    const e5 = await embedderFor({ modelDir: exportFolder({ ...E5_PROMPTS, maxSeqLength: 256 }) });
    expect(e5.settings.prompt).toBe('query: ');
    expect(e5.tokenize(TEXTS)).toEqual(plain.tokenize(TEXTS.map((t) => `query: ${t}`)));
    const prefixed = (await e5.embed(TEXTS)) as Float32Array[];
    const byHand = (await plain.embed(TEXTS.map((t) => `query: ${t}`))) as Float32Array[];
    TEXTS.forEach((_, i) => expect(Array.from(prefixed[i])).toEqual(Array.from(byHand[i])));
    const [unprefixed] = (await plain.embed(['x'])) as Float32Array[];
    expect(maxAbsDiff(prefixed[0], unprefixed)).toBeGreaterThan(1e-2);
    // same model bytes and length: only the prompt tells them apart
    expect(plain.fingerprint).toBe('onnx:21ab00477bddaea7:256');
    expect(e5.fingerprint).toMatch(/^onnx:21ab00477bddaea7:256:prompt-[0-9a-f]{12}$/);
  }, 60_000);

  it('(a) embedder.promptPrefix overrides the folder\'s prompt, and "" switches it off', async () => {
    const dir = exportFolder({ ...E5_PROMPTS, maxSeqLength: 256 });
    const passage = await embedderFor({ modelDir: dir, promptPrefix: 'passage: ' });
    expect(Array.from(await embedOne(passage, 'x'))).toEqual(Array.from(await embedOne(plain, 'passage: x')));
    const none = await embedderFor({ modelDir: dir, promptPrefix: '' });
    expect(Array.from(await embedOne(none, 'x'))).toEqual(Array.from(await embedOne(plain, 'x')));
    expect(none.fingerprint).toBe(plain.fingerprint);
    expect(new Set([passage.fingerprint, none.fingerprint, (await embedderFor({ modelDir: dir })).fingerprint]).size).toBe(3);
  }, 60_000);

  it('takes max_seq_length from sentence_bert_config.json, configuration first', async () => {
    const dir = exportFolder({ maxSeqLength: 8 });
    const long = 'nova.compute.manager instance spawned successfully in twelve seconds';
    expect((await embedderFor({ modelDir: dir })).tokenize([long])[0]).toHaveLength(8);
    expect((await embedderFor({ modelDir: dir, maxSeqLength: 12 })).tokenize([long])[0]).toHaveLength(12);
  }, 60_000);

  it('(b) cls pooling is the first token\'s state, normalised; mean is their average; without Normalize nothing is scaled', async () => {
    const cls = await embedderFor({ modelDir: exportFolder({ pooling: 'cls' }) });
    const clsRaw = await embedderFor({ modelDir: exportFolder({ pooling: 'cls', normalize: false }) });
    const mean = await embedderFor({ modelDir: exportFolder({ pooling: 'mean' }) });
    const max = await embedderFor({ modelDir: exportFolder({ pooling: 'max' }) });
    const text = TEXTS[1];

    // The token states of the same input, straight from onnxruntime.
    const ids = cls.tokenize([text])[0];
    const session = await ort.InferenceSession.create(RANDOM_ONNX, { intraOpNumThreads: 1 });
    const long = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, ids.length]);
    const out = await session.run({ input_ids: long(ids), attention_mask: long(ids.map(() => 1)), token_type_ids: long(ids.map(() => 0)) });
    await session.release();
    const hidden = out.last_hidden_state;
    expect(hidden.dims).toEqual([1, ids.length, 384]);
    const states = Array.from({ length: ids.length }, (_, t) => Array.from((hidden.data as Float32Array).subarray(t * 384, (t + 1) * 384)));

    const clsVector = await embedOne(cls, text);
    expect(maxAbsDiff(clsVector, unit(states[0]))).toBeLessThan(1e-6);
    expect(maxAbsDiff(await embedOne(clsRaw, text), states[0])).toBeLessThan(1e-6);
    const average = states[0].map((_, d) => states.reduce((s, h) => s + h[d], 0) / states.length);
    const meanVector = await embedOne(mean, text);
    expect(maxAbsDiff(meanVector, unit(average))).toBeLessThan(1e-6);
    const elementMax = states[0].map((_, d) => Math.max(...states.map((h) => h[d])));
    expect(maxAbsDiff(await embedOne(max, text), unit(elementMax))).toBeLessThan(1e-6);

    expect(maxAbsDiff(clsVector, meanVector)).toBeGreaterThan(1e-2);
    expect(Math.abs(Math.hypot(...(await embedOne(clsRaw, text))) - 1)).toBeGreaterThan(1e-2);
    expect(new Set([cls.fingerprint, clsRaw.fingerprint, mean.fingerprint, max.fingerprint]).size).toBe(4);
  }, 60_000);
});

// ---- set-up and the service ----

/** A few lines per label: set-up trains on it in seconds. */
function tinyCorpus(dir: string): string {
  const rows = ['source,log_message,target_label'];
  for (let i = 0; i < 12; i++) {
    rows.push(`app,Disk usage on /var/data${i} reached ${80 + i}% of capacity,Resource Usage`);
    rows.push(`app,Firewall blocked ${i + 3} connection attempts from 203.0.113.${i},Security Alert`);
    rows.push(`app,Nightly report job ${i} finished and mailed to the team,System Notification`);
  }
  const path = join(dir, 'tiny.csv');
  writeFileSync(path, rows.join('\n') + '\n');
  return path;
}

describe.skipIf(!HAVE_MODEL)(`set-up with your own model folder${HAVE_MODEL ? '' : ' — SKIPPED: no random-weight MiniLM'}`, () => {
  let modelDir: string;
  // Each test sets up into a head folder of its own: none sees another's head.
  let headDir: string;
  let corpus: string;
  const configFor = (embedder: Record<string, unknown> = {}) =>
    testConfig({
      embedder: { kind: 'auto', modelDir, threads: 1, ...embedder },
      head: { dir: headDir },
      // Every line the rules leave is decided by the head, whatever its confidence.
      pipeline: { confidenceThreshold: 0, llmSources: [] },
    });
  const readHead = () => headFileSchema.parse(JSON.parse(readFileSync(join(headDir, 'head-onnx.json'), 'utf8')));
  let logged: string[];

  beforeEach(() => {
    headDir = tempDir('heads');
    logged.length = 0;
  });

  beforeAll(() => {
    modelDir = exportFolder(E5_PROMPTS);
    corpus = tinyCorpus(tempDir('corpus'));
    logged = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
  });
  afterAll(() => vi.restoreAllMocks());

  it('`logsift models` will not install the pinned MiniLM over your model', async () => {
    const before = readdirSync(modelDir).sort();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await modelsCommand([], configFor())).toBe(1);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/holds another model .*onnx\/model\.onnx.*not installing over it/);
    } finally {
      stderr.mockRestore();
    }
    expect(readdirSync(modelDir).sort()).toEqual(before);
    expect(existsSync(join(modelDir, 'onnx/model_quantized.onnx'))).toBe(false);
  });

  it('(c) trains a head for the folder (prompt included) and the service classifies with it', async () => {
    const config = configFor();
    expect((await onnxHeadStatus(config)).state).toBe('missing');
    expect(await setupCommand(['--data', corpus], config)).toBe(0);
    expect(logged.join('\n')).toMatch(/Using your own transformer .*onnx\/model\.onnx/);

    const expected = await embedderFingerprint('onnx', config);
    expect(expected).toMatch(/:prompt-[0-9a-f]{12}$/);
    const head = readHead();
    // The head's feature space: the embedding plus the line's header features.
    expect(head.embedder.fingerprint).toBe(lineFeaturesFingerprint(expected));
    expect(head.labels).toEqual(['Resource Usage', 'Security Alert', 'System Notification']);
    expect(await onnxHeadStatus(config)).toMatchObject({ state: 'ready' });
    expect(await chooseEmbedder(config)).toEqual({ kind: 'onnx', reason: 'transformer model and head installed' });

    // set-up again: the head fits, nothing is retrained
    const trained = readFileSync(join(headDir, 'head-onnx.json'), 'utf8');
    expect(await setupCommand(['--data', corpus], config)).toBe(0);
    expect(readFileSync(join(headDir, 'head-onnx.json'), 'utf8')).toBe(trained);

    const server = await startServer({ overrides: configFor(), ownPipeline: true });
    try {
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { embedder: { kind: string; fingerprint: string } };
      expect(ready.embedder).toMatchObject({ kind: 'onnx', fingerprint: lineFeaturesFingerprint(expected) });
      const answer = await postCsv(server.url, 'source,log_message\napp,Disk usage on /srv reached 97% of capacity\napp,Firewall blocked 9 connection attempts\n');
      expect(answer.status).toBe(200);
      const rows = outputObjects(answer.text);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.label_stage).toBe('embedding');
        expect(head.labels).toContain(row.target_label);
      }
    } finally {
      await server.close();
    }
  }, 120_000);

  it('(d) a head trained with another prefix is refused with a clear message; set-up retrains it', async () => {
    // A head trained with the folder's "query: ", as in (c).
    expect(await setupCommand(['--data', corpus], configFor())).toBe(0);
    const trainedFor = readHead().embedder.fingerprint;
    const passage = configFor({ promptPrefix: 'passage: ' });
    const expected = lineFeaturesFingerprint(await embedderFingerprint('onnx', passage));
    expect(expected).not.toBe(trainedFor);

    const status = await onnxHeadStatus(passage);
    expect(status.state).toBe('stale');
    expect(status.message).toContain(`trained with embedder ${trainedFor}, but the configured one is ${expected}`);
    expect(status.message).toMatch(/another model, prompt or folder setting.*logsift setup/);
    // `auto` does not start on it…
    expect(await chooseEmbedder(passage)).toEqual({ kind: 'lexical', reason: status.message });
    // …and `onnx` refuses it at load
    await expect(buildPipeline(testConfig({ ...passage, embedder: { ...passage.embedder, kind: 'onnx', workerThread: false } }))).rejects.toThrow(
      new RegExp(`head was trained with embedder ${escapeRegExp(trainedFor)} .* but the configured embedder is ${escapeRegExp(expected)} .*retrain`),
    );

    expect(await setupCommand(['--data', corpus], passage)).toBe(0);
    expect(logged.join('\n')).toContain('the old head is kept as');
    expect(readHead().embedder.fingerprint).toBe(expected);
    const kept = headFileSchema.parse(JSON.parse(readFileSync(join(headDir, 'head-onnx.previous.json'), 'utf8')));
    expect(kept.embedder.fingerprint).toBe(trainedFor);
    expect((await onnxHeadStatus(passage)).state).toBe('ready');
    expect((await onnxHeadStatus(configFor())).state).toBe('stale');
  }, 120_000);

  it('a folder set-up cannot use is reported, and `auto` serves with the lexical embedder', async () => {
    const broken = exportFolder({ modules: [TRANSFORMER, POOLING, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' }] });
    const config = testConfig({ embedder: { kind: 'auto', modelDir: broken }, head: { dir: headDir } });
    const status = await onnxHeadStatus(config);
    expect(status.state).toBe('unusable-model');
    expect(status.message).toMatch(/cannot use the transformer in .*Dense/);
    expect(await setupCommand(['--data', corpus], config)).toBe(0);
    expect((await chooseEmbedder(config)).kind).toBe('lexical');
    expect(await setupCommand(['--data', corpus], testConfig({ ...config, embedder: { ...config.embedder, kind: 'onnx' } }))).toBe(1);
  }, 60_000);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
