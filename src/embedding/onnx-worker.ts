/**
 * Worker-thread entry of the `onnx` embedder: onnxruntime-node runs a model synchronously on
 * the calling thread (its `run` is a setImmediate around a blocking call), so on the main thread
 * one batch would stall the event loop — health checks, other requests — for up to seconds.
 * Here tokenising and inference run off the main thread; vectors come back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOnnxEmbedder, type OnnxEmbedderOptions } from './onnx.js';

interface EmbedRequest {
  readonly id: number;
  readonly texts?: string[];
  readonly close?: boolean;
}

const port = parentPort!;
try {
  const embedder = await createOnnxEmbedder(workerData as OnnxEmbedderOptions);
  port.postMessage({ ready: true, fingerprint: embedder.fingerprint, dimension: embedder.dimension });
  port.on('message', (msg: EmbedRequest) => {
    if (msg.close) {
      void embedder.close().finally(() => port.close());
      return;
    }
    embedder.embed(msg.texts ?? []).then(
      (vectors) => {
        const dense = vectors as Float32Array[];
        port.postMessage({ id: msg.id, vectors: dense, stats: embedder.stats }, dense.map((v) => v.buffer as ArrayBuffer));
      },
      (err: Error) => port.postMessage({ id: msg.id, error: err.message }),
    );
  });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
}
