import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { graduates } from '../../db/schema/index.ts';
import { agreementTimeline, getAgreement } from '../../domain/agreements/queries.ts';
import { withVerb } from '../../domain/reviews/chain.ts';
import { decideTermination, forceTermination, getTerminationForReview, listTerminations, TERMINATION_TABS, terminationCounts, type TerminationTab } from '../../domain/terminations/terminate.ts';
import { TERMINATION_INITIATOR_LABELS, TERMINATION_PATH_LABELS, TERMINATION_STATES } from '../../domain/terminations/states.ts';
import { termination } from '../../domain/terminations/workflow.ts';
import { offers } from '../../domain/workflow/kernel.ts';
import { clientIp } from '../client-ip.ts';
import { uploadLimit } from '../body.ts';
import type { AppEnv } from '../context.ts';
import { cachedVerb, cachedFilterOptions } from '../school-cache.ts';
import { BATCH_BODY_LIMIT, incomingFiles, storageOf } from '../files.ts';
import { formProblems, formValues, refusalOf, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 解约管理 (school guide 7): the tabs by status, filters, search and paging; the detail with both
// parties' reasons and the files; the review; and 强制解约 for school users (7.1).
export const terminationRoutes = new Hono<AppEnv>();

export const listQuery = z.object({
  tab: z.enum(Object.keys(TERMINATION_TABS) as [TerminationTab]).catch('agreed'),
  state: z.enum(TERMINATION_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

terminationRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const parsed = listQuery.parse(c.req.query());
  // A stage filter (the inbox's link) opens the tab that holds that state.
  const tabOfState = parsed.state && (Object.keys(TERMINATION_TABS) as TerminationTab[]).find((k) => (TERMINATION_TABS[k].states as readonly string[]).includes(parsed.state!));
  const query = { ...parsed, tab: tabOfState || parsed.tab };
  const verb = await cachedVerb(c);
  const states = query.state ? [query.state] : undefined;
  const [result, counts, departments] = await Promise.all([
    listTerminations(db, actor, { tab: query.tab, states, departmentId: query.department, q: query.q, page: query.page }),
    terminationCounts(db, actor),
    actor.role === 'school' ? cachedFilterOptions(c, new Date().getFullYear()).then((o) => o.departments) : [],
  ]);
  const params = new URLSearchParams(Object.entries({ tab: query.tab, state: query.state, department: query.department, q: query.q }).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)]));
  return render(c, 'school/terminations/index', {
    title: '解约管理',
    rows: result.rows.map((r) => ({ ...r, action: offers(termination, r.state, 'approve', actor.role) ? verb : '查看', stateLabel: withVerb(termination.labels.reviewer[r.state], verb), pathLabel: TERMINATION_PATH_LABELS[r.path], initiatorLabel: TERMINATION_INITIATOR_LABELS[r.initiator] })),
    total: result.total,
    more: result.more,
    page: result.page,
    pages: result.pages,
    counts: counts.map((k) => ({ ...k, label: withVerb(k.label.replace('审核', '{verb}'), verb) })),
    filters: query,
    departments,
    pageQuery: params.toString(),
  });
});

async function detail(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string>; values?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const found = await getTerminationForReview(db, actor, idParam(c));
  const a = await getAgreement(db, actor, found.t.agreementId);
  const verb = a.verb;
  const [g] = await db.select({ name: graduates.name, idNumber: graduates.idNumberMasked, studentNo: graduates.studentNo }).from(graduates).where(eq(graduates.id, a.graduateId));
  return render(c, 'school/terminations/show', {
    title: `解约${verb}`,
    verb,
    t: { ...found.t, stateLabel: withVerb(termination.labels.reviewer[found.t.state], verb), pathLabel: TERMINATION_PATH_LABELS[found.t.path], initiatorLabel: TERMINATION_INITIATOR_LABELS[found.t.initiator] },
    a,
    g: g!,
    pages: found.pages,
    canDecide: found.canDecide,
    canForce: found.canForce,
    decisions: found.decisions,
    unilateralOffered: found.unilateralOffered,
    timeline: await agreementTimeline(db, a),
    fields: {},
    values: {},
    notice: c.req.query('done') === '1' ? '已提交。' : undefined,
    ...extra,
  }, status);
}

terminationRoutes.get('/:id{[0-9]+}', (c) => detail(c));

terminationRoutes.post('/:id{[0-9]+}/review', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await decideTermination(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c), values);
    return c.redirect(`/school/terminations/${idParam(c)}?done=1`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return detail(c, { ...refusal, values }, refusal.status);
  }
});

terminationRoutes.post('/:id{[0-9]+}/force', uploadLimit(BATCH_BODY_LIMIT, '证明材料合计不能超过 30MB。请压缩后重新提交。'), async (c) => {
  const body = await c.req.parseBody({ all: true });
  try {
    await forceTermination(c.get('app').db, storageOf(c), { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c), formValues(body), await incomingFiles(body, 'files'));
    return c.redirect(`/school/terminations/${idParam(c)}?done=1`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return detail(c, { ...refusal, values: formValues(body) }, refusal.status);
  }
});
