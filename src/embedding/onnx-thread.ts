import { Worker } from 'node:worker_threads';
import { OnnxEmbedderError, type OnnxEmbedderOptions, type OnnxRunStats } from './onnx.js';
import type { Embedder, Vector } from './types.js';

/**
 * The `onnx` embedder run in a worker thread (see onnx-worker.ts): the same vectors, the event
 * loop stays free while the model runs. Calls are answered in order; the worker runs one at a time.
 */
export class OnnxThreadEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  /** The worker's counts, as of its latest answer. */
  readonly stats: OnnxRunStats = { runs: 0, texts: 0, tokens: 0, paddedTokens: 0 };
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Vector[]) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(
    private readonly worker: Worker,
    readonly fingerprint: string,
    readonly dimension: number,
  ) {
    worker.on('message', (msg: { id: number; vectors?: Float32Array[]; error?: string; stats?: OnnxRunStats }) => {
      if (msg.stats) Object.assign(this.stats, msg.stats);
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new OnnxEmbedderError(msg.error));
      else p.resolve(msg.vectors!);
    });
    const failAll = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err: Error) => failAll(new OnnxEmbedderError(`embedder thread failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new OnnxEmbedderError(`embedder thread exited (${code})`)));
  }

  embed(texts: readonly string[]): Promise<Vector[]> {
    if (this.closed) return Promise.reject(new OnnxEmbedderError('embedder is closed'));
    if (texts.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts: [...texts] });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.worker.postMessage({ id: -1, close: true });
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await new Promise((r) => this.worker.once('exit', r));
    clearTimeout(timer);
  }
}

/** Starts the worker, which loads tokenizer and model; resolves once it has answered a probe. */
export async function createOnnxThreadEmbedder(options: OnnxEmbedderOptions): Promise<OnnxThreadEmbedder> {
  // Under tsx (tests, benchmarks) this module is a .ts file and so is its worker, which then
  // needs tsx's loader registered in its own thread first.
  const worker = import.meta.url.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./onnx-worker.ts', import.meta.url).href)}); })`,
        { eval: true, workerData: options },
      )
    : new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData: options });
  type Hello = { ready: boolean; fingerprint?: string; dimension?: number; error?: string };
  const first: Hello = await new Promise<Hello>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).catch((err: Error): Hello => ({ ready: false, error: err.message }));
  if (!first.ready) {
    await worker.terminate();
    throw new OnnxEmbedderError(first.error ?? 'embedder thread failed to start');
  }
  return new OnnxThreadEmbedder(worker, first.fingerprint!, first.dimension!);
}
