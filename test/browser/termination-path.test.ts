import { idOf } from '../helpers/graduates.ts';
import { firstStudentLogin } from '../helpers/app.ts';
import { and, eq } from 'drizzle-orm';
import type { Browser, Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { agreements, graduates, users } from '../../db/schema/index.ts';
import { launchChromium } from '../../views/chromium.ts';
import { DESK, fits, go, PHONE, signedIn, text } from '../helpers/browser.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { pageTexts } from '../helpers/pdf-text.ts';
import { pdfsig } from '../helpers/pdfsig.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveApp } from '../helpers/server.ts';
import { insertAgreement, type AgreementFixture } from '../helpers/signed-agreement.ts';

// 解约 in a real browser, the graduate on a 360×640 phone: 申请解约 → the unit 同意 → 计算机学院 and
// the school 审核 通过 → /verify says 已解约, the PDF is marked → another unit's invitation is accepted.
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;
let graduate: typeof graduates.$inferSelect;
let studentLogin: string;
let agreement: AgreementFixture;

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
  const [u] = await database.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  studentLogin = await firstStudentLogin(database.db);
  graduate = (await database.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!)))[0]!;
  agreement = await insertAgreement(database.db, { graduateId: graduate.id, number: '2026-10001-900001', code: 'K7P3Q9XA' }); // clear of the numbers the platform gives out
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
});

/** Signed in to a portal in a fresh context of this file's browser. */
const signIn = (portal: string, login: string, password: string, viewport: { width: number; height: number }) => signedIn(browser, base, portal, login, password, viewport);

async function decide(page: Page, path: string) {
  await page.goto(`${base}${path}`);
  await page.locator('input[name=decision][value=approve]').click();
  await go(page, '#submit-review');
}

test('browser: 申请解约 on a phone → the unit 同意 → 院系 and 学校 审核 通过 → /verify 已解约 → the graduate accepts a new invitation', async () => {
  const student = await signIn('student', studentLogin, DEMO_PASSWORDS.student, PHONE);
  await student.page.goto(`${base}/student/invitations/${agreement.id}`);
  await go(student.page, '#termination-link');
  await fits(student.page);
  assert.match(await text(student.page, '#allowance'), '还可提交 2 次');
  if (process.env.SCREENSHOTS) await student.page.screenshot({ path: `${process.env.SCREENSHOTS}/termination-apply.png`, fullPage: true });
  await student.page.locator('#apply-reason').fill('已与单位协商一致，因考取研究生解约');
  await student.page.locator('#apply-confirm').click();
  await go(student.page, '#submit-termination');
  assert.is(await text(student.page, '#termination-state'), '学生发起解约等待单位应约');
  await fits(student.page);

  const hr = await signIn('employer', '13800000001', DEMO_PASSWORDS.employer, DESK);
  await hr.page.goto(`${base}/employer/agreements?tab=terminating&cohort=2026`);
  await go(hr.page, `#agreement-${agreement.id} a`);
  assert.is(await text(hr.page, '#termination-state'), '学生发起解约等待单位应约');
  await hr.page.locator('#answer-form input[name=answer][value=agree]').click();
  await go(hr.page, '#submit-answer');
  assert.is(await text(hr.page, '#termination-state'), '已同意解约等待学校（学院）审核');

  const dept = await signIn('school', '10001-cs', DEMO_PASSWORDS.department, DESK);
  await dept.page.goto(`${base}/school/terminations`);
  await go(dept.page, '#terminations tbody tr a');
  const id = new URL(dept.page.url()).pathname.split('/')[3]!;
  await decide(dept.page, `/school/terminations/${id}`);
  const school = await signIn('school', '10001-admin', DEMO_PASSWORDS.school, DESK);
  await decide(school.page, `/school/terminations/${id}`);
  assert.is(await text(school.page, '#termination-state'), '已解约');
  if (process.env.SCREENSHOTS) await school.page.screenshot({ path: `${process.env.SCREENSHOTS}/termination-school.png`, fullPage: true });

  const visitorContext = await browser.createBrowserContext();
  const visitor = await visitorContext.newPage();
  await visitor.setViewport(PHONE);
  await visitor.goto(`${base}/verify`);
  await visitor.locator('#no').fill(agreement.number);
  await visitor.locator('#code').fill(agreement.code);
  await go(visitor, '#verify-form button[type=submit]');
  assert.match(await text(visitor, '#verify-result'), '查验结果：已解约');
  await visitorContext.close();

  await student.page.goto(`${base}/student/agreements/${agreement.id}/termination`);
  assert.is(await text(student.page, '#termination-state'), '已解约');
  await fits(student.page);
  if (process.env.SCREENSHOTS) await student.page.screenshot({ path: `${process.env.SCREENSHOTS}/termination-done.png`, fullPage: true });
  const pdf = await student.page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), `/student/agreements/${agreement.id}/document.pdf`);
  const pdfText = pageTexts(new Uint8Array(pdf)).join('');
  assert.ok(pdfText.includes(agreement.number), 'the PDF is still there');
  assert.ok(pdfText.includes('已解约'), 'the PDF is marked 已解约');
  // Issue 15: a new signed revision, whose 签约完成证明 carries the termination's steps and reason.
  const revision = Buffer.from(pdf);
  assert.match(pdfsig(revision), 'Signature Validation: Signature is Valid.');
  const last = pageTexts(new Uint8Array(pdf)).at(-1)!;
  assert.ok(last.includes('签约完成证明') && last.includes('本件状态已解约'));
  assert.ok(last.includes('已与单位协商一致，因考取研究生解约'), 'the graduate\'s reason is in the trail');
  // Anyone holding the file checks it on /verify, in a browser, by uploading it.
  const dir = mkdtempSync(join(tmpdir(), 'verify-upload-'));
  writeFileSync(join(dir, 'agreement.pdf'), revision);
  const checkerContext = await browser.createBrowserContext();
  const checker = await checkerContext.newPage();
  await checker.setViewport(PHONE);
  await checker.goto(`${base}/verify`);
  await (await checker.$('input#pdf'))!.uploadFile(join(dir, 'agreement.pdf'));
  await go(checker, '#verify-file-form button[type=submit]');
  assert.match(await text(checker, '#file-result h2'), '签名有效，文件未被修改');
  assert.is(await text(checker, '#file-revision'), '已解约');
  assert.match(await text(checker, '#file-now'), '已解约');
  await fits(checker);
  if (process.env.SCREENSHOTS) await checker.screenshot({ path: `${process.env.SCREENSHOTS}/verify-file.png`, fullPage: true });
  await checkerContext.close();
  rmSync(dir, { recursive: true, force: true });
  await student.page.goto(`${base}/student`);
  assert.match(await text(student.page, '#status-summary'), '待就业');

  // Another unit invites; the graduate, free again (G4), accepts.
  const second = await signIn('employer', '13800000002', DEMO_PASSWORDS.employer, DESK);
  await second.page.goto(`${base}/employer/favourites/new`);
  await second.page.type('#name', graduate.name);
  await second.page.type('#idNumber', idOf(graduate));
  await second.page.type('#school', '示范大学');
  await second.page.select('#cohort', '2026');
  await go(second.page, '#search-form button[type=submit]');
  await go(second.page, '#add-favourite');
  await second.page.locator('#favourites tbody input[type=checkbox]').click();
  await go(second.page, '#start-invitation');
  await second.page.select('#positionCategory', '13');
  await second.page.type('#positionName', '机械设计工程师');
  await second.page.type('#contactName', '赵主管');
  await second.page.type('#contactPhone', '021-50800002');
  await second.page.type('#workPlace', '上海市浦东新区');
  await go(second.page, '#send-invitation');
  assert.match(await text(second.page, '#invited'), graduate.name);
  const [invited] = await database.db.select().from(agreements).where(and(eq(agreements.graduateId, graduate.id), eq(agreements.state, 'invited')));

  await student.page.goto(`${base}/student/invitations/${invited!.id}`);
  await go(student.page, '#accept');
  await go(student.page, '#confirm');
  assert.is(await text(student.page, '#agreement-state'), '学生已应约提交审核中');
  await fits(student.page);
  for (const party of [student, hr, dept, school, second]) await party.context.close();
});

test.run();
