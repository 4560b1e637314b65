import { and, count, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { pageTotal, windowTotal } from '../paging.ts';
import { z } from 'zod';
import { builtOnce, isUniqueViolation, type Db, type DbOrTx } from '../../db/client.ts';
import { idNumberLookup } from '../../db/id-number-keys.ts';
import { agreements, departments, favourites, graduates, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { parseIdNumber } from '../codes/id-number.ts';
import { onlineSigning } from '../agreements/online/workflow.ts';
import { EDUCATION_LEVEL_SHORT, isSignableTrainingMode, labelOf } from '../codes/tables.ts';
import { verifiedUnitOf } from '../employers/unit.ts';
import { DomainError, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';

// 学生收藏夹 (E4): an employer adds a graduate by exact 学生姓名 + 身份证号 + 毕业院校 of a cohort; the
// entry is locked once added; it becomes 失效 when the graduate leaves the eligible roster.
type Source = EventSource & { actor: Actor };

export const findStudentForm = z.object({
  name: z.string().trim().min(1, { error: '请输入学生姓名' }).max(50),
  idNumber: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^\d{17}[\dX]$/, { error: '请输入 18 位身份证号' })
    .superRefine((v, ctx) => {
      const checked = parseIdNumber(v);
      if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.reason });
    }),
  school: z.string().trim().min(2, { error: '请输入毕业院校' }).max(50),
  cohort: z.coerce.number({ error: '请选择届别' }).int().min(2000).max(2100),
});
export type FindStudent = z.infer<typeof findStudentForm>;

const NOT_FOUND = '未找到符合条件的毕业生，请核对学生姓名、身份证号、毕业院校和届别';

/** The graduate these exact details name, if eligible to sign online (G2, G9); else a neutral not-found. */
export async function findStudent(db: DbOrTx, actor: Actor, input: unknown) {
  verifiedUnitOf(actor);
  const q = parseForm(findStudentForm, input);
  const [row] = await db
    .select({ graduate: graduates, school: schools.name, onlineSigning: schools.onlineSigning })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .where(and(eq(graduates.idNumberIndex, idNumberLookup(q.idNumber)), eq(graduates.name, q.name), eq(schools.name, q.school), eq(graduates.cohort, q.cohort), isNull(graduates.removedAt)));
  if (!row || !row.onlineSigning || !isSignableTrainingMode(row.graduate.trainingMode)) throw new DomainError('not_found', NOT_FOUND);
  return {
    query: q,
    graduateId: row.graduate.id,
    name: row.graduate.name,
    idNumber: row.graduate.idNumberMasked,
    school: row.school,
    educationLevel: labelOf(EDUCATION_LEVEL_SHORT, row.graduate.educationLevel),
    majorName: row.graduate.majorName,
  };
}

/** 加入收藏夹: adds the graduate the exact details name (looked up again, never trusted from the page). */
export async function addFavourite(db: Db, source: Source, input: unknown): Promise<number> {
  const employerId = verifiedUnitOf(source.actor);
  const found = await findStudent(db, source.actor, input);
  try {
    return await db.transaction(async (tx) => {
      const [g] = await tx.select({ schoolId: graduates.schoolId, cohort: graduates.cohort }).from(graduates).where(eq(graduates.id, found.graduateId));
      const [row] = await tx
        .insert(favourites)
        .values({ employerId, graduateId: found.graduateId, schoolId: g!.schoolId, cohort: g!.cohort, addedBy: source.actor.userId })
        .returning({ id: favourites.id });
      await writeEvent(tx, source, { subjectType: 'favourite', subjectId: row!.id, schoolId: g!.schoolId, action: 'favourite.added' });
      return row!.id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', '该学生已在学生收藏夹中');
    throw e;
  }
}

export async function removeFavourite(db: Db, source: Source, id: number): Promise<void> {
  const employerId = verifiedUnitOf(source.actor);
  await db.transaction(async (tx) => {
    const [row] = await tx.delete(favourites).where(and(eq(favourites.id, id), eq(favourites.employerId, employerId))).returning();
    if (!row) throw notFound('收藏');
    await writeEvent(tx, source, { subjectType: 'favourite', subjectId: id, schoolId: row.schoolId, action: 'favourite.removed' });
  });
}

export const FAVOURITES_PAGE_SIZE = 20;

/** 学生收藏夹's page, built once per shape (live or 失效) and run with the unit, cohort and page as parameters (issue 14). */
const favouritesPage = builtOnce((db, shape: 'live' | 'invalid') =>
  db
    .select({
      id: favourites.id,
      graduateId: favourites.graduateId,
      name: graduates.name,
      idNumber: graduates.idNumberMasked,
      school: schools.name,
      department: departments.name,
      educationLevel: graduates.educationLevel,
      majorName: graduates.majorName,
      invalidReason: favourites.invalidReason,
      createdAt: favourites.createdAt,
      // An invitation of the unit's still waits on the graduate: no second one (已邀请).
      invited: sql<boolean>`exists (${db
        .select({ one: sql`1` })
        .from(agreements)
        .where(and(eq(agreements.employerId, sql.placeholder('employerId')), inArray(agreements.state, [...onlineSigning.groups.pending]), eq(agreements.graduateId, favourites.graduateId)))})`,
      total: windowTotal(),
    })
    .from(favourites)
    .innerJoin(graduates, eq(graduates.id, favourites.graduateId))
    .innerJoin(schools, eq(schools.id, favourites.schoolId))
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .where(and(eq(favourites.employerId, sql.placeholder('employerId')), eq(favourites.cohort, sql.placeholder('cohort')), shape === 'invalid' ? isNotNull(favourites.invalidatedAt) : isNull(favourites.invalidatedAt)))
    .orderBy(desc(favourites.id))
    .limit(FAVOURITES_PAGE_SIZE)
    .offset(sql.placeholder('offset'))
    .prepare(`favourites_${shape}`),
);

/** The unit's favourites of a cohort: live ones, or the 失效 ones with their reason; ID numbers masked. */
export async function listFavourites(db: DbOrTx, actor: Actor, query: { cohort: number; invalid: boolean; page: number }) {
  const employerId = verifiedUnitOf(actor);
  const found = await favouritesPage(db, query.invalid ? 'invalid' : 'live').execute({ employerId, cohort: query.cohort, offset: (query.page - 1) * FAVOURITES_PAGE_SIZE });
  const { rows, total } = await pageTotal(found, query.page, () =>
    db
      .select({ n: count() })
      .from(favourites)
      .where(and(eq(favourites.employerId, employerId), eq(favourites.cohort, query.cohort), query.invalid ? isNotNull(favourites.invalidatedAt) : isNull(favourites.invalidatedAt))),
  );
  return {
    rows: rows.map((r) => ({ ...r, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, r.educationLevel), invited: r.invited === true })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / FAVOURITES_PAGE_SIZE)),
  };
}

/** The live favourites among these ids, with names, for the letter's 受邀方 list. */
export async function chosenFavourites(db: DbOrTx, actor: Actor, ids: number[]) {
  const employerId = verifiedUnitOf(actor);
  if (ids.length === 0) return [];
  return db
    .select({ id: favourites.id, name: graduates.name, school: schools.name })
    .from(favourites)
    .innerJoin(graduates, eq(graduates.id, favourites.graduateId))
    .innerJoin(schools, eq(schools.id, favourites.schoolId))
    .where(and(eq(favourites.employerId, employerId), inArray(favourites.id, ids), isNull(favourites.invalidatedAt)));
}

/** The unit's favourite of a graduate, for 再次发起签约 from a failed signing. */
export async function favouriteOfGraduate(db: DbOrTx, actor: Actor, graduateId: number): Promise<number | undefined> {
  const employerId = verifiedUnitOf(actor);
  const [row] = await db.select({ id: favourites.id }).from(favourites).where(and(eq(favourites.employerId, employerId), eq(favourites.graduateId, graduateId), isNull(favourites.invalidatedAt)));
  return row?.id;
}

/** One live favourite of the unit (for the removal confirmation). */
export async function getFavourite(db: DbOrTx, actor: Actor, id: number) {
  const employerId = verifiedUnitOf(actor);
  const [row] = await db.select().from(favourites).where(and(eq(favourites.id, id), eq(favourites.employerId, employerId)));
  if (!row) throw notFound('收藏');
  return row;
}
