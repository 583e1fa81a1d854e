/**
 * The names a row's `label_stage` column can take: a stage's, `fallback`, `error`, or
 * `override` (a label a user set on the row's template, src/templates/).
 */
export type StageName = 'override' | 'regex' | 'embedding' | 'llm' | 'fallback' | 'error';

import type { LogRecord, PreparedRecord } from '../lines/types.js';

export type { LogRecord, PreparedLine, PreparedRecord, RowRecord } from '../lines/types.js';

/** What a stage says about one record. */
export interface Verdict {
  readonly label: string;
  /** Probability-like score in [0, 1]; 1 for a rule hit. */
  readonly confidence: number;
  /**
   * A best guess the stage is not sure enough of (for example below the confidence
   * threshold): later stages may override it, and it is used only when none of them decides.
   */
  readonly tentative?: boolean;
  /** The id of the rule that decided (the regex stage). */
  readonly rule?: string;
}

/**
 * A pipeline stage. Stages are batched: one call decides (or passes on) many records.
 * A `Stage<LogRecord>` sees each row's own message and runs on every row, before the cache
 * (the regex rules); a `Stage<PreparedRecord>` sees only the prepared line, so its decisions
 * are cached and shared by every row with the same prepared line.
 */
export interface Stage<R extends LogRecord = PreparedRecord> {
  readonly name: Exclude<StageName, 'fallback' | 'error' | 'override'>;
  /**
   * Returns one entry per record, in order: a Verdict, or undefined to pass the record on.
   * Throwing fails the whole batch for this stage only; the pipeline counts it and moves on.
   */
  classify(records: readonly R[]): Promise<(Verdict | undefined)[]>;
  close?(): Promise<void>;
}

/** The pipeline's final answer for one record. */
export interface Decision {
  readonly label: string;
  readonly stage: StageName;
  readonly confidence: number;
  /** The id of the regex rule that decided; unset for every other stage. */
  readonly rule?: string;
}
