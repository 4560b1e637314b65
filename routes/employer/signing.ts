import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { POSITION_CATEGORY_OPTIONS } from '../../domain/codes/tables.ts';
import { DomainError } from '../../domain/errors.ts';
import { ARCHIVE_LABELS, getUnit } from '../../domain/employers/unit.ts';
import { formatShanghai, responseDeadline } from '../../domain/agreements/deadline.ts';
import { agreementStateLabel, inAgreementGroup, progressSteps } from '../../domain/agreements/kinds.ts';
import { invitationDefaults, sendInvitations } from '../../domain/agreements/online/invitations.ts';
import { EMPLOYER_TABS } from '../../domain/agreements/employer-tabs.ts';
import { agreementTimeline, employerAgreements, getAgreement, type EmployerTab } from '../../domain/agreements/queries.ts';
import { ARCHIVE_MODE_LABELS, ARCHIVE_MODES } from '../../domain/agreements/states.ts';
import { FAVOURITES_IMPORT_MAX_BYTES, importFavourites, favouritesTemplate, MAX_IMPORT_ROWS } from '../../domain/favourites/favourites-import.ts';
import { addFavourite, chosenFavourites, favouriteOfGraduate, findStudent, getFavourite, listFavourites, removeFavourite } from '../../domain/favourites/favourites.ts';
import { letterView } from '../agreement-view.ts';
import { terminationView } from '../terminations.ts';
import { clientIp } from '../client-ip.ts';
import { uploadLimit } from '../body.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues, refusalOf, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 签约/解约 for a verified unit (E4–E6): 学生收藏夹, 签约邀请函, and the status tabs.
export const signingRoutes = new Hono<AppEnv>();

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const thisYear = () => new Date().getFullYear();
export const listQuery = z.object({
  cohort: z.coerce.number().int().min(2000).max(2100).catch(() => thisYear()),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
  q: z.string().trim().max(50).optional().catch(undefined),
});
const cohortsAround = (cohort: number) => [...new Set([thisYear() - 1, thisYear(), thisYear() + 1, cohort])].sort();

// 学生收藏夹
signingRoutes.get('/favourites', async (c) => {
  const query = listQuery.parse({ cohort: thisYear(), ...c.req.query() });
  const invalid = c.req.query('tab') === 'invalid';
  const result = await listFavourites(c.get('app').db, c.get('actor')!, { cohort: query.cohort, invalid, page: query.page });
  return render(c, 'employer/favourites/index', {
    title: '学生收藏夹',
    ...result,
    invalid,
    cohort: query.cohort,
    cohorts: cohortsAround(query.cohort),
    pageQuery: `cohort=${query.cohort}${invalid ? '&tab=invalid' : ''}`,
    notice: c.req.query('added') === '1' ? '已加入收藏夹。' : c.req.query('removed') === '1' ? '已从收藏夹删除。' : undefined,
  });
});

const searchPage = (c: Context<AppEnv>, extra: Record<string, unknown>, status: PageStatus = 200) =>
  render(c, 'employer/favourites/search', { title: '添加学生', values: { cohort: String(thisYear()) }, fields: {}, cohorts: cohortsAround(thisYear()), ...extra }, status);

signingRoutes.get('/favourites/new', (c) => searchPage(c, {}));

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
signingRoutes.get('/favourites/template.xlsx', async (c) =>
  c.body(new Uint8Array(await favouritesTemplate()), 200, { 'Content-Type': XLSX, 'Content-Disposition': `attachment; filename="template.xlsx"; filename*=UTF-8''${encodeURIComponent('学生名单导入模板.xlsx')}` }),
);

// 导入学生名单: each row answered on its own (added, already there, not found, invalid).
signingRoutes.post('/favourites/import', uploadLimit(FAVOURITES_IMPORT_MAX_BYTES + 64 * 1024, `导入文件不能超过 ${FAVOURITES_IMPORT_MAX_BYTES / 1024 / 1024}MB（每次最多导入 ${MAX_IMPORT_ROWS} 名学生）。`), async (c) => {
  const body = await c.req.parseBody();
  const cohort = listQuery.parse({ cohort: body.cohort }).cohort;
  const file = body.file;
  try {
    if (!(file instanceof File) || file.size === 0) throw new DomainError('invalid', '请选择要导入的文件', { file: '请选择要导入的文件' });
    const results = await importFavourites(c.get('app').db, source(c), cohort, new Uint8Array(await file.arrayBuffer()));
    return render(c, 'employer/favourites/imported', { title: '导入结果', results, cohort, added: results.filter((r) => r.result === 'added').length });
  } catch (e) {
    const refusal = formProblems(e);
    return searchPage(c, refusal, refusal.status);
  }
});

// The search is a POST: the ID number must not travel in a URL.
signingRoutes.post('/favourites/search', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    return searchPage(c, { values, found: await findStudent(c.get('app').db, c.get('actor')!, values) });
  } catch (e) {
    const refusal = refusalOf(e);
    return searchPage(c, { values, ...refusal }, refusal.status);
  }
});

signingRoutes.post('/favourites', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    const f = await getFavourite(c.get('app').db, c.get('actor')!, await addFavourite(c.get('app').db, source(c), values));
    return c.redirect(`/employer/favourites?cohort=${f.cohort}&added=1`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return searchPage(c, { values, ...refusal }, refusal.status);
  }
});

signingRoutes.get('/favourites/:id{[0-9]+}/removal', async (c) => {
  const f = await getFavourite(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'employer/favourites/remove', { title: '删除收藏', id: f.id, cohort: f.cohort });
});

signingRoutes.post('/favourites/:id{[0-9]+}/removal', async (c) => {
  await removeFavourite(c.get('app').db, source(c), idParam(c));
  return c.redirect('/employer/favourites?removed=1', 303);
});

// 签约邀请函
const FORM_OPTIONS = {
  positionCategory: POSITION_CATEGORY_OPTIONS.map((o) => ({ value: o.code, label: o.label })),
  archiveMode: ARCHIVE_MODES.map((m) => ({ value: m, label: ARCHIVE_MODE_LABELS[m] })),
};

async function letterPage(c: Context<AppEnv>, favouriteIds: number[], values: Record<string, string>, problems: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const chosen = await chosenFavourites(db, actor, favouriteIds);
  const days = Number(values.validityDays);
  return render(c, 'employer/invitations/form', {
    title: '签约邀请函',
    unitName: (await getUnit(db, actor.employerId!)).name,
    chosen,
    favouriteIds,
    values,
    fields: problems.fields ?? {},
    error: problems.error,
    options: FORM_OPTIONS,
    archiveLabels: ARCHIVE_LABELS,
    deadline: Number.isInteger(days) && days >= 1 && days <= 30 ? formatShanghai(responseDeadline(new Date(), days)) : null,
  }, status);
}

/** The favourites ticked on the list (a page offers 20); past a hundred it is not a browser's request, and the rest is ignored. */
const selectedIds = (body: Record<string, unknown>) => [...new Set([body.favourite].flat().map(Number).filter((n) => Number.isSafeInteger(n) && n > 0))].slice(0, 100);

// 发起签约邀请: the favourites chosen on the list (checkboxes) open the letter, pre-filled (E5).
signingRoutes.post('/invitations/new', async (c) => {
  const ids = selectedIds(await c.req.parseBody({ all: true }));
  if (ids.length === 0) return c.redirect('/employer/favourites', 303);
  return letterPage(c, ids, await invitationDefaults(c.get('app').db, c.get('actor')!));
});

signingRoutes.post('/invitations', async (c) => {
  const body = await c.req.parseBody({ all: true });
  const ids = selectedIds(body);
  const values = formValues(body);
  try {
    const result = await sendInvitations(c.get('app').db, source(c), ids, values);
    return render(c, 'employer/invitations/sent', { title: '发送结果', ...result });
  } catch (e) {
    const refusal = formProblems(e);
    return letterPage(c, ids, values, refusal, refusal.status);
  }
});

// 签约中 / 已签约 / 签约失败 / 失效 (E6)
signingRoutes.get('/agreements', async (c) => {
  const tab = (c.req.query('tab') ?? 'signing') as EmployerTab;
  const safeTab: EmployerTab = Object.hasOwn(EMPLOYER_TABS, tab) ? tab : 'signing';
  const query = listQuery.parse({ cohort: thisYear(), ...c.req.query() });
  const result = await employerAgreements(c.get('app').db, c.get('actor')!, { tab: safeTab, cohort: query.cohort, q: query.q, page: query.page });
  return render(c, 'employer/agreements/index', {
    title: '签约/解约',
    ...result,
    tab: safeTab,
    tabs: Object.entries(EMPLOYER_TABS).map(([key, t]) => ({ key, label: t.label })),
    cohort: query.cohort,
    cohorts: cohortsAround(query.cohort),
    q: query.q ?? '',
    pageQuery: `tab=${safeTab}&cohort=${query.cohort}${query.q ? `&q=${encodeURIComponent(query.q)}` : ''}`,
  });
});

/** An agreement of the unit, with its termination (发起解约, the answer to the graduate's request). */
export async function employerAgreementPage(c: Context<AppEnv>, id: number, extra: { error?: string; fields?: Record<string, string>; values?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const a = await getAgreement(db, actor, id);
  return render(c, 'employer/agreements/show', {
    title: '签约详情',
    a: letterView(a, agreementStateLabel(a.kind, 'employer', a.state)),
    verb: a.verb,
    steps: progressSteps(a.kind, a.state, a.verb),
    timeline: await agreementTimeline(db, a),
    documentReady: inAgreementGroup(a.kind, 'documented', a.state),
    // 签约失败 offers 再次发起签约 (E6, G6).
    favouriteId: inAgreementGroup(a.kind, 'failed', a.state) ? await favouriteOfGraduate(db, actor, a.graduateId) : undefined,
    termination: await terminationView(c, a.id, 'employer'),
    archiveLabels: ARCHIVE_LABELS,
    fields: {},
    values: {},
    notice: ({ proposed: '解约申请已提交，等待学生答复。', answered: '已答复。' } as Record<string, string>)[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

signingRoutes.get('/agreements/:id{[0-9]+}', (c) => employerAgreementPage(c, idParam(c)));
