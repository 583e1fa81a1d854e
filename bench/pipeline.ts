/**
 * Pipeline throughput (rows/s of Pipeline.classify, CSV parsing not included) for one embedder
 * on one data set: the optimised path (template cache + in-batch dedup + micro-batched embedder,
 * batches of pipeline.batchSize rows) cold and warm, and the naive baseline in the same run (one
 * line at a time through the stages, no cache, no batching).
 *
 *   npx tsx bench/pipeline.ts [--embedder lexical|onnx] [--data FILE.csv] [--rows N]
 *                             [--naive-rows N] [--head-dir DIR] [--model-dir DIR] [--json]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../src/config/index.js';
import { buildPipeline, createPreparer } from '../src/pipeline/build.js';
import { LineFeaturizer } from '../src/lines/features.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { LogRecord, Stage } from '../src/stages/types.js';
import { MicroBatchingEmbedder } from '../src/embedding/micro-batcher.js';
import { EmbeddingStage } from '../src/stages/embedding.js';
import type { OnnxRunStats } from '../src/embedding/onnx.js';
import { CODEBASICS, RANDOM_MINILM, fmt, readRecords } from './lib.js';

export interface PipelineBenchOptions {
  readonly embedder: 'lexical' | 'onnx';
  readonly records: readonly LogRecord[];
  /** Rows of the naive baseline (a prefix of records; it is slow with onnx). */
  readonly naiveRows?: number;
  readonly headDir?: string;
  readonly modelDir?: string;
  readonly threads?: number;
}

export interface PipelineBenchResult {
  embedder: string;
  rows: number;
  coldRowsPerS: number;
  warmRowsPerS: number;
  naiveRows: number;
  naiveRowsPerS: number;
  /** cold ÷ naive */
  ratio: number;
  /** Share of rows answered without a stage run in the cold pass (LRU + in-batch duplicates). */
  coldHitRate: number;
  uniqueTemplates: number;
  embedderRuns?: { runs: number; texts: number; unique: number };
  /** onnx: tokens of the texts the model ran in the cold pass, tokens sent with padding, model runs. */
  tokens?: { needed: number; sent: number; runs: number };
  loadMs: number;
}

export function benchConfig(o: Pick<PipelineBenchOptions, 'embedder' | 'headDir' | 'modelDir' | 'threads'>): Config {
  return loadConfig({}, {
    server: { logLevel: 'silent' },
    embedder: { kind: o.embedder, ...(o.modelDir ? { modelDir: o.modelDir } : o.embedder === 'onnx' ? { modelDir: RANDOM_MINILM } : {}), ...(o.threads !== undefined ? { threads: o.threads } : {}) },
    ...(o.headDir ? { head: { dir: o.headDir } } : {}),
  });
}

/** The onnx embedder's counts (through the micro-batcher, in-process or in its thread), if onnx runs. */
function onnxRunStats(pipeline: Pipeline): OnnxRunStats | undefined {
  const embedding = pipeline.stages.find((s): s is EmbeddingStage => s instanceof EmbeddingStage);
  let embedder: unknown = embedding?.features.embedder;
  if (embedder instanceof MicroBatchingEmbedder) embedder = embedder.inner;
  const stats = (embedder as { kind?: string; stats?: OnnxRunStats } | undefined)?.kind === 'onnx' ? (embedder as { stats?: OnnxRunStats }).stats : undefined;
  return stats && { ...stats };
}

async function timeRun(pipeline: Pipeline, records: readonly LogRecord[], batchSize: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < records.length; i += batchSize) await pipeline.classify(records.slice(i, i + batchSize));
  return records.length / ((performance.now() - started) / 1000);
}

export async function pipelineBench(o: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const config = benchConfig(o);
  const built = await buildPipeline(config);
  const { pipeline } = built;
  const batchSize = config.pipeline.batchSize;
  try {
    const coldRowsPerS = await timeRun(pipeline, o.records, batchSize);
    const onnxStats = onnxRunStats(pipeline);
    const tokens = onnxStats && { needed: onnxStats.tokens, sent: onnxStats.paddedTokens, runs: onnxStats.runs };
    const coldHitRate = pipeline.cacheHitRate.overall;
    const uniqueTemplates = pipeline.stats.decided;
    const warmRowsPerS = await timeRun(pipeline, o.records, batchSize);

    // Naive: the same stages, one line per call, no cache; the embedder without its batcher.
    const preparer = await createPreparer(config);
    const rowStages = pipeline.stages.filter((s) => s.name === 'regex') as Stage<LogRecord>[];
    const stages = (pipeline.stages.filter((s) => s.name !== 'regex') as Stage[]).map((s) => {
      if (s instanceof EmbeddingStage && s.features.embedder instanceof MicroBatchingEmbedder) {
        return new EmbeddingStage(new LineFeaturizer(s.features.embedder.inner, preparer), s.head, config.pipeline.confidenceThreshold);
      }
      return s;
    });
    const naive = new Pipeline({ rowStages, stages, preparer, llmSources: config.pipeline.llmSources, unclassifiedLabel: config.pipeline.unclassifiedLabel, cacheSize: 0 });
    const naiveRecords = o.records.slice(0, o.naiveRows ?? o.records.length);
    const naiveRowsPerS = await timeRun(naive, naiveRecords, 1);

    const embedding = pipeline.stages.find((s): s is EmbeddingStage => s instanceof EmbeddingStage);
    const runs = embedding?.features.embedder instanceof MicroBatchingEmbedder ? { ...embedding.features.embedder.stats } : undefined;
    return {
      embedder: built.info.embedder.fingerprint,
      rows: o.records.length,
      coldRowsPerS,
      warmRowsPerS,
      naiveRows: naiveRecords.length,
      naiveRowsPerS,
      ratio: coldRowsPerS / naiveRowsPerS,
      coldHitRate,
      uniqueTemplates,
      embedderRuns: runs,
      tokens,
      loadMs: built.info.loadMs,
    };
  } finally {
    await pipeline.close();
  }
}

export function formatPipelineRow(name: string, r: PipelineBenchResult): string {
  return `| ${name} | ${r.embedder.split(':')[0]} | ${fmt(r.rows)} | ${fmt(r.uniqueTemplates)} | ${(r.coldHitRate * 100).toFixed(1)}% | ${fmt(r.coldRowsPerS)} | ${fmt(r.warmRowsPerS)} | ${fmt(r.naiveRowsPerS)} (${fmt(r.naiveRows)} rows) | ${r.ratio.toFixed(1)}× |`;
}
export const PIPELINE_TABLE_HEADER = `| data | embedder | rows | templates decided (cold) | cold hit rate | cold rows/s | warm rows/s | naive rows/s | cold ÷ naive |
|---|---|---|---|---|---|---|---|---|`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      embedder: { type: 'string', default: 'lexical' },
      data: { type: 'string', default: CODEBASICS },
      rows: { type: 'string' },
      'naive-rows': { type: 'string' },
      'head-dir': { type: 'string' },
      'model-dir': { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const records = readRecords(values.data!, values.rows ? Number(values.rows) : Infinity);
  const result = await pipelineBench({
    embedder: values.embedder as 'lexical' | 'onnx',
    records,
    naiveRows: values['naive-rows'] ? Number(values['naive-rows']) : undefined,
    headDir: values['head-dir'],
    modelDir: values['model-dir'],
    threads: values.threads !== undefined ? Number(values.threads) : undefined,
  });
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
    console.log(PIPELINE_TABLE_HEADER);
    console.log(formatPipelineRow(values.data!.split('/').pop()!, result));
    if (result.embedderRuns) console.log(`embedder runs: ${JSON.stringify(result.embedderRuns)}`);
    if (result.tokens) console.log(`model tokens (cold pass): ${JSON.stringify(result.tokens)}`);
  }
}
