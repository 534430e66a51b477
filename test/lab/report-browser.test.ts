/**
 * The HTML report in a real browser: Debian's Chromium, headless, through playwright-core (which
 * downloads no browser of its own; scripts/test.sh has ensure-env.sh install `chromium` when missing). Every
 * chart renders with pixels on its canvas, the page logs no error and fetches nothing, and a
 * screenshot is saved (its path printed) for a human look.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartLibrary, renderReport } from '../../src/lab/html-report.js';
import { sampleResult } from './sample-result.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the lab report in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart with no console error and no network request, and saves a screenshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-cache-lab-report-'));
    const result = sampleResult();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(result, await chartLibrary()));
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => void problems.push(e.message));
    page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
    await page.goto(pathToFileURL(file).toString());
    // Page code as text: this project compiles without the DOM's types.
    await page.waitForFunction('typeof window.labChartsDrawn === "number"', undefined, { timeout: 15_000 });
    const drawn = await page.evaluate<number>('window.labChartsDrawn');
    expect(drawn).toBe(6 + result.strategies.length);
    // Every canvas holds a drawing: count the non-transparent pixels of each.
    const inked = await page.evaluate<number[]>(`[...document.querySelectorAll('canvas')].map((c) => {
      const ctx = c.getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) return 0;
      const pixels = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
      return n;
    })`);
    expect(inked).toHaveLength(drawn);
    for (const n of inked) expect(n).toBeGreaterThan(1000);
    expect(await page.textContent('body')).toContain('In this run: 3 keys were left stale for good');
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`lab report screenshot: ${shot}`);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  });
});
