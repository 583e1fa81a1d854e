import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { RANDOM_MINILM_DIR } from '../helpers/shared.js';
import { createOnnxEmbedder, meanPoolNormalize, OnnxEmbedder, planBatches } from '../../src/embedding/onnx.js';

const MODEL_DIR = RANDOM_MINILM_DIR;
const MODEL_FILE = 'onnx/model_quantized.onnx';
const HAVE_MODEL = existsSync(resolve(MODEL_DIR, MODEL_FILE));

interface Reference {
  sentences: string[];
  input_ids: number[][];
  embeddings: { int8: number[][]; fp32: number[][] };
}

const LOG_LINES = [
  'User User123 logged in.',
  'ERROR: connection refused while connecting to db-01:5432',
  'Disk usage on /var exceeded 90% threshold',
  '',
  'nova.compute.manager [req-1] Instance 7f3b spawned successfully in 12.3 seconds',
  'Backup completed in 42 minutes.',
  'Account 8538 locked after repeated wrong passwords',
  'GET /api/v2/orders?id=42 HTTP/1.1 500 Internal Server Error',
];

const base = { modelDir: MODEL_DIR, modelFile: MODEL_FILE, threads: 0, maxSeqLength: 256, batchSize: 32 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('planBatches (issue 12: padding)', () => {
  const padded = (lengths: number[], sizes: number[]) => {
    let at = 0;
    return sizes.reduce((sum, size) => ((sum += size * lengths[at]), (at += size), sum), 0);
  };

  it('covers every text once, in order, within the text and token caps', () => {
    const lengths = Array.from({ length: 500 }, (_, i) => 300 - Math.floor(i / 2)).map((l) => Math.max(3, l));
    const sizes = planBatches(lengths, 32, 4096);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(500);
    let at = 0;
    for (const size of sizes) {
      expect(size).toBeLessThanOrEqual(32);
      if (size > 1) expect(size * lengths[at]).toBeLessThanOrEqual(4096);
      at += size;
    }
  });

  it('runs a long outlier apart instead of padding a whole batch to it', () => {
    // Fixed runs of 32 padded these to 32 × 198 tokens for 31 lines of 20.
    const lengths = [198, ...Array(31).fill(20)];
    const sizes = planBatches(lengths, 32, 8192);
    expect(sizes).toEqual([1, 31]);
    expect(padded(lengths, sizes)).toBe(198 + 31 * 20);
  });

  it('batches texts of one length fully, and never pads more than fixed runs of the same size', () => {
    expect(planBatches(Array(64).fill(16), 32, 4096)).toEqual([32, 32]);
    const lengths = Array.from({ length: 300 }, (_, i) => 5 + ((i * 7919) % 120)).sort((a, b) => b - a);
    const fixed = Array.from({ length: Math.ceil(300 / 32) }, (_, k) => Math.min(32, 300 - 32 * k));
    expect(padded(lengths, planBatches(lengths, 32, 1 << 20))).toBeLessThanOrEqual(padded(lengths, fixed));
  });

  it('plans nothing for no texts', () => {
    expect(planBatches([], 32, 4096)).toEqual([]);
  });
});

describe('meanPoolNormalize', () => {
  it('averages only the unmasked positions and normalises', () => {
    // batch 2, seq 3, dim 2; second row has one real token
    const data = new Float32Array([1, 0, 3, 4, 99, 99, 0, 2, 99, 99, 99, 99]);
    const [a, b] = meanPoolNormalize(data, [2, 3, 2], [2, 1]);
    expect(Array.from(a)).toEqual([Math.fround(2 / Math.hypot(2, 2)), Math.fround(2 / Math.hypot(2, 2))]);
    expect(Array.from(b)).toEqual([0, 1]);
  });
});

const SUITE = HAVE_MODEL
  ? `OnnxEmbedder on ${MODEL_DIR}`
  : `OnnxEmbedder — SKIPPED: ${resolve(MODEL_DIR, MODEL_FILE)} not found (random-weight MiniLM for parity tests)`;

describe.skipIf(!HAVE_MODEL)(SUITE, () => {
  let embedder: OnnxEmbedder;
  let ref: Reference;

  beforeAll(async () => {
    ref = JSON.parse(readFileSync(resolve(MODEL_DIR, 'reference_embeddings.json'), 'utf8')) as Reference;
    embedder = await createOnnxEmbedder(base);
  }, 60_000);

  afterAll(async () => {
    await embedder?.close();
  });

  it('reports kind, dimension and fingerprint', () => {
    expect(embedder.kind).toBe('onnx');
    expect(embedder.dimension).toBe(384);
    expect(embedder.fingerprint).toMatch(/^onnx:[0-9a-f]{16}:256$/);
    // SHA-256 of the random model, from its SOURCE.txt
    expect(embedder.fingerprint).toBe('onnx:21ab00477bddaea7:256');
  });

  it('tokenises exactly like the Python tokenizer', () => {
    expect(embedder.tokenize(ref.sentences)).toEqual(ref.input_ids);
  });

  it('matches the Python int8 reference embeddings within 2e-3', async () => {
    const vectors = (await embedder.embed(ref.sentences)) as Float32Array[];
    expect(vectors).toHaveLength(ref.sentences.length);
    ref.sentences.forEach((_, i) => {
      expect(vectors[i]).toBeInstanceOf(Float32Array);
      expect(maxAbsDiff(vectors[i], ref.embeddings.int8[i])).toBeLessThan(2e-3);
    });
  });

  // The model is dynamically quantised: activations are quantised with one scale per tensor, so a
  // text's vector moves slightly (about 1e-3) with its batch mates and the batch's padding.
  // Same batch → same numbers; different batching → within the reference tolerance.
  const BATCHING_TOLERANCE = 2e-3;

  it('preserves order: vector i belongs to text i, whatever the input order', async () => {
    const texts = [...new Set([...LOG_LINES, ...ref.sentences])];
    const together = (await embedder.embed(texts)) as Float32Array[];
    const reversed = ((await embedder.embed([...texts].reverse())) as Float32Array[]).reverse();
    const alone: Float32Array[] = [];
    for (const t of texts) alone.push(((await embedder.embed([t])) as Float32Array[])[0]);
    for (let i = 0; i < texts.length; i++) {
      // same batch content, other order: same numbers
      expect(maxAbsDiff(together[i], reversed[i])).toBeLessThan(1e-6);
      expect(maxAbsDiff(together[i], alone[i])).toBeLessThan(BATCHING_TOLERANCE);
      // and its nearest neighbour among the texts embedded alone is the text itself
      const dots = alone.map((a) => a.reduce((s, x, d) => s + x * together[i][d], 0));
      expect(dots.indexOf(Math.max(...dots))).toBe(i);
    }
  });

  it('is deterministic for the same call', async () => {
    const a = (await embedder.embed(LOG_LINES)) as Float32Array[];
    const b = (await embedder.embed(LOG_LINES)) as Float32Array[];
    a.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(b[i])));
  });

  it('gives the same vectors with batchSize 1 and 32 (within the quantisation tolerance)', async () => {
    const one = await createOnnxEmbedder({ ...base, batchSize: 1 });
    try {
      const texts = [...LOG_LINES, ...LOG_LINES.map((l) => `${l} again`), ...ref.sentences];
      const a = (await one.embed(texts)) as Float32Array[];
      const b = (await embedder.embed(texts)) as Float32Array[];
      texts.forEach((_, i) => expect(maxAbsDiff(a[i], b[i])).toBeLessThan(BATCHING_TOLERANCE));
      // batchSize 1 is exactly "each text alone"
      for (let i = 0; i < texts.length; i += 5) {
        const [alone] = (await embedder.embed([texts[i]])) as Float32Array[];
        expect(Array.from(a[i])).toEqual(Array.from(alone));
      }
    } finally {
      await one.close();
    }
  }, 60_000);

  it('returns unit-norm vectors, also for the empty string', async () => {
    const vectors = (await embedder.embed(LOG_LINES)) as Float32Array[];
    for (const v of vectors) {
      const norm = Math.hypot(...v);
      expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
      expect(v.every(Number.isFinite)).toBe(true);
    }
  });

  it('returns [] for no texts', async () => {
    expect(await embedder.embed([])).toEqual([]);
  });

  it('truncates to maxSeqLength keeping [CLS] and [SEP], and the fingerprint follows maxSeqLength', async () => {
    const short = await createOnnxEmbedder({ ...base, maxSeqLength: 16, threads: 1 });
    try {
      const long = ref.sentences[3];
      const full = embedder.tokenize([long])[0];
      const ids = short.tokenize([long])[0];
      expect(full.length).toBeGreaterThan(16);
      expect(ids).toEqual([...full.slice(0, 15), 102]);
      expect(short.fingerprint).toBe('onnx:21ab00477bddaea7:16');
      const [v] = (await short.embed([long])) as Float32Array[];
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-5);
      // pathological input: a huge line is clipped before tokenising and still embeds
      const [w] = (await short.embed(['x '.repeat(500_000)])) as Float32Array[];
      expect(w).toHaveLength(384);
    } finally {
      await short.close();
    }
  }, 60_000);

  it('has a stable fingerprint across loads', async () => {
    const again = await createOnnxEmbedder({ ...base, threads: 2, batchSize: 8 });
    try {
      expect(again.fingerprint).toBe(embedder.fingerprint);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('refuses to embed after close', async () => {
    const e = await createOnnxEmbedder(base);
    await e.close();
    await expect(e.embed(['x'])).rejects.toThrow(/closed/);
  }, 60_000);
});

describe('createOnnxEmbedder errors', () => {
  it('names a missing model folder', async () => {
    const dir = resolve(PROJECT_ROOT, '.tmp/no-such-model-dir');
    await expect(createOnnxEmbedder({ ...base, modelDir: dir })).rejects.toThrow(dir);
  });

  it.skipIf(!HAVE_MODEL)('names a missing model file', async () => {
    const missing = resolve(MODEL_DIR, 'onnx/nope.onnx');
    await expect(createOnnxEmbedder({ ...base, modelFile: 'onnx/nope.onnx' })).rejects.toThrow(missing);
  });

  it.skipIf(!HAVE_MODEL)('names a missing tokenizer file', async () => {
    // the onnx/ sub-folder holds a model but no tokenizer
    const dir = resolve(MODEL_DIR, 'onnx');
    await expect(createOnnxEmbedder({ ...base, modelDir: dir, modelFile: 'model_quantized.onnx' })).rejects.toThrow(
      resolve(dir, 'tokenizer.json'),
    );
  });
});
