import { and, asc, eq, sql } from 'drizzle-orm';
import { openedIdNumber } from '../../db/id-number-keys.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { events, graduates, outbox, sessions, users, verificationCodes } from '../../db/schema/index.ts';
import { CODE_LIMITS, CODE_MESSAGES } from '../../domain/auth/verification-codes.ts';
import { ALREADY_REGISTERED, NO_EMPLOYER_ACCOUNT } from '../../domain/employers/registration.ts';
import { DEMO_ACCOUNTS, setupApp, type Client, type TestApp } from '../helpers/app.ts';
import { textOf, type Doc } from '../helpers/html.ts';
import { fieldValue, latestSmsCode } from '../helpers/sms.ts';

// E1: registration of employer accounts by phone + SMS code + password, sign-in by phone, password
// reset by SMS code, and abuse of the codes.

let t: TestApp;
const PASSWORD = 'Employer#2027';
let phoneSerial = 0;
/** A phone no account uses; each test takes its own. */
const freshPhone = () => `1390000${String(++phoneSerial).padStart(4, '0')}`;

test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

const requestCode = (c: Client, phone: string, path = '/employer/register') => c.post(path, { phone });

const completeWith = (c: Client, ticket: string, code: string, opts: { path?: string; password?: string; confirmation?: string } = {}) =>
  c.post(opts.path ?? '/employer/register', {
    ticket,
    code,
    password: opts.password ?? PASSWORD,
    password_confirmation: opts.confirmation ?? opts.password ?? PASSWORD,
  });

/** Asks for a registration code and returns the ticket from the page and the code from the SMS. */
async function codeFor(c: Client, phone: string, path = '/employer/register') {
  const res = await requestCode(c, phone, path);
  assert.is(res.status, 200, `code for ${phone}`);
  return { ticket: fieldValue(res.doc, 'ticket'), code: await latestSmsCode(t.db, phone) };
}

const employerAccounts = (phone: string) => t.db.select().from(users).where(and(eq(users.portal, 'employer'), eq(users.login, phone)));
const codeRows = (phone: string) => t.db.select().from(verificationCodes).where(eq(verificationCodes.phone, phone)).orderBy(asc(verificationCodes.id));
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
/** What a stranger sees of step two: everything but the ticket. */
const stepTwoShape = (doc: Doc) => ({
  notice: textOf(doc, '#form-notice'),
  error: textOf(doc, '#form-error'),
  fields: [...doc.querySelectorAll('#code-form [name]')].map((e) => e.getAttribute('name')),
});

test('E1 register: 手机号 → 免费获取 → 短信验证码, 密码, 密码确认 → 立即开通 creates the account, signs in, and the phone + password sign in again', async () => {
  const phone = freshPhone();
  const c = t.client('10.40.0.1');
  const form = await c.get('/employer/register');
  assert.is(form.status, 200);
  assert.is(textOf(form.doc, 'h1'), '用户注册');
  assert.is(textOf(form.doc, 'label[for=phone]'), '手机号 *');
  assert.is(textOf(form.doc, '#send-code'), '免费获取');

  const sent = await requestCode(c, phone);
  assert.is(sent.status, 200);
  assert.match(textOf(sent.doc, '#form-notice')!, '验证码已发送，10 分钟内有效。');
  assert.is(textOf(sent.doc, 'label[for=code]'), '短信验证码 *');
  assert.is(textOf(sent.doc, 'label[for=password]'), '密码 *');
  assert.is(textOf(sent.doc, 'label[for=password_confirmation]'), '密码确认 *');
  assert.is(textOf(sent.doc, '#submit-code'), '立即开通');
  assert.is(textOf(sent.doc, '#resend'), '重新获取验证码');
  assert.is(fieldValue(sent.doc, 'phone'), phone);
  const ticket = fieldValue(sent.doc, 'ticket');
  const code = await latestSmsCode(t.db, phone);
  assert.not.match(sent.text, code, 'the code travels only by SMS');
  const [row] = await codeRows(phone);
  assert.equal({ purpose: row!.purpose, subject: row!.subject }, { purpose: 'employer_register', subject: `phone:${phone}` });

  const done = await completeWith(c, ticket, code);
  assert.is(done.status, 303);
  assert.is(done.location, '/employer');
  const [user] = await employerAccounts(phone);
  assert.equal(
    { role: user!.role, login: user!.login, phone: user!.phone, displayName: user!.displayName, employerId: user!.employerId },
    { role: 'employer', login: phone, phone, displayName: phone, employerId: null },
  );
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'account.registered'), eq(events.subjectId, String(user!.id))));
  assert.equal({ type: event!.subjectType, actor: event!.actorUserId, role: event!.actorRole, ip: event!.ip }, { type: 'user', actor: user!.id, role: 'employer', ip: '10.40.0.1' });

  const home = await c.get('/employer');
  assert.is(home.status, 200, 'signed in to the 工作台');
  assert.is(textOf(home.doc, '#verification-status'), '未认证');
  assert.is((await c.post('/logout', {})).status, 303);
  assert.is((await c.get('/employer')).status, 303, 'signed out');
  const signIn = await c.post('/employer/login', { login: phone, password: PASSWORD });
  assert.is(signIn.status, 303);
  assert.is(signIn.location, '/employer');
});

test('E1 register: the phone is checked before a code is sent', async () => {
  const c = t.client('10.41.0.1');
  const empty = await c.post('/employer/register', { phone: '' });
  assert.is(empty.status, 422);
  assert.is(textOf(empty.doc, '#phone-error'), '请输入手机号');
  const malformed = await c.post('/employer/register', { phone: '2345678901a' });
  assert.is(malformed.status, 422);
  assert.is(textOf(malformed.doc, '#phone-error'), '请输入 11 位手机号');
  assert.is(fieldValue(malformed.doc, 'phone'), '2345678901a', 'the typed phone is kept');
  assert.is((await t.db.select().from(outbox).where(eq(outbox.recipient, '2345678901a'))).length, 0);
});

test('SMS code abuse: a wrong code is refused and counted; the typed values stay, the passwords do not; the right code still works', async () => {
  const phone = freshPhone();
  const c = t.client('10.42.0.1');
  const { ticket, code } = await codeFor(c, phone);
  const wrong = await c.post('/employer/register', { ticket, phone, code: otherCode(code), password: PASSWORD, password_confirmation: PASSWORD });
  assert.is(wrong.status, 422);
  assert.is(textOf(wrong.doc, '#code-error'), CODE_MESSAGES.wrong);
  assert.equal([fieldValue(wrong.doc, 'ticket'), fieldValue(wrong.doc, 'phone'), fieldValue(wrong.doc, 'code')], [ticket, phone, otherCode(code)]);
  assert.not.match(wrong.text, PASSWORD, 'passwords are never echoed');
  assert.is((await codeRows(phone))[0]!.attempts, 1);
  assert.is((await employerAccounts(phone)).length, 0);
  assert.is((await completeWith(c, ticket, code)).status, 303);
});

test('SMS code abuse: an expired code is refused', async () => {
  const phone = freshPhone();
  const c = t.client('10.43.0.1');
  const { ticket, code } = await codeFor(c, phone);
  await t.db.update(verificationCodes).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(verificationCodes.phone, phone));
  const res = await completeWith(c, ticket, code);
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#code-error'), CODE_MESSAGES.expired);
  assert.is((await employerAccounts(phone)).length, 0);
});

test('SMS code abuse: after 5 wrong codes the code is dead, even for the right code', async () => {
  const phone = freshPhone();
  const c = t.client('10.44.0.1');
  const { ticket, code } = await codeFor(c, phone);
  const messages = [];
  for (let i = 0; i < CODE_LIMITS.wrongAttempts; i++) messages.push(textOf((await completeWith(c, ticket, otherCode(code))).doc, '#code-error'));
  assert.equal(messages, [...Array(CODE_LIMITS.wrongAttempts - 1).fill(CODE_MESSAGES.wrong), CODE_MESSAGES.exhausted]);
  const right = await completeWith(c, ticket, code);
  assert.is(right.status, 422);
  assert.is(textOf(right.doc, '#code-error'), CODE_MESSAGES.exhausted);
  assert.is((await employerAccounts(phone)).length, 0);
});

test('SMS code abuse: a registration code does not reset a password, and a reset code does not register', async () => {
  const c = t.client('10.45.0.1');
  const phone = freshPhone();
  const registration = await codeFor(c, phone);
  const asReset = await completeWith(c, registration.ticket, registration.code, { path: '/employer/password-reset' });
  assert.is(asReset.status, 422);
  assert.is(textOf(asReset.doc, '#code-error'), CODE_MESSAGES.expired);

  const reset = await codeFor(c, DEMO_ACCOUNTS.employer2.login, '/employer/password-reset');
  const asRegistration = await completeWith(c, reset.ticket, reset.code);
  assert.is(asRegistration.status, 422);
  assert.is(textOf(asRegistration.doc, '#code-error'), CODE_MESSAGES.expired);
  assert.equal((await codeRows(phone)).map((r) => [r.attempts, r.consumedAt]), [[0, null]], 'neither code was used up');
  assert.is((await completeWith(c, registration.ticket, registration.code)).status, 303, 'each still works for its own purpose');
});

test('SMS code abuse: one code per phone per 60 s; a refused resend keeps the code already sent; a new code replaces the older one', async () => {
  const phone = freshPhone();
  const c = t.client('10.46.0.1');
  const first = await codeFor(c, phone);
  const again = await requestCode(t.client('10.46.0.2'), phone);
  assert.is(again.status, 429);
  assert.is(textOf(again.doc, '#form-error'), CODE_MESSAGES.tooSoon);
  const resend = await c.post('/employer/register', { ticket: first.ticket, phone, resend: '1' });
  assert.is(resend.status, 429);
  assert.is(textOf(resend.doc, '#form-error'), CODE_MESSAGES.tooSoon);
  assert.is(fieldValue(resend.doc, 'ticket'), first.ticket, 'still on step two with the same ticket');

  await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, phone));
  const resent = await c.post('/employer/register', { ticket: first.ticket, phone, resend: '1' });
  assert.is(resent.status, 200);
  const second = { ticket: fieldValue(resent.doc, 'ticket'), code: await latestSmsCode(t.db, phone) };
  assert.is.not(second.ticket, first.ticket);
  assert.is(textOf((await completeWith(c, first.ticket, first.code)).doc, '#code-error'), CODE_MESSAGES.expired, 'the older code is dead');
  assert.is((await completeWith(c, second.ticket, second.code)).status, 303);
});

test('SMS code abuse: one phone gets at most 5 codes an hour', async () => {
  const phone = freshPhone();
  for (let i = 0; i < CODE_LIMITS.perPhonePerHour; i++) {
    await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, phone));
    assert.is((await requestCode(t.client(`10.47.0.${i + 1}`), phone)).status, 200);
  }
  await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, phone));
  const sixth = await requestCode(t.client('10.47.1.1'), phone);
  assert.is(sixth.status, 429);
  assert.is(textOf(sixth.doc, '#form-error'), CODE_MESSAGES.tooMany);
});

test('SMS code abuse: one address gets at most 20 codes an hour, whatever the phones and purposes', async () => {
  const c = t.client('10.48.0.1');
  for (let i = 0; i < CODE_LIMITS.perIpPerHour; i++) {
    const path = i % 2 ? '/employer/register' : '/employer/password-reset';
    assert.is((await requestCode(c, freshPhone(), path)).status, 200);
  }
  const blocked = await requestCode(c, freshPhone());
  assert.is(blocked.status, 429);
  assert.is(textOf(blocked.doc, '#form-error'), CODE_MESSAGES.tooMany);
  assert.is((await requestCode(t.client('10.48.0.2'), freshPhone())).status, 200, 'other addresses are not affected');
});

test('E1 register: a weak password or a wrong 密码确认 is refused before the code is tried', async () => {
  const phone = freshPhone();
  const c = t.client('10.49.0.1');
  const { ticket, code } = await codeFor(c, phone);
  const weak = await completeWith(c, ticket, code, { password: 'password' });
  assert.is(weak.status, 422);
  assert.is(textOf(weak.doc, '#password-error'), '密码须包含大写字母、小写字母、数字、符号中的至少三种');
  const short = await completeWith(c, ticket, code, { password: 'Ab#1' });
  assert.is(textOf(short.doc, '#password-error'), '密码长度为 8 至 64 位');
  const mismatch = await completeWith(c, ticket, code, { confirmation: 'Employer#2028' });
  assert.is(mismatch.status, 422);
  assert.is(textOf(mismatch.doc, '#password_confirmation-error'), '两次输入的密码不一致');
  assert.is(fieldValue(mismatch.doc, 'code'), code, 'the typed code is kept');
  assert.is((await codeRows(phone))[0]!.attempts, 0, 'no attempt counted');
  assert.is((await employerAccounts(phone)).length, 0);
  assert.is((await completeWith(c, ticket, code)).status, 303);
});

test('E1 register: a stranger cannot tell a registered phone at step one; whoever enters its code is told it exists and shown 忘记密码', async () => {
  const registered = DEMO_ACCOUNTS.employer2.login;
  const known = await requestCode(t.client('10.50.0.1'), registered);
  const unknown = await requestCode(t.client('10.50.0.2'), freshPhone());
  assert.equal([known.status, stepTwoShape(known.doc)], [unknown.status, stepTwoShape(unknown.doc)]);

  const done = await completeWith(t.client('10.50.0.1'), fieldValue(known.doc, 'ticket'), await latestSmsCode(t.db, registered));
  assert.is(done.status, 409);
  assert.is(textOf(done.doc, '#form-error'), ALREADY_REGISTERED);
  assert.ok(done.doc.querySelector('a[href="/employer/password-reset"]'));
  assert.ok(done.doc.querySelector('a[href="/employer/login"]'));
  assert.is((await employerAccounts(registered)).length, 1, 'no second account');
  assert.is((await t.client('10.50.0.3').post('/employer/login', { login: registered, password: DEMO_ACCOUNTS.employer2.password })).status, 303, 'the password is unchanged');
});

test('E1 register: two completions at once create one account, with one ticket or with two', async () => {
  const phone = freshPhone();
  const { ticket, code } = await codeFor(t.client('10.51.0.1'), phone);
  const sameTicket = await Promise.all([completeWith(t.client('10.51.0.2'), ticket, code), completeWith(t.client('10.51.0.3'), ticket, code)]);
  assert.equal(sameTicket.map((r) => r.status).sort(), [303, 422]);
  assert.is((await employerAccounts(phone)).length, 1);

  // Two live codes for one phone cannot come from the pages (a new code ends the older one), so
  // the older is revived here to race two different tickets into the unique (portal, login) index.
  const other = freshPhone();
  const first = await codeFor(t.client('10.51.1.1'), other);
  await t.db.update(verificationCodes).set({ createdAt: sql`created_at - interval '61 seconds'` }).where(eq(verificationCodes.phone, other));
  const second = await codeFor(t.client('10.51.1.2'), other);
  await t.db.update(verificationCodes).set({ expiresAt: sql`now() + interval '10 minutes'` }).where(eq(verificationCodes.phone, other));
  const twoTickets = await Promise.all([completeWith(t.client('10.51.1.3'), first.ticket, first.code), completeWith(t.client('10.51.1.4'), second.ticket, second.code)]);
  assert.equal(twoTickets.map((r) => r.status).sort(), [303, 409]);
  assert.is(textOf(twoTickets.find((r) => r.status === 409)!.doc, '#form-error'), ALREADY_REGISTERED);
  assert.is((await employerAccounts(other)).length, 1);
});

test('password reset: phone → code → 新密码; the old password and every other session stop working', async () => {
  const { login: phone, password: oldPassword } = DEMO_ACCOUNTS.employer;
  const [account] = await employerAccounts(phone);
  const elsewhere = t.client('10.52.0.1');
  assert.is((await elsewhere.post('/employer/login', { login: phone, password: oldPassword })).status, 303);

  const c = t.client('10.52.0.2');
  const form = await c.get('/employer/password-reset');
  assert.is(textOf(form.doc, 'h1'), '忘记密码');
  const sent = await requestCode(c, phone, '/employer/password-reset');
  assert.is(sent.status, 200);
  assert.match(textOf(sent.doc, '#form-notice')!, '若该手机号已注册用人单位账号，验证码已发送，10 分钟内有效。');
  assert.is(textOf(sent.doc, 'label[for=password]'), '新密码 *');
  const [row] = await codeRows(phone);
  assert.equal({ purpose: row!.purpose, subject: row!.subject }, { purpose: 'reset_password', subject: `user:${account!.id}` });

  const done = await completeWith(c, fieldValue(sent.doc, 'ticket'), await latestSmsCode(t.db, phone), { path: '/employer/password-reset' });
  assert.is(done.status, 303);
  assert.is(done.location, '/employer');
  assert.is((await c.get('/employer')).status, 200);
  assert.is((await elsewhere.get('/employer')).status, 303, 'the other session ended');
  assert.is((await t.db.select().from(sessions).where(eq(sessions.userId, account!.id))).length, 1, 'only the resetting browser is signed in');
  assert.is((await t.client('10.52.0.3').post('/employer/login', { login: phone, password: oldPassword })).status, 422);
  assert.is((await t.client('10.52.0.4').post('/employer/login', { login: phone, password: PASSWORD })).status, 303);
  const [event] = await t.db.select().from(events).where(and(eq(events.action, 'account.password_reset'), eq(events.subjectId, String(account!.id))));
  assert.equal({ type: event!.subjectType, actor: event!.actorUserId, ip: event!.ip }, { type: 'user', actor: account!.id, ip: '10.52.0.2' });
});

test('password reset: a phone without an account gets the same page, and its SMS carries no code', async () => {
  const registered = DEMO_ACCOUNTS.employerUnverified.login;
  const unregistered = freshPhone();
  const known = await requestCode(t.client('10.53.0.1'), registered, '/employer/password-reset');
  const unknown = await requestCode(t.client('10.53.0.2'), unregistered, '/employer/password-reset');
  assert.equal([known.status, stepTwoShape(known.doc)], [unknown.status, stepTwoShape(unknown.doc)]);
  const [sms] = await t.db.select().from(outbox).where(eq(outbox.recipient, unregistered));
  assert.match(sms!.body, '本手机号尚未注册用人单位账号');
  assert.not.match(sms!.body, /\d{6}/);

  const guess = await completeWith(t.client('10.53.0.2'), fieldValue(unknown.doc, 'ticket'), '123456', { path: '/employer/password-reset' });
  assert.is(guess.status, 422);
  assert.is(textOf(guess.doc, '#code-error'), CODE_MESSAGES.wrong, 'the same answer as a wrong code for a real account');
  assert.is((await requestCode(t.client('10.53.0.3'), unregistered, '/employer/password-reset')).status, 429, 'and the same 60 s limit');
});

test('password reset: a graduate\'s reset code does not reset the graduate\'s password through the employer page', async () => {
  const [graduate] = await t.db
    .select({ name: graduates.name, phone: sql<string>`coalesce(${users.phone}, ${graduates.phone})`, sealed: graduates.idNumberSealed })
    .from(users)
    .innerJoin(graduates, eq(graduates.id, users.graduateId))
    .orderBy(asc(users.id))
    .limit(1);
  const c = t.client('10.54.0.1');
  const sent = await c.post('/student/password-reset', { name: graduate!.name, login: openedIdNumber(graduate!.sealed) });
  assert.is(sent.status, 200);
  const res = await completeWith(c, fieldValue(sent.doc, 'ticket'), await latestSmsCode(t.db, graduate!.phone), { path: '/employer/password-reset' });
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#form-error'), NO_EMPLOYER_ACCOUNT);
  assert.is((await t.client('10.54.0.2').post('/student/login', { login: openedIdNumber(graduate!.sealed), password: DEMO_ACCOUNTS.student.password })).status, 303);
});

test('the employer sign-in page links to 注册 and 忘记密码', async () => {
  const page = await t.client().get('/employer/login');
  assert.ok(page.doc.querySelector('#account-links a[href="/employer/register"]'));
  assert.ok(page.doc.querySelector('#account-links a[href="/employer/password-reset"]'));
  assert.is(textOf(page.doc, '#account-links'), '注册 · 忘记密码');
});

test('a signed-in employer visiting 用户注册 or 忘记密码 goes to the 工作台', async () => {
  const c = await t.signInAs('employer2');
  for (const path of ['/employer/register', '/employer/password-reset']) {
    const res = await c.get(path);
    assert.is(res.status, 303);
    assert.is(res.location, '/employer');
  }
});

test.run();
