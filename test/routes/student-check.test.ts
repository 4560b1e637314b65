import { idOf } from '../helpers/graduates.ts';
import { idNumberLookup, withStoredIdNumber } from '../../db/id-number-keys.ts';
import { and, asc, eq } from 'drizzle-orm';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../db/log.ts';
import { events, graduates, users } from '../../db/schema/index.ts';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { CODE_MESSAGES } from '../../domain/auth/verification-codes.ts';
import { PHONE_TAKEN } from '../../domain/graduates/contact.ts';
import { NOT_ON_ROSTER, rosterRegistry, type StudentRegistry } from '../../domain/graduates/registry.ts';
import { createApp } from '../../routes/index.ts';
import { Client, DEMO_ACCOUNTS, setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';
import { fieldValue, latestSmsCode } from '../helpers/sms.ts';

// Rules 4 and 9 of the issue: the first sign-in check (G1, G2), contact details, the graduate home (G9).

let t: TestApp;
type Graduate = typeof graduates.$inferSelect;
/** Demo graduates in roster order: 0–2 have accounts and have not confirmed; 3 is 定向 (21), 4 委培 (41). */
let roster: Graduate[];

test.before(async () => {
  t = await setupApp();
  roster = await t.db.select().from(graduates).orderBy(asc(graduates.id));
});
test.after(async () => {
  await t.close();
});

/** Signs a graduate in without confirming anything, optionally on an app with another registry. */
async function signIn(g: Graduate, ip: string, registry?: StudentRegistry) {
  const c = registry ? new Client(createApp({ config: t.config, db: t.db, log: silentLogger, registry }), ip) : t.client(ip);
  const res = await c.post('/student/login', { login: idOf(g), password: DEMO_ACCOUNTS.student.password });
  assert.is(res.status, 303, `sign-in of ${g.name}`);
  return c;
}

async function giveAccount(g: Graduate) {
  await t.db.insert(users).values({
    role: 'student', portal: 'student', login: idNumberLookup(idOf(g)), phone: g.phone, displayName: g.name,
    passwordHash: await hashPassword(DEMO_ACCOUNTS.student.password), schoolId: g.schoolId, departmentId: g.departmentId, graduateId: g.id,
  });
}

const confirmedAt = async (g: Graduate) => (await t.db.select().from(graduates).where(eq(graduates.id, g.id)))[0]!.confirmedAt;

test('G1 an unconfirmed graduate is led to 学生信息 from every page, sees the record and confirms it', async () => {
  const g = roster[0]!;
  const c = await signIn(g, '10.40.0.1');
  for (const path of ['/student', '/student/contact']) {
    const res = await c.get(path);
    assert.is(res.status, 303, path);
    assert.is(res.location, '/student/check');
  }
  const htmx = await c.get('/student', { 'hx-request': 'true' });
  assert.is(htmx.headers.get('hx-redirect'), '/student/check');

  const page = await c.get('/student/check');
  assert.is(page.status, 200);
  assert.is(textOf(page.doc, 'h1'), '学生信息');
  const labels = [...page.doc.querySelectorAll('#student-info dt')].map((dt) => dt.textContent);
  assert.equal(labels, ['考生号', '姓名', '性别', '出生日期', '身份证号', '生源省市', '民族', '政治面貌', '毕业院校', '层次', '专业名称', '学制', '入学时间', '毕业时间']);
  assert.match(page.text, idOf(g), 'the full ID number, for the graduate to check');
  assert.match(page.text, '示范大学');
  assert.match(textOf(page.doc, '#check-intro')!, '若有误请联系学校就业部门更正');
  assert.is(textOf(page.doc, '#confirm-form button'), '信息确认无误，进入系统');

  const confirm = await c.post('/student/check', {});
  assert.is(confirm.status, 303);
  assert.is(confirm.location, '/student');
  assert.ok(await confirmedAt(g));
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'roster.confirmed'), eq(events.subjectId, String(g.id))));
  assert.is(event!.toState, 'confirmed');
  assert.is((await c.get('/student')).status, 200);

  const again = await c.get('/student/check');
  assert.ok(again.doc.querySelector('#record-confirmed'));
  assert.not.ok(again.doc.querySelector('#confirm-form'), 'confirmed once');
  assert.is((await c.post('/student/check', {})).status, 303);
  assert.is((await t.db.select().from(events).where(and(eq(events.action, 'roster.confirmed'), eq(events.subjectId, String(g.id))))).length, 1);
});

test('G1 a registry that disagrees: no confirm button, the message to contact the school, and the confirmation is refused', async () => {
  const g = roster[1]!;
  const roster1 = rosterRegistry(t.db);
  const otherLevel: StudentRegistry = {
    async lookup(idNumber) {
      const record = await roster1.lookup(idNumber);
      return record && { ...record, educationLevel: record.educationLevel === '31' ? '11' : '31' };
    },
  };
  const c = await signIn(g, '10.41.0.1', otherLevel);
  const page = await c.get('/student/check');
  assert.is(page.status, 200);
  assert.not.ok(page.doc.querySelector('#confirm-form'));
  assert.not.match(page.text, '信息确认无误，进入系统');
  assert.is(textOf(page.doc, '#record-mismatch'), '你的学历层次与学籍信息不一致，请联系学校就业部门更正后再确认。');

  const refused = await c.post('/student/check', {});
  assert.is(refused.status, 409);
  assert.match(textOf(refused.doc, '#form-error')!, '学校就业部门');
  assert.is(await confirmedAt(g), null);
  assert.is((await c.get('/student')).location, '/student/check');

  const unknown = await signIn(g, '10.41.0.2', { lookup: async () => null });
  assert.is(textOf((await unknown.get('/student/check')).doc, '#record-mismatch'), '你的姓名、身份证号、毕业院校、学历层次与学籍信息不一致，请联系学校就业部门更正后再确认。');
});

test('G2 a graduate removed from the roster is told so, even after confirming, and cannot confirm again', async () => {
  const g = roster[2]!;
  const c = await signIn(g, '10.42.0.1');
  assert.is((await c.post('/student/check', {})).status, 303);
  assert.is((await c.get('/student')).status, 200);
  await t.db.update(graduates).set({ removedAt: new Date() }).where(eq(graduates.id, g.id));
  assert.is((await c.get('/student')).location, '/student/check');
  const page = await c.get('/student/check');
  assert.is(textOf(page.doc, '#not-on-roster'), NOT_ON_ROSTER);
  assert.not.ok(page.doc.querySelector('#confirm-form'));
  const refused = await c.post('/student/check', {});
  assert.is(refused.status, 403);
  assert.is(textOf(refused.doc, '#form-error'), NOT_ON_ROSTER);
  await t.db.update(graduates).set({ removedAt: null }).where(eq(graduates.id, g.id));
});

test('G9 a graduate in training mode 21 or 41 sees that only 定向/委培毕业去向补充登记 is available; others do not', async () => {
  for (const [i, mode] of [[3, '21'], [4, '41']] as const) {
    const g = roster[i]!;
    assert.is(g.trainingMode, mode);
    await giveAccount(g);
    const c = await signIn(g, `10.43.0.${i}`);
    assert.is((await c.post('/student/check', {})).status, 303);
    const home = await c.get('/student');
    assert.match(textOf(home.doc, '#not-signable')!, '定向/委培毕业去向补充登记');
  }
  const signable = await (await t.signInAs('student', '10.43.0.9')).get('/student');
  assert.not.ok(signable.doc.querySelector('#not-signable'));
});

test('graduate home: the confirmed record, an honest status summary and the entry points that exist', async () => {
  const c = await t.signInAs('student', '10.44.0.1');
  const home = await c.get('/student');
  assert.is(home.status, 200);
  assert.match(textOf(home.doc, '#greeting')!, '你好');
  assert.is(textOf(home.doc, '#record-school'), '示范大学');
  assert.match(textOf(home.doc, '#roster-record')!, /\d{6}\*{8}[\dX]{4}/);
  const summary = [...home.doc.querySelectorAll('#status-summary dt, #status-summary dd')].map((e) => e.textContent);
  assert.equal(summary, ['签约状态', '未签约', '毕业去向', '未登记']);
  assert.ok(home.doc.querySelector('a[href="/student/contact"]'));
  assert.ok(home.doc.querySelector('a[href="/student/check"]'));
});

test('G1 the graduate changes the own phone with a code sent to the new number, and signs in with it', async () => {
  const g = roster[5]!;
  await giveAccount(g);
  const c = await signIn(g, '10.45.0.1');
  await c.post('/student/check', {});
  const newPhone = '13712345678';

  const taken = await c.post('/student/contact/phone', { phone: roster[0]!.phone });
  assert.is(taken.status, 422);
  assert.is(textOf(taken.doc, '#phone-error'), PHONE_TAKEN);
  const malformed = await c.post('/student/contact/phone', { phone: '1371234' });
  assert.is(textOf(malformed.doc, '#phone-error'), '请输入 11 位手机号');

  const sent = await c.post('/student/contact/phone', { phone: newPhone });
  assert.is(sent.status, 200);
  assert.match(textOf(sent.doc, '#form-notice')!, '137****5678');
  const ticket = fieldValue(sent.doc, 'ticket');
  const code = await latestSmsCode(t.db, newPhone);
  const wrong = await c.post('/student/contact/phone', { ticket, phone: newPhone, code: code === '000000' ? '111111' : '000000' });
  assert.is(wrong.status, 422);
  assert.is(textOf(wrong.doc, '#code-error'), CODE_MESSAGES.wrong);

  const done = await c.post('/student/contact/phone', { ticket, phone: '13900000000', code });
  assert.is(done.status, 303);
  assert.is(done.location, '/student/contact?updated=phone');
  assert.is((await confirmedAt(g)) !== null, true);
  const [after] = await t.db.select().from(graduates).where(eq(graduates.id, g.id));
  assert.is(after!.phone, newPhone, 'the number the code went to, not what the form said');
  const [account] = await t.db.select().from(users).where(eq(users.graduateId, g.id));
  assert.is(account!.phone, newPhone);
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'contact.phone_changed'), eq(events.subjectId, String(g.id))));
  assert.equal(event!.data, { from: g.phone, to: newPhone });
  assert.match(textOf((await c.get('/student/contact?updated=phone')).doc, '#form-notice')!, '手机号已修改');
  assert.is((await t.client('10.45.0.2').post('/student/login', { login: newPhone, password: DEMO_ACCOUNTS.student.password })).status, 303);
});

test('G1 the graduate changes the own email; a malformed one is refused', async () => {
  const c = await t.signInAs('student', '10.46.0.1');
  const bad = await c.post('/student/contact/email', { email: 'not-an-email' });
  assert.is(bad.status, 422);
  assert.is(textOf(bad.doc, '#email-error'), '电子邮箱格式不正确');
  assert.is(bad.doc.querySelector('#email')!.getAttribute('value'), 'not-an-email', 'the typed value is kept');
  const ok = await c.post('/student/contact/email', { email: 'new.address@example.com' });
  assert.is(ok.status, 303);
  const [g] = await t.db.select().from(graduates).where(eq(graduates.id, roster[0]!.id));
  assert.is(g!.email, 'new.address@example.com');
  assert.is(textOf((await c.get('/student')).doc, '#home-email'), 'new.address@example.com');
  assert.is((await t.db.select().from(events).where(eq(events.action, 'contact.email_changed'))).length, 1);
});

test('the graduate pages stay within 14 KB of gzipped HTML', async () => {
  const signedIn = await t.signInAs('student', '10.47.0.1');
  const anonymous = t.client('10.47.0.2');
  for (const [c, path] of [
    [signedIn, '/student'],
    [signedIn, '/student/check'],
    [signedIn, '/student/contact'],
    [anonymous, '/student/login'],
    [anonymous, '/student/activation'],
    [anonymous, '/student/password-reset'],
  ] as const) {
    const res = await c.get(path);
    assert.is(res.status, 200, path);
    const size = gzipSync(res.text).length;
    assert.ok(size <= 14 * 1024, `${path}: ${size} bytes gzipped`);
  }
});

test.run();
