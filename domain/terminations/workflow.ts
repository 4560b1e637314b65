import { and, count, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreements, schools, terminations } from '../../db/schema/index.ts';
import { inAgreementGroup, workflowOfKind } from '../agreements/kinds.ts';
import { notifyGraduate, notifyReviewers, notifyUnit } from '../agreements/notify.ts';
import type { EventSource } from '../events.ts';
import { enterReview, firstStage, mergeEvents, reviewEvents, type ReviewChain } from '../reviews/chain.ts';
import type { ReviewQueue } from '../reviews/inbox.ts';
import { schoolSettingsOf } from '../schools/switches.ts';
import { defineWorkflow, fire, type EffectContext, type FireContext, type Guard } from '../workflow/kernel.ts';
import { OPEN_TERMINATION_STATES, TERMINATION_STATES, type TerminationState } from './states.ts';

// 解约 (school guide 7, employer guide 6, graduate guide 申请解约). Online agreements: the graduate
// 申请解约 or the unit 发起解约 with a reason; the other party answers 同意 (→ the review, 通过 /
// 不通过) or 不同意 (解约失败); the school may 强制解约 one a unit leaves unanswered. Offline and 补登
// agreements: the graduate applies with a 解约函 and the review decides 通过 / 退回修改 / 不通过. On
// 已解约 the agreement itself becomes 已解约 (a reaction, in the same transaction); 解约失败 leaves it valid.

export type Termination = typeof terminations.$inferSelect;
export type NewTermination = Omit<typeof terminations.$inferInsert, 'state'>;
type S = TerminationState;

/** Online: both parties agreed; the school checks it (school guide 7.1: 通过 or 不通过). */
export const AGREED_REVIEW: ReviewChain<S> = {
  stages: { department: 'agreed_department_review', school: 'agreed_school_review' },
  passTo: 'terminated',
  rejectTo: 'failed',
  decisions: ['approve', 'reject'],
  messages: { decision: '请选择通过或不通过', reason: '不通过时请填写原因' },
  title: '解约{verb}',
  stageLabels: { department: '院系{verb}', school: '学校{verb}' },
};

/** Offline and 补登: the 解约函 is checked with the unit (school guide 7.2: 通过 / 退回修改 / 不通过). */
export const LETTER_REVIEW: ReviewChain<S> = {
  stages: { department: 'letter_department_review', school: 'letter_school_review' },
  passTo: 'terminated',
  returnTo: 'returned',
  rejectTo: 'failed',
  decisions: ['approve', 'return', 'reject'],
  messages: { decision: '请选择通过、退回修改或不通过', reason: '退回修改或不通过时请填写原因' },
  title: '解约{verb}',
  stageLabels: { department: '院系{verb}', school: '学校{verb}' },
  checksPages: true,
};

const terminationLink = (t: { agreementId: number }) => ({ graduate: `/student/agreements/${t.agreementId}/termination`, unit: `/employer/agreements/${t.agreementId}`, school: `/school/terminations` });

/** The agreement a termination ends: signed (valid) and not being terminated already. */
const agreementSigned: Guard<{ agreementId: number }> = {
  rule: 'S8',
  allows: async (ctx) => {
    const [a] = await ctx.db.select({ kind: agreements.kind, state: agreements.state }).from(agreements).where(eq(agreements.id, ctx.row.agreementId));
    return !!a && inAgreementGroup(a.kind, 'signed', a.state);
  },
  refusal: '只有已签约的协议才能解约',
  code: 'illegal_transition',
};

const noOpenTermination: Guard<{ agreementId: number }> = {
  rule: 'S8',
  allows: async (ctx) => {
    const [open] = await ctx.db.select({ id: terminations.id }).from(terminations).where(and(eq(terminations.agreementId, ctx.row.agreementId), inArray(terminations.state, [...OPEN_TERMINATION_STATES]))).limit(1);
    return !open;
  },
  refusal: '该协议已有一份解约申请在办理中',
  code: 'conflict',
};

/** The graduate's applications so far in the cohort, and the school's cap (S4 最大解约申请次数). */
export async function terminationAllowance(ctx: { db: FireContext<unknown>['db'] }, row: { graduateId: number; schoolId: number; cohort: number }) {
  const [[used], [school]] = await Promise.all([
    ctx.db.select({ n: count() }).from(terminations).where(and(eq(terminations.graduateId, row.graduateId), eq(terminations.cohort, row.cohort), eq(terminations.initiator, 'graduate'))),
    ctx.db.select({ max: schools.maxTerminations }).from(schools).where(eq(schools.id, row.schoolId)),
  ]);
  const max = school?.max ?? 0;
  const n = used?.n ?? 0;
  return { used: n, max, left: Math.max(0, max - n) };
}

/** S4: a graduate applies for termination at most 最大解约申请次数 times per cohort; 0 allows none. */
const withinLimit: Guard<NewTermination> = {
  rule: 'S4',
  allows: async (ctx) => ctx.row.initiator !== 'graduate' || (await ctx.memo('allowance', () => terminationAllowance(ctx, ctx.row))).left > 0,
  refusal: async (ctx) => {
    const { used, max } = await ctx.memo('allowance', () => terminationAllowance(ctx, ctx.row));
    return max === 0 ? '学校不允许毕业生提交解约申请（最大解约申请次数为 0），如需解约请联系学校就业部门' : `你已提交 ${used} 次解约申请，已达到学校规定的最多 ${max} 次，不能再申请`;
  },
  code: 'conflict',
};

/** 已解约: the agreement follows its termination, in the same transaction. */
async function terminateAgreement(tx: Tx, source: EventSource, agreementId: number): Promise<void> {
  const [a] = await tx.select().from(agreements).where(eq(agreements.id, agreementId)).for('update');
  await fire(tx, workflowOfKind(a!.kind), source, a!, 'terminate', { reaction: true });
}

const graduateName = async (ctx: FireContext<Termination | NewTermination>) => {
  const [a] = await ctx.db.select({ snapshot: agreements.graduateSnapshot }).from(agreements).where(eq(agreements.id, ctx.row.agreementId));
  return a?.snapshot?.name ?? '';
};

async function tellReviewers(ctx: EffectContext<S, Termination | NewTermination>, what: string) {
  const { verb } = await schoolSettingsOf(ctx);
  const stage = ctx.to === AGREED_REVIEW.stages.school || ctx.to === LETTER_REVIEW.stages.school ? 'school' : 'department';
  await notifyReviewers(ctx.tx, ctx.row, stage, { title: `有解约申请待${verb}`, body: `${await graduateName(ctx)}${what}`, link: terminationLink(ctx.row).school + `/${ctx.id}` });
}

/** 已解约, by the review or by force: the agreement ends, and both parties hear it (in-app and by SMS). */
async function ended(ctx: EffectContext<S, Termination>, how: string) {
  await terminateAgreement(ctx.tx, ctx.source, ctx.row.agreementId);
  const links = terminationLink(ctx.row);
  await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '解约完成', body: `${how}，协议已解约。你可以重新签约或登记其他毕业去向。`, link: links.graduate }, `【网签平台】${how}，你的就业协议已解约。`);
  const name = await graduateName(ctx);
  await notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name}的协议已解约`, body: how, link: links.unit }, `【网签平台】${how}，贵单位与${name}的就业协议已解约。`);
}

async function failedNotice(ctx: EffectContext<S, Termination>, why: string) {
  const links = terminationLink(ctx.row);
  await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '解约失败', body: `${why}，协议仍然有效。`, link: links.graduate }, `【网签平台】${why}，解约失败，你的就业协议仍然有效。`);
  const name = await graduateName(ctx);
  await notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name}的解约失败`, body: `${why}，协议仍然有效。`, link: links.unit }, `【网签平台】${why}，贵单位与${name}的解约失败，就业协议仍然有效。`);
}

/** Every step of a termination is activity on its agreement: the parties' lists sort by it. */
async function touchAgreement(ctx: EffectContext<S, Termination | NewTermination>) {
  await ctx.tx.update(agreements).set({ updatedAt: ctx.now }).where(eq(agreements.id, ctx.row.agreementId));
}

/** 不同意: the initiator hears it, with the other party's reason in the app (not in the platform's SMS). */
async function refusedNotice(ctx: EffectContext<S, Termination>) {
  const links = terminationLink(ctx.row);
  const why = ctx.reason ? `理由：${ctx.reason}。` : '';
  if (ctx.from === 'awaiting_unit') {
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '解约失败', body: `用人单位不同意解约。${why}协议仍然有效。`, link: links.graduate }, '【网签平台】用人单位不同意解约，解约失败，你的就业协议仍然有效。请登录网签平台查看。');
  } else {
    const name = await graduateName(ctx);
    await notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name}的解约失败`, body: `学生不同意解约。${why}协议仍然有效。`, link: links.unit }, `【网签平台】${name}不同意解约，解约失败，就业协议仍然有效。请登录网签平台查看。`);
  }
}

/** 同意: the initiator hears that the school now checks it. */
async function agreedNotice(ctx: EffectContext<S, Termination>) {
  const links = terminationLink(ctx.row);
  if (ctx.from === 'awaiting_unit') await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '用人单位已同意解约', body: '等待学校（院系）审核。', link: links.graduate });
  else await notifyUnit(ctx.tx, ctx.row.employerId, { title: `${await graduateName(ctx)}已同意解约`, body: '等待学校（院系）审核。', link: links.unit });
}

const touching = <T extends { effects?: ReadonlyArray<unknown> }>(spec: T): T => ({ ...spec, effects: [...(spec.effects ?? []), touchAgreement] });

const agreedReview = reviewEvents<S, Termination>(AGREED_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, '的解约申请已通过院系审核。'),
  approved: async (ctx) => ended(ctx, `学校${(await schoolSettingsOf(ctx)).verb}通过`),
  rejected: async (ctx) => failedNotice(ctx, `学校${(await schoolSettingsOf(ctx)).verb}不通过（${ctx.reason}）`),
});

const letterReview = reviewEvents<S, Termination>(LETTER_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, '的解约申请已通过院系审核。'),
  approved: async (ctx) => ended(ctx, `学校${(await schoolSettingsOf(ctx)).verb}通过`),
  returned: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '解约申请退回修改', body: `原因：${ctx.reason}`, link: terminationLink(ctx.row).graduate }, `【网签平台】你的解约申请被退回修改，原因：${ctx.reason}。`),
  rejected: async (ctx) => failedNotice(ctx, `学校${(await schoolSettingsOf(ctx)).verb}不通过（${ctx.reason}）`),
});

const PARTY: Record<S, string> = {
  awaiting_unit: '学生发起解约等待单位应约',
  awaiting_graduate: '单位发起解约等待学生应约',
  agreed_department_review: '已同意解约等待学校（学院）审核',
  agreed_school_review: '已同意解约等待学校（学院）审核',
  letter_department_review: '解约中',
  letter_school_review: '解约中',
  returned: '解约申请退回修改',
  terminated: '已解约',
  failed: '解约失败',
};

export const termination = defineWorkflow({
  name: 'termination',
  subject: 'termination',
  table: terminations,
  id: terminations.id,
  schoolOf: (row: { schoolId: number }) => row.schoolId,
  trailOf: (row: { agreementId: number }) => ({ type: 'agreement', id: row.agreementId }),
  states: TERMINATION_STATES,
  groups: {
    open: OPEN_TERMINATION_STATES,
    terminal: ['terminated', 'failed'],
    /** Waiting for the other party's 同意 or 不同意. */
    awaitingAnswer: ['awaiting_unit', 'awaiting_graduate'],
    inReview: ['agreed_department_review', 'agreed_school_review', 'letter_department_review', 'letter_school_review'],
    editable: ['returned'],
    terminated: ['terminated'],
    failed: ['failed'],
  },
  labels: {
    graduate: PARTY,
    employer: PARTY,
    reviewer: {
      ...PARTY,
      agreed_department_review: '已同意解约，等待院系{verb}',
      agreed_school_review: '已同意解约，等待学校{verb}',
      letter_department_review: '解约中，等待院系{verb}',
      letter_school_review: '解约中，等待学校{verb}',
    },
  },
  creations: {
    /** 申请解约 (the graduate): online → the unit answers; offline and 补登 → the 解约函 goes to review. */
    apply: {
      to: {
        oneOf: ['awaiting_unit', LETTER_REVIEW.stages.department, LETTER_REVIEW.stages.school],
        pick: async (ctx) => (ctx.row.path === 'online' ? 'awaiting_unit' : firstStage(LETTER_REVIEW, ctx)),
      },
      by: ['student'],
      guards: [agreementSigned, noOpenTermination, withinLimit],
      effects: [
        async (ctx) => {
          if (ctx.to === 'awaiting_unit') {
            const name = await graduateName(ctx);
            await notifyUnit(ctx.tx, ctx.row.employerId ?? null, { title: `${name}申请解约`, body: `解约原因：${ctx.row.reason}。请在“解约中”查看并答复同意或不同意。`, link: terminationLink(ctx.row).unit }, `【网签平台】${name}向贵单位申请解约，请登录网签平台在“签约/解约 - 解约中”答复同意或不同意。`);
          } else {
            await tellReviewers(ctx, '提交了解约申请（解约函）。');
          }
        },
        touchAgreement,
      ],
    },
    /** 发起解约 / 提交解约申请 (the unit, online agreements): the graduate answers. */
    propose: {
      to: 'awaiting_graduate',
      by: ['employer'],
      guards: [agreementSigned, noOpenTermination],
      effects: [
        async (ctx) =>
          notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '用人单位发起解约', body: `解约原因：${ctx.row.reason}。请查看并答复同意或不同意。`, link: terminationLink(ctx.row).graduate }, '【网签平台】用人单位向你发起解约，请登录网签平台查看原因并答复同意或不同意。'),
        touchAgreement,
      ],
    },
  },
  events: {
    /** 同意: the other party agrees; the review follows (S4 decides its first stage). */
    agree: {
      transitions: [
        { from: 'awaiting_unit', to: enterReview<S, Termination>(AGREED_REVIEW), by: 'employer' },
        { from: 'awaiting_graduate', to: enterReview<S, Termination>(AGREED_REVIEW), by: 'student' },
      ],
      effects: [(ctx) => tellReviewers(ctx, '的解约申请已获双方同意。'), agreedNotice, touchAgreement],
    },
    /** 不同意: 解约失败, the agreement stays valid; the initiator may apply again, within the limit. */
    refuse: {
      transitions: [
        { from: 'awaiting_unit', to: 'failed', by: 'employer' },
        { from: 'awaiting_graduate', to: 'failed', by: 'student' },
      ],
      effects: [refusedNotice, touchAgreement],
    },
    /** 强制解约 (school users only, school guide 7.1): a unit that leaves the graduate's request unanswered. */
    force: {
      transitions: [{ from: 'awaiting_unit', to: 'terminated', by: 'school' }],
      effects: [async (ctx) => ended(ctx, '学校强制解约')],
    },
    /** 提交 again after 退回修改 (offline and 补登). */
    resubmit: {
      transitions: [{ from: 'returned', to: enterReview<S, Termination>(LETTER_REVIEW), by: 'student' }],
      effects: [(ctx) => tellReviewers(ctx, '重新提交了解约申请。'), touchAgreement],
    },
    approve: touching(mergeEvents(agreedReview.approve, letterReview.approve)),
    return: touching(letterReview.return),
    reject: touching(mergeEvents(agreedReview.reject, letterReview.reject)),
  },
  eventLabels: {
    apply: '学生申请解约',
    propose: '单位发起解约',
    agree: ({ from }) => (from === 'awaiting_unit' ? '单位同意解约' : '学生同意解约'),
    refuse: ({ from }) => (from === 'awaiting_unit' ? '单位不同意解约，解约失败' : '学生不同意解约，解约失败'),
    force: '学校强制解约',
    resubmit: '学生重新提交解约申请',
    approve: ({ from, to }) => (to === 'terminated' ? '学校{verb}通过解约申请' : from === 'agreed_department_review' || from === 'letter_department_review' ? '院系{verb}通过解约申请' : '解约{verb}通过'),
    return: '解约申请退回修改',
    reject: '解约{verb}不通过，解约失败',
  },
  refusal: '该解约申请当前状态下不能进行此操作，请刷新页面查看最新状态',
});

const queueOf = (key: string, chain: ReviewChain<S>, path: 'online' | 'letter'): ReviewQueue => ({
  key,
  title: path === 'online' ? '解约管理（线上解约）' : '解约管理（线下解约）',
  href: '/school/terminations',
  noun: '解约申请',
  table: terminations,
  columns: { state: terminations.state, schoolId: terminations.schoolId, departmentId: terminations.departmentId, updatedAt: terminations.updatedAt },
  filter: eq(terminations.path, path),
  chain,
});

/** 解约管理 as queues of the reviewers' inbox and digest. */
export const TERMINATION_QUEUES = [queueOf('termination_online', AGREED_REVIEW, 'online'), queueOf('termination_letter', LETTER_REVIEW, 'letter')];
