import { asc, count, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { departments, employers, graduates, provinces, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden, notFound } from '../errors.ts';
import { graduateScope } from './scope.ts';

// What each portal's landing page shows about the actor's own tenant.

export async function schoolWorkbench(db: DbOrTx, actor: Actor) {
  if ((actor.role !== 'school' && actor.role !== 'department') || actor.schoolId === null) throw forbidden();
  const [school] = await db
    .select({ name: schools.name, code: schools.code, province: provinces.name, agreementType: provinces.agreementType })
    .from(schools)
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .where(eq(schools.id, actor.schoolId));
  if (!school) throw notFound('学校');
  const department = actor.departmentId
    ? (await db.select({ name: departments.name }).from(departments).where(eq(departments.id, actor.departmentId)))[0]?.name
    : undefined;
  const cohorts = await db
    .select({ cohort: graduates.cohort, total: count(), confirmed: count(graduates.confirmedAt) })
    .from(graduates)
    .where(graduateScope(actor))
    .groupBy(graduates.cohort)
    .orderBy(sql`${graduates.cohort} desc`);
  return { school, department, cohorts };
}

export async function provinceOverview(db: DbOrTx, actor: Actor) {
  if (actor.role !== 'province' || actor.provinceId === null) throw forbidden();
  const [province] = await db.select().from(provinces).where(eq(provinces.id, actor.provinceId));
  if (!province) throw notFound('省份');
  const schoolRows = await db
    .select({ code: schools.code, name: schools.name, graduates: count(graduates.id) })
    .from(schools)
    .leftJoin(graduates, eq(graduates.schoolId, schools.id))
    .where(eq(schools.provinceId, actor.provinceId))
    .groupBy(schools.id)
    .orderBy(asc(schools.code));
  return { province, schools: schoolRows };
}

export async function platformOverview(db: DbOrTx, actor: Actor) {
  if (actor.role !== 'admin') throw forbidden();
  const one = (q: Promise<Array<{ n: number }>>) => q.then((r) => r[0]?.n ?? 0);
  const [provinceCount, schoolCount, graduateCount, byVerification] = await Promise.all([
    one(db.select({ n: count() }).from(provinces)),
    one(db.select({ n: count() }).from(schools)),
    one(db.select({ n: count() }).from(graduates)),
    db.select({ status: employers.verification, n: count() }).from(employers).groupBy(employers.verification),
  ]);
  return { provinceCount, schoolCount, graduateCount, byVerification };
}

export async function employerOfActor(db: DbOrTx, actor: Actor) {
  if (actor.role !== 'employer') throw forbidden();
  if (actor.employerId === null) return null;
  const [employer] = await db.select().from(employers).where(eq(employers.id, actor.employerId));
  return employer ?? null;
}
