import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that time the server or the page while it works (/healthz within 100 ms during an attack,
 * a key press painted within 250 ms during a 100,000-row upload): each runs in a fresh process,
 * as every file did before, so that no earlier file's heap or leftovers weigh on the timings.
 */
const TIMED = ['test/http/console-browser.test.ts', 'test/http/hostile-uploads.test.ts'];

export default defineConfig({
  test: {
    // Two worker processes, not vitest's default of cores - 1 (one, here): the suite is CPU-bound
    // in one process (user + sys time equal its wall time), so a second core takes it from 91 s
    // to 56-59 s. Each worker still shares its module graph across its files (below).
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          sequence: { groupOrder: 0 },
          exclude: [...configDefaults.exclude, ...TIMED],
          // The other files share their worker process without a fresh module graph per file: fastify, prom-client,
          // re2, onnxruntime and the pipeline modules load once instead of once per file (about
          // 13 s of the suite's wall time). So a test file must leave nothing behind (close its
          // servers, restore real timers and mocks) and count on nothing another file did;
          // `npx vitest run --sequence.shuffle` checks the order does not matter.
          isolate: false,
        },
      },
      // After the shared files (groupOrder), one at a time: nothing else runs while they time.
      { extends: true, test: { name: 'timed', include: TIMED, isolate: true, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
