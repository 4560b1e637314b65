import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { CITY_GROUPS } from '../../domain/codes/regions.ts';
import {
  amendRegistration,
  decideRegistration,
  DESTINATION_TABS,
  getRegistrationForReview,
  listRegistrations,
  registrationCounts,
  registrationTimeline,
  registrationView,
  type DestinationTab,
} from '../../domain/destinations/register.ts';
import { DESTINATION_STATES } from '../../domain/destinations/states.ts';
import { DESTINATION_TYPE_KEYS, fieldsOf, formValuesOf, isDestinationType, typeChoices, typeLabel, type DestinationType } from '../../domain/destinations/types.ts';
import { TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import { clientIp } from '../client-ip.ts';
import { registrationFlags } from '../../domain/reviews/flags.ts';
import type { AppEnv } from '../context.ts';
import { cachedFilterOptions } from '../school-cache.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 去向登记管理 (school guide 8): the four tabs with counts, filters (院系, 专业, 去向类型), search and
// paging; the review page with the proofs and 通过 / 退回修改 / 不通过; and the S9 change of a
// registration under review, after a confirmation that it was agreed with the graduate.
export const destinationRoutes = new Hono<AppEnv>();

export const listQuery = z.object({
  tab: z.enum(Object.keys(DESTINATION_TABS) as [DestinationTab]).catch('review'),
  state: z.enum(DESTINATION_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  major: z.string().trim().max(100).optional().catch(undefined),
  type: z.enum(DESTINATION_TYPE_KEYS as [DestinationType]).optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

destinationRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const parsed = listQuery.parse(c.req.query());
  // A stage filter (the inbox's link) opens the tab that holds that state, narrowed to it.
  const tabOfState = parsed.state && (Object.keys(DESTINATION_TABS) as DestinationTab[]).find((k) => (DESTINATION_TABS[k].states as readonly string[]).includes(parsed.state!));
  const query = { ...parsed, tab: tabOfState || parsed.tab, major: parsed.major || undefined };
  const [result, counts, options] = await Promise.all([
    listRegistrations(db, actor, { tab: query.tab, states: query.state ? [query.state] : undefined, departmentId: query.department, major: query.major, type: query.type, q: query.q, page: query.page }),
    registrationCounts(db, actor),
    cachedFilterOptions(c, new Date().getFullYear()),
  ]);
  const params = new URLSearchParams(Object.entries({ tab: query.tab, state: query.state, department: query.department, major: query.major, type: query.type, q: query.q }).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)]));
  return render(c, 'school/destinations/index', {
    title: '去向登记管理',
    rows: result.rows,
    total: result.total,
    more: result.more,
    page: result.page,
    pages: result.pages,
    counts,
    filters: query,
    departments: actor.role === 'school' ? options.departments : [],
    majors: options.majors,
    types: [...typeChoices(false), ...typeChoices(true)],
    pageQuery: params.toString(),
  });
});

async function detail(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string>; values?: Record<string, string>; notice?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const found = await getRegistrationForReview(db, actor, idParam(c));
  const [reg, timeline, flags] = await Promise.all([registrationView(db, found.r, 'reviewer'), registrationTimeline(db, found.r.id), registrationFlags(db, found.r)]);
  return render(c, 'school/destinations/show', {
    title: `去向登记审核：${found.graduate.name}`,
    reg,
    g: { ...found.graduate, trainingMode: labelOf(TRAINING_MODES, found.graduate.trainingMode) },
    timeline,
    flags,
    flagVerb: '审核',
    canDecide: found.canDecide,
    canAmend: found.canAmend,
    decisions: found.decisions,
    values: {},
    fields: {},
    notice: ({ '1': '已提交。', amended: '已修改，已通知毕业生。' } as Record<string, string>)[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

destinationRoutes.get('/:id{[0-9]+}', (c) => detail(c));

destinationRoutes.post('/:id{[0-9]+}/review', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await decideRegistration(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c), values);
    return c.redirect(`/school/destinations/${idParam(c)}?done=1`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return detail(c, { ...refusal, values }, refusal.status);
  }
});

// S9: the change form, with the type chosen (a GET form switches it), the fields and the confirmation.
async function editPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string>; values?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const found = await getRegistrationForReview(db, actor, idParam(c));
  const asked = extra.values?.type ?? c.req.query('type');
  const type: DestinationType = isDestinationType(asked) ? asked : (found.r.type as DestinationType);
  return render(c, 'school/destinations/edit', {
    title: `修改去向信息：${found.graduate.name}`,
    id: found.r.id,
    g: found.graduate,
    canAmend: found.canAmend,
    choices: typeChoices(found.directedOnly),
    type,
    typeLabel: typeLabel(type),
    currentLabel: typeLabel(found.r.type as DestinationType),
    typeFields: fieldsOf(type),
    values: extra.values ?? formValuesOf(found.r.details),
    regions: CITY_GROUPS,
    fields: extra.fields ?? {},
    error: extra.error,
  }, status);
}

destinationRoutes.get('/:id{[0-9]+}/edit', (c) => editPage(c));

destinationRoutes.post('/:id{[0-9]+}/edit', async (c) => {
  const values = formValues(await c.req.parseBody());
  // 更换类型: the same form again with the new type's fields and what was typed; nothing is saved.
  if (values.intent === 'choose') return editPage(c, { values });
  try {
    await amendRegistration(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c), values);
    return c.redirect(`/school/destinations/${idParam(c)}?done=amended`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return editPage(c, { ...refusal, values }, refusal.status);
  }
});
