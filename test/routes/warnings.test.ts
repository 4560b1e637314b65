import { eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { employers, provinces, schools, users, warningMarks } from '../../db/schema/index.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';

let t: TestApp;
let yue: typeof employers.$inferSelect;
let agreementId: number;
test.before(async () => {
  t = await setupApp();
  yue = (await t.db.select().from(employers).where(eq(employers.name, '越综合企业')))[0]!;
  const [u] = await t.db.select().from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  agreementId = (await insertAgreement(t.db, { graduateId: u!.graduateId!, state: 'school_review', number: '2026-10001-000077', code: 'W4RN1NG8' })).id;
});
test.after(async () => {
  await t.close();
});

test('S10 预警单位管理: a school user marks a unit; its reviewers and its graduates see the flag', async () => {
  const school = await t.signInAs('school');
  const bad = await school.post('/school/warnings', { uscc: 'NOSUCHCODE', category: 'fake' });
  assert.is(bad.status, 422);
  assert.is(textOf(bad.doc, '#uscc-error'), '未找到该统一社会信用代码的单位');
  assert.is((await school.post('/school/warnings', { uscc: yue.uscc, category: 'false_advertising', note: '招聘信息与实际不符' })).status, 303);
  assert.match(textOf((await school.get('/school/warnings')).doc, '#warnings')!, '虚假宣传');
  assert.is(textOf((await school.get(`/school/agreements/${agreementId}`)).doc, '#warning-flag'), '预警单位：虚假宣传');
  const dept = await t.signInAs('department');
  assert.ok((await dept.get(`/school/agreements/${agreementId}`)).doc.querySelector('#warning-flag'), 'the department reviewer sees it too');
  const student = await t.signInAs('student');
  assert.match(textOf((await student.get(`/student/invitations/${agreementId}`)).doc, '#warning-flag')!, '虚假宣传');
  const employer = await t.signInAs('employer');
  assert.not.match((await employer.get(`/employer/agreements/${agreementId}`)).text, '预警单位');
});

test('S10 department users have no 预警单位管理; another school sees no flag until five schools marked the unit', async () => {
  assert.is((await (await t.signInAs('department')).get('/school/warnings')).status, 403);
  const other = await t.signInAs('school2');
  assert.not.match((await other.get('/school/warnings')).text, '越综合企业', 'a school sees only its own marks');
  const [school2] = await t.db.select().from(schools).where(eq(schools.code, '10002'));
  assert.is(await warningFor(t.db, school2!.id, yue.id), null);
  const [admin] = await t.db.select().from(users).where(eq(users.login, 'admin'));
  const [bj] = await t.db.select().from(provinces).where(eq(provinces.code, '11'));
  for (let i = 0; i < 4; i++) {
    const [s] = await t.db.insert(schools).values({ code: `1090${i}`, name: `其他大学${i}`, provinceId: bj!.id }).returning();
    await t.db.insert(warningMarks).values({ schoolId: s!.id, employerId: yue.id, category: 'fake', createdBy: admin!.id });
  }
  assert.match((await warningFor(t.db, school2!.id, yue.id))!, '5 所以上学校标记');
});

test.run();
