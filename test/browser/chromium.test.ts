import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { loadConfig } from '../../config.ts';
import { launchChromium, resolveChromiumPath } from '../../views/chromium.ts';

// First run on a machine without /usr/bin/chromium decompresses @sparticuz/chromium (~2–3 s).
const configured = loadConfig().chromiumPath;
let browser: Browser | undefined;

test.after(async () => {
  await browser?.close();
});

test('resolveChromiumPath: finds an existing executable', async () => {
  const path = await resolveChromiumPath(configured);
  assert.ok(existsSync(path), path);
});

test('resolveChromiumPath: a CHROMIUM_PATH that does not exist is refused with a clear message', async () => {
  const err = await resolveChromiumPath('/nonexistent/chromium').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, Error);
  assert.match((err as Error).message, 'CHROMIUM_PATH="/nonexistent/chromium"');
});

test('launchChromium: renders a data: URL with Chinese text and prints a PDF', async () => {
  browser = await launchChromium(configured);
  const page = await browser.newPage();
  const html =
    '<!doctype html><meta charset="utf-8"><title>就业协议书</title>' +
    '<h1 id="t">全国高校毕业生网上签约</h1><p>甲方：<span id="a">某某大学</span></p>' +
    '<script>document.getElementById("a").dataset.ready = "是"</script>';
  await page.goto(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
  assert.is(await page.title(), '就业协议书');
  assert.is(await page.$eval('#t', (el) => el.textContent), '全国高校毕业生网上签约');
  assert.is(await page.$eval('#a', (el) => (el as HTMLElement).dataset.ready), '是'); // JavaScript ran
  assert.ok((await page.evaluate(() => document.body.innerText)).includes('甲方：某某大学'));
  const pdf = await page.pdf({ format: 'A4' });
  assert.is(new TextDecoder().decode(pdf.subarray(0, 5)), '%PDF-');
  await page.close();
});

test('launchChromium: the temporary profile directory is gone once the browser is closed', async () => {
  const b = browser ?? (await launchChromium(configured));
  browser = undefined;
  const flag = '--user-data-dir=';
  const dir = b.process()?.spawnargs.find((a) => a.startsWith(flag))?.slice(flag.length);
  assert.ok(dir !== undefined && existsSync(dir), `profile dir ${dir}`);
  await b.close();
  assert.not.ok(existsSync(dir));
});

test.run();
