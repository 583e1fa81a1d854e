/**
 * Keeps CPU-heavy stream stages from holding the event loop. A busy socket hands over up to
 * 32 × 64 KiB per event-loop turn, and a stage that does not push anything downstream (a dropped
 * record) or whose downstream never pushes back (csv-parse on one huge record) would otherwise
 * work through all of it before /healthz or any other request is looked at. Once the stages have
 * worked TURN_BUDGET_MS in one turn, the next chunk waits for the following turn; the upload is
 * paused by backpressure meanwhile.
 */
import { Transform, type TransformCallback } from 'node:stream';

const TURN_BUDGET_MS = 5;
let turnStart = 0;
let inTurn = false;

/** Calls `callback` now, or in the next turn when this one has been busy long enough. */
export function cooperate(callback: TransformCallback): void {
  const now = performance.now();
  if (!inTurn) {
    inTurn = true;
    turnStart = now;
    setImmediate(() => (inTurn = false));
  }
  if (now - turnStart < TURN_BUDGET_MS) callback();
  else setImmediate(callback);
}

/** A pass-through stage that lets the stage after it (csv-parse) take at most one chunk per busy turn. */
export function pacer(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      this.push(chunk);
      cooperate(callback);
    },
  });
}
