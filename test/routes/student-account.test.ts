import { idOf } from '../helpers/graduates.ts';
import { idNumberLookup, withStoredIdNumber } from '../../db/id-number-keys.ts';
import { and, asc, count, eq, sql } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { events, graduates, outbox, sessions, users, verificationCodes } from '../../db/schema/index.ts';
import { CODE_LIMITS, CODE_MESSAGES } from '../../domain/auth/verification-codes.ts';
import { ALREADY_ACTIVATED, NO_MATCHING_ACCOUNT, NO_MATCHING_GRADUATE, TOO_MANY_LOOKUPS } from '../../domain/graduates/activation.ts';
import { DEMO_ACCOUNTS, setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';
import { fieldValue, latestSmsCode } from '../helpers/sms.ts';

// Rule 3 of the issue: activation, sign-in and password reset of graduates, and their abuse.

let t: TestApp;
type Graduate = typeof graduates.$inferSelect;
/** Demo graduates of school 10001 in roster order: the first three already have accounts. */
let roster: Graduate[];
let nextFree = 3;
const NEW_PASSWORD = 'Graduate#2026';

test.before(async () => {
  t = await setupApp();
  roster = await t.db.select().from(graduates).orderBy(asc(graduates.id));
});
test.after(async () => {
  await t.close();
});

/** A graduate on the roster who has no account yet; each test takes its own. */
const freeGraduate = () => roster[nextFree++]!;

async function requestCode(c: Client, g: Graduate) {
  return c.post('/student/activation', { name: g.name, id_number: idOf(g) });
}

async function completeWith(c: Client, ticket: string, code: string, password = NEW_PASSWORD) {
  return c.post('/student/activation', { ticket, code, password, password_confirmation: password });
}

const codeRows = (g: Graduate) => t.db.select().from(verificationCodes).where(eq(verificationCodes.subject, `graduate:${g.id}`));

test('activation: 姓名 + 身份证号 → code to the roster phone → password → signed in, and the gate leads to 学生信息', async () => {
  const g = freeGraduate();
  const c = t.client('10.20.0.1');
  const form = await c.get('/student/activation');
  assert.is(form.status, 200);
  assert.is(textOf(form.doc, 'h1'), '激活账号');
  assert.is(textOf(form.doc, 'label[for=name]'), '姓名 *');
  assert.is(textOf(form.doc, 'label[for=id_number]'), '身份证号 *');

  const sent = await requestCode(c, g);
  assert.is(sent.status, 200);
  assert.is(sent.doc.querySelectorAll('[role=status]').length, 1);
  assert.match(textOf(sent.doc, '#form-notice')!, `验证码已发送至 ${g.phone.slice(0, 3)}****${g.phone.slice(7)}`);
  assert.not.match(sent.text, g.phone, 'only the masked phone is shown');
  const ticket = fieldValue(sent.doc, 'ticket');
  assert.not.match(ticket, idOf(g));
  const [sms] = await t.db.select().from(outbox).where(eq(outbox.recipient, g.phone));
  assert.is(sms!.channel, 'sms');
  const [row] = await codeRows(g);
  assert.is.not(row!.codeHash, await latestSmsCode(t.db, g.phone), 'only a hash is stored');

  const done = await completeWith(c, ticket, await latestSmsCode(t.db, g.phone));
  assert.is(done.status, 303);
  assert.is(done.location, '/student');
  assert.ok(c.cookies.get('wq_session'));
  const home = await c.get('/student');
  assert.is(home.status, 303);
  assert.is(home.location, '/student/check', 'G1: the record is checked first');

  const [user] = await t.db.select().from(users).where(eq(users.graduateId, g.id));
  assert.equal(
    { role: user!.role, portal: user!.portal, login: user!.login, phone: user!.phone, displayName: user!.displayName, schoolId: user!.schoolId, departmentId: user!.departmentId },
    { role: 'student', portal: 'student', login: idNumberLookup(idOf(g)), phone: g.phone, displayName: g.name, schoolId: g.schoolId, departmentId: g.departmentId },
  );
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'account.activated'), eq(events.subjectId, String(g.id))));
  assert.is(event!.actorUserId, user!.id);
  assert.is(event!.ip, '10.20.0.1');

  for (const login of [idOf(g).toLowerCase(), g.phone]) {
    const signIn = await t.client('10.20.0.2').post('/student/login', { login, password: NEW_PASSWORD });
    assert.is(signIn.status, 303, `signs in with ${login === g.phone ? 'the phone' : 'the ID number'}`);
  }
});

test('activation: a wrong name and an unknown ID number get the same answer, and no code is sent', async () => {
  const g = freeGraduate();
  const c = t.client('10.21.0.1');
  const smsBefore = (await t.db.select({ n: count() }).from(outbox))[0]!.n;
  const wrongName = await c.post('/student/activation', { name: `${g.name}某`, id_number: idOf(g) });
  const unknownId = await c.post('/student/activation', { name: g.name, id_number: '11010519491231002X' });
  for (const res of [wrongName, unknownId]) {
    assert.is(res.status, 422);
    assert.is(textOf(res.doc, '#form-error'), NO_MATCHING_GRADUATE);
    assert.not.ok(res.doc.querySelector('input[name=ticket]'));
    assert.not.ok(res.doc.querySelector('.field-error'), 'no field is singled out');
  }
  assert.is(fieldValue(wrongName.doc, 'name'), `${g.name}某`, 'typed values are kept');
  assert.is(fieldValue(unknownId.doc, 'id_number'), '11010519491231002X');
  assert.is((await t.db.select({ n: count() }).from(outbox))[0]!.n, smsBefore);
});

test('activation: a malformed ID number or an empty form gets field messages', async () => {
  const c = t.client('10.22.0.1');
  const malformed = await c.post('/student/activation', { name: '张三', id_number: '110105194912311234' });
  assert.is(malformed.status, 422);
  assert.is(textOf(malformed.doc, '#id_number-error'), '身份证号校验位错误，请核对是否输错');
  const empty = await c.post('/student/activation', { name: '', id_number: '' });
  assert.is(empty.status, 422);
  assert.is(textOf(empty.doc, '#name-error'), '请输入姓名');
  assert.is(textOf(empty.doc, '#id_number-error'), '请输入身份证号');
});

test('activation: an already activated graduate is told to sign in or reset the password', async () => {
  const g = roster[0]!;
  const res = await t.client('10.23.0.1').post('/student/activation', { name: g.name, id_number: idOf(g) });
  assert.is(res.status, 409);
  assert.is(textOf(res.doc, '#form-error'), ALREADY_ACTIVATED);
  assert.ok(res.doc.querySelector('a[href="/student/password-reset"]'));
  const stranger = await t.client('10.23.0.2').post('/student/activation', { name: '路人甲', id_number: idOf(g) });
  assert.is(textOf(stranger.doc, '#form-error'), NO_MATCHING_GRADUATE, 'without the name nobody learns the account exists');
});

test('activation abuse: a wrong code is refused and counted; the right one still works', async () => {
  const g = freeGraduate();
  const c = t.client('10.24.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const code = await latestSmsCode(t.db, g.phone);
  const wrong = await completeWith(c, ticket, code === '000000' ? '111111' : '000000');
  assert.is(wrong.status, 422);
  assert.is(textOf(wrong.doc, '#code-error'), CODE_MESSAGES.wrong);
  assert.is(fieldValue(wrong.doc, 'ticket'), ticket, 'step two again, with the same ticket');
  assert.not.match(wrong.text, NEW_PASSWORD, 'the password is never echoed');
  assert.is((await codeRows(g))[0]!.attempts, 1);
  assert.is((await completeWith(c, ticket, code)).status, 303);
});

test('activation abuse: an expired code is refused', async () => {
  const g = freeGraduate();
  const c = t.client('10.25.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  await t.db.update(verificationCodes).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(verificationCodes.subject, `graduate:${g.id}`));
  const res = await completeWith(c, ticket, await latestSmsCode(t.db, g.phone));
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#code-error'), CODE_MESSAGES.expired);
  assert.is((await t.db.select().from(users).where(eq(users.graduateId, g.id))).length, 0);
});

test('activation abuse: after 5 wrong codes the code is dead, even for the right code', async () => {
  const g = freeGraduate();
  const c = t.client('10.26.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const code = await latestSmsCode(t.db, g.phone);
  const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const messages = [];
  for (let i = 0; i < CODE_LIMITS.wrongAttempts; i++) messages.push(textOf((await completeWith(c, ticket, wrongCode)).doc, '#code-error'));
  assert.equal(messages, [...Array(CODE_LIMITS.wrongAttempts - 1).fill(CODE_MESSAGES.wrong), CODE_MESSAGES.exhausted]);
  const right = await completeWith(c, ticket, code);
  assert.is(right.status, 422);
  assert.is(textOf(right.doc, '#code-error'), CODE_MESSAGES.exhausted);
});

test('activation abuse: a used code cannot be used again, and two completions at once create one account', async () => {
  const g = freeGraduate();
  const c = t.client('10.27.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const code = await latestSmsCode(t.db, g.phone);
  const results = await Promise.all([completeWith(c, ticket, code), completeWith(t.client('10.27.0.2'), ticket, code)]);
  assert.equal(results.map((r) => r.status).sort(), [303, 422]);
  assert.is((await t.db.select().from(users).where(eq(users.graduateId, g.id))).length, 1);
  const reused = await completeWith(t.client('10.27.0.3'), ticket, code);
  assert.is(reused.status, 422);
  assert.is(textOf(reused.doc, '#code-error'), CODE_MESSAGES.used);
});

test('activation abuse: a forged ticket is refused like an expired code and uses up nobody\'s attempts', async () => {
  const g = freeGraduate();
  const c = t.client('10.28.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const code = await latestSmsCode(t.db, g.phone);
  const forged = `${ticket.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA`;
  for (let i = 0; i < CODE_LIMITS.wrongAttempts; i++) {
    const res = await completeWith(t.client('10.28.0.2'), forged, code);
    assert.is(res.status, 422);
    assert.is(textOf(res.doc, '#code-error'), CODE_MESSAGES.expired);
  }
  assert.is((await codeRows(g))[0]!.attempts, 0);
  assert.is((await completeWith(c, ticket, code)).status, 303);
});

test('activation: a weak password or a wrong confirmation is refused before the code is tried', async () => {
  const g = freeGraduate();
  const c = t.client('10.29.0.1');
  const ticket = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const code = await latestSmsCode(t.db, g.phone);
  const weak = await completeWith(c, ticket, code, 'password');
  assert.is(weak.status, 422);
  assert.is(textOf(weak.doc, '#password-error'), '密码须包含大写字母、小写字母、数字、符号中的至少三种');
  const mismatch = await c.post('/student/activation', { ticket, code, password: NEW_PASSWORD, password_confirmation: 'Graduate#2027' });
  assert.is(textOf(mismatch.doc, '#password_confirmation-error'), '两次输入的密码不一致');
  assert.is((await codeRows(g))[0]!.attempts, 0, 'no attempt counted');
  assert.is((await completeWith(c, ticket, code)).status, 303);
});

test('activation abuse: one code per phone per 60 s and 5 per hour; a new code replaces the older one', async () => {
  const g = freeGraduate();
  const c = t.client('10.30.0.1');
  const first = fieldValue((await requestCode(c, g)).doc, 'ticket');
  const tooSoon = await c.post('/student/activation', { ticket: first, name: g.name, id_number: idOf(g), resend: '1' });
  assert.is(tooSoon.status, 429);
  assert.is(textOf(tooSoon.doc, '#form-error'), CODE_MESSAGES.tooSoon);
  assert.is(fieldValue(tooSoon.doc, 'ticket'), first, 'the code already sent stays usable');

  const tickets = [first];
  for (let i = 1; i < CODE_LIMITS.perPhonePerHour; i++) {
    await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, g.phone));
    const resent = await c.post('/student/activation', { ticket: tickets.at(-1)!, name: g.name, id_number: idOf(g), resend: '1' });
    assert.is(resent.status, 200);
    tickets.push(fieldValue(resent.doc, 'ticket'));
  }
  await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, g.phone));
  const sixth = await requestCode(c, g);
  assert.is(sixth.status, 429);
  assert.is(textOf(sixth.doc, '#form-error'), CODE_MESSAGES.tooMany);

  const latestCode = await latestSmsCode(t.db, g.phone);
  const replaced = await completeWith(c, tickets[0]!, latestCode);
  assert.is(textOf(replaced.doc, '#code-error'), CODE_MESSAGES.expired, 'an older ticket is dead');
  assert.is((await completeWith(c, tickets.at(-1)!, latestCode)).status, 303);
});

test('activation abuse: one address gets at most 20 codes an hour, whatever the phones', async () => {
  const c = t.client('10.31.0.1');
  for (let i = 0; i < CODE_LIMITS.perIpPerHour; i++) assert.is((await requestCode(c, freeGraduate())).status, 200);
  const blocked = await requestCode(c, freeGraduate());
  assert.is(blocked.status, 429);
  assert.is(textOf(blocked.doc, '#form-error'), CODE_MESSAGES.tooMany);
  nextFree--;
});

test('activation abuse: guessing names for a known ID number is limited like sign-in', async () => {
  const g = freeGraduate();
  for (let i = 0; i < 5; i++) {
    const res = await t.client(`10.32.0.${i + 1}`).post('/student/activation', { name: `猜名${i}`, id_number: idOf(g) });
    assert.is(res.status, 422);
  }
  const locked = await t.client('10.32.1.1').post('/student/activation', { name: g.name, id_number: idOf(g) });
  assert.is(locked.status, 429);
  assert.is(textOf(locked.doc, '#form-error'), TOO_MANY_LOOKUPS);
  const unknownLocked = await t.client('10.32.1.2').post('/student/activation', { name: '路人', id_number: '11010519491231002X' });
  assert.is(unknownLocked.status, 422, 'the lock is per looked-up number, so it tells nothing about the roster');
});

test('password reset: by phone or ID number with the name; the new password works, the old one and every old session do not', async () => {
  const g = roster[1]!;
  const [account] = await t.db.select().from(users).where(eq(users.graduateId, g.id));
  const oldSession = await t.client('10.33.0.1');
  assert.is((await oldSession.post('/student/login', { login: g.phone, password: DEMO_ACCOUNTS.student.password })).status, 303);

  const c = t.client('10.33.0.2');
  assert.is(textOf((await c.get('/student/password-reset')).doc, 'h1'), '忘记密码');
  const sent = await c.post('/student/password-reset', { name: g.name, login: g.phone });
  assert.is(sent.status, 200);
  assert.match(textOf(sent.doc, '#form-notice')!, `${g.phone.slice(0, 3)}****${g.phone.slice(7)}`);
  const done = await c.post('/student/password-reset', { ticket: fieldValue(sent.doc, 'ticket'), code: await latestSmsCode(t.db, g.phone), password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
  assert.is(done.status, 303);
  assert.is(done.location, '/student');

  assert.is((await oldSession.get('/student')).status, 303, 'the old session ended');
  assert.is((await t.db.select().from(sessions).where(eq(sessions.userId, account!.id))).length, 1, 'only the resetting browser is signed in');
  assert.is((await t.client('10.33.0.3').post('/student/login', { login: idOf(g), password: DEMO_ACCOUNTS.student.password })).status, 422);
  assert.is((await t.client('10.33.0.4').post('/student/login', { login: idOf(g), password: NEW_PASSWORD })).status, 303);
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'account.password_reset'), eq(events.subjectId, String(account!.id))));
  assert.is(event!.actorUserId, account!.id);

  const byId = await t.client('10.33.0.5').post('/student/password-reset', { name: g.name, login: idOf(g).toLowerCase() });
  assert.is(byId.status, 429, 'the same phone waits 60 s for another code');
  assert.is(textOf(byId.doc, '#form-error'), CODE_MESSAGES.tooSoon);
});

test('password reset: a wrong name, an unknown account and a not yet activated graduate get the same answer', async () => {
  const activated = roster[2]!;
  const notActivated = freeGraduate();
  const c = t.client('10.34.0.1');
  for (const form of [
    { name: '路人', login: idOf(activated) },
    { name: activated.name, login: '13700000000' },
    { name: notActivated.name, login: idOf(notActivated) },
  ]) {
    const res = await c.post('/student/password-reset', form);
    assert.is(res.status, 422);
    assert.is(textOf(res.doc, '#form-error'), NO_MATCHING_ACCOUNT);
  }
  const malformed = await c.post('/student/password-reset', { name: '路人', login: '12345' });
  assert.is(textOf(malformed.doc, '#login-error'), '请输入 11 位手机号或 18 位身份证号');
});

test('the student sign-in page links to 激活账号 and 忘记密码; other portals do not', async () => {
  const student = await t.client().get('/student/login');
  assert.ok(student.doc.querySelector('#account-links a[href="/student/activation"]'));
  assert.ok(student.doc.querySelector('#account-links a[href="/student/password-reset"]'));
  assert.not.ok((await t.client().get('/school/login')).doc.querySelector('#account-links'));
});

test('a signed-in graduate visiting 激活账号 goes home', async () => {
  const c = await t.signInAs('student');
  const res = await c.get('/student/activation');
  assert.is(res.status, 303);
  assert.is(res.location, '/student');
});

test.run();
