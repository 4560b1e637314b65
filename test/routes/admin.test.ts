import { eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { events, provinces, schools } from '../../db/schema/index.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

test('platform admin: create a province and a school, then the school first account that signs in', async () => {
  const c = await t.signInAs('admin');
  assert.is((await c.post('/admin/provinces', { code: '44', name: '广东省', agreementType: 'two_party' })).status, 303);
  const dup = await c.post('/admin/provinces', { code: '44', name: '广东', agreementType: 'two_party' });
  assert.is(dup.status, 422);
  assert.is(textOf(dup.doc, '#code-error'), '省份代码已存在');
  const [gd] = await t.db.select().from(provinces).where(eq(provinces.code, '44'));
  assert.is(gd!.agreementType, 'two_party');

  const bad = await c.post('/admin/schools', { code: '1000', name: '', provinceId: '' });
  assert.is(bad.status, 422);
  assert.is(textOf(bad.doc, '#code-error'), '学校代码为 5 位数字，如 10001');
  const created = await c.post('/admin/schools', { code: '10558', name: '岭南示例大学', provinceId: String(gd!.id) });
  assert.is(created.status, 303);
  const show = await c.get(created.location!);
  assert.ok(show.doc.querySelector('#no-accounts'));
  const account = await c.post(`${created.location!.split('?')[0]}/accounts`, { login: '10558-admin', displayName: '就业指导中心' });
  const password = textOf(account.doc, '#password')!;
  const school = t.client();
  assert.is((await school.post('/school/login', { login: '10558-admin', password })).status, 303);
  const home = await school.get('/school');
  assert.match(textOf(home.doc, '#school')!, '岭南示例大学');
  assert.is(textOf(home.doc, '#agreement-type'), '两方协议（学校、院系鉴证）');
  assert.ok((await t.db.select().from(events).where(eq(events.action, 'school.created'))).length === 1);
});

test('platform admin: the school list searches, filters by province and pages', async () => {
  const c = await t.signInAs('admin');
  const all = await c.get('/admin/schools');
  assert.ok(Number(/\d+/.exec(textOf(all.doc, '#total')!)![0]) >= 2);
  const search = await c.get('/admin/schools?q=示例理工');
  assert.equal([...search.doc.querySelectorAll('#schools tbody tr td:nth-child(2)')].map((td) => td.textContent), ['示例理工大学']);
  const [sh] = await t.db.select().from(provinces).where(eq(provinces.code, '31'));
  const byProvince = await c.get(`/admin/schools?province=${sh!.id}`);
  assert.equal([...byProvince.doc.querySelectorAll('#schools tbody tr td:first-child')].map((td) => td.textContent), ['10002']);
});

test('platform admin: edit a school; other roles get 403 on every admin page', async () => {
  const c = await t.signInAs('admin');
  const [s] = await t.db.select().from(schools).where(eq(schools.code, '10002'));
  assert.is((await c.post(`/admin/schools/${s!.id}`, { code: '10002', name: '示例理工大学（新校区）', provinceId: String(s!.provinceId) })).status, 303);
  assert.is((await t.db.select().from(schools).where(eq(schools.id, s!.id)))[0]!.name, '示例理工大学（新校区）');
  assert.is((await c.get('/admin/schools/999999')).status, 404);
  for (const who of ['school', 'province', 'employer'] as const) {
    const other = await t.signInAs(who);
    assert.is((await other.get('/admin/schools')).status, 403);
    assert.is((await other.post('/admin/provinces', { code: '45', name: 'x', agreementType: 'two_party' })).status, 403);
  }
});

test.run();
