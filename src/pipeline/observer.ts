/**
 * The one observer the service's metrics implement (http/plugins/metrics.ts). The pipeline, its
 * batch driver, the LLM stage and the LLM client are each given it and report what happens as
 * it happens; none of them keeps counters for metrics to read, and nothing exports its internals.
 * Every method is optional and must not throw.
 */
import type { LlmObserver } from '../llm/client.js';
import type { LlmStageObserver } from '../stages/llm.js';
import type { Decision, StageName } from '../stages/types.js';

export interface PipelineObserver extends LlmObserver, LlmStageObserver {
  /** One stage.classify call: how many records it was given, how long it took, whether it threw. */
  stageCall?(stage: StageName, records: number, seconds: number, failed: boolean): void;
  /** Rows of one batch answered from the decision cache (hits) and not (misses). */
  cache?(hits: number, misses: number): void;
  /**
   * Output rows (run.ts), `error` rows included: `rows` rows had this decision. Told once per
   * distinct decision of an output batch (rows of a cached template share one decision object),
   * not once a row: a labelled counter costs a label lookup per call.
   */
  decision?(decision: Decision, rows: number): void;
  /** A request's input was cut at its row limit (run.ts). */
  rowLimitReached?(): void;
}
