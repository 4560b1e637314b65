import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { agreementStateLabel, inAgreementGroup, progressSteps, workflowOfKind } from '../../domain/agreements/kinds.ts';
import { agreementTimeline } from '../../domain/agreements/queries.ts';
import { loadAgreementDocument } from '../../domain/agreements/document.ts';
import { decideReview, getForReview, INITIATOR_KINDS, listForReview, reviewCounts } from '../../domain/agreements/review.ts';
import { AGREEMENT_STATES, type AgreementKind, type AgreementState } from '../../domain/agreements/states.ts';
import { EDUCATION_LEVEL_SHORT, EMPLOYER_TYPES, INDUSTRIES, TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { checkUscc } from '../../domain/codes/uscc.ts';
import { EMPLOYER_VERIFICATION_LABELS } from '../../domain/employers/verification.ts';
import { ARCHIVE_LABELS } from '../../domain/employers/unit.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { withVerb, type Verb } from '../../domain/reviews/chain.ts';
import { letterView } from '../agreement-view.ts';
import { clientIp } from '../client-ip.ts';
import { agreementFlags } from '../../domain/reviews/flags.ts';
import type { AppEnv } from '../context.ts';
import { cachedFilterOptions, cachedSchoolSettings, cachedVerb } from '../school-cache.ts';
import { formProblems, formValues, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { pageOrFragments, render } from '../render.ts';

// 在线签约管理 (S6, S7: 签约发起方 单位 / 学生) and 补登管理 (school guide 6): the lists with the
// guide's filters, one review page for every kind, the decision; htmx swaps a row and the counts.
// Every word a reviewer reads carries the province's verb (S3).

type Row = Awaited<ReturnType<typeof listForReview>>['rows'][number];
const rowView = (r: Row, verb: Verb) => ({ ...r, stateLabel: agreementStateLabel(r.kind, 'reviewer', r.state, verb), verb: r.fixedVerb ?? verb });

/** A room of reviewed agreements: which kinds it lists, where it lives. */
type Room = { title: string; base: string; kinds: readonly AgreementKind[]; signedLabel: string };
const SIGNING: Room = { title: '在线签约管理', base: '/school/agreements', kinds: ['online', 'offline'], signedLabel: '已签约' };
const REGISTRATION: Room = { title: '补登管理', base: '/school/registrations', kinds: ['registered'], signedLabel: '签约{verb}通过' };

/** Each state of the room's kinds once, in the reviewer's words. */
function stateOptions(room: Room, verb: Verb) {
  const seen = new Map<string, string>();
  for (const kind of room.kinds) for (const s of workflowOfKind(kind).states as AgreementState[]) if (!seen.has(s)) seen.set(s, agreementStateLabel(kind, 'reviewer', s, verb));
  return [...seen].map(([value, label]) => ({ value, label }));
}

async function reviewPage(c: Context<AppEnv>, room: Room, extra: { error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const found = await getForReview(db, actor, idParam(c));
  const { agreement: a, graduate: g, department, unitVerification, canDecide, verb, review, decisions, pages } = found;
  if (!room.kinds.includes(a.kind)) return c.redirect(`${a.kind === 'registered' ? REGISTRATION.base : SIGNING.base}/${a.id}`, 303);
  const unit = a.unitSnapshot;
  const reviewTitle = review ? withVerb(review.chain.title, review.chain.fixedVerb ?? verb) : `签约${verb}`;
  // Uploaded pages are checked against the generated agreement, side by side (school guide 5.2 ②).
  // The rest reads beside each other (issue 14: one round, not three; a review page is a tenth of the peak's mix).
  const [generated, warning, flags, timeline] = await Promise.all([
    pages.length && inAgreementGroup(a.kind, 'documented', a.state) ? loadAgreementDocument(db, { actor, ip: clientIp(c) }, a.id, c.get('app').config.linkOrigin) : null,
    a.employerId === null ? null : warningFor(db, actor.schoolId, a.employerId),
    agreementFlags(db, a, verb),
    agreementTimeline(db, { id: a.id, kind: a.kind, verb }),
  ]);
  return render(c, 'school/agreements/show', {
    title: reviewTitle,
    room,
    reviewTitle,
    a: letterView(a, agreementStateLabel(a.kind, 'reviewer', a.state, verb)),
    g: { ...g, idNumber: g.idNumberMasked, department, educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel), trainingMode: labelOf(TRAINING_MODES, g.trainingMode) },
    unit: {
      ...unit,
      employerType: labelOf(EMPLOYER_TYPES, unit.employerType),
      industry: labelOf(INDUSTRIES, unit.industry),
      region: regionName(unit.region) ?? unit.region,
      verification: unitVerification ? EMPLOYER_VERIFICATION_LABELS[unitVerification] : '非平台注册单位（学生填写）',
      usccFlag: checkUscc(unit.uscc).checkDigit ? null : '统一社会信用代码校验位不符，请核实',
    },
    pages,
    generated,
    canDecide,
    decisions,
    reasonRequiredFor: decisions.filter((d) => d.value !== 'approve').map((d) => d.label).join('、'),
    documentReady: inAgreementGroup(a.kind, 'documented', a.state),
    warning,
    flags,
    flagVerb: verb,
    verb,
    steps: progressSteps(a.kind, a.state, verb),
    timeline,
    archiveLabels: ARCHIVE_LABELS,
    fields: {},
    notice: c.req.query('done') === '1' ? '已提交。' : undefined,
    ...extra,
  }, status);
}

function roomRoutes(room: Room, list: (c: Context<AppEnv>) => Promise<Response>) {
  const routes = new Hono<AppEnv>();
  routes.get('/', list);
  routes.get('/:id{[0-9]+}', (c) => reviewPage(c, room));
  routes.post('/:id{[0-9]+}/review', async (c) => {
    const { db } = c.get('app');
    const actor = c.get('actor')!;
    const id = idParam(c);
    try {
      // The school's settings as this request has them cached (S3's verb, S4's review mode), not read again.
      await decideReview(db, { actor, ip: clientIp(c) }, id, formValues(await c.req.parseBody()), { school: await cachedSchoolSettings(c) });
    } catch (e) {
      const refusal = formProblems(e);
      return reviewPage(c, room, refusal, refusal.status);
    }
    // htmx: the decided row and, out of band, the counts above the list.
    return pageOrFragments(
      c,
      () => c.redirect(`${room.base}/${id}?done=1`, 303),
      async () => {
        const verb = await cachedVerb(c);
        const [list, counts] = await Promise.all([listForReview(db, actor, { id, kinds: room.kinds, page: 1 }), reviewCounts(db, actor, verb, room.kinds, room.signedLabel)]);
        const [row] = list.rows;
        return row
          ? [
              { view: 'school/agreements/_row', data: { r: rowView(row, verb), verb, base: room.base } },
              { view: 'school/agreements/_counts', data: { counts, oob: true } },
            ]
          : [];
      },
    );
  });
  return routes;
}

export const signingQuery = z.object({
  initiator: z.enum(Object.keys(INITIATOR_KINDS) as ['employer', 'student']).optional().catch(undefined),
  state: z.enum(AGREEMENT_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

const departmentsOf = async (c: Context<AppEnv>) => (c.get('actor')!.role === 'school' ? (await cachedFilterOptions(c, new Date().getFullYear())).departments : []);
const queryString = (params: Record<string, string | number | undefined>) => new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();

export const agreementRoutes = roomRoutes(SIGNING, async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const query = signingQuery.parse(c.req.query());
  const verb = await cachedVerb(c);
  const [result, departments] = await Promise.all([
    listForReview(db, actor, { kinds: SIGNING.kinds, initiator: query.initiator, states: query.state ? [query.state] : undefined, departmentId: query.department, q: query.q, page: query.page }, { verb, signedLabel: SIGNING.signedLabel }),
    departmentsOf(c),
  ]);
  return render(c, 'school/agreements/index', {
    title: SIGNING.title,
    room: SIGNING,
    rows: result.rows.map((r) => rowView(r, verb)),
    total: result.total,
    more: result.more,
    page: result.page,
    pages: result.pages,
    counts: result.counts,
    filters: query,
    states: stateOptions(SIGNING, verb),
    departments,
    verb,
    pageQuery: queryString({ initiator: query.initiator, state: query.state, department: query.department, q: query.q }),
  });
});

// 补登管理: the guide's three tabs; 退回修改 and 撤回 ones wait for the graduate under 签约审核中.
const REGISTRATION_TABS = {
  review: { label: '签约审核中', states: ['registration_department_review', 'registration_school_review', 'returned', 'withdrawn'] },
  rejected: { label: '签约审核不通过', states: ['registration_rejected'] },
  approved: { label: '签约审核通过', states: ['signed'] },
} as const satisfies Record<string, { label: string; states: readonly AgreementState[] }>;
type RegistrationTab = keyof typeof REGISTRATION_TABS;

export const registrationQuery = z.object({
  tab: z.enum(Object.keys(REGISTRATION_TABS) as [RegistrationTab]).catch('review'),
  state: z.enum(AGREEMENT_STATES).optional().catch(undefined),
  department: z.coerce.number().int().positive().optional().catch(undefined),
  q: z.string().trim().max(50).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

export const registrationRoutes = roomRoutes(REGISTRATION, async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const query = registrationQuery.parse(c.req.query());
  // A stage filter (the inbox's link) narrows the 签约审核中 tab to that stage.
  const states = query.state && (REGISTRATION_TABS.review.states as readonly string[]).includes(query.state) ? [query.state] : REGISTRATION_TABS[query.tab].states;
  const verb = await cachedVerb(c);
  const [result, departments] = await Promise.all([
    listForReview(db, actor, { kinds: REGISTRATION.kinds, states, departmentId: query.department, q: query.q, page: query.page }, { verb, signedLabel: REGISTRATION.signedLabel }),
    departmentsOf(c),
  ]);
  return render(c, 'school/registrations/index', {
    title: REGISTRATION.title,
    room: REGISTRATION,
    rows: result.rows.map((r) => rowView(r, verb)),
    total: result.total,
    more: result.more,
    page: result.page,
    pages: result.pages,
    counts: result.counts,
    tabs: Object.entries(REGISTRATION_TABS).map(([key, t]) => ({ key, label: withVerb(t.label.replace('审核', '{verb}'), verb) })),
    filters: query,
    departments,
    verb,
    pageQuery: queryString({ tab: query.tab, department: query.department, q: query.q }),
  });
});
