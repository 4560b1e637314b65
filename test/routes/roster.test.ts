import { idOf } from '../helpers/graduates.ts';
import { idNumberLookup, storedIdNumber, withStoredIdNumber } from '../../db/id-number-keys.ts';
import { and, eq, isNull } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { events, graduates, schools } from '../../db/schema/index.ts';
import { makeIdNumber, maskIdNumber } from '../../domain/codes/id-number.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
let school1Id: number;
test.before(async () => {
  t = await setupApp();
  school1Id = (await t.db.select().from(schools).where(eq(schools.code, '10001')))[0]!.id;
});
test.after(async () => {
  await t.close();
});

const NEW_GRADUATE = {
  cohort: '2026',
  examNo: '',
  name: '欧阳新',
  sex: '1',
  idNumber: makeIdNumber('110108', '2003-05-06', 321, '1'),
  ethnicity: '01',
  politicalStatus: '03',
  birthDate: '2003-05-06',
  departmentName: '计算机学院',
  educationLevel: '31',
  majorName: '软件工程',
  majorCode: '080902',
  trainingMode: '1',
  originRegion: '110108',
  studentNo: '2022019999',
  programYears: '4',
  enrolledOn: '2022-09',
  graduatesOn: '2026-06',
  phone: '13912345678',
  email: 'oyx@stu.example.edu.cn',
};
const ids = (res: { doc: { querySelectorAll: (s: string) => Iterable<{ id: string }> } }) => [...res.doc.querySelectorAll('#graduates tbody tr')].map((r) => Number(r.id.replace('graduate-', '')));

test('S5 filters: 院系, 学历层次, 培养方式 and 确认状态 narrow the list; the pager keeps them', async () => {
  const c = await t.signInAs('school');
  const all = await c.get('/school/graduates');
  assert.is(textOf(all.doc, '#total'), '共 40 人');
  const modes = await c.get('/school/graduates?mode=21');
  assert.is(textOf(modes.doc, '#total'), '共 1 人');
  const doctors = await c.get('/school/graduates?level=01');
  assert.ok([...doctors.doc.querySelectorAll('#graduates tbody tr td:nth-child(6)')].every((td) => td.textContent === '博士'));
  const deptOption = [...all.doc.querySelectorAll('#department option')].find((o) => o.textContent === '计算机学院')!;
  const byDept = await c.get(`/school/graduates?department=${deptOption.getAttribute('value')}`);
  assert.is(textOf(byDept.doc, '#total'), '共 20 人');
  const [someone] = await t.db.select().from(graduates).where(eq(graduates.schoolId, school1Id)).limit(1);
  await t.db.update(graduates).set({ confirmedAt: new Date() }).where(eq(graduates.id, someone!.id));
  assert.equal(ids(await c.get('/school/graduates?confirmed=yes')), [someone!.id]);
  const unconfirmed = await c.get('/school/graduates?confirmed=no');
  assert.is(textOf(unconfirmed.doc, '#total'), '共 39 人');
  const next = unconfirmed.doc.querySelector('a[rel=next]')!.getAttribute('href')!;
  assert.match(next, 'confirmed=no');
  assert.match(next, 'cohort=2026');
  assert.is(ids(await c.get(next)).length, 19);
  const major = await c.get(`/school/graduates?major=${encodeURIComponent('会计学')}`);
  assert.ok([...major.doc.querySelectorAll('#graduates tbody tr td:nth-child(5)')].every((td) => td.textContent === '会计学'));
});

test('S5 add one graduate: the shared validator answers per field; a valid one is on the roster with an event row', async () => {
  const c = await t.signInAs('school');
  const bad = await c.post('/school/graduates', { ...NEW_GRADUATE, idNumber: NEW_GRADUATE.idNumber.slice(0, 17) + (NEW_GRADUATE.idNumber.endsWith('1') ? '2' : '1'), phone: '123', originRegion: '999999', birthDate: '2003-02-30' });
  assert.is(bad.status, 422);
  assert.ok(textOf(bad.doc, '#idNumber-error'));
  assert.ok(textOf(bad.doc, '#phone-error'));
  assert.ok(textOf(bad.doc, '#originRegion-error'));
  assert.ok(textOf(bad.doc, '#birthDate-error'));
  assert.is((bad.doc.querySelector('#name') as unknown as { value: string }).value, '欧阳新', 'typed values are kept');

  const ok = await c.post('/school/graduates', NEW_GRADUATE);
  assert.is(ok.status, 303);
  const page = await c.get(ok.location!);
  assert.is(textOf(page.doc, 'h1'), '欧阳新');
  const [row] = await t.db.select().from(graduates).where(eq(graduates.idNumberIndex, idNumberLookup(NEW_GRADUATE.idNumber)));
  assert.is(row!.cohort, 2026);
  assert.ok((await t.db.select().from(events).where(and(eq(events.action, 'roster.added'), eq(events.subjectId, String(row!.id))))).length === 1);

  const again = await c.post('/school/graduates', NEW_GRADUATE);
  assert.is(again.status, 422);
  assert.is(textOf(again.doc, '#idNumber-error'), '该身份证号的毕业生已在本届名单中');
});

test('G2 edit: changing a key field (学历层次) resets the confirmation and writes roster.key_fields_changed; other fields do not', async () => {
  const c = await t.signInAs('school');
  const [g] = await t.db.select().from(graduates).where(eq(graduates.idNumberIndex, idNumberLookup(NEW_GRADUATE.idNumber)));
  await t.db.update(graduates).set({ confirmedAt: new Date() }).where(eq(graduates.id, g!.id));
  const edit = await c.get(`/school/graduates/${g!.id}/edit`);
  assert.not.ok(edit.doc.querySelector('#phone'), 'phone belongs to the graduate');
  assert.is((await c.post(`/school/graduates/${g!.id}`, { ...NEW_GRADUATE, majorName: '人工智能', phone: '13000000000' })).status, 303);
  let [after] = await t.db.select().from(graduates).where(eq(graduates.id, g!.id));
  assert.ok(after!.confirmedAt, 'a non-key change keeps the confirmation');
  assert.is(after!.majorName, '人工智能');
  assert.is(after!.phone, NEW_GRADUATE.phone, 'the school cannot change the phone');
  assert.is((await c.post(`/school/graduates/${g!.id}`, { ...NEW_GRADUATE, educationLevel: '11' })).status, 303);
  [after] = await t.db.select().from(graduates).where(eq(graduates.id, g!.id));
  assert.is(after!.confirmedAt, null);
  const [e] = await t.db.select().from(events).where(and(eq(events.action, 'roster.key_fields_changed'), eq(events.subjectId, String(g!.id))));
  assert.equal(e!.data, { fields: ['educationLevel'] });
});

test('G2 remove: a confirmation page first; then off the roster, a removal event, and re-adding brings the graduate back', async () => {
  const c = await t.signInAs('school');
  const [g] = await t.db.select().from(graduates).where(eq(graduates.idNumberIndex, idNumberLookup(NEW_GRADUATE.idNumber)));
  const confirm = await c.get(`/school/graduates/${g!.id}/removal`);
  assert.ok(confirm.doc.querySelector('#confirm-removal'));
  const res = await c.post(`/school/graduates/${g!.id}/removal`, {});
  assert.is(res.status, 303);
  assert.is((await c.get(`/school/graduates/${g!.id}`)).status, 404);
  assert.is((await c.post(`/school/graduates/${g!.id}/removal`, {})).status, 404, 'removing twice is not found');
  assert.ok((await t.db.select().from(events).where(and(eq(events.action, 'roster.removed'), eq(events.subjectId, String(g!.id))))).length === 1);
  const back = await c.post('/school/graduates', NEW_GRADUATE);
  assert.is(back.status, 303);
  const rows = await t.db.select().from(graduates).where(and(eq(graduates.idNumberIndex, idNumberLookup(NEW_GRADUATE.idNumber)), isNull(graduates.removedAt)));
  assert.equal(rows.map((r) => r.id), [g!.id], 'the same row is restored');
});

test('the full ID number shows only after a POST, and each reveal is logged', async () => {
  const c = await t.signInAs('department');
  const list = await c.get('/school/graduates');
  const id = ids(list)[0]!;
  const page = await c.get(`/school/graduates/${id}`);
  assert.match(textOf(page.doc, '#id-number')!, /\*{8}/);
  const revealed = await c.post(`/school/graduates/${id}/id-number`, {});
  assert.match(textOf(revealed.doc, '#id-number')!, /^\d{17}[\dX]$/);
  const log = await t.db.select().from(events).where(and(eq(events.action, 'graduate.id_number_revealed'), eq(events.subjectId, String(id))));
  assert.is(log.length, 1);
  assert.is(log[0]!.actorRole, 'department');
});

test('the edit form shows the ID number masked; sent back unchanged it keeps the stored number, a full one typed over it replaces it, and a failed save does not reveal it', async () => {
  const c = await t.signInAs('school');
  const [g] = await t.db.select().from(graduates).where(eq(graduates.idNumberIndex, idNumberLookup(NEW_GRADUATE.idNumber)));
  const edit = await c.get(`/school/graduates/${g!.id}/edit`);
  const shown = edit.doc.querySelector('#idNumber')!.getAttribute('value')!;
  assert.is(shown, maskIdNumber(idOf(g!)));
  assert.not.match(edit.text, idOf(g!), 'the full number is nowhere on the page');
  const revealsBefore = (await t.db.select().from(events).where(eq(events.action, 'graduate.id_number_revealed'))).length;
  // Unchanged: the stored number stays.
  assert.is((await c.post(`/school/graduates/${g!.id}`, { ...NEW_GRADUATE, idNumber: shown, majorName: '数据科学' })).status, 303);
  let [after] = await t.db.select().from(graduates).where(eq(graduates.id, g!.id));
  assert.is(idOf(after!), idOf(g!));
  assert.is(after!.majorName, '数据科学');
  // A failed save shows the mask again, not the number.
  const failed = await c.post(`/school/graduates/${g!.id}`, { ...NEW_GRADUATE, idNumber: shown, birthDate: '2003-02-30' });
  assert.is(failed.status, 422);
  assert.not.match(failed.text, idOf(g!));
  assert.is(failed.doc.querySelector('#idNumber')!.getAttribute('value'), shown);
  // A full number typed over the mask replaces it.
  const corrected = makeIdNumber('110108', '2003-05-06', 323, '1');
  assert.is((await c.post(`/school/graduates/${g!.id}`, { ...NEW_GRADUATE, idNumber: corrected })).status, 303);
  [after] = await t.db.select().from(graduates).where(eq(graduates.id, g!.id));
  assert.is(idOf(after!), corrected);
  assert.is((await t.db.select().from(events).where(eq(events.action, 'graduate.id_number_revealed'))).length, revealsBefore, 'editing reveals nothing');
  await t.db.update(graduates).set(storedIdNumber(idOf(g!))).where(eq(graduates.id, g!.id));
});

test('添加学生 takes 生源所在地 as a name and stores its code; the detail page shows both', async () => {
  const c = await t.signInAs('school');
  const idNumber = makeIdNumber('110108', '2003-05-06', 611, '1');
  const res = await c.post('/school/graduates', { ...NEW_GRADUATE, idNumber, studentNo: '2022018888', originRegion: '北京市海淀区' });
  assert.is(res.status, 303);
  const [g] = await t.db.select().from(graduates).where(eq(graduates.idNumberIndex, idNumberLookup(idNumber)));
  assert.is(g!.originRegion, '110108');
  assert.match((await c.get(res.location!)).text, '北京市海淀区（110108）');
  const ambiguous = await c.post('/school/graduates', { ...NEW_GRADUATE, idNumber: makeIdNumber('110108', '2003-05-06', 613, '1'), studentNo: '2022018889', originRegion: '朝阳区' });
  assert.is(ambiguous.status, 422);
  assert.match(ambiguous.text, '有多个同名地区');
});

test('roster boundaries: department users read but do not edit; another school gets 404 on every action', async () => {
  const dept = await t.signInAs('department');
  const id = ids(await dept.get('/school/graduates'))[0]!;
  assert.is((await dept.get(`/school/graduates/${id}/edit`)).status, 403);
  assert.is((await dept.post(`/school/graduates/${id}/removal`, {})).status, 403);
  assert.is((await dept.post('/school/graduates', NEW_GRADUATE)).status, 403);
  assert.not.ok((await dept.get('/school/graduates')).doc.querySelector('#add-graduate'));
  const other = await t.signInAs('school2');
  assert.is((await other.get(`/school/graduates/${id}/edit`)).status, 404);
  assert.is((await other.post(`/school/graduates/${id}`, NEW_GRADUATE)).status, 404);
  assert.is((await other.post(`/school/graduates/${id}/removal`, {})).status, 404);
  assert.is((await other.post(`/school/graduates/${id}/id-number`, {})).status, 404);
});

test.run();
