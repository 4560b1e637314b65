import { asc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { departments } from '../../db/schema/index.ts';
import type { AgreementKind, AgreementState } from '../agreements/states.ts';
import type { Actor } from '../auth/sessions.ts';
import { regionName } from '../codes/regions.ts';
import { EDUCATION_LEVELS, SEXES, labelOf } from '../codes/tables.ts';
import { forbidden } from '../errors.ts';
import { DESTINATION_COLUMNS, DESTINATION_GROUPS, PIPELINE_KINDS, PIPELINE_STAGES, PLACED_CODES, pipelineStage, type PipelineStage } from './definitions.ts';

// 数据统计 of one school (or one 院系, for a department user) and cohort, computed from the roster,
// each graduate's current 毕业去向 (graduate_destinations) and the agreements' counters, at request time:
// a school's cohort is at most tens of thousands of rows, read through (school_id, cohort, …) indexes.

export type Scope = { schoolId: number; departmentId: number | null };

export function statisticsScope(actor: Actor): Scope {
  if (actor.role === 'school' && actor.schoolId !== null) return { schoolId: actor.schoolId, departmentId: null };
  if (actor.role === 'department' && actor.schoolId !== null && actor.departmentId !== null) return { schoolId: actor.schoolId, departmentId: actor.departmentId };
  throw forbidden();
}

/** The cohorts of the scope's roster, newest first. */
export async function statisticsCohorts(db: DbOrTx, scope: Scope): Promise<number[]> {
  const rows = await db.execute<{ cohort: number }>(sql`
    select distinct cohort from graduates where school_id = ${scope.schoolId} and removed_at is null${scope.departmentId === null ? sql`` : sql` and department_id = ${scope.departmentId}`} order by cohort desc`);
  return rows.map((r) => r.cohort);
}

/** One row of a breakdown: its key and label, the graduates, how many are 落实, and per 毕业去向 when crossed. */
export type Breakdown = { key: string; label: string; total: number; placed: number; byCode?: Record<string, number> };

export type SchoolStatistics = {
  cohort: number;
  total: number;
  placed: number;
  byDestination: Array<{ code: string; label: string; count: number }>;
  byGroup: Array<{ key: string; label: string; count: number; placed: boolean }>;
  byDepartment: Breakdown[];
  byMajor: Array<Breakdown & { department: string }>;
  byLevel: Breakdown[];
  bySex: Breakdown[];
  byOrigin: Breakdown[];
  pipeline: Array<{ kind: AgreementKind; label: string; stages: Record<PipelineStage, number>; total: number }>;
};

type Cell = { department: number | null; major: string | null; level: string | null; sex: string | null; origin: string | null; code: string | null; n: number; placed: number };

const key = (v: unknown) => String(v ?? '');

export async function schoolStatistics(db: DbOrTx, scope: Scope, cohort: number): Promise<SchoolStatistics> {
  const inDepartment = scope.departmentId === null ? sql`` : sql` and g.department_id = ${scope.departmentId}`;
  const placed = sql.raw(`array[${PLACED_CODES.map((c) => `'${c}'`).join(',')}]::text[]`);
  // One pass over the cohort, every breakdown a grouping set (a null column: not grouped by it; no
  // grouped column is ever null, and 未登记 is the code '').
  const [cells, pipelineRows, departmentRows] = await Promise.all([
    db.execute<Cell>(sql`
      select g.department_id as department, (case when grouping(g.major_name) = 0 then g.major_name end) as major,
             g.education_level as level, g.sex as sex, left(g.origin_region, 2) as origin, coalesce(d.code, '') as code,
             count(*)::int as n, (count(*) filter (where d.code = any(${placed})))::int as placed
        from graduates g left join graduate_destinations d on d.graduate_id = g.id and d.school_id = g.school_id
       where g.school_id = ${scope.schoolId} and g.cohort = ${cohort} and g.removed_at is null${inDepartment}
       group by grouping sets ((), (coalesce(d.code, '')), (g.department_id), (g.department_id, coalesce(d.code, '')), (g.department_id, g.major_name),
                               (g.education_level), (g.education_level, coalesce(d.code, '')), (g.sex), (left(g.origin_region, 2)))`),
    // The signing pipeline sums the counters (agreement_counts), not the agreements.
    db.execute<{ kind: AgreementKind; state: AgreementState; n: number }>(sql`
      select c.kind, c.state, sum(c.n)::int as n from agreement_counts c
       where c.school_id = ${scope.schoolId} and c.cohort = ${cohort}${scope.departmentId === null ? sql`` : sql` and c.department_id = ${scope.departmentId}`}
       group by c.kind, c.state having sum(c.n) <> 0`),
    db.select({ id: departments.id, name: departments.name }).from(departments).where(eq(departments.schoolId, scope.schoolId)).orderBy(asc(departments.name)),
  ]);
  const departmentName = new Map(departmentRows.map((d) => [d.id, d.name]));

  let total = 0;
  let placedTotal = 0;
  const byCode = new Map<string, number>();
  const dims = { department: new Map<string, Breakdown>(), major: new Map<string, Breakdown & { department: string }>(), level: new Map<string, Breakdown>(), sex: new Map<string, Breakdown>(), origin: new Map<string, Breakdown>() };
  const row = <B extends Breakdown>(m: Map<string, B>, k: string, make: () => B): B => m.get(k) ?? (m.set(k, make()), m.get(k)!);
  for (const c of cells) {
    const grouped = { department: c.department !== null, major: c.major !== null, level: c.level !== null, sex: c.sex !== null, origin: c.origin !== null, code: c.code !== null };
    if (!grouped.department && !grouped.level && !grouped.sex && !grouped.origin) {
      if (grouped.code) byCode.set(c.code!, c.n);
      else ((total = c.n), (placedTotal = c.placed));
      continue;
    }
    if (grouped.major) {
      const k = `${c.department}:${c.major}`;
      Object.assign(row(dims.major, k, () => ({ key: k, label: c.major!, department: departmentName.get(c.department!) ?? '', total: 0, placed: 0 })), { total: c.n, placed: c.placed });
      continue;
    }
    const [m, k, label] = grouped.department
      ? [dims.department, key(c.department), departmentName.get(c.department!) ?? '']
      : grouped.level
        ? [dims.level, key(c.level), labelOf(EDUCATION_LEVELS, c.level!)]
        : grouped.sex
          ? [dims.sex, key(c.sex), labelOf(SEXES, c.sex!)]
          : [dims.origin, key(c.origin), regionName(`${c.origin}0000`) ?? `${c.origin}（未知地区）`];
    const b = row(m, k, () => ({ key: k, label, total: 0, placed: 0, byCode: {} }));
    if (grouped.code) b.byCode![c.code!] = c.n;
    else ((b.total = c.n), (b.placed = c.placed));
  }

  const stagesOf = (): Record<PipelineStage, number> => Object.fromEntries(PIPELINE_STAGES.map((s) => [s.key, 0])) as Record<PipelineStage, number>;
  const pipeline = PIPELINE_KINDS.map((k) => ({ ...k, stages: stagesOf(), total: 0 }));
  for (const r of pipelineRows) {
    const p = pipeline.find((x) => x.kind === r.kind);
    if (!p) continue;
    p.stages[pipelineStage(r.kind, r.state)] += r.n;
    p.total += r.n;
  }

  const byName = (a: Breakdown, b: Breakdown) => a.label.localeCompare(b.label, 'zh-CN');
  const byKey = (a: Breakdown, b: Breakdown) => a.key.localeCompare(b.key);
  return {
    cohort,
    total,
    placed: placedTotal,
    byDestination: DESTINATION_COLUMNS.map((d) => ({ ...d, count: byCode.get(d.code) ?? 0 })),
    byGroup: [
      ...DESTINATION_GROUPS.map((g) => ({ key: g.key, label: g.label, placed: g.placed, count: g.codes.reduce((n, c) => n + (byCode.get(c) ?? 0), 0) })),
      { key: 'unregistered', label: '未登记', placed: false, count: byCode.get('') ?? 0 },
    ],
    byDepartment: [...dims.department.values()].sort(byName),
    byMajor: [...dims.major.values()].sort((a, b) => a.department.localeCompare(b.department, 'zh-CN') || byName(a, b)),
    byLevel: [...dims.level.values()].sort(byKey),
    bySex: [...dims.sex.values()].sort(byKey),
    byOrigin: [...dims.origin.values()].sort(byKey),
    pipeline,
  };
}
