import { eq, sql } from 'drizzle-orm';
import { idNumberLookup, openedIdNumber } from '../../db/id-number-keys.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { captchas, graduates, loginAttempts, sessions, users } from '../../db/schema/index.ts';
import { sessionIdOf } from '../../domain/auth/sessions.ts';
import { LOGIN_LIMITS, TOO_MANY_ATTEMPTS, WRONG_CREDENTIALS } from '../../domain/auth/sign-in.ts';
import { appOnDb, DEMO_ACCOUNTS, firstStudentLogin, setupApp, type DemoAccount, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

const HOMES: Array<[DemoAccount, string, string]> = [
  ['student', '/student', '#roster-record'],
  ['employer', '/employer', '#verification-status'],
  ['school', '/school', '#school'],
  ['department', '/school', '#school'],
  ['province', '/province', '#schools'],
  ['admin', '/admin', '#platform-counts'],
];

for (const [account, home, marker] of HOMES) {
  test(`sign-in and sign-out: ${account} reaches ${home} and leaves`, async () => {
    const c = await t.signInAs(account);
    const page = await c.get(home);
    assert.is(page.status, 200);
    assert.ok(page.doc.querySelector(marker), `${marker} on ${home}`);
    assert.ok(page.doc.querySelector('#sign-out'), 'sign-out is always visible');
    const out = await c.post('/logout', {});
    assert.is(out.status, 303);
    assert.is(out.location, '/?signed_out=1');
    assert.is(c.cookies.size, 0);
    const again = await c.get(home);
    assert.is(again.status, 303);
    assert.ok(again.location!.startsWith(`${home}/login`));
  });
}

test('sign-in: a graduate can use the roster phone instead of the ID number', async () => {
  const [u] = await t.db.select().from(users).where(eq(users.role, 'student')).limit(1);
  const res = await t.client().post('/student/login', { login: u!.phone!, password: DEMO_ACCOUNTS.student.password });
  assert.is(res.status, 303);
  assert.is(res.location, '/student');
});

test('sign-in: the sign-in pages use the guides words and each asks for what its portal needs', async () => {
  const c = t.client();
  assert.is(textOf((await c.get('/student/login')).doc, 'h1'), '学生登录');
  assert.is(textOf((await c.get('/employer/login')).doc, 'h1'), '单位登录');
  assert.is(textOf((await c.get('/student/login')).doc, 'label[for=login]'), '手机号/身份证号');
  assert.is(textOf((await c.get('/school/login')).doc, 'label[for=login]'), '用户名');
});

test('wrong password and unknown user get the same message', async () => {
  const c = t.client('10.1.0.1');
  const wrong = await c.post('/school/login', { login: '10001-admin', password: 'nope' });
  const unknown = await c.post('/school/login', { login: 'nobody-here', password: 'nope' });
  assert.is(wrong.status, 422);
  assert.is(unknown.status, 422);
  assert.is(textOf(wrong.doc, '#form-error'), WRONG_CREDENTIALS);
  assert.is(textOf(unknown.doc, '#form-error'), WRONG_CREDENTIALS);
  assert.is((wrong.doc.querySelector('#login') as unknown as { value: string }).value, '10001-admin', 'the typed login is kept');
  assert.is(c.cookies.size, 0);
});

test('an empty form is answered with field messages, not a crash', async () => {
  const res = await t.client('10.1.0.2').post('/employer/login', { login: '', password: '' });
  assert.is(res.status, 422);
  assert.is(textOf(res.doc, '#login-error'), '请输入账号');
  assert.is(textOf(res.doc, '#password-error'), '请输入密码');
});

test('rate limit: after 5 failures the account is locked even for the right password, and it survives a new app', async () => {
  const c = t.client('10.2.0.1');
  for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) {
    assert.is((await c.post('/employer/login', { login: '13800000002', password: `bad-${i}` })).status, 422);
  }
  const locked = await c.post('/employer/login', { login: '13800000002', password: DEMO_ACCOUNTS.employer2.password });
  assert.is(locked.status, 429);
  assert.is(textOf(locked.doc, '#form-error'), TOO_MANY_ATTEMPTS);
  // Another process on the same database sees the same count.
  const other = await appOnDb(t.db);
  assert.is((await other.client('10.2.0.2').post('/employer/login', { login: '13800000002', password: DEMO_ACCOUNTS.employer2.password })).status, 429);
  // The window passes: the account opens again.
  await t.db.update(loginAttempts).set({ createdAt: sql`now() - interval '16 minutes'` });
  assert.is((await c.post('/employer/login', { login: '13800000002', password: DEMO_ACCOUNTS.employer2.password })).status, 303);
});

test('rate limit: failures count per account, not per typed login: a graduate locked by phone is locked by ID number too, from another address', async () => {
  const [row] = await t.db.select({ u: users, sealed: graduates.idNumberSealed }).from(users).innerJoin(graduates, eq(graduates.id, users.graduateId)).where(sql`${users.role} = 'student' and ${users.phone} is not null and ${users.login} <> ${idNumberLookup(await firstStudentLogin(t.db))}`).limit(1);
  const graduate = row && { ...row.u, idNumber: openedIdNumber(row.sealed) };
  assert.ok(graduate?.phone, 'a graduate with a phone');
  const byPhone = t.client('10.4.0.1');
  for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) assert.is((await byPhone.post('/student/login', { login: graduate!.phone!, password: `bad-${i}` })).status, 422);
  const byId = await t.client('10.4.0.2').post('/student/login', { login: graduate!.idNumber, password: DEMO_ACCOUNTS.student.password });
  assert.is(byId.status, 429, 'the ID-number login of the same account is locked');
  assert.is(textOf(byId.doc, '#form-error'), TOO_MANY_ATTEMPTS);
  // A login that names no account is still counted by what was typed.
  const nobody = t.client('10.4.0.3');
  for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) assert.is((await nobody.post('/student/login', { login: '13700009999', password: 'x' })).status, 422);
  assert.is((await t.client('10.4.0.4').post('/student/login', { login: '13700009999', password: 'x' })).status, 429);
});

test('rate limit: one IP guessing many accounts is stopped after 20 failures', async () => {
  const c = t.client('10.3.0.1');
  for (let i = 0; i < LOGIN_LIMITS.perIp; i++) {
    assert.is((await c.post('/employer/login', { login: `1380000${String(1000 + i)}`, password: 'x' })).status, 422);
  }
  assert.is((await c.post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password })).status, 429);
  assert.is((await t.client('10.3.0.2').post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password })).status, 303);
});

test('rate limit: 10 parallel guesses on one account record at most the limit before locking', async () => {
  const c = t.client('10.4.0.1');
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => c.post('/school/login', { login: '10002-admin', password: `p${i}` })));
  const statuses = results.map((r) => r.status).sort();
  assert.is(statuses.filter((s) => s === 422).length, LOGIN_LIMITS.perAccount);
  assert.is(statuses.filter((s) => s === 429).length, 10 - LOGIN_LIMITS.perAccount);
});

test('rate limit behind a proxy (TRUST_PROXY): the client address is the last X-Forwarded-For entry, not a forged one', async () => {
  const proxied = appOnDb(t.db, { TRUST_PROXY: 'on' });
  const viaProxy = proxied.client('10.9.9.9');
  for (let i = 0; i < LOGIN_LIMITS.perIp; i++) {
    const forged = `192.0.2.${i}, 203.0.113.7`;
    assert.is((await viaProxy.post('/employer/login', { login: `1381111${String(1000 + i)}`, password: 'x' }, { 'x-forwarded-for': forged })).status, 422);
  }
  const blocked = await viaProxy.post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password }, { 'x-forwarded-for': '203.0.113.7' });
  assert.is(blocked.status, 429, 'the client behind the proxy is limited');
  const other = await viaProxy.post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password }, { 'x-forwarded-for': '203.0.113.8' });
  assert.is(other.status, 303, 'another client behind the same proxy is not');
});

test('S1 captcha: school, province and admin sign-in require the image captcha; students and employers do not', async () => {
  const withCaptcha = await appOnDb(t.db, { CAPTCHA: 'on' });
  const c = withCaptcha.client('10.5.0.1');
  for (const portal of ['school', 'province', 'admin']) {
    const page = await c.get(`/${portal}/login`);
    const img = page.doc.querySelector('#captcha-image');
    assert.ok(img, `${portal} shows a captcha`);
    const png = await c.get(img!.getAttribute('src')!);
    assert.is(png.headers.get('content-type'), 'image/png');
  }
  assert.not.ok((await c.get('/student/login')).doc.querySelector('#captcha-image'));
  assert.not.ok((await c.get('/employer/login')).doc.querySelector('#captcha-image'));

  const missing = await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password });
  assert.is(missing.status, 422);
  assert.is(textOf(missing.doc, '#captcha-error'), '图片验证码错误');

  const page = await c.get('/school/login');
  const id = page.doc.querySelector('input[name=captcha_id]')!.getAttribute('value')!;
  const [row] = await t.db.select().from(captchas).where(eq(captchas.id, id));
  const wrong = await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, captcha_id: id, captcha: 'ZZZZ' });
  assert.is(wrong.status, 422);
  const reused = await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, captcha_id: id, captcha: row!.answer });
  assert.is(reused.status, 422, 'a captcha is used once');

  const fresh = await c.get('/school/login');
  const id2 = fresh.doc.querySelector('input[name=captcha_id]')!.getAttribute('value')!;
  const [row2] = await t.db.select().from(captchas).where(eq(captchas.id, id2));
  const ok = await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, captcha_id: id2, captcha: row2!.answer.toLowerCase() });
  assert.is(ok.status, 303);
});

test('CSRF: a cross-origin POST is refused; same-origin, Sec-Fetch-Site and same-origin Referer pass', async () => {
  const student = await firstStudentLogin(t.db);
  const form = { login: student, password: DEMO_ACCOUNTS.student.password };
  const cross = await t.client().post('/student/login', form, { origin: 'https://evil.example' });
  assert.is(cross.status, 403);
  assert.is(textOf(cross.doc, 'h1'), '请求被拒绝');
  assert.is((await t.client().post('/student/login', form, { origin: '', 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.is((await t.client().post('/student/login', form, { origin: '', referer: 'https://evil.example/x' })).status, 403);
  assert.is((await t.client().post('/student/login', form, { origin: '' })).status, 403, 'no origin information at all');
  assert.is((await t.client().post('/student/login', form)).status, 303);
  assert.is((await t.client().post('/student/login', form, { origin: '', 'sec-fetch-site': 'same-origin' })).status, 303);
  assert.is((await t.client().post('/student/login', form, { origin: '', referer: 'http://localhost/student/login' })).status, 303, 'old browsers send only a Referer');
  const signedIn = await t.signInAs('school');
  const logout = await signedIn.post('/logout', {}, { origin: 'https://evil.example' });
  assert.is(logout.status, 403, 'a cross-site page cannot sign a user out either');
});

test('sessions: the cookie is HttpOnly, SameSite=Lax, and only the token hash is stored', async () => {
  const c = t.client();
  const res = await c.post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password });
  const cookie = res.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.not.match(cookie, /Secure/, 'plain http in tests');
  const token = c.cookies.get('wq_session')!;
  assert.ok(token.length >= 32);
  assert.is((await t.db.select().from(sessions).where(eq(sessions.id, token))).length, 0, 'raw token not stored');
  assert.is((await t.db.select().from(sessions).where(eq(sessions.id, sessionIdOf(token)))).length, 1);
});

test('sessions: the cookie is Secure when served over https', async () => {
  const https = await appOnDb(t.db, { ORIGIN: 'https://wq.example.edu.cn' });
  const c = https.client();
  const res = await c.post('/employer/login', { login: '13800000001', password: DEMO_ACCOUNTS.employer.password }, { origin: 'https://wq.example.edu.cn' });
  assert.is(res.status, 303);
  assert.match(res.headers.get('set-cookie')!, /Secure/);
});

test('sessions: signing in again rotates the session and the old token stops working', async () => {
  const c = await t.signInAs('school');
  const first = c.cookies.get('wq_session')!;
  await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password });
  const second = c.cookies.get('wq_session')!;
  assert.is.not(first, second);
  assert.is((await t.db.select().from(sessions).where(eq(sessions.id, sessionIdOf(first)))).length, 0);
  const stale = t.client();
  stale.cookies.set('wq_session', first);
  assert.is((await stale.get('/school')).status, 303);
});

test('sessions: school and employer sessions end after 30 idle minutes; a graduate is still signed in', async () => {
  const school = await t.signInAs('school');
  const student = await t.signInAs('student');
  await t.db.update(sessions).set({ lastSeenAt: sql`now() - interval '31 minutes'` });
  assert.is((await school.get('/school')).status, 303);
  assert.is((await student.get('/student')).status, 200);
  const employer = await t.signInAs('employer');
  await t.db.update(sessions).set({ lastSeenAt: sql`now() - interval '29 minutes'` }).where(eq(sessions.id, sessionIdOf(employer.cookies.get('wq_session')!)));
  assert.is((await employer.get('/employer')).status, 200, 'activity within 30 minutes keeps the session');
});

test('sessions: no session outlives its absolute lifetime, however active', async () => {
  const c = await t.signInAs('student');
  const id = sessionIdOf(c.cookies.get('wq_session')!);
  await t.db.update(sessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(sessions.id, id));
  assert.is((await c.get('/student')).status, 303);
  assert.is((await t.db.select().from(sessions).where(eq(sessions.id, id))).length, 0, 'the dead session is deleted');
});

test('guards: a wrong role gets 403 with a Chinese page; no session redirects to that portal sign-in', async () => {
  const student = await t.signInAs('student');
  for (const path of ['/school', '/employer', '/province', '/admin', '/school/graduates']) {
    const res = await student.get(path);
    assert.is(res.status, 403, path);
    assert.is(textOf(res.doc, 'h1'), '无权访问');
  }
  const anon = await t.client().get('/school/graduates?page=2');
  assert.is(anon.status, 303);
  assert.is(anon.location, '/school/login?next=%2Fschool%2Fgraduates');
  const htmx = await t.client().get('/admin', { 'hx-request': 'true' });
  assert.is(htmx.headers.get('hx-redirect'), '/admin/login?next=%2Fadmin');
});

test('sign-in returns to the page that asked for it, never to another site', async () => {
  const c = t.client();
  const res = await c.post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, next: '/school/graduates' });
  assert.is(res.location, '/school/graduates');
  const evil = await t.client().post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, next: '//evil.example/x' });
  assert.is(evil.location, '/school');
  const otherPortal = await t.client().post('/school/login', { login: '10001-admin', password: DEMO_ACCOUNTS.school.password, next: '/admin' });
  assert.is(otherPortal.location, '/school');
});

test('a disabled account cannot sign in and its sessions stop working', async () => {
  const c = await t.signInAs('department2');
  await t.db.update(users).set({ disabled: true }).where(eq(users.login, '10001-em'));
  assert.is((await c.get('/school')).status, 303);
  const res = await t.client('10.6.0.1').post('/school/login', { login: '10001-em', password: DEMO_ACCOUNTS.department2.password });
  assert.is(res.status, 403);
  await t.db.update(users).set({ disabled: false }).where(eq(users.login, '10001-em'));
});

test.run();
