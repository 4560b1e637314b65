import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { studentLogins } from '../helpers/app.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desc, eq } from 'drizzle-orm';
import type { Browser, Page } from 'puppeteer-core';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { agreements, outbox, users } from '../../db/schema/index.ts';
import { launchChromium } from '../../views/chromium.ts';
import { DESK, fits, go, PHONE, signedIn, text } from '../helpers/browser.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { pageTexts } from '../helpers/pdf-text.ts';
import { serveApp } from '../helpers/server.ts';

// Offline signing and 补登 in a real browser, the graduate on a 360×640 phone: fill → 暂存 → 提交 →
// 退回修改 → resubmit → 通过 → the PDF → the unit's upload through the SMS link → 签约审核 通过 →
// /verify says 有效; and a paper agreement registered through 补登管理. No graduate page may scroll
// sideways on the way.
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;
let dir: string;
let scan: string;
const logins: string[] = [];

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
  dir = await mkdtemp(join(tmpdir(), 'wq-scan-'));
  scan = join(dir, '盖章协议书.png');
  await writeFile(scan, await sharp({ create: { width: 600, height: 850, channels: 3, background: '#fdfdf8' } }).png().toBuffer());
  logins.push(...(await studentLogins(database.db)));
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Signed in to a portal in a fresh context of this file's browser. */
const signIn = (portal: string, login: string, password: string, viewport: { width: number; height: number }) => signedIn(browser, base, portal, login, password, viewport);

async function fill(page: Page, values: Record<string, string>) {
  for (const [id, value] of Object.entries(values)) {
    const tag = await page.$eval(`#${id}`, (e) => e.tagName);
    if (tag === 'SELECT') await page.select(`#${id}`, value);
    else {
      await page.$eval(`#${id}`, (e) => ((e as HTMLInputElement).value = ''));
      await page.type(`#${id}`, value);
    }
  }
}

async function decide(page: Page, path: string, decision: 'approve' | 'return', reason?: string) {
  await page.goto(`${base}${path}`);
  await page.locator(`input[name=decision][value=${decision}]`).click();
  if (reason) await page.locator('#reason').fill(reason);
  await go(page, '#submit-review');
}

test('offline signing on a phone: 暂存, 提交, 退回修改, resubmission, two reviews, the PDF, the unit\'s upload by SMS link, /verify 有效', async () => {
  const student = await signIn('student', logins[0]!, DEMO_PASSWORDS.student, PHONE);
  await go(student.page, '#start-offline');
  await fits(student.page);
  await fill(student.page, {
    unitName: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区五四路 100 号',
    positionCategory: '13', positionName: '数据分析师', contactName: '林经理', contactMobile: '13700001111', contactEmail: 'hr@minjiang.example.com',
  });
  await go(student.page, '#save-draft');
  assert.match(await text(student.page, '#form-notice'), '已暂存');
  await student.page.locator('input[name=archiveMode][value=none]').click();
  await go(student.page, '#submit-application');
  assert.match(await text(student.page, '#confirm-summary'), '闽江数据科技有限公司');
  await fits(student.page);
  await go(student.page, '#confirm');
  assert.is(await text(student.page, '#application-state'), '就业协议审核中');
  const id = new URL(student.page.url()).pathname.split('/')[3]!;

  const dept = await signIn('school', '10001-cs', DEMO_PASSWORDS.department, DESK);
  await decide(dept.page, `/school/agreements/${id}`, 'return', '详细地址请写到楼层');
  await student.page.goto(`${base}/student/applications/${id}`);
  assert.match(await text(student.page, '#review-reason'), '详细地址请写到楼层');
  await go(student.page, '#edit');
  await fill(student.page, { address: '福建省福州市鼓楼区五四路 100 号 8 层' });
  await go(student.page, '#submit-application');
  await go(student.page, '#confirm');
  await decide(dept.page, `/school/agreements/${id}`, 'approve');
  const school = await signIn('school', '10001-admin', DEMO_PASSWORDS.school, DESK);
  await decide(school.page, `/school/agreements/${id}`, 'approve');

  await student.page.goto(`${base}/student/applications/${id}`);
  assert.is(await text(student.page, '#application-state'), '就业协议审核通过');
  await fits(student.page);
  const pdf = await student.page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), `/student/agreements/${id}/document.pdf`);
  const [row] = await database.db.select().from(agreements).where(eq(agreements.id, Number(id)));
  const pdfText = pageTexts(new Uint8Array(pdf)).join('');
  assert.ok(pdfText.includes(row!.number!), 'the PDF carries the number');
  assert.ok(pdfText.includes('待用人单位盖章'), 'the PDF says it awaits the stamp');
  assert.ok(pdfText.includes('甲方（用人单位）盖章'), 'the PDF leaves room for the stamp');

  await go(student.page, '#send-assist');
  assert.match(await text(student.page, '#form-notice'), '已向用人单位发送短信');
  const [sms] = await database.db.select().from(outbox).where(eq(outbox.recipient, '13700001111')).orderBy(desc(outbox.id)).limit(1);
  const link = /https?:\/\/[^ ]+\/assist\/[A-Za-z0-9_-]{32}/.exec(sms!.body)![0];
  const unitContext = await browser.createBrowserContext();
  const unit = await unitContext.newPage();
  await unit.setViewport(DESK);
  await unit.goto(link);
  assert.is(await text(unit, '#agreement-number'), row!.number);
  const input = await unit.$('#pages');
  await (input as unknown as { uploadFile: (p: string) => Promise<void> }).uploadFile(scan);
  await go(unit, '#upload-copy');
  assert.ok(await unit.$('#assist-done'));

  await decide(dept.page, `/school/agreements/${id}`, 'approve');
  await decide(school.page, `/school/agreements/${id}`, 'approve');
  assert.match(await text(school.page, '#agreement-state'), '已签约');
  await student.page.goto(`${base}/student/applications/${id}`);
  assert.is(await text(student.page, '#application-state'), '已签约');
  await fits(student.page);

  const [signed] = await database.db.select().from(agreements).where(eq(agreements.id, Number(id)));
  const visitor = await unitContext.newPage();
  await visitor.goto(`${base}/verify?no=${signed!.number}&code=${signed!.verificationCode}`);
  assert.match(await text(visitor, '#verify-result'), '有效');
  for (const ctx of [student.context, dept.context, school.context, unitContext]) await ctx.close();
});

test('补登 on a phone, reviewed in 补登管理: pages, 提交, 院系 then 学校 通过 → 签约审核通过', async () => {
  const student = await signIn('student', logins[1]!, DEMO_PASSWORDS.student, PHONE);
  await go(student.page, '#start-registration');
  await fits(student.page);
  await fill(student.page, {
    unitName: '榕城建设集团有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市台江区江滨路 8 号',
    positionCategory: '13', positionName: '造价工程师', contactName: '陈主任', contactMobile: '13700002222', contactEmail: 'hr@rongcheng.example.com',
  });
  await student.page.locator('input[name=archiveMode][value=none]').click();
  const input = await student.page.$('#pages-input');
  await (input as unknown as { uploadFile: (p: string) => Promise<void> }).uploadFile(scan);
  await go(student.page, '#save-draft');
  assert.match(await text(student.page, '#pages-heading'), '已上传 1 页');
  assert.is(await student.page.$eval('#positionName', (e) => (e as HTMLInputElement).value), '造价工程师', 'what was typed is kept with the upload');
  await go(student.page, '#submit-application');
  await go(student.page, '#confirm');
  assert.is(await text(student.page, '#application-state'), '签约审核中');
  const id = new URL(student.page.url()).pathname.split('/')[3]!;

  const dept = await signIn('school', '10001-em', DEMO_PASSWORDS.department, DESK);
  await dept.page.goto(`${base}/school/registrations`);
  assert.match(await text(dept.page, `#agreement-${id}-row`), '等待院系审核');
  await go(dept.page, `#agreement-${id}-row a`);
  assert.ok(await dept.page.$('#uploaded-pages img'));
  await dept.page.locator('input[name=decision][value=approve]').click();
  await go(dept.page, '#submit-review');
  const school = await signIn('school', '10001-admin', DEMO_PASSWORDS.school, DESK);
  await decide(school.page, `/school/registrations/${id}`, 'approve');
  await school.page.goto(`${base}/school/registrations?tab=approved`);
  assert.ok(await school.page.$(`#agreement-${id}-row`));
  await student.page.goto(`${base}/student/applications/${id}`);
  assert.is(await text(student.page, '#application-state'), '签约审核通过');
  await fits(student.page);
  for (const ctx of [student.context, dept.context, school.context]) await ctx.close();
});

test.run();
