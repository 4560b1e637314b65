import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { regionName } from '../../domain/codes/regions.ts';
import {
  EDUCATION_LEVEL_OPTIONS,
  EDUCATION_LEVEL_SHORT,
  ETHNICITIES,
  ETHNICITY_OPTIONS,
  POLITICAL_STATUSES,
  POLITICAL_STATUS_OPTIONS,
  SEXES,
  SEX_OPTIONS,
  TRAINING_MODE_OPTIONS,
  TRAINING_MODES,
  labelOf,
} from '../../domain/codes/tables.ts';
import { forbidden } from '../../domain/errors.ts';
import { addGraduate, removeGraduate, revealIdNumber, updateGraduate } from '../../domain/graduates/roster-admin.ts';
import { getGraduate, listGraduates } from '../../domain/graduates/roster.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { cachedCohortTotal, cachedCohorts, cachedFilterOptions } from '../school-cache.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 学生名单管理: the roster list with its filters, and one graduate at a time.
export const graduateRoutes = new Hono<AppEnv>();

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const toOptions = (opts: ReadonlyArray<{ code: string; label: string }>) => opts.map((o) => ({ value: o.code, label: `${o.code} ${o.label}` }));
const FORM_OPTIONS = {
  sex: toOptions(SEX_OPTIONS),
  ethnicity: toOptions(ETHNICITY_OPTIONS),
  politicalStatus: toOptions(POLITICAL_STATUS_OPTIONS),
  educationLevel: toOptions(EDUCATION_LEVEL_OPTIONS),
  trainingMode: toOptions(TRAINING_MODE_OPTIONS),
};

export const listQuery = z.object({
  cohort: z.coerce.number().int().min(2000).max(2100).optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  major: z.string().trim().max(100).optional().catch(undefined),
  level: z.string().regex(/^\d{2}$/).optional().catch(undefined),
  mode: z.string().regex(/^\d{1,2}$/).optional().catch(undefined),
  confirmed: z.enum(['yes', 'no']).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

function requireSchoolUser(c: Context<AppEnv>) {
  if (c.get('actor')!.role !== 'school') throw forbidden();
}

graduateRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const query = listQuery.parse(c.req.query());
  const cohorts = await cachedCohorts(c);
  const cohort = query.cohort ?? cohorts[0] ?? new Date().getFullYear();
  const [result, options] = await Promise.all([
    listGraduates(db, actor, { ...query, cohort, departmentId: query.department, trainingMode: query.mode }, cachedCohortTotal(c, cohort)),
    cachedFilterOptions(c, cohort),
  ]);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, cohort, page: undefined })) if (v !== undefined && v !== '') params.set(k, String(v));
  return render(c, 'school/graduates/index', {
    title: '学生名单管理',
    filters: { ...query, cohort },
    cohorts: cohorts.includes(cohort) ? cohorts : [cohort, ...cohorts],
    options: { ...options, levels: FORM_OPTIONS.educationLevel, modes: FORM_OPTIONS.trainingMode },
    canEdit: actor.role === 'school',
    pageQuery: params.toString(),
    notice: c.req.query('removed') === '1' ? '已移出名单。' : undefined,
    ...result,
    rows: result.rows.map((r) => ({ ...r, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, r.educationLevel), trainingMode: labelOf(TRAINING_MODES, r.trainingMode) })),
  });
});

async function graduateForm(c: Context<AppEnv>, opts: { id?: number; cohort: number; values: Record<string, unknown>; error?: string; fields?: Record<string, string> }, status: PageStatus = 200) {
  return render(c, 'school/graduates/form', { title: opts.id ? '修改学生信息' : '添加学生', options: FORM_OPTIONS, fields: {}, ...opts }, status);
}

graduateRoutes.get('/new', async (c) => {
  requireSchoolUser(c);
  const cohort = listQuery.parse(c.req.query()).cohort ?? new Date().getFullYear();
  return graduateForm(c, { cohort, values: { school: '' } });
});

graduateRoutes.post('/', async (c) => {
  requireSchoolUser(c);
  const body = formValues(await c.req.parseBody());
  const cohort = listQuery.parse({ cohort: body.cohort }).cohort ?? new Date().getFullYear();
  try {
    const id = await addGraduate(c.get('app').db, source(c), cohort, body);
    return c.redirect(`/school/graduates/${id}?saved=1`, 303);
  } catch (e) {
    const problems = formProblems(e);
    return graduateForm(c, { cohort, values: body, ...problems }, problems.status);
  }
});

async function detail(c: Context<AppEnv>, revealed?: string) {
  const g = await getGraduate(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'school/graduates/show', {
    title: g.name,
    canEdit: c.get('actor')!.role === 'school',
    notice: c.req.query('saved') === '1' ? '已保存。' : undefined,
    graduate: {
      ...g,
      idNumber: revealed ?? g.idNumberMasked,
      revealed: revealed !== undefined,
      sex: labelOf(SEXES, g.sex),
      ethnicity: labelOf(ETHNICITIES, g.ethnicity),
      politicalStatus: labelOf(POLITICAL_STATUSES, g.politicalStatus),
      educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel),
      trainingMode: labelOf(TRAINING_MODES, g.trainingMode),
      originRegion: `${regionName(g.originRegion) ?? ''}（${g.originRegion}）`,
    },
  });
}

graduateRoutes.get('/:id{[0-9]+}', (c) => detail(c));

// Showing the full ID number is a POST so it never sits in a URL, and each reveal is logged.
graduateRoutes.post('/:id{[0-9]+}/id-number', async (c) => {
  const g = await getGraduate(c.get('app').db, c.get('actor')!, idParam(c));
  return detail(c, await revealIdNumber(c.get('app').db, source(c), g));
});

graduateRoutes.get('/:id{[0-9]+}/edit', async (c) => {
  requireSchoolUser(c);
  const g = await getGraduate(c.get('app').db, c.get('actor')!, idParam(c));
  // The ID number shows masked, as everywhere: the full number only through the logged reveal.
  // Sent back unchanged, the mask keeps the stored number; a full number typed over it replaces it.
  return graduateForm(c, { id: g.id, cohort: g.cohort, values: { ...g, idNumber: g.idNumberMasked, departmentName: g.department } });
});

graduateRoutes.post('/:id{[0-9]+}', async (c) => {
  requireSchoolUser(c);
  const id = idParam(c);
  const body = formValues(await c.req.parseBody());
  const g = await getGraduate(c.get('app').db, c.get('actor')!, id);
  try {
    await updateGraduate(c.get('app').db, source(c), id, body);
    return c.redirect(`/school/graduates/${id}?saved=1`, 303);
  } catch (e) {
    const problems = formProblems(e);
    return graduateForm(c, { id, cohort: g.cohort, values: { ...body, phone: g.phone, email: g.email }, ...problems }, problems.status);
  }
});

graduateRoutes.get('/:id{[0-9]+}/removal', async (c) => {
  requireSchoolUser(c);
  const g = await getGraduate(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'school/graduates/remove', { title: '移出名单', graduate: { id: g.id, name: g.name, studentNo: g.studentNo, department: g.department } });
});

graduateRoutes.post('/:id{[0-9]+}/removal', async (c) => {
  requireSchoolUser(c);
  await removeGraduate(c.get('app').db, source(c), idParam(c));
  return c.redirect('/school/graduates?removed=1', 303);
});
