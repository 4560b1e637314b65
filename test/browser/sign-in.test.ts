import type { Browser } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { launchChromium } from '../../views/chromium.ts';
import { DEMO_ACCOUNTS, firstStudentLogin } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { serveApp } from '../helpers/server.ts';

// A real Chromium against the real HTTP server: the graduate's first visit, as a person makes it.
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
});

test('browser: landing page → 学生登录 → 学生信息 → 信息确认无误，进入系统 → graduate home → 退出, with htmx loaded under the CSP', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  await page.goto(`${base}/`);
  assert.is(await page.$eval('h1', (h) => h.textContent), '全国高校毕业生网上签约与毕业去向登记平台');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/student/login"]')]);
  assert.is(await page.$eval('h1', (h) => h.textContent?.trim()), '学生登录');

  await page.type('#login', await firstStudentLogin(database.db));
  await page.type('#password', DEMO_ACCOUNTS.student.password);
  await Promise.all([page.waitForNavigation(), page.click('#login-form button[type=submit]')]);
  assert.is(new URL(page.url()).pathname, '/student/check', 'G1: the first sign-in shows the roster record');
  assert.is(await page.$eval('#confirm-form button', (b) => b.textContent), '信息确认无误，进入系统');
  await Promise.all([page.waitForNavigation(), page.click('#confirm-form button')]);
  assert.is(new URL(page.url()).pathname, '/student');
  assert.is(await page.$eval('#record-school', (d) => d.textContent), '示范大学');
  assert.ok(await page.$eval('#greeting', (h) => h.textContent?.includes('你好')));
  assert.is(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'object', 'htmx ran with its nonce');
  const cookies = await browser.cookies();
  assert.ok(cookies.some((c) => c.name === 'wq_session' && c.httpOnly && c.sameSite === 'Lax'));

  await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
  assert.is(new URL(page.url()).pathname, '/');
  assert.ok(await page.$('#signed-out'));
  assert.equal(problems, [], 'no console errors or CSP violations');
  await page.close();
});

test('browser: a wrong password shows the message on the same page, and the form keeps the login', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/employer/login`);
  await page.type('#login', '13800000001');
  await page.type('#password', 'wrong-password');
  await Promise.all([page.waitForNavigation(), page.click('#login-form button[type=submit]')]);
  assert.is(await page.$eval('#form-error', (e) => e.textContent), '账号或密码错误');
  assert.is(await page.$eval('#login', (e) => (e as HTMLInputElement).value), '13800000001');
  await page.close();
});

test.run();
