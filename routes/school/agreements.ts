import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { agreementStateLabel, inAgreementGroup, progressSteps } from '../../domain/agreements/kinds.ts';
import { agreementTimeline } from '../../domain/agreements/queries.ts';
import { AGREEMENT_STATES } from '../../domain/agreements/states.ts';
import { decideReview, getForReview, INITIATOR_KINDS, listForReview, reviewCounts } from '../../domain/agreements/online/review.ts';
import { maskIdNumber } from '../../domain/codes/id-number.ts';
import { EDUCATION_LEVEL_SHORT, EMPLOYER_TYPES, INDUSTRIES, TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { EMPLOYER_VERIFICATION_LABELS } from '../../domain/employers/verification.ts';
import { ARCHIVE_LABELS } from '../../domain/employers/unit.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { rosterFilterOptions } from '../../domain/graduates/roster.ts';
import { DECISION_LABELS, reviewerVerb, type Verb } from '../../domain/reviews/chain.ts';
import { ONLINE_REVIEW } from '../../domain/agreements/online/workflow.ts';
import { letterView } from '../agreement-view.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { pageOrFragments, render } from '../render.ts';

// 在线签约管理 (S6, S7): filters, the review page, 通过 / 不通过; htmx swaps the row and the counts.
// Every word a reviewer reads carries the province's verb (S3).
export const agreementRoutes = new Hono<AppEnv>();

const listQuery = z.object({
  initiator: z.enum(Object.keys(INITIATOR_KINDS) as [keyof typeof INITIATOR_KINDS]).optional().catch(undefined),
  state: z.enum(AGREEMENT_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

type Row = Awaited<ReturnType<typeof listForReview>>['rows'][number];
const rowView = (r: Row, verb: Verb) => ({ ...r, stateLabel: agreementStateLabel(r.kind, 'reviewer', r.state, verb) });

agreementRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const query = listQuery.parse(c.req.query());
  const verb = await reviewerVerb(db, actor);
  const [result, counts, departments] = await Promise.all([
    listForReview(db, actor, { initiator: query.initiator, state: query.state, departmentId: query.department, q: query.q, page: query.page }),
    reviewCounts(db, actor, verb),
    actor.role === 'school' ? rosterFilterOptions(db, actor, new Date().getFullYear()).then((o) => o.departments) : [],
  ]);
  const params = new URLSearchParams(Object.entries({ initiator: query.initiator, state: query.state, department: query.department, q: query.q }).filter((e) => e[1] !== undefined).map(([k, v]) => [k, String(v)]));
  return render(c, 'school/agreements/index', {
    title: '在线签约管理',
    rows: result.rows.map((r) => rowView(r, verb)),
    total: result.total,
    page: result.page,
    pages: result.pages,
    counts,
    filters: query,
    states: AGREEMENT_STATES.map((s) => ({ value: s, label: agreementStateLabel('online', 'reviewer', s, verb) })),
    departments,
    verb,
    pageQuery: params.toString(),
  });
});

async function reviewPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const { agreement: a, graduate: g, department, unitVerification, canDecide, verb } = await getForReview(db, actor, idParam(c));
  const unit = a.unitSnapshot;
  return render(c, 'school/agreements/show', {
    title: `签约${verb}`,
    a: letterView(a, agreementStateLabel(a.kind, 'reviewer', a.state, verb)),
    g: { ...g, idNumber: maskIdNumber(g.idNumber), department, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel), trainingMode: labelOf(TRAINING_MODES, g.trainingMode) },
    unit: {
      ...unit,
      employerType: labelOf(EMPLOYER_TYPES, unit.employerType),
      industry: labelOf(INDUSTRIES, unit.industry),
      region: regionName(unit.region) ?? unit.region,
      verification: unitVerification ? EMPLOYER_VERIFICATION_LABELS[unitVerification] : '非平台注册单位',
    },
    canDecide,
    // The workflow's decisions (online signing: 通过 / 不通过, school guide 5.1).
    decisions: ONLINE_REVIEW.decisions.map((d) => ({ value: d, label: DECISION_LABELS[d] })),
    reasonRequiredFor: ONLINE_REVIEW.decisions.filter((d) => d !== 'approve').map((d) => DECISION_LABELS[d]).join('、'),
    documentReady: inAgreementGroup(a.kind, 'signed', a.state),
    warning: a.employerId === null ? null : await warningFor(db, actor.schoolId, a.employerId),
    verb,
    steps: progressSteps(a.kind, a.state, verb),
    timeline: await agreementTimeline(db, { id: a.id, kind: a.kind, verb }),
    archiveLabels: ARCHIVE_LABELS,
    fields: {},
    notice: c.req.query('done') === '1' ? '已提交。' : undefined,
    ...extra,
  }, status);
}

agreementRoutes.get('/:id{[0-9]+}', (c) => reviewPage(c));

agreementRoutes.post('/:id{[0-9]+}/review', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const id = idParam(c);
  try {
    await decideReview(db, { actor, ip: clientIp(c) }, id, formValues(await c.req.parseBody()));
  } catch (e) {
    const refusal = formProblems(e);
    return reviewPage(c, refusal, refusal.status);
  }
  // htmx: the decided row and, out of band, the counts above the list.
  return pageOrFragments(
    c,
    () => c.redirect(`/school/agreements/${id}?done=1`, 303),
    async () => {
      const verb = await reviewerVerb(db, actor);
      const [row] = (await listForReview(db, actor, { id, page: 1 })).rows;
      return row
        ? [
            { view: 'school/agreements/_row', data: { r: rowView(row, verb), verb } },
            { view: 'school/agreements/_counts', data: { counts: await reviewCounts(db, actor, verb), oob: true } },
          ]
        : [];
    },
  );
});
