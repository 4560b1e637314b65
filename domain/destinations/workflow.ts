import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { destinationRegistrations, events, graduates } from '../../db/schema/index.ts';
import { SIGNED_AGREEMENT_STATES } from '../agreements/states.ts';
import { knownActiveAgreement, knownRoster } from '../agreements/guards.ts';
import { notifyGraduate, notifyReviewers } from '../agreements/notify.ts';
import { NOT_SIGNABLE_TRAINING_MODES } from '../codes/tables.ts';
import { enterReview, reviewEvents, type ReviewChain } from '../reviews/chain.ts';
import type { ReviewQueue } from '../reviews/inbox.ts';
import { schoolSwitchOn } from '../schools/switches.ts';
import { defineWorkflow, fire, inGroup, KNOWN, type EffectContext, type FireContext, type Guard } from '../workflow/kernel.ts';
import { lockDestination, refreshDestination } from './current.ts';
import { APPROVED_DESTINATION_STATES, DESTINATION_STATES, LIVE_DESTINATION_STATES, type DestinationState } from './states.ts';
import { isDestinationType, isDirected, typeLabel } from './types.ts';

// 去向登记 (graduate guide 6, school guide 8; DESIGN.md section 5): draft (暂存, kept aside) → review
// (去向登记审核中) → approved (去向登记审核通过) | returned (退回修改) | rejected (去向登记审核不通过, void);
// 撤回修改 before a reviewer acts (G7); the reviewer may change the type and fields (S9); an approved
// one is voided (作废) by the graduate before another is registered (G10), or by itself when the
// graduate signs an agreement. Every change also moves the graduate's current destination.

type S = DestinationState;
export type DestinationRegistration = typeof destinationRegistrations.$inferSelect;
export type NewDestinationRegistration = Omit<typeof destinationRegistrations.$inferInsert, 'state'>;
type Row = DestinationRegistration | NewDestinationRegistration;

export const DESTINATION_REVIEW: ReviewChain<S> = {
  stages: { department: 'department_review', school: 'school_review' },
  passTo: 'approved',
  returnTo: 'returned',
  rejectTo: 'rejected',
  decisions: ['approve', 'return', 'reject'],
  messages: { decision: '请选择通过、退回修改或不通过', reason: '退回修改或不通过时请填写原因' },
  title: '去向登记审核',
  stageLabels: { department: '院系审核', school: '学校审核' },
  // The school guide (8) says 审核 of destinations in every province; 鉴证 is of agreements.
  fixedVerb: '审核',
  checksPages: true,
};

const link = (id: number) => `/student/destinations/${id}`;
const named = (row: Row) => typeLabel(row.type as never);

async function graduateName(ctx: FireContext<Row>) {
  return ctx.memo('graduateName', async () => (await ctx.db.select({ name: graduates.name }).from(graduates).where(eq(graduates.id, ctx.row.graduateId)))[0]?.name ?? '');
}

async function tellReviewers(ctx: EffectContext<S, Row>, what: string) {
  const stage = ctx.to === DESTINATION_REVIEW.stages.school ? 'school' : 'department';
  await notifyReviewers(ctx.tx, ctx.row, stage, { title: '有新的去向登记待审核', body: `${await graduateName(ctx)}${what}（${named(ctx.row)}）`, link: `/school/destinations/${ctx.id}` });
}

/** G2: on the school's current roster. */
const onRoster: Guard<Row> = {
  rule: 'G2',
  allows: async (ctx) => {
    const g = await knownRoster(ctx);
    return !!g && g.removedAt === null;
  },
  refusal: '你已不在学校当前的毕业生名单中，不能登记毕业去向',
  code: 'forbidden',
};

export const G9_DIRECTED_ONLY = '你的培养方式为定向/委培（不可网签），仅可进行定向/委培毕业去向补充登记';
export const G9_NOT_DIRECTED = '定向/委培毕业去向补充登记仅适用于培养方式为定向/委培（不可网签）的毕业生';

/** G9: 定向/委培（不可网签） graduates register only 定向/委培毕业去向补充登记, and only they do. */
const typeAllowed: Guard<Row> = {
  rule: 'G9',
  allows: async (ctx) => {
    const g = await knownRoster(ctx);
    if (!g || !isDestinationType(ctx.row.type)) return false;
    return isDirected(ctx.row.type) === (NOT_SIGNABLE_TRAINING_MODES as readonly string[]).includes(g.trainingMode);
  },
  refusal: async (ctx) => {
    const directed = isDestinationType(ctx.row.type) && isDirected(ctx.row.type);
    // A reviewer's change (S9) or decision is told of the graduate, not of "you".
    if (ctx.actor?.role === 'school' || ctx.actor?.role === 'department') return directed ? '该毕业生不是定向/委培（不可网签）培养方式，不能登记定向/委培毕业去向补充登记' : '该毕业生的培养方式为定向/委培（不可网签），只能登记定向/委培毕业去向补充登记';
    return directed ? G9_NOT_DIRECTED : G9_DIRECTED_ONLY;
  },
  code: 'forbidden',
};

/** G4 with G10: a signed or signing graduate has a destination already (or one on the way). */
const noActiveAgreement: Guard<Row> = {
  rule: 'G4',
  allows: async (ctx) => (await knownActiveAgreement(ctx)) === null,
  refusal: async (ctx) =>
    (SIGNED_AGREEMENT_STATES as readonly string[]).includes((await knownActiveAgreement(ctx)) ?? '')
      ? '你已签约，不能登记其他毕业去向；如需登记，请先办理解约'
      : '你有正在办理的签约，不能登记其他毕业去向；如需登记，请先撤回或放弃该签约申请',
  code: 'conflict',
};

/** G10: one standing registration; an approved one is voided (作废) before another is registered. */
const noOtherRegistration: Guard<Row> = {
  rule: 'G10',
  allows: async (ctx) => !(await standingRegistration(ctx)),
  refusal: async (ctx) => {
    const state = (await standingRegistration(ctx))?.state;
    if (state && inGroup(APPROVED_DESTINATION_STATES, state)) return '你已有审核通过的毕业去向，请先在该去向详情页点击“作废”，再登记其他去向';
    if (state && inGroup(['returned', 'withdrawn'] as const, state)) return '你已有一条退回或撤回的去向登记，请修改该登记后重新提交';
    return '你已有一条去向登记在审核中，如需修改，请在该登记详情页撤回修改';
  },
  code: 'conflict',
};

function standingRegistration(ctx: FireContext<Row>): Promise<{ id: number; state: DestinationState } | null> {
  return ctx.memo(KNOWN.standing, async () => {
    const [row] = await ctx.db
      .select({ id: destinationRegistrations.id, state: destinationRegistrations.state })
      .from(destinationRegistrations)
      .where(and(eq(destinationRegistrations.graduateId, ctx.row.graduateId), inArray(destinationRegistrations.state, [...LIVE_DESTINATION_STATES])));
    return row ?? null;
  });
}

/** G7: 撤回修改 only until a reviewer acts (a decision, or an S9 change). */
const untouchedSinceSubmission: Guard<DestinationRegistration> = {
  rule: 'G7',
  allows: async (ctx) => {
    const [last] = await ctx.db
      .select({ action: events.action })
      .from(events)
      .where(and(eq(events.subjectType, 'destination'), eq(events.subjectId, String(ctx.row.id))))
      .orderBy(desc(events.id))
      .limit(1);
    return last?.action === 'destination.submit' || last?.action === 'destination.resubmit';
  },
  refusal: '学校（院系）已开始审核，不能撤回修改',
};

const switchOn = schoolSwitchOn<Row>('destinationRegistration', '学校暂未开启去向登记，暂不能登记毕业去向');

const review = reviewEvents<S, DestinationRegistration>(DESTINATION_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, '的去向登记已通过院系审核'),
  approved: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '去向登记审核通过', body: `你登记的毕业去向（${named(ctx.row)}）已审核通过。`, link: link(ctx.id) }, '【网签平台】你登记的毕业去向已审核通过。'),
  returned: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '去向登记退回修改', body: `原因：${ctx.reason}`, link: link(ctx.id) }, `【网签平台】你登记的毕业去向被退回修改，原因：${ctx.reason}。请登录网签平台修改后重新提交。`),
  rejected: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '去向登记审核不通过', body: `原因：${ctx.reason}。该登记已作废，请重新选择去向类型登记。`, link: link(ctx.id) }, `【网签平台】你登记的毕业去向审核不通过，原因：${ctx.reason}。`),
});

const GRADUATE_LABELS: Record<S, string> = {
  department_review: '去向登记审核中',
  school_review: '去向登记审核中',
  returned: '去向登记待提交（老师退回）',
  withdrawn: '已撤回，待提交',
  approved: '去向登记审核通过',
  rejected: '去向登记审核不通过',
  voided: '已作废',
};

export const destinationRegistration = defineWorkflow({
  name: 'destination_registration',
  subject: 'destination',
  table: destinationRegistrations,
  id: destinationRegistrations.id,
  schoolOf: (row: Row) => row.schoolId,
  states: DESTINATION_STATES,
  groups: {
    terminal: ['rejected', 'voided'],
    live: LIVE_DESTINATION_STATES,
    inReview: ['department_review', 'school_review'],
    editable: ['returned', 'withdrawn'],
    approved: APPROVED_DESTINATION_STATES,
    rejected: ['rejected'],
    voided: ['voided'],
  },
  labels: {
    graduate: GRADUATE_LABELS,
    reviewer: { ...GRADUATE_LABELS, department_review: '去向登记审核中，等待院系审核', school_review: '去向登记审核中，等待学校审核', returned: '已退回修改，等待学生重新提交', withdrawn: '学生已撤回修改' },
  },
  creations: {
    /** 提交 (after the confirmation): S4 (去向登记), G2, G9, G4, G10; into the first review stage. */
    submit: {
      to: enterReview<S, NewDestinationRegistration>(DESTINATION_REVIEW),
      by: ['student'],
      guards: [switchOn, onRoster, typeAllowed, noActiveAgreement, noOtherRegistration],
      effects: [(ctx) => tellReviewers(ctx, '提交了去向登记')],
    },
  },
  events: {
    withdraw: {
      transitions: [
        { from: 'department_review', to: 'withdrawn', by: 'student' },
        { from: 'school_review', to: 'withdrawn', by: 'student' },
      ],
      guards: [untouchedSinceSubmission],
      settledIn: ['withdrawn'],
    },
    resubmit: {
      transitions: [
        { from: 'returned', to: enterReview<S, DestinationRegistration>(DESTINATION_REVIEW), by: 'student' },
        { from: 'withdrawn', to: enterReview<S, DestinationRegistration>(DESTINATION_REVIEW), by: 'student' },
      ],
      guards: [switchOn, onRoster, typeAllowed, noActiveAgreement],
      effects: [(ctx) => tellReviewers(ctx, '重新提交了去向登记')],
    },
    /** 通过 only of a graduate still on the roster, of a type their training mode allows (G2, G9). */
    approve: { ...review.approve, guards: [onRoster, typeAllowed] },
    return: review.return,
    reject: review.reject,
    /** S9: the reviewer at the item's stage changes its type and fields, having agreed it with the graduate; G11: the graduate is told. */
    amend: {
      transitions: [
        { from: 'department_review', to: 'department_review', by: 'department' },
        { from: 'school_review', to: 'school_review', by: 'school' },
      ],
      // Fired with the registration as it will be (its new type): G9 holds for the reviewer too.
      guards: [typeAllowed],
      effects: [
        (ctx) =>
          notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '你的毕业去向登记信息已被修改', body: '学校（院系）在审核时修改了你登记的去向信息，请查看修改记录。', link: link(ctx.id) }, '【网签平台】你的毕业去向登记信息已被学校（院系）修改，请登录网签平台查看。'),
      ],
    },
    /** 作废 (G10): the graduate, with no review; the school keeps the record under 已作废. */
    void: {
      transitions: [{ from: 'approved', to: 'voided', by: 'student' }],
      settledIn: ['voided'],
    },
    /** A signing supersedes the registration (the guides: 原去向信息自动变为“已作废”): in the signing's transaction. */
    supersede: {
      transitions: LIVE_DESTINATION_STATES.map((from) => ({ from, to: 'voided' as const, by: 'system' as const })),
      effects: [(ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '原毕业去向登记已自动作废', body: `你已办理签约，原登记的毕业去向（${named(ctx.row)}）自动作废。`, link: link(ctx.id) })],
    },
  },
  afterEach: [(ctx) => refreshDestination(ctx.tx, ctx.row.graduateId, ctx.now)],
  eventLabels: {
    submit: '学生提交去向登记',
    withdraw: '学生撤回修改',
    resubmit: '学生重新提交去向登记',
    approve: ({ from }) => (from === 'department_review' ? '院系审核通过' : '学校审核通过，去向登记完成'),
    return: '去向登记退回修改',
    reject: '去向登记审核不通过',
    amend: '学校（院系）修改去向信息',
    void: '学生作废去向登记',
    supersede: '学生签约，去向登记自动作废',
  },
  refusal: '该去向登记当前状态下不能进行此操作，请刷新页面查看最新状态',
});

/**
 * The kernel effect of a signing (accepting an invitation, submitting an offline or 补登 agreement):
 * the graduate's standing registration, approved or not, is voided in the same transaction.
 */
export async function supersedeRegistration(ctx: EffectContext<string, { graduateId: number }>): Promise<void> {
  await lockDestination(ctx.tx, ctx.row.graduateId);
  const [live] = await ctx.tx
    .select()
    .from(destinationRegistrations)
    .where(and(eq(destinationRegistrations.graduateId, ctx.row.graduateId), inArray(destinationRegistrations.state, [...LIVE_DESTINATION_STATES])))
    .for('update');
  if (!live) return;
  await fire(ctx.tx, destinationRegistration, ctx.source, live, 'supersede', { changes: { voidCause: 'signing' }, reason: '学生签约，原去向登记自动作废', reaction: true, now: ctx.now });
}

/** 去向登记管理 as a queue of the reviewers' inbox and digest. */
export const DESTINATION_QUEUE: ReviewQueue = {
  key: 'destination',
  title: '去向登记管理',
  href: '/school/destinations',
  noun: '去向登记',
  table: destinationRegistrations,
  columns: { state: destinationRegistrations.state, schoolId: destinationRegistrations.schoolId, departmentId: destinationRegistrations.departmentId, updatedAt: destinationRegistrations.updatedAt },
  filter: sql`true`,
  chain: DESTINATION_REVIEW,
};
