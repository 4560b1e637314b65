import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { maskIdNumber } from '../../domain/codes/id-number.ts';
import { EDUCATION_LEVEL_SHORT, EMPLOYER_TYPES, INDUSTRIES, TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { ARCHIVE_LABELS } from '../../domain/employers/unit.ts';
import { rosterFilterOptions } from '../../domain/graduates/roster.ts';
import { formatShanghai } from '../../domain/signing/deadline.ts';
import { agreementTimeline, progressSteps } from '../../domain/signing/queries.ts';
import { decideReview, getForReview, listForReview, reviewCounts, reviewerVerb } from '../../domain/signing/review.ts';
import { AGREEMENT_STATES, ARCHIVE_MODE_LABELS, REVIEW_STATE_LABELS } from '../../domain/signing/states.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 在线签约管理 (S6, S7): filters, the review page, 通过 / 不通过; htmx swaps the row and the counts.
export const agreementRoutes = new Hono<AppEnv>();

const listQuery = z.object({
  initiator: z.enum(['employer', 'student']).optional().catch(undefined),
  state: z.enum(AGREEMENT_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

const stageOf = (c: Context<AppEnv>) => (c.get('actor')!.role === 'department' ? 'department_review' : 'school_review');
const countsView = async (c: Context<AppEnv>) => {
  const counts = await reviewCounts(c.get('app').db, c.get('actor')!);
  return [
    { label: '等待院系审核', n: counts.department_review },
    { label: '等待学校审核', n: counts.school_review },
    { label: '已签约', n: counts.signed },
    { label: '审核不通过', n: counts.review_rejected },
  ];
};
const rowView = (r: Awaited<ReturnType<typeof listForReview>>['rows'][number]) => ({ ...r, stateLabel: REVIEW_STATE_LABELS[r.state] });

agreementRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const query = listQuery.parse(c.req.query());
  // Only units start online signing so far; 学生 (offline signing) has no items yet.
  const result = query.initiator === 'student' ? { rows: [], total: 0, page: 1, pages: 1 } : await listForReview(db, actor, { state: query.state, departmentId: query.department, q: query.q, page: query.page });
  const params = new URLSearchParams(Object.entries({ initiator: query.initiator, state: query.state, department: query.department, q: query.q }).filter((e) => e[1] !== undefined).map(([k, v]) => [k, String(v)]));
  return render(c, 'school/agreements/index', {
    title: '在线签约管理',
    rows: result.rows.map(rowView),
    total: result.total,
    page: result.page,
    pages: result.pages,
    counts: await countsView(c),
    filters: query,
    states: AGREEMENT_STATES.map((s) => ({ value: s, label: REVIEW_STATE_LABELS[s] })),
    departments: actor.role === 'school' ? (await rosterFilterOptions(db, actor, new Date().getFullYear())).departments : [],
    stage: stageOf(c),
    verb: await reviewerVerb(db, actor),
    pageQuery: params.toString(),
  });
});

async function reviewPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string> } = {}, status: 200 | 409 | 422 = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const { agreement: a, graduate: g, department, unit } = await getForReview(db, actor, idParam(c));
  return render(c, 'school/agreements/show', {
    title: '签约审核',
    a: { ...a, stateLabel: REVIEW_STATE_LABELS[a.state], deadlineText: formatShanghai(a.deadline), invitedText: formatShanghai(a.invitedAt), archiveModeLabel: ARCHIVE_MODE_LABELS[a.archiveMode] },
    g: { ...g, idNumber: maskIdNumber(g.idNumber), department, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel), trainingMode: labelOf(TRAINING_MODES, g.trainingMode) },
    unit: { ...unit, employerType: labelOf(EMPLOYER_TYPES, unit.employerType), industry: labelOf(INDUSTRIES, unit.industry), region: regionName(unit.region) ?? unit.region },
    canDecide: a.state === stageOf(c),
    warning: await warningFor(db, actor.schoolId, a.employerId),
    verb: await reviewerVerb(db, actor),
    steps: progressSteps(a.state),
    timeline: await agreementTimeline(db, actor, a.id),
    archiveLabels: ARCHIVE_LABELS,
    fields: {},
    notice: c.req.query('done') === '1' ? '已提交。' : undefined,
    ...extra,
  }, status);
}

agreementRoutes.get('/:id{[0-9]+}', (c) => reviewPage(c));

agreementRoutes.post('/:id{[0-9]+}/review', async (c) => {
  const { db, views } = c.get('app');
  const actor = c.get('actor')!;
  const id = idParam(c);
  try {
    await decideReview(db, { actor, ip: clientIp(c) }, id, formValues(await c.req.parseBody()));
  } catch (e) {
    return reviewPage(c, formProblems(e), 422);
  }
  if (!c.req.header('hx-request')) return c.redirect(`/school/agreements/${id}?done=1`, 303);
  // htmx: the decided row and, out of band, the counts above the list.
  const [row] = (await listForReview(db, actor, { id, page: 1 })).rows;
  const verb = await reviewerVerb(db, actor);
  const html = row
    ? views.render('school/agreements/_row', { r: rowView(row), stage: stageOf(c), verb }) + views.render('school/agreements/_counts', { counts: await countsView(c), oob: true })
    : '';
  return c.html(html);
});
