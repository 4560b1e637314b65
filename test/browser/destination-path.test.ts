import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { firstStudentLogin } from '../helpers/app.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { Browser, Page } from 'puppeteer-core';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { agreements, destinationRegistrations, employers, graduates, users } from '../../db/schema/index.ts';
import { currentDestination } from '../../domain/destinations/current.ts';
import { launchChromium } from '../../views/chromium.ts';
import { DESK, fits, go, PHONE, signedIn, text } from '../helpers/browser.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { serveApp } from '../helpers/server.ts';

// 去向登记 in a real browser, the graduate on a 360×640 phone: 升学 with an admission letter →
// 退回修改 → resubmitted → the school changes the type → the graduate sees the notice → 通过 → 作废 →
// 自由职业 → 通过 → accepting an invitation voids it.
let database: TestDatabase;
let closeServer: () => Promise<void>;
let base: string;
let browser: Browser;
let dir: string;
let letter: string;
let graduate: typeof graduates.$inferSelect;
let studentLogin: string;

test.before(async () => {
  database = await freshDatabase();
  ({ base, close: closeServer } = await serveApp(database.db));
  browser = await launchChromium(loadConfig().chromiumPath);
  dir = await mkdtemp(join(tmpdir(), 'wq-letter-'));
  letter = join(dir, '录取通知书.png');
  await writeFile(letter, await sharp({ create: { width: 600, height: 850, channels: 3, background: '#fdfdf8' } }).png().toBuffer());
  const [u] = await database.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  studentLogin = await firstStudentLogin(database.db);
  graduate = (await database.db.select().from(graduates).where(eq(graduates.id, u!.graduateId!)))[0]!;
});

test.after(async () => {
  await browser?.close();
  await closeServer();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

const signIn = (portal: string, login: string, password: string, viewport: { width: number; height: number }) => signedIn(browser, base, portal, login, password, viewport);
const shot = async (page: Page, name: string) => {
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/${name}.png`, fullPage: true });
};

async function decide(page: Page, id: number, decision: 'approve' | 'return', reason = '') {
  await page.goto(`${base}/school/destinations/${id}`);
  await page.locator(`input[name=decision][value=${decision}]`).click();
  if (reason) await page.locator('#reason').fill(reason);
  await go(page, '#submit-review');
}

test('browser: 升学 on a phone → 退回修改 → resubmit → the school changes the type → the notice → 通过 → 作废 → 自由职业 → 通过 → an accepted invitation voids it', async () => {
  const student = await signIn('student', studentLogin, DEMO_PASSWORDS.student, PHONE);
  const p = student.page;
  await go(p, '#start-destination');
  await fits(p);
  await p.select('#type-choice', 'postgraduate');
  await go(p, '#choose-type');
  assert.is(await text(p, '#chosen-type'), '升学（考研）');
  await p.locator('#schoolName').fill('示范大学研究生院');
  await p.locator('#major').fill('计算机科学与技术');
  await p.select('#studyLevel', '硕士研究生');
  const input = await p.$('#proofs-input');
  await (input as unknown as { uploadFile: (path: string) => Promise<void> }).uploadFile(letter);
  await fits(p);
  await shot(p, 'destination-form');
  await go(p, '#submit-destination');
  assert.match(await text(p, '#confirm-summary'), '1 个文件');
  await fits(p);
  await go(p, '#confirm');
  assert.is(await text(p, '#destination-state'), '去向登记审核中');
  const id = Number(new URL(p.url()).pathname.split('/')[3]);
  await fits(p);

  const dept = await signIn('school', '10001-cs', DEMO_PASSWORDS.department, DESK);
  await decide(dept.page, id, 'return', '请上传盖章的录取通知书');
  await p.goto(`${base}/student/destinations/${id}`);
  assert.match(await text(p, '#review-reason'), '请上传盖章的录取通知书');
  await go(p, '#edit');
  assert.ok(await p.$('#editing'));
  await go(p, '#submit-destination');
  await go(p, '#confirm');
  assert.is(await text(p, '#destination-state'), '去向登记审核中');

  await decide(dept.page, id, 'approve');
  const school = await signIn('school', '10001-admin', DEMO_PASSWORDS.school, DESK);
  await school.page.goto(`${base}/school/destinations/${id}`);
  await go(school.page, '#amend');
  await school.page.select('#type-choice', 'upgrade');
  await go(school.page, '#choose-type');
  await school.page.locator('#agreed').click();
  await go(school.page, '#save-amendment');
  assert.match(await text(school.page, '#amendments'), '升学（考研） → 升学（专升本）');
  await shot(school.page, 'destination-review');

  await p.goto(`${base}/student/notifications`);
  assert.match(await text(p, 'main'), '你的毕业去向登记信息已被修改');
  await p.goto(`${base}/student/destinations/${id}`);
  assert.match(await text(p, '#amendments'), '升学（专升本）');
  assert.is(await text(p, '#destination-type'), '升学（专升本）');
  await fits(p);
  await shot(p, 'destination-amended');

  await decide(school.page, id, 'approve');
  await p.goto(`${base}/student`);
  assert.match(await text(p, '#status-summary'), '升学');
  await fits(p);
  await shot(p, 'destination-home');
  await go(p, '#current-destination a');
  await go(p, '#void');
  await fits(p);
  await shot(p, 'destination-void');
  await go(p, '#confirm-void');
  assert.is(await text(p, '#destination-state'), '已作废');

  await p.goto(`${base}/student`);
  await go(p, '#start-destination');
  await p.select('#type-choice', 'freelance');
  await go(p, '#choose-type');
  await p.locator('#occupation').fill('独立插画设计');
  await p.select('#region', '110000');
  const again = await p.$('#proofs-input');
  // A new registration starts from an empty draft: its own proof.
  await (again as unknown as { uploadFile: (path: string) => Promise<void> }).uploadFile(letter);
  await go(p, '#submit-destination');
  await go(p, '#confirm');
  const second = Number(new URL(p.url()).pathname.split('/')[3]);
  await decide(dept.page, second, 'approve');
  await decide(school.page, second, 'approve');
  assert.is(await currentDestination(database.db, graduate.id), '76');

  // A unit's invitation, accepted: the approved 自由职业 is voided in the same transaction.
  const [unit] = await database.db.select().from(employers).where(eq(employers.name, '越综合企业'));
  const now = new Date();
  const [invitation] = await database.db
    .insert(agreements)
    .values({
      kind: 'online', state: 'invited', employerId: unit!.id, graduateId: graduate.id, schoolId: graduate.schoolId, departmentId: graduate.departmentId, cohort: graduate.cohort,
      invitedAt: now, validityDays: 5, deadline: new Date(now.getTime() + 5 * 86400000), contactName: '王经理', contactPhone: '010-12345678', workPlace: '北京市海淀区',
      positionCategory: '13', positionName: '软件工程师', archiveMode: 'none',
      unitSnapshot: { name: unit!.name, uscc: unit!.uscc, employerType: unit!.employerType, industry: unit!.industry, region: unit!.region, address: unit!.address, contactName: '王经理', contactPhone: null, contactMobile: '13800000001', contactEmail: 'hr@example.com' },
    })
    .returning();
  await p.goto(`${base}/student/invitations/${invitation!.id}`);
  await go(p, '#accept');
  await go(p, '#confirm');
  const [voided] = await database.db.select().from(destinationRegistrations).where(and(eq(destinationRegistrations.id, second)));
  assert.equal([voided!.state, voided!.voidCause], ['voided', 'signing']);
  await p.goto(`${base}/student/destinations/${second}`);
  assert.match(await text(p, '#voided-note'), '已自动作废');
  await fits(p);
  await student.context.close();
  await dept.context.close();
  await school.context.close();
});

test.run();
