/**
 * The micro-batcher (embedding/micro-batcher.ts) on fake timers: its gathering window and the
 * inner embedder's run time are advanced by the test, not waited for.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MicroBatchingEmbedder } from '../../src/embedding/micro-batcher.js';
import type { Embedder, Vector } from '../../src/embedding/types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settles `promise` while the fake clock runs. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  const r = (await settled) as { value?: T; error?: unknown };
  if ('error' in r) throw r.error;
  return r.value as T;
}

class CountingEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  readonly dimension = 1;
  readonly fingerprint = 'count';
  calls: string[][] = [];
  async embed(texts: readonly string[]): Promise<Vector[]> {
    this.calls.push([...texts]);
    await new Promise((r) => setTimeout(r, 5));
    return texts.map((t) => Float32Array.of(t.length));
  }
}

describe('MicroBatchingEmbedder', () => {
  it('runs concurrent calls together, once per distinct text, each caller getting its own order', async () => {
    const inner = new CountingEmbedder();
    const e = new MicroBatchingEmbedder(inner, { windowMs: 5, maxBatch: 100 });
    const [a, b] = await settle(Promise.all([e.embed(['aa', 'b']), e.embed(['ccc', 'aa'])]));
    expect(inner.calls).toEqual([['aa', 'b', 'ccc']]);
    expect(a.map((v) => (v as Float32Array)[0])).toEqual([2, 1]);
    expect(b.map((v) => (v as Float32Array)[0])).toEqual([3, 2]);
  });

  it('never runs the inner embedder twice at once; what waits during a run goes next', async () => {
    const inner = new CountingEmbedder();
    const e = new MicroBatchingEmbedder(inner, { windowMs: 0, maxBatch: 2 });
    const results = await settle(Promise.all([e.embed(['a', 'b']), e.embed(['c']), e.embed(['d']), e.embed(['e', 'f', 'g'])]));
    expect(inner.calls).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f', 'g']]);
    expect(results.flat().length).toBe(7);
  });

  it('passes an inner failure to every caller of that run', async () => {
    const e = new MicroBatchingEmbedder(
      { kind: 'onnx', dimension: 1, fingerprint: 'x', embed: async () => Promise.reject(new Error('boom')) },
      { windowMs: 1, maxBatch: 10 },
    );
    await expect(settle(Promise.all([e.embed(['a']), e.embed(['b'])]))).rejects.toThrow('boom');
  });
});
