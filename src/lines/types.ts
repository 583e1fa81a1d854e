import type { Severity } from './header.js';

/** One log line as it arrives. */
export interface LogRecord {
  readonly source: string;
  readonly message: string;
}

/**
 * What the row stages (the rules) see: the row's own message, and an object shared by the rows
 * whose messages have the same shape (the same text but for which digits are where), when the
 * preparer knows it (LinePreparer's shape cache). A row stage may remember there what it found
 * with digit-blind patterns, which cannot differ between those rows.
 */
export interface RowRecord extends LogRecord {
  readonly shape?: object;
}

/**
 * What the model stages see of a line: its header's level and component and its message with
 * the variable parts masked. Two lines with the same PreparedLine get the same decision, which
 * is why decisions can be cached by it (the timestamp, host, ids and numbers are not in it).
 */
export interface PreparedLine {
  readonly level?: Severity;
  readonly component?: string;
  /** The masked message (header removed). */
  readonly text: string;
}

/**
 * A record for the stages behind the cache: `message` is the prepared line as text
 * (`[level] component: text`), the whole of what they may base a verdict on.
 */
export interface PreparedRecord extends LogRecord {
  readonly line: PreparedLine;
}
