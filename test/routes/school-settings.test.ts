import { and, eq } from 'drizzle-orm';
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

const VALID = { reviewMode: 'school_only', maxTerminations: '3', handlerName: '李老师', handlerPhone: '010-62750002', address: '北京市海淀区示范路 1 号', postcode: '100871' };
const school1 = async () => (await t.db.select().from(schools).where(eq(schools.code, '10001')))[0]!;

test('S4 签约设置: the form shows the current settings with the guide words', async () => {
  const c = await t.signInAs('school');
  const page = await c.get('/school/settings');
  assert.is(page.status, 200);
  assert.ok(page.doc.querySelector('#onlineSigning[checked]'));
  assert.is(page.doc.querySelector('label[for=maxTerminations]')!.textContent!.trim().replace(/\s*\*$/, ''), '毕业生可提交解约申请最大次数');
  assert.is((page.doc.querySelector('#handlerName') as unknown as { value: string }).value, '陈老师');
});

test('S4 turning online signing on also turns on 补登 and 去向登记; the change writes one event row', async () => {
  await t.db.update(schools).set({ onlineSigning: false, paperRegistration: false, destinationRegistration: false }).where(eq(schools.code, '10001'));
  const c = await t.signInAs('school');
  const res = await c.post('/school/settings', { ...VALID, onlineSigning: 'on' });
  assert.is(res.status, 303);
  const s = await school1();
  assert.equal([s.onlineSigning, s.paperRegistration, s.destinationRegistration], [true, true, true]);
  assert.is(s.reviewMode, 'school_only');
  assert.is(s.maxTerminations, 3);
  const rows = await t.db.select().from(events).where(and(eq(events.subjectType, 'school'), eq(events.action, 'school.signing_settings_changed')));
  assert.is(rows.length, 1);
  assert.is(rows[0]!.actorRole, 'school');
  assert.equal((rows[0]!.data as Record<string, { from: unknown; to: unknown }>).onlineSigning, { from: false, to: true });
  const saved = await c.get(res.location!);
  assert.is(textOf(saved.doc, '#form-notice'), '签约设置已保存。');
});

test('S4 补登 and 去向登记 can be switched off on their own while online signing stays on', async () => {
  const c = await t.signInAs('school');
  await c.post('/school/settings', { ...VALID, onlineSigning: 'on' });
  const s = await school1();
  assert.equal([s.onlineSigning, s.paperRegistration, s.destinationRegistration], [true, false, false]);
});

test('S4 validation: max terminations is an integer 0–99, postcode 6 digits, phone and address required; nothing is saved', async () => {
  const c = await t.signInAs('school');
  const before = await school1();
  for (const [field, value, message] of [
    ['maxTerminations', '100', '请填写 0 至 99 的整数'],
    ['maxTerminations', '-1', '请填写 0 至 99 的整数'],
    ['maxTerminations', '2.5', '请填写 0 至 99 的整数'],
    ['postcode', '10087', '邮政编码为 6 位数字'],
    ['handlerPhone', '12345', '请填写手机号或带区号的固定电话，如 010-62750001'],
    ['handlerName', '', '请填写就业协议经办人'],
    ['reviewMode', 'anyone', '请选择审核方式'],
  ] as const) {
    const res = await c.post('/school/settings', { ...VALID, onlineSigning: 'on', [field]: value });
    assert.is(res.status, 422, `${field}=${value}`);
    assert.is(textOf(res.doc, `#${field}-error`), message);
    assert.is((res.doc.querySelector('#address') as unknown as { value: string }).value, VALID.address, 'typed values are kept');
  }
  assert.equal(await school1(), before);
  const edge = await c.post('/school/settings', { ...VALID, onlineSigning: 'on', maxTerminations: '0' });
  assert.is(edge.status, 303, '0 is allowed');
  assert.is((await school1()).maxTerminations, 0);
  assert.is((await c.post('/school/settings', { ...VALID, onlineSigning: 'on', maxTerminations: '99' })).status, 303);
});

test('S4 only the school user: a department user gets 403, another school changes only its own settings', async () => {
  const dept = await t.signInAs('department');
  assert.is((await dept.get('/school/settings')).status, 403);
  assert.is((await dept.post('/school/settings', { ...VALID, onlineSigning: 'on' })).status, 403);
  const before = await school1();
  const other = await t.signInAs('school2');
  assert.is((await other.post('/school/settings', { ...VALID, handlerName: '王老师' })).status, 303);
  assert.is((await school1()).handlerName, before.handlerName);
  assert.is((await t.db.select().from(schools).where(eq(schools.code, '10002')))[0]!.handlerName, '王老师');
});

test('S3 the province sets the agreement type for its schools; the school pages show the matching verb', async () => {
  const bj = await t.signInAs('province');
  const page = await bj.get('/province/settings');
  assert.ok(page.doc.querySelector('input[name=agreementType][value=three_party][checked]'));
  const res = await bj.post('/province/settings', { agreementType: 'two_party' });
  assert.is(res.status, 303);
  const [p] = await t.db.select().from(provinces).where(eq(provinces.code, '11'));
  assert.is(p!.agreementType, 'two_party');
  const [e] = await t.db.select().from(events).where(eq(events.action, 'province.agreement_type_changed'));
  assert.equal([e!.fromState, e!.toState], ['three_party', 'two_party']);
  const school = await (await t.signInAs('school')).get('/school');
  assert.is(textOf(school.doc, '#agreement-type'), '两方协议（学校、院系鉴证）');
  assert.is((await bj.post('/province/settings', { agreementType: 'four_party' })).status, 422);
  await bj.post('/province/settings', { agreementType: 'three_party' });
});

test('S3 province ↔ province: Shanghai changes only Shanghai; schools cannot set it', async () => {
  const sh = await t.signInAs('province2');
  await sh.post('/province/settings', { agreementType: 'three_party' });
  const rows = await t.db.select().from(provinces).orderBy(provinces.code);
  assert.equal(rows.map((r) => [r.code, r.agreementType]), [['11', 'three_party'], ['31', 'three_party']]);
  await sh.post('/province/settings', { agreementType: 'two_party' });
  const school = await t.signInAs('school');
  assert.is((await school.post('/province/settings', { agreementType: 'two_party' })).status, 403);
});

test.run();
