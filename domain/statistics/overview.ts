import { and, asc, desc, eq, min, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { provinces, schoolFigures, schools } from '../../db/schema/index.ts';
import type { AgreementKind } from '../agreements/states.ts';
import type { Actor } from '../auth/sessions.ts';
import { forbidden, notFound } from '../errors.ts';
import { DESTINATION_COLUMNS, DESTINATION_GROUPS, PIPELINE_KINDS, PIPELINE_STAGES, PIPELINE_STAGE_OF, PLACED_CODES, type PipelineStage } from './definitions.ts';
import type { Scope } from './school.ts';

// The province's and the platform's 数据统计: the same figures per school, read from school_figures,
// which the statistics job refreshes for every school and cohort at once.

export const FIGURES_EVERY_MINUTES = 10;

const STAGE_CASE = sql.raw(
  `case ${Object.entries(PIPELINE_STAGE_OF)
    .flatMap(([kind, states]) => Object.entries(states).map(([state, stage]) => `when kind = '${kind}' and state = '${state}' then '${stage}'`))
    .join(' ')} else 'failed' end`,
);
const PLACED = sql.raw(`array[${PLACED_CODES.map((c) => `'${c}'`).join(',')}]::text[]`);

/** Recounts every school and cohort in one statement; readers keep the previous figures until it commits. */
export async function refreshSchoolFigures(tx: Tx, now = new Date()): Promise<number> {
  await tx.execute(sql`delete from school_figures`);
  const rows = await tx.execute<{ n: number }>(sql`
    with g as (
      select g.school_id, g.cohort, coalesce(d.code, '') as code, count(*)::int as n
        from graduates g left join graduate_destinations d on d.graduate_id = g.id
       where g.removed_at is null
       group by 1, 2, 3),
    gs as (
      select school_id, cohort, sum(n)::int as graduates, coalesce(sum(n) filter (where code = any(${PLACED})), 0)::int as placed, jsonb_object_agg(code, n) as by_code
        from g group by 1, 2),
    a as (
      select school_id, cohort, kind, state, sum(n)::int as n from agreement_counts group by 1, 2, 3, 4 having sum(n) <> 0),
    ak as (
      select school_id, cohort, kind, jsonb_object_agg(stage, n) as stages
        from (select school_id, cohort, kind::text as kind, ${STAGE_CASE} as stage, sum(n)::int as n from a group by 1, 2, 3, 4) s
       group by 1, 2, 3),
    ap as (
      select school_id, cohort, jsonb_object_agg(kind, stages) as pipeline from ak group by 1, 2),
    ins as (
      insert into school_figures (school_id, cohort, graduates, placed, by_code, pipeline, refreshed_at)
      select coalesce(gs.school_id, ap.school_id), coalesce(gs.cohort, ap.cohort), coalesce(gs.graduates, 0), coalesce(gs.placed, 0),
             coalesce(gs.by_code, '{}'::jsonb), coalesce(ap.pipeline, '{}'::jsonb), ${now.toISOString()}::timestamptz
        from gs full join ap on ap.school_id = gs.school_id and ap.cohort = gs.cohort
      returning 1)
    select count(*)::int as n from ins`);
  return rows[0]?.n ?? 0;
}

export type SchoolRow = {
  schoolId: number;
  code: string;
  name: string;
  province: string;
  graduates: number;
  placed: number;
  byCode: Record<string, number>;
  groups: Record<string, number>;
  stages: Record<PipelineStage, number>;
};

export type Figures = {
  cohort: number;
  cohorts: number[];
  refreshedAt: Date | null;
  graduates: number;
  placed: number;
  byCode: Array<{ code: string; label: string; count: number }>;
};

const GROUP_KEYS = [...DESTINATION_GROUPS.map((g) => ({ key: g.key, label: g.label, codes: g.codes as readonly string[] })), { key: 'unregistered', label: '未登记', codes: [''] as readonly string[] }];

function toRow(r: { schoolId: number; code: string; name: string; province: string; graduates: number; placed: number; byCode: Record<string, number>; pipeline: Record<string, Record<string, number>> }): SchoolRow {
  const stages = Object.fromEntries(PIPELINE_STAGES.map((s) => [s.key, PIPELINE_KINDS.reduce((n, k) => n + (r.pipeline[k.kind as AgreementKind]?.[s.key] ?? 0), 0)])) as Record<PipelineStage, number>;
  const groups = Object.fromEntries(GROUP_KEYS.map((g) => [g.key, g.codes.reduce((n, c) => n + (r.byCode[c] ?? 0), 0)]));
  return { schoolId: r.schoolId, code: r.code, name: r.name, province: r.province, graduates: r.graduates, placed: r.placed, byCode: r.byCode, groups, stages };
}

const rowColumns = {
  schoolId: schoolFigures.schoolId,
  code: schools.code,
  name: schools.name,
  province: provinces.name,
  graduates: schoolFigures.graduates,
  placed: schoolFigures.placed,
  byCode: schoolFigures.byCode,
  pipeline: schoolFigures.pipeline,
};

async function cohortsOf(db: DbOrTx, provinceId: number | null): Promise<number[]> {
  const rows = await db
    .selectDistinct({ cohort: schoolFigures.cohort })
    .from(schoolFigures)
    .innerJoin(schools, eq(schools.id, schoolFigures.schoolId))
    .where(provinceId === null ? undefined : eq(schools.provinceId, provinceId))
    .orderBy(desc(schoolFigures.cohort));
  return rows.map((r) => r.cohort);
}

function sumFigures(rows: readonly SchoolRow[]) {
  const byCode: Record<string, number> = {};
  for (const r of rows) for (const [c, n] of Object.entries(r.byCode)) byCode[c] = (byCode[c] ?? 0) + n;
  return {
    graduates: rows.reduce((n, r) => n + r.graduates, 0),
    placed: rows.reduce((n, r) => n + r.placed, 0),
    byCode: DESTINATION_COLUMNS.map((d) => ({ ...d, count: byCode[d.code] ?? 0 })),
  };
}

/** A province's schools, each with its figures (a school without graduates or agreements in the cohort shows none). */
export async function provinceFigures(db: DbOrTx, actor: Actor, asked: number | undefined) {
  if (actor.role !== 'province' || actor.provinceId === null) throw forbidden();
  const [province] = await db.select().from(provinces).where(eq(provinces.id, actor.provinceId));
  if (!province) throw notFound('省份');
  const cohorts = await cohortsOf(db, actor.provinceId);
  const cohort = asked ?? cohorts[0] ?? new Date().getFullYear();
  const rows = (
    await db
      .select(rowColumns)
      .from(schoolFigures)
      .innerJoin(schools, eq(schools.id, schoolFigures.schoolId))
      .innerJoin(provinces, eq(provinces.id, schools.provinceId))
      .where(and(eq(schools.provinceId, actor.provinceId), eq(schoolFigures.cohort, cohort)))
      .orderBy(asc(schools.code))
  ).map(toRow);
  const [fresh] = await db.select({ at: min(schoolFigures.refreshedAt) }).from(schoolFigures).innerJoin(schools, eq(schools.id, schoolFigures.schoolId)).where(eq(schools.provinceId, actor.provinceId));
  return { province, cohort, cohorts: cohorts.includes(cohort) ? cohorts : [cohort, ...cohorts], refreshedAt: fresh?.at ?? null, schools: rows, ...sumFigures(rows) };
}

export const PLATFORM_PAGE_SIZE = 50;

/** Every province's totals and a page of schools (all, or one province's), for platform staff. */
export async function platformFigures(db: DbOrTx, actor: Actor, query: { cohort?: number; province?: number; page: number }) {
  if (actor.role !== 'admin') throw forbidden();
  const cohorts = await cohortsOf(db, null);
  const cohort = query.cohort ?? cohorts[0] ?? new Date().getFullYear();
  // A thousand schools' rows are a few hundred kilobytes: summed here rather than by jsonb in SQL.
  const [all, provinceList, fresh] = await Promise.all([
    db
      .select({ ...rowColumns, provinceId: schools.provinceId })
      .from(schoolFigures)
      .innerJoin(schools, eq(schools.id, schoolFigures.schoolId))
      .innerJoin(provinces, eq(provinces.id, schools.provinceId))
      .where(eq(schoolFigures.cohort, cohort))
      .orderBy(asc(schools.code)),
    db.select({ id: provinces.id, code: provinces.code, name: provinces.name }).from(provinces).orderBy(asc(provinces.code)),
    db.select({ at: min(schoolFigures.refreshedAt) }).from(schoolFigures),
  ]);
  const rows = all.map((r) => ({ ...toRow(r), provinceId: r.provinceId }));
  const provinceRows = provinceList.map((p) => {
    const mine = rows.filter((r) => r.provinceId === p.id);
    const byCode: Record<string, number> = {};
    for (const r of mine) for (const [c, n] of Object.entries(r.byCode)) byCode[c] = (byCode[c] ?? 0) + n;
    const stages = Object.fromEntries(PIPELINE_STAGES.map((s) => [s.key, mine.reduce((n, r) => n + r.stages[s.key], 0)])) as Record<PipelineStage, number>;
    const groups = Object.fromEntries(GROUP_KEYS.map((g) => [g.key, mine.reduce((n, r) => n + (r.groups[g.key] ?? 0), 0)]));
    return { id: p.id, code: p.code, name: p.name, schools: mine.length, graduates: mine.reduce((n, r) => n + r.graduates, 0), placed: mine.reduce((n, r) => n + r.placed, 0), byCode, groups, stages };
  });
  const listed = query.province ? rows.filter((r) => r.provinceId === query.province) : rows;
  const pages = Math.max(1, Math.ceil(listed.length / PLATFORM_PAGE_SIZE));
  const page = Math.min(query.page, pages);
  return {
    cohort,
    cohorts: cohorts.includes(cohort) ? cohorts : [cohort, ...cohorts],
    refreshedAt: fresh[0]?.at ?? null,
    provinces: provinceRows,
    province: provinceRows.find((p) => p.id === query.province) ?? null,
    schools: listed.slice((page - 1) * PLATFORM_PAGE_SIZE, page * PLATFORM_PAGE_SIZE),
    allSchools: listed,
    schoolCount: listed.length,
    page,
    pages,
    ...sumFigures(rows),
  };
}

/** The scope of one school's figures as a province (its own schools only) or platform staff see them. */
export async function overseenSchool(db: DbOrTx, actor: Actor, code: string): Promise<Scope & { name: string; code: string }> {
  if (actor.role !== 'province' && actor.role !== 'admin') throw forbidden();
  const [school] = await db
    .select({ id: schools.id, name: schools.name, code: schools.code })
    .from(schools)
    .where(and(eq(schools.code, code), actor.role === 'province' ? eq(schools.provinceId, actor.provinceId ?? -1) : undefined));
  if (!school) throw notFound('学校');
  return { schoolId: school.id, departmentId: null, name: school.name, code: school.code };
}
