import { and, asc, count, desc, eq, ilike, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { builtOnce, genericPlans, type DbOrTx } from '../../db/client.ts';
import { agreementDrafts, agreements, departments, destinationRegistrations, graduateDestinations, graduates, schools } from '../../db/schema/index.ts';
import { destinationLabel } from '../destinations/types.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden, notFound } from '../errors.ts';
import { currentRoster, graduateScope } from '../tenancy/scope.ts';
import { containsPattern } from '../paging.ts';

export const PAGE_SIZE = 20;

export type RosterQuery = {
  cohort?: number | undefined;
  q?: string | undefined;
  departmentId?: number | undefined;
  major?: string | undefined;
  level?: string | undefined;
  trainingMode?: string | undefined;
  confirmed?: 'yes' | 'no' | undefined;
  page: number;
};

/** The cohorts (届别) on the actor's roster, newest first. */
export async function rosterCohorts(db: DbOrTx, actor: Actor): Promise<number[]> {
  const rows = await db.selectDistinct({ cohort: graduates.cohort }).from(graduates).where(graduateScope(actor)).orderBy(desc(graduates.cohort));
  return rows.map((r) => r.cohort);
}

/** What the filters of 学生名单管理 offer within the actor's roster and cohort. */
export async function rosterFilterOptions(db: DbOrTx, actor: Actor, cohort: number) {
  const where = and(graduateScope(actor), eq(graduates.cohort, cohort));
  const [departmentRows, majorRows] = await Promise.all([
    db.selectDistinct({ id: departments.id, name: departments.name }).from(graduates).innerJoin(departments, eq(departments.id, graduates.departmentId)).where(where).orderBy(asc(departments.name)),
    db.selectDistinct({ name: graduates.majorName }).from(graduates).where(where).orderBy(asc(graduates.majorName)),
  ]);
  return { departments: departmentRows, majors: majorRows.map((r) => r.name) };
}

/**
 * A page of the roster under `where`. Its total is counted beside it (an index-only count): carried
 * by the rows (count(*) over ()), it would make the page join and sort the whole cohort where the
 * (school, cohort, department, student_no, id) index otherwise gives the 20 rows directly.
 */
const rosterPage = (db: DbOrTx, where: SQL | undefined) =>
  db
    .select({
      id: graduates.id,
      name: graduates.name,
      idNumber: graduates.idNumberMasked,
      studentNo: graduates.studentNo,
      cohort: graduates.cohort,
      department: departments.name,
      majorName: graduates.majorName,
      educationLevel: graduates.educationLevel,
      trainingMode: graduates.trainingMode,
      confirmedAt: graduates.confirmedAt,
      // The current destination: the projection (domain/destinations/current.ts), never recomputed here.
      destination: graduateDestinations.code,
    })
    .from(graduates)
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .leftJoin(graduateDestinations, eq(graduateDestinations.graduateId, graduates.id))
    .where(where)
    .orderBy(asc(graduates.departmentId), asc(graduates.studentNo), asc(graduates.id))
    .limit(PAGE_SIZE);

const cohortWhere = (scope: 'school' | 'department') =>
  and(scope === 'school' ? currentRoster(sql.placeholder('schoolId')) : currentRoster(sql.placeholder('schoolId'), sql.placeholder('departmentId')), eq(graduates.cohort, sql.placeholder('cohort')));

/** 学生名单管理 of a cohort without other filters, as it opens: built once for a school's and a department's users (issue 14). */
const cohortPage = builtOnce((db, scope: 'school' | 'department') => rosterPage(db, cohortWhere(scope)).offset(sql.placeholder('offset')).prepare(`roster_cohort_${scope}`));
const cohortCount = builtOnce((db, scope: 'school' | 'department') => db.select({ n: count() }).from(graduates).where(cohortWhere(scope)).prepare(`roster_cohort_count_${scope}`));

/**
 * The roster searched by name or 学号 (an ILIKE pattern; the trigram indexes on both serve it), for
 * 学生名单管理 and the reviewers' lists. Not by ID number: a search lands in the URL, and ID numbers
 * must not (DESIGN.md section 1).
 */
export const graduateMatches = (like: string) => or(ilike(graduates.name, like), ilike(graduates.studentNo, like))!;

/**
 * One page of the roster the actor may see; ID numbers masked. `keptTotal` may answer the total of a
 * cohort without other filters from a cache (it changes only with what raises the school's cache
 * version, routes/school-cache.ts); it is handed the count to run when it has none.
 */
export async function listGraduates(db: DbOrTx, actor: Actor, query: RosterQuery, keptTotal: (count: () => Promise<number>) => Promise<number> = (count) => count()) {
  const conditions: SQL[] = [graduateScope(actor)];
  if (query.cohort) conditions.push(eq(graduates.cohort, query.cohort));
  const q = query.q?.trim();
  if (q) {
    conditions.push(graduateMatches(containsPattern(q)));
  }
  if (query.departmentId) conditions.push(eq(graduates.departmentId, query.departmentId));
  if (query.major) conditions.push(eq(graduates.majorName, query.major));
  if (query.level) conditions.push(eq(graduates.educationLevel, query.level));
  if (query.trainingMode) conditions.push(eq(graduates.trainingMode, query.trainingMode));
  if (query.confirmed) conditions.push(query.confirmed === 'yes' ? isNotNull(graduates.confirmedAt) : isNull(graduates.confirmedAt));
  const where = and(...conditions);
  const offset = (query.page - 1) * PAGE_SIZE;
  const plain = query.cohort && !q && !query.departmentId && !query.major && !query.level && !query.trainingMode && !query.confirmed;
  // graduateScope has vouched for the actor; its scope is currentRoster's.
  const [rows, total] =
    plain && (actor.role === 'school' || actor.role === 'department')
      ? await Promise.all([
          // One generic plan each (genericPlans): the planner kept re-planning them for every view.
          cohortPage(genericPlans(db), actor.role).execute({ schoolId: actor.schoolId!, departmentId: actor.departmentId, cohort: query.cohort, offset }),
          keptTotal(() => cohortCount(genericPlans(db), actor.role as 'school' | 'department').execute({ schoolId: actor.schoolId!, departmentId: actor.departmentId, cohort: query.cohort }).then((r) => r[0]?.n ?? 0)),
        ])
      : await Promise.all([rosterPage(db, where).offset(offset), db.select({ n: count() }).from(graduates).where(where).then((r) => r[0]?.n ?? 0)]);
  return {
    rows: rows.map((r) => ({ ...r, destination: r.destination ? destinationLabel(r.destination) : '未登记' })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
  };
}

/** A roster record with its school, department and current destination; `extra` fields read beside them. */
const graduateRecord = <X extends Record<string, SQL.Aliased | SQL>>(db: DbOrTx, extra: X = {} as X) =>
  db
    .select({ graduate: graduates, school: schools.name, department: departments.name, destinationCode: graduateDestinations.code, ...extra })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .leftJoin(graduateDestinations, eq(graduateDestinations.graduateId, graduates.id));

/** A graduate's own record, the query built once (issue 14): the graduate's pages read it on every view. */
const ownRecord = builtOnce((db) =>
  graduateRecord(db)
    .where(eq(graduates.id, sql.placeholder('id')))
    .prepare('own_graduate_record'),
);

/**
 * The graduate home's one statement (issue 14, at most 3 queries a page): the own record, and beside
 * it, as JSON, what the home lists and its entrances' guards read: the agreements newest first, the
 * kinds of the drafts (暂存) and the latest six destination registrations. Only the columns the home
 * shows are read.
 */
const ownHome = builtOnce((db) =>
  graduateRecord(db, {
    agreements: sql<Array<[number, string, string, string | null, string, string | null]>>`(select coalesce(json_agg(json_build_array(${agreements.id}, ${agreements.kind}, ${agreements.state}, ${agreements.unitSnapshot}->>'name', ${agreements.positionName}, ${agreements.deadline}) order by ${agreements.createdAt} desc, ${agreements.id} desc), '[]') from ${agreements} where ${agreements.graduateId} = ${graduates.id})`,
    drafts: sql<string[]>`(select coalesce(json_agg(${agreementDrafts.kind}), '[]') from ${agreementDrafts} where ${agreementDrafts.graduateId} = ${graduates.id})`,
    latest: sql<Array<[number, string, string]>>`(select coalesce(json_agg(json_build_array(r.id, r.state, r.type) order by r.id desc), '[]') from (select id, state, type from ${destinationRegistrations} where ${destinationRegistrations.graduateId} = ${graduates.id} order by id desc limit 6) r)`,
  })
    .where(eq(graduates.id, sql.placeholder('id')))
    .prepare('own_graduate_home'),
);

/** What the graduate home reads, in one statement: the record as getGraduate gives it, the agreements, the draft kinds and the latest registrations. */
export async function graduateHome(db: DbOrTx, actor: Actor) {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  const [row] = await ownHome(db).execute({ id: actor.graduateId });
  if (!row) throw notFound('毕业生');
  return {
    graduate: recordOf(row),
    agreements: row.agreements.map(([id, kind, state, unitName, positionName, deadline]) => ({ id, kind: kind as (typeof agreements.$inferSelect)['kind'], state: state as (typeof agreements.$inferSelect)['state'], unitName: unitName ?? '', positionName, deadline: deadline === null ? null : new Date(deadline) })),
    drafts: row.drafts.map((kind) => ({ kind })),
    latest: row.latest.map(([id, state, type]) => ({ id, state: state as (typeof destinationRegistrations.$inferSelect)['state'], type })),
  };
}

/** A graduateRecord row as the callers take it; destinationCode: the current destination, the projection (domain/destinations/current.ts). */
const recordOf = <R extends { graduate: typeof graduates.$inferSelect; school: string; department: string; destinationCode: string | null }>(row: R) => ({ ...row.graduate, school: row.school, department: row.department, destinationCode: row.destinationCode });

/** One roster record the actor may see, with school and department names; another tenant's is not found. */
export async function getGraduate(db: DbOrTx, actor: Actor, id: number) {
  // A graduate's scope is the graduate's own id (graduateScope).
  const [row] = actor.role === 'student' && actor.graduateId === id ? await ownRecord(db).execute({ id }) : await graduateRecord(db).where(and(eq(graduates.id, id), graduateScope(actor)));
  if (!row) throw notFound('毕业生');
  return recordOf(row);
}
