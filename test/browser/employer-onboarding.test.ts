import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { makeUscc } from '../../domain/codes/uscc.ts';
import { launchChromium } from '../../views/chromium.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { serveApp } from '../helpers/server.ts';
import { latestSmsCode } from '../helpers/sms.ts';

// A new HR user as a person goes through it: register by SMS code, verify the unit by upload,
// the platform approves, and the verified workbench opens.
let database: TestDatabase;
let dataDir: string;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;

test.before(async () => {
  database = await freshDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'wq-onboarding-'));
  ({ base, close: closeServer } = await serveApp(database.db, { DATA_DIR: dataDir }));
  browser = await launchChromium(loadConfig().chromiumPath);
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
});

async function submitAndWait(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test('browser: register → verify by upload → the platform approves → the verified workbench', async () => {
  const phone = '13988887777';
  const page = await browser.newPage();
  await page.goto(`${base}/employer/login`);
  await submitAndWait(page, '#account-links a[href="/employer/register"]');
  await page.type('#phone', phone);
  await submitAndWait(page, '#send-code');
  await page.type('#code', await latestSmsCode(database.db, phone));
  await page.type('#password', 'Hr#Onboard2026');
  await page.type('#password_confirmation', 'Hr#Onboard2026');
  await submitAndWait(page, '#submit-code');
  assert.is(new URL(page.url()).pathname, '/employer');
  assert.is(await page.$eval('#verification-status', (e) => e.textContent), '未认证');

  const letter = join(dataDir, '网签授权书.png');
  const licence = join(dataDir, '营业执照.jpg');
  await writeFile(letter, await sharp({ create: { width: 800, height: 1100, channels: 3, background: '#fff' } }).png().toBuffer());
  await writeFile(licence, await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#eee' } }).jpeg().toBuffer());
  const fields: Record<string, string> = {
    applicantName: '郑人事', unitName: '青禾教育科技有限公司', uscc: makeUscc('91110108MA03C0009'), region: '110108',
    address: '北京市海淀区学院路 30 号', contactName: '郑人事', contactMobile: '13988887777',
  };
  for (const [id, value] of Object.entries(fields)) await page.type(`#${id}`, value);
  await page.select('#employerType', '39');
  await page.select('#industry', '42');
  await (await page.$('input#authorization'))!.uploadFile(letter);
  await (await page.$('input#licence'))!.uploadFile(licence);
  await submitAndWait(page, '#verification-form button[type=submit]');
  assert.match(await page.$eval('#verification-status', (e) => e.textContent!), '已提交');

  const staff = await browser.createBrowserContext();
  const admin = await staff.newPage();
  await admin.goto(`${base}/admin/login`);
  await admin.type('#login', 'admin');
  await admin.type('#password', 'Admin#2026');
  await submitAndWait(admin, '#login-form button[type=submit]');
  await admin.goto(`${base}/admin/verifications`);
  await submitAndWait(admin, '#verifications tbody tr a');
  assert.is(await admin.$eval('#files img', (img) => (img as HTMLImageElement).naturalWidth > 0), true, 'the uploaded letter shows to the reviewer');
  await admin.click('input[name=decision][value=approve]');
  await submitAndWait(admin, '#decision-form button[type=submit]');
  assert.match(await admin.$eval('#verification-state', (e) => e.textContent!), '审核通过');
  await staff.close();

  await page.goto(`${base}/employer`);
  assert.is(await page.$eval('h1', (h) => h.textContent), '工作台');
  assert.is(await page.$eval('#verification-status', (e) => e.textContent), '已认证');
  assert.match(await page.$eval('#notices', (e) => e.textContent!), '身份认证审核通过');
  const menu = await page.$$eval('.nav a', (links) => links.map((a) => a.textContent));
  assert.equal(menu, ['工作台', '学生收藏夹', '签约/解约', '户档信息管理', '账号管理', '单位信息']);
  await page.close();
});

test.run();
