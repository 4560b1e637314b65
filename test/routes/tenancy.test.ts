import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { departments, graduates, schools } from '../../db/schema/index.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
let school1GraduateId: number;
let csGraduateId: number;
let emGraduateId: number;
let school2GraduateId: number;

test.before(async () => {
  t = await setupApp();
  const byDept = async (schoolCode: string, dept: string) => {
    const [row] = await t.db
      .select({ id: graduates.id })
      .from(graduates)
      .innerJoin(schools, eq(schools.id, graduates.schoolId))
      .innerJoin(departments, eq(departments.id, graduates.departmentId))
      .where(and(eq(schools.code, schoolCode), eq(departments.name, dept)))
      .limit(1);
    return row!.id;
  };
  csGraduateId = await byDept('10001', '计算机学院');
  emGraduateId = await byDept('10001', '经济管理学院');
  school1GraduateId = csGraduateId;
  school2GraduateId = await byDept('10002', '机械工程学院');
});
test.after(async () => {
  await t.close();
});

test('tenancy: a second-school user gets 404 on a first-school graduate', async () => {
  const school2 = await t.signInAs('school2');
  const res = await school2.get(`/school/graduates/${school1GraduateId}`);
  assert.is(res.status, 404);
  assert.is(textOf(res.doc, 'h1'), '页面不存在');
  assert.is((await school2.get(`/school/graduates/${school2GraduateId}`)).status, 200);
});

test('tenancy: the first school sees its own graduate and not the other school', async () => {
  const school = await t.signInAs('school');
  assert.is((await school.get(`/school/graduates/${school1GraduateId}`)).status, 200);
  assert.is((await school.get(`/school/graduates/${school2GraduateId}`)).status, 404);
});

test('tenancy: a department user sees only its own department (department ↔ department)', async () => {
  const cs = await t.signInAs('department');
  assert.is((await cs.get(`/school/graduates/${csGraduateId}`)).status, 200);
  assert.is((await cs.get(`/school/graduates/${emGraduateId}`)).status, 404);
  const list = await cs.get('/school/graduates');
  const rows = [...list.doc.querySelectorAll('#graduates tbody tr')];
  assert.ok(rows.length > 0);
  assert.ok(rows.every((r) => r.textContent!.includes('计算机学院')));
  assert.is(textOf(list.doc, '#total'), '共 20 人');
});

test('roster list: ID numbers are masked, 20 per page, with a working next page and search by name or 学号', async () => {
  const school = await t.signInAs('school');
  const page1 = await school.get('/school/graduates');
  assert.is(textOf(page1.doc, '#total'), '共 40 人');
  const ids = [...page1.doc.querySelectorAll('#graduates tbody tr td:nth-child(2)')].map((td) => td.textContent!);
  assert.is(ids.length, 20);
  assert.ok(ids.every((id) => /^\d{6}\*{8}[\dX]{4}$/.test(id)), 'masked');
  const next = page1.doc.querySelector('a[rel=next]')!.getAttribute('href')!;
  const page2 = await school.get(next);
  assert.is(page2.doc.querySelectorAll('#graduates tbody tr').length, 20);
  assert.not.ok(page2.doc.querySelector('a[rel=next]'));

  const [g] = await t.db.select().from(graduates).where(eq(graduates.id, csGraduateId));
  const byName = await school.get(`/school/graduates?q=${encodeURIComponent(g!.name)}`);
  assert.ok(byName.doc.querySelector(`#graduate-${g!.id}`));
  const byStudentNo = await school.get(`/school/graduates?q=${g!.studentNo}`);
  assert.is(textOf(byStudentNo.doc, '#total'), '共 1 人');
  const wildcard = await school.get('/school/graduates?q=%25');
  assert.is(textOf(wildcard.doc, '#total'), '共 0 人', 'a % is a character, not a wildcard');
});

test('tenancy: province users see only their own province schools (province ↔ province)', async () => {
  const bj = await t.signInAs('province');
  const page = await bj.get('/province');
  assert.match(page.text, '示范大学');
  assert.not.match(page.text, '示例理工大学');
  assert.is(textOf(page.doc, '#agreement-type'), '三方协议（学校、院系审核）');
  const sh = await (await t.signInAs('province2')).get('/province');
  assert.match(sh.text, '示例理工大学');
  assert.not.match(sh.text, '示范大学');
  assert.is(textOf(sh.doc, '#agreement-type'), '两方协议（学校、院系鉴证）');
});

test('tenancy: an employer sees its own unit; an unverified unit is told to verify first', async () => {
  const verified = await (await t.signInAs('employer')).get('/employer');
  assert.match(verified.text, '越综合企业');
  assert.is(textOf(verified.doc, '#verification-status'), '已认证');
  assert.not.ok(verified.doc.querySelector('#verification-required'));
  const other = await (await t.signInAs('employer2')).get('/employer');
  assert.not.match(other.text, '越综合企业');
  const unverified = await (await t.signInAs('employerUnverified')).get('/employer');
  assert.is(textOf(unverified.doc, '#verification-status'), '未认证');
  assert.ok(unverified.doc.querySelector('#verification-required'));
});

test('graduate home: shows the own roster record with a masked ID number, and the not-signable note for 21/41', async () => {
  const student = await t.signInAs('student');
  const home = await student.get('/student');
  assert.is(textOf(home.doc, '#record-school'), '示范大学');
  assert.match(home.text, /\d{6}\*{8}[\dX]{4}/);
  assert.not.ok(home.doc.querySelector('#not-signable'));
});

test.run();
