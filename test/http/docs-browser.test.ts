import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config/index.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import { buildServer } from '../../src/http/app.js';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run); elsewhere the page test runs where it is installed.
const skip = !existsSync(CHROMIUM) && !process.env.CI;

describe.skipIf(skip)('Swagger UI in a real browser', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const config = loadConfig({}, { server: { logLevel: 'silent' } });
    app = await buildServer({ config, pipeline: await buildPipeline(config) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders the /classify operation with both request body types', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/docs`);
    // By id: POST /jobs's summary mentions /classify too.
    const operation = page.locator('#operations-classify-post_classify');
    await operation.waitFor({ timeout: 20_000 });
    expect(await page.locator('.info .title').innerText()).toContain('logsift');
    await operation.locator('.opblock-summary').click();
    const types = page.locator('.opblock-body select.content-type, .opblock-body .content-type select').first();
    await types.waitFor({ timeout: 10_000 });
    const options = await types.locator('option').allInnerTexts();
    expect(options).toEqual(expect.arrayContaining(['multipart/form-data', 'text/csv']));
    expect(errors).toEqual([]);
  }, 60_000);
});
