import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { departments, events, schools, users } from '../../db/schema/index.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
let csId: number;
let emId: number;
let otherSchoolDeptId: number;
test.before(async () => {
  t = await setupApp();
  const rows = await t.db.select({ id: departments.id, name: departments.name, code: schools.code }).from(departments).innerJoin(schools, eq(schools.id, departments.schoolId));
  csId = rows.find((r) => r.name === '计算机学院')!.id;
  emId = rows.find((r) => r.name === '经济管理学院')!.id;
  otherSchoolDeptId = rows.find((r) => r.code === '10002')!.id;
});
test.after(async () => {
  await t.close();
});

test('S2 账号管理 lists the school department users', async () => {
  const c = await t.signInAs('school');
  const page = await c.get('/school/accounts');
  const logins = [...page.doc.querySelectorAll('#accounts tbody tr td:first-child')].map((td) => td.textContent);
  assert.equal(logins.sort(), ['10001-cs', '10001-em']);
});

test('S2 create a department user: the 院系 must be a roster department of this school; the one-time password signs in', async () => {
  const c = await t.signInAs('school');
  const form = await c.get('/school/accounts/new');
  const options = [...form.doc.querySelectorAll('#departmentId option')].map((o) => o.textContent);
  assert.is(options[0], '请选择');
  assert.equal(options.slice(1).sort(), ['经济管理学院', '计算机学院'].sort());

  const foreign = await c.post('/school/accounts', { login: '10001-x', displayName: '外校', departmentId: String(otherSchoolDeptId) });
  assert.is(foreign.status, 422);
  assert.is(textOf(foreign.doc, '#departmentId-error'), '院系须为本校学生名单中的院系');

  const bad = await c.post('/school/accounts', { login: 'a b', displayName: '', departmentId: '' });
  assert.is(bad.status, 422);
  assert.ok(textOf(bad.doc, '#login-error'));
  assert.is(textOf(bad.doc, '#displayName-error'), '请填写名称');

  const taken = await c.post('/school/accounts', { login: '10001-cs', displayName: '重复', departmentId: String(csId) });
  assert.is(taken.status, 422);
  assert.is(textOf(taken.doc, '#login-error'), '该用户名已被使用');

  const ok = await c.post('/school/accounts', { login: '10001-cs2', displayName: '计算机学院 教务', departmentId: String(csId) });
  assert.is(ok.status, 200);
  const password = textOf(ok.doc, '#password')!;
  assert.ok(password.length >= 12);
  const fresh = t.client();
  assert.is((await fresh.post('/school/login', { login: '10001-cs2', password })).status, 303);
  const home = await fresh.get('/school');
  assert.match(textOf(home.doc, '#school')!, '计算机学院');
  const [e] = await t.db.select().from(events).where(eq(events.action, 'account.created'));
  assert.ok(e, 'event row');
});

test('S2 edit, disable and enable a department user; a disabled user is signed out', async () => {
  const c = await t.signInAs('school');
  const [em] = await t.db.select().from(users).where(eq(users.login, '10001-em'));
  const emUser = await t.signInAs('department2');
  assert.is((await c.post(`/school/accounts/${em!.id}`, { displayName: '经管学院', departmentId: String(emId) })).status, 303);
  assert.is((await t.db.select().from(users).where(eq(users.id, em!.id)))[0]!.displayName, '经管学院');
  assert.is((await c.post(`/school/accounts/${em!.id}/disabled`, { disabled: '1' })).status, 303);
  assert.is((await emUser.get('/school')).status, 303, 'signed out');
  const list = await c.get('/school/accounts');
  assert.match(textOf(list.doc, `#account-${em!.id}`)!, '已停用');
  await c.post(`/school/accounts/${em!.id}/disabled`, { disabled: '0' });
  assert.is((await t.db.select().from(users).where(eq(users.id, em!.id)))[0]!.disabled, false);
});

test('S2 reset a password: a confirmation page first, then a new one-time password; the old one stops working', async () => {
  const c = await t.signInAs('school');
  const [cs] = await t.db.select().from(users).where(eq(users.login, '10001-cs'));
  const confirm = await c.get(`/school/accounts/${cs!.id}/password-reset`);
  assert.ok(confirm.doc.querySelector('#confirm-reset'));
  const res = await c.post(`/school/accounts/${cs!.id}/password-reset`, {});
  const password = textOf(res.doc, '#password')!;
  assert.is((await t.client('10.7.0.1').post('/school/login', { login: '10001-cs', password: 'Dept#2026' })).status, 422);
  assert.is((await t.client().post('/school/login', { login: '10001-cs', password })).status, 303);
});

test('S2 boundaries: another school gets 404 on these accounts; department users cannot manage accounts', async () => {
  const [cs] = await t.db.select().from(users).where(and(eq(users.login, '10001-cs')));
  const other = await t.signInAs('school2');
  assert.is((await other.get(`/school/accounts/${cs!.id}/edit`)).status, 404);
  assert.is((await other.post(`/school/accounts/${cs!.id}/disabled`, { disabled: '1' })).status, 404);
  assert.is((await other.post(`/school/accounts/${cs!.id}/password-reset`, {})).status, 404);
  assert.not.match((await other.get('/school/accounts')).text, '10001-cs');
  const [schoolUser] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const c = await t.signInAs('school');
  assert.is((await c.get(`/school/accounts/${schoolUser!.id}/edit`)).status, 404, 'the school user is not a department account');
  const dept = await t.signInAs('department2');
  assert.is((await dept.get('/school/accounts')).status, 403);
});

test.run();
