import { idOf } from '../helpers/graduates.ts';
import { and, count, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seedDemoData } from '../../db/demo.ts';
import { employers, graduates, schools, users } from '../../db/schema/index.ts';
import { parseIdNumber } from '../../domain/codes/id-number.ts';
import { checkUscc } from '../../domain/codes/uscc.ts';
import { EDUCATION_LEVELS, ETHNICITIES, POLITICAL_STATUSES, TRAINING_MODES, isCode } from '../../domain/codes/tables.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

test('demo: 40 graduates of 2026 at 10001 in both departments and 10 at 10002', async () => {
  const rows = await d.db
    .select({ code: schools.code, n: count() })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .where(eq(graduates.cohort, 2026))
    .groupBy(schools.code)
    .orderBy(schools.code);
  assert.equal(rows, [{ code: '10001', n: 40 }, { code: '10002', n: 10 }]);
  const [s1] = await d.db.select().from(schools).where(eq(schools.code, '10001'));
  const depts = await d.db.selectDistinct({ id: graduates.departmentId }).from(graduates).where(eq(graduates.schoolId, s1!.id));
  assert.is(depts.length, 2);
});

test('demo: valid ID numbers whose birth date and sex agree with the roster, all codes from the tables', async () => {
  const all = await d.db.select().from(graduates);
  for (const g of all) {
    const parsed = parseIdNumber(idOf(g));
    assert.ok(parsed.ok, `${g.name} ${parsed.ok ? '' : parsed.reason}`);
    if (parsed.ok) {
      assert.is(parsed.birthDate, g.birthDate);
      assert.is(parsed.sex, g.sex);
    }
    assert.ok(isCode(TRAINING_MODES, g.trainingMode));
    assert.ok(isCode(EDUCATION_LEVELS, g.educationLevel));
    assert.ok(isCode(ETHNICITIES, g.ethnicity));
    assert.ok(isCode(POLITICAL_STATUSES, g.politicalStatus));
  }
  assert.is(new Set(all.map((g) => idOf(g))).size, all.length, 'unique ID numbers');
  const modes = new Set(all.map((g) => g.trainingMode));
  assert.ok(modes.has('21') && modes.has('41'), 'the not-signable modes are present');
  assert.equal([...new Set(all.map((g) => g.educationLevel))].sort(), ['01', '11', '31']);
});

test('demo: the first three graduates of 10001 have accounts; employers have valid USCCs and the right status', async () => {
  const students = await d.db.select().from(users).where(eq(users.role, 'student'));
  assert.is(students.length, 3);
  const units = await d.db.select().from(employers).orderBy(employers.id);
  assert.equal(units.map((u) => u.verification), ['verified', 'verified', 'unverified']);
  assert.is(units[0]!.name, '越综合企业');
  for (const u of units) assert.equal(checkUscc(u.uscc), { format: true, checkDigit: true });
  const [dept] = await d.db.select().from(users).where(and(eq(users.login, '10001-cs'), eq(users.role, 'department')));
  assert.ok(dept!.departmentId);
});

test('demo: seeding twice does nothing the second time', async () => {
  assert.is(await seedDemoData(d.db), false);
  const [row] = await d.db.select({ n: count() }).from(graduates);
  assert.is(row!.n, 50);
});

test.run();
