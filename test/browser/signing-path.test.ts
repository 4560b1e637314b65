import { idOf } from '../helpers/graduates.ts';
import { firstStudentLogin } from '../helpers/app.ts';
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { graduates, users } from '../../db/schema/index.ts';
import { launchChromium } from '../../views/chromium.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { serveApp } from '../helpers/server.ts';
import { pageTexts } from '../helpers/pdf-text.ts';

// The platform's core path in a real browser: the unit adds a favourite and invites; the graduate
// accepts; 计算机学院 approves; the school approves; each party downloads the agreement.
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;
let graduate: typeof graduates.$inferSelect;
let studentLogin: string;

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
  const [u] = await database.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  studentLogin = await firstStudentLogin(database.db);
  graduate = (await database.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!)))[0]!;
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
});

async function go(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function signedIn(portal: string, login: string, password: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${base}/${portal}/login`);
  await page.type('#login', login);
  await page.type('#password', password);
  await go(page, '#login-form button[type=submit]');
  return { context, page };
}

/** Downloads the agreement PDF with the page's own session, as the browser's download would. */
async function pdfText(page: Page, path: string): Promise<string> {
  const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), path);
  return pageTexts(new Uint8Array(bytes)).join('');
}

test('browser: favourite → 签约邀请函 → 接受 → 院系审核 → 学校审核 → each party downloads the 就业协议书', async () => {
  const hr = await signedIn('employer', '13800000001', DEMO_PASSWORDS.employer);
  await hr.page.goto(`${base}/employer/favourites/new`);
  await hr.page.type('#name', graduate.name);
  await hr.page.type('#idNumber', idOf(graduate));
  await hr.page.type('#school', '示范大学');
  await hr.page.select('#cohort', '2026');
  await go(hr.page, '#search-form button[type=submit]');
  await go(hr.page, '#add-favourite');
  await hr.page.click('#favourites tbody input[type=checkbox]');
  await go(hr.page, '#start-invitation');
  await hr.page.select('#positionCategory', '13');
  await hr.page.type('#positionName', '数据工程师');
  await hr.page.type('#contactName', '王经理');
  await hr.page.type('#contactPhone', '13800000001');
  await hr.page.type('#workPlace', '北京市海淀区');
  await go(hr.page, '#send-invitation');
  assert.match(await hr.page.$eval('#invited', (e) => e.textContent!), graduate.name);

  const student = await signedIn('student', studentLogin, DEMO_PASSWORDS.student);
  assert.is(new URL(student.page.url()).pathname, '/student/check');
  await go(student.page, 'form[action="/student/check"] button[type=submit]');
  await go(student.page, '#invitations a');
  await go(student.page, '#accept');
  await go(student.page, '#confirm');
  assert.is(await student.page.$eval('#agreement-state', (e) => e.textContent), '学生已应约提交审核中');
  const number = await student.page.$eval('#agreement-number', (e) => e.textContent!);

  const dept = await signedIn('school', '10001-cs', DEMO_PASSWORDS.department);
  await dept.page.goto(`${base}/school/agreements`);
  await go(dept.page, '#agreements tbody tr a');
  await dept.page.click('input[name=decision][value=approve]');
  await go(dept.page, '#submit-review');
  const school = await signedIn('school', '10001-admin', DEMO_PASSWORDS.school);
  await school.page.goto(`${base}/school/agreements?state=school_review`);
  await go(school.page, '#agreements tbody tr a');
  // SCREENSHOTS=dir: the school's review page at a reviewer's width, for a person to look at.
  if (process.env.SCREENSHOTS) {
    await school.page.setViewport({ width: 1366, height: 900 });
    await school.page.screenshot({ path: `${process.env.SCREENSHOTS}/school-review-page.png`, fullPage: true });
  }
  await school.page.click('input[name=decision][value=approve]');
  await go(school.page, '#submit-review');
  assert.is(await school.page.$eval('#agreement-state', (e) => e.textContent), '已签约');

  await student.page.reload();
  const id = new URL(student.page.url()).pathname.split('/')[3];
  for (const [who, page, path] of [
    ['employer', hr.page, `/employer/agreements/${id}/document.pdf`],
    ['graduate', student.page, `/student/agreements/${id}/document.pdf`],
    ['school', school.page, `/school/agreements/${id}/document.pdf`],
  ] as const) {
    const text = await pdfText(page, path);
    assert.ok(text.includes(number), `${who}: the PDF carries ${number}`);
    assert.ok(text.includes(graduate.name), `${who}: the PDF names the graduate`);
  }
  for (const party of [hr, student, dept, school]) await party.context.close();
});

test.run();
