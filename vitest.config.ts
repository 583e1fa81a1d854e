import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that time the server or the page while it works (/healthz within 100 ms during an attack,
 * a key press painted within 250 ms during a 100,000-row upload): each runs in a fresh process,
 * as every file did before, so that no earlier file's heap or leftovers weigh on the timings.
 */
const TIMED = ['test/http/console-browser.test.ts', 'test/http/hostile-uploads.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          exclude: [...configDefaults.exclude, ...TIMED],
          // The other files share one worker process (vitest's default on this 2-core machine is
          // one worker: cores - 1) without a fresh module graph per file: fastify, prom-client,
          // re2, onnxruntime and the pipeline modules load once instead of once per file (about
          // 13 s of the suite's wall time). So a test file must leave nothing behind (close its
          // servers, restore real timers and mocks) and count on nothing another file did;
          // `npx vitest run --sequence.shuffle` checks the order does not matter.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'timed', include: TIMED, isolate: true } },
    ],
  },
});
