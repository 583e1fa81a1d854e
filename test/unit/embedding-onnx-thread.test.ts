/** The onnx embedder in a worker thread: the same vectors as on the main thread, and the event loop stays free. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANDOM_MINILM_DIR } from '../helpers/shared.js';
import { createOnnxEmbedder, type OnnxEmbedder } from '../../src/embedding/onnx.js';
import { createOnnxThreadEmbedder, type OnnxThreadEmbedder } from '../../src/embedding/onnx-thread.js';

const MODEL_DIR = RANDOM_MINILM_DIR;
const HAVE_MODEL = existsSync(resolve(MODEL_DIR, 'onnx/model_quantized.onnx'));
const base = { modelDir: MODEL_DIR, modelFile: 'onnx/model_quantized.onnx', threads: 0, maxSeqLength: 128, batchSize: 16 };

describe.skipIf(!HAVE_MODEL)('onnx embedder in a worker thread', () => {
  let thread: OnnxThreadEmbedder;
  let main: OnnxEmbedder;
  beforeAll(async () => {
    [thread, main] = await Promise.all([createOnnxThreadEmbedder(base), createOnnxEmbedder(base)]);
  }, 60_000);
  afterAll(async () => {
    await thread?.close();
    await main?.close();
  });

  it('gives the main-thread vectors, fingerprint and dimension', async () => {
    const texts = ['User 12 logged in', 'Disk usage on /var/lib exceeded 91%', '', 'nova.compute.manager [req-1] VM Started'];
    expect(thread.fingerprint).toBe(main.fingerprint);
    expect(thread.dimension).toBe(main.dimension);
    const [a, b] = await Promise.all([thread.embed(texts), main.embed(texts)]);
    a.forEach((v, i) => expect([...(v as Float32Array)]).toEqual([...(b[i] as Float32Array)]));
  }, 60_000);

  it('keeps the event loop free while the model runs', async () => {
    const texts = Array.from({ length: 48 }, (_, i) => `GET /v2/7e3c9a0b5d2f4e6a8c1b3d5f7a9e0c2b/servers/detail HTTP/1.1 status: 200 len: ${i} time: 0.3141592`);
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    const started = performance.now();
    await thread.embed(texts);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // On the main thread the loop would be blocked for the whole run; on a busy machine (tests in
    // parallel, two cores) timers are still late by some scheduling slack, hence the bound.
    expect(maxLag).toBeLessThan(Math.max(250, elapsed / 4));
  }, 60_000);

  it('refuses work after close', async () => {
    const t = await createOnnxThreadEmbedder(base);
    await t.close();
    await expect(t.embed(['x'])).rejects.toThrow(/closed/);
  }, 60_000);

  it('a new worker starts after an earlier one was closed (hot reload of an onnx pipeline)', async () => {
    // Regression: with @xenova/transformers' own onnxruntime-node 1.14 (not context-aware) in the
    // tree, the second worker failed with "Module did not self-register".
    const first = await createOnnxThreadEmbedder(base);
    await first.embed(['x']);
    await first.close();
    const second = await createOnnxThreadEmbedder(base);
    expect((await second.embed(['disk full on db-1']))[0]).toHaveLength(384);
    await second.close();
  }, 60_000);
});
