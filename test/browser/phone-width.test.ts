import { idOf } from '../helpers/graduates.ts';
import { firstStudentLogin } from '../helpers/app.ts';
import { mkdir } from 'node:fs/promises';
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { employers, favourites, graduates, schools, users } from '../../db/schema/index.ts';
import { sendInvitations } from '../../domain/agreements/online/invitations.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { addFavourite } from '../../domain/favourites/favourites.ts';
import { launchChromium } from '../../views/chromium.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { serveApp } from '../helpers/server.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';

// Graduates use low-end phones: no page of the graduate portal may scroll sideways at 360 px, with
// the longest things a record holds (a long e-mail address, unit names, an agreement). The pages are
// found by following every /student link from the entrances, signed out and signed in.
// SCREENSHOTS=dir saves each page as seen, for a person to look at.
const WIDTH = 360;
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;
let login: string;

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
  const db = database.db;
  const [u] = await db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  login = await firstStudentLogin(db);
  const graduateId = u!.graduateId!;
  await db.update(graduates).set({ email: 'wang.haoran.graduate.2026.computer-science@students.shifan-university.example.edu.cn' }).where(eq(graduates.id, graduateId));
  await db.update(employers).set({ name: '申城智能制造有限公司上海浦东新区张江高科技园区分公司人力资源部' }).where(eq(employers.name, '申城智能制造有限公司'));
  await insertAgreement(db, { graduateId, number: '2026-10001-000001', code: 'K7P3Q9XA' });
  // A pending invitation from a second unit, with every optional term filled (G5).
  const [hr] = await db.select().from(users).where(eq(users.login, '13800000002'));
  const unit = { actor: actorOf(hr!, 't', true), ip: null };
  const [g] = await db.select({ g: graduates, school: schools.name }).from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(eq(graduates.id, graduateId));
  await addFavourite(db, unit, { name: g!.g.name, idNumber: idOf(g!.g), school: g!.school, cohort: String(g!.g.cohort) });
  const [fav] = await db.select().from(favourites).where(eq(favourites.graduateId, graduateId));
  await sendInvitations(db, unit, [fav!.id], {
    positionCategory: '13', positionName: '嵌入式软件开发工程师（智能制造方向，驻上海张江研发中心）', validityDays: '7', contactName: '赵主管', contactPhone: '021-50800002-8888',
    probation: '6个月', probationPay: '12000', regularPay: '15000', penalty: '5000', reportPlace: '上海市浦东新区张江路 200 号 3 号楼 5 层人力资源部',
    reportDeadline: '2026-07-15', workPlace: '上海市浦东新区张江高科技园区', archiveMode: 'none', supplement: '提供人才公寓。'.repeat(30),
  });
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
});

/** Every /student page reachable by links from the entrances, each visited once at 360 px. */
async function crawl(page: Page, entrances: string[], shots: string | undefined, tag: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [...entrances];
  const wide: string[] = [];
  while (queue.length > 0 && seen.size < 60) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const res = await page.goto(`${base}${path}`);
    assert.ok(res && res.status() < 500, `${path} answered ${res?.status()}`);
    const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
    if (width > WIDTH) wide.push(`${path} is ${width}px wide`);
    if (shots) await page.screenshot({ path: `${shots}/${tag}${path.replaceAll('/', '_')}.png`, fullPage: true });
    const links = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')!));
    for (const href of links) {
      if (/^\/(student|verify)(\/|$|\?)/.test(href) && !/\.(pdf|crt)$/.test(href) && !seen.has(href)) queue.push(href);
    }
  }
  assert.ok(seen.size >= (tag === 'in' ? 8 : 3), `${tag}: visited ${[...seen].join(', ')}`);
  return wide;
}

test('no graduate page scrolls sideways at 360 px, signed out or signed in', async () => {
  const shots = process.env.SCREENSHOTS;
  if (shots) await mkdir(shots, { recursive: true });
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: WIDTH, height: 740, deviceScaleFactor: 1 });
  const wide = await crawl(page, ['/student/login', '/student/activation', '/student/password-reset', '/verify'], shots, 'out');
  await page.goto(`${base}/student/login`);
  await page.type('#login', login);
  await page.type('#password', DEMO_PASSWORDS.student);
  await Promise.all([page.waitForNavigation(), page.click('#login-form button[type=submit]')]);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/student/check"] button[type=submit]')]);
  const invitations = await page.$$eval('#invitations a', (as) => as.map((a) => a.getAttribute('href')!));
  const confirmations = invitations.flatMap((href) => [`${href}/acceptance`, `${href}/refusal`]);
  wide.push(...(await crawl(page, ['/student', '/student/check', ...invitations, ...confirmations], shots, 'in')));
  await context.close();
  assert.equal(wide, []);
});

test.run();
