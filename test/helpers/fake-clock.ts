/**
 * vitest's fake clock for the waits of a client or server that also does real I/O (sockets,
 * worker threads): only setTimeout, clearTimeout and Date are faked, so sockets, setImmediate,
 * setInterval and performance.now() keep running in real time while the test moves the clock.
 */
import { vi } from 'vitest';

export const FAKE_CLOCK = { toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldClearNativeTimers: true } satisfies Parameters<typeof vi.useFakeTimers>[0];

/** Waits in real time (setImmediate turns, which the fake clock leaves alone) until `ready()` holds. */
export async function until(ready: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
