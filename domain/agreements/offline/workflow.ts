import { and, desc, eq } from 'drizzle-orm';
import { agreements, events } from '../../../db/schema/index.ts';
import { mergeEvents, enterReview, reviewEvents, type ReviewChain } from '../../reviews/chain.ts';
import type { ReviewQueue } from '../../reviews/inbox.ts';
import { schoolSettingsOf, schoolSwitchOn } from '../../schools/switches.ts';
import { defineWorkflow, type EffectContext, type FireContext, type Guard } from '../../workflow/kernel.ts';
import { graduateMaySign, noOtherActiveAgreement } from '../guards.ts';
import { notifyGraduate, notifyReviewers, notifyUnit } from '../notify.ts';
import { numberAgreement } from '../parties.ts';
import type { Agreement, NewAgreement } from '../rows.ts';
import type { AgreementState } from '../states.ts';
import { TERMINATE, TERMINATE_LABEL } from '../terminate-event.ts';
import { refreshDestinationWhen } from '../../destinations/current.ts';
import { supersedeRegistration } from '../../destinations/workflow.ts';

// Offline signing (学生申请, 未签就业协议申请签约), graduate guide 4, campus edition (二), school
// guide 5.2: the graduate fills in the agreement and submits it; 就业协议审核 (the department's then
// the school's, 通过 / 退回修改 / 不通过); on 通过 the electronic agreement exists with its number; the
// unit stamps it and the graduate, or the unit through an SMS link, uploads the stamped copy; 签约审核
// (签约鉴证 in a 两方协议 province) decides again; 通过 signs it. 撤回修改 until a reviewer acts (G7).

const STATES = [
  'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy',
  'signing_department_review', 'signing_school_review', 'copy_returned', 'signed', 'agreement_rejected', 'signing_rejected', 'abandoned', 'terminated'] as const satisfies readonly AgreementState[];
type S = (typeof STATES)[number];

/** ① 就业协议审核: checking what the graduate filled in — 审核 in every province (school guide 5.2 ①). */
export const AGREEMENT_REVIEW: ReviewChain<S> = {
  stages: { department: 'agreement_department_review', school: 'agreement_school_review' },
  passTo: 'awaiting_stamped_copy',
  returnTo: 'returned',
  rejectTo: 'agreement_rejected',
  decisions: ['approve', 'return', 'reject'],
  messages: { decision: '请选择通过、退回修改或不通过', reason: '退回修改或不通过时请填写原因及具体问题' },
  title: '就业协议审核',
  stageLabels: { department: '院系就业协议审核', school: '学校就业协议审核' },
  fixedVerb: '审核',
};

/** ② 签约审核 / 签约鉴证: the stamped copy against the generated agreement. */
export const SIGNING_REVIEW: ReviewChain<S> = {
  stages: { department: 'signing_department_review', school: 'signing_school_review' },
  passTo: 'signed',
  returnTo: 'copy_returned',
  rejectTo: 'signing_rejected',
  decisions: ['approve', 'return', 'reject'],
  messages: { decision: '请选择通过、退回修改或不通过', reason: '退回修改或不通过时请填写原因及具体问题' },
  title: '签约{verb}',
  stageLabels: { department: '院系{verb}', school: '学校{verb}' },
  checksPages: true,
};

export const ONE_AT_A_TIME = '你已有一份签约或签约申请在办理中，一次只能办理一份';

/** G7: 撤回修改 only while no reviewer has acted on this submission. */
export const untouchedSinceSubmission: Guard<Agreement> = {
  rule: 'G7',
  allows: async (ctx) => {
    const [last] = await ctx.db
      .select({ action: events.action })
      .from(events)
      .where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(ctx.row.id))))
      .orderBy(desc(events.id))
      .limit(1);
    return last?.action === 'agreement.submit' || last?.action === 'agreement.resubmit';
  },
  refusal: '学校（院系）已开始审核，不能撤回修改',
};

const name = (ctx: FireContext<Agreement>) => ctx.row.graduateSnapshot?.name ?? '';
const link = (id: number) => `/student/applications/${id}`;

async function tellReviewers(ctx: EffectContext<S, Agreement>, chain: ReviewChain<S>, what: string) {
  const { verb } = await schoolSettingsOf(ctx);
  const stage = ctx.to === chain.stages.school ? 'school' : 'department';
  const title = chain === AGREEMENT_REVIEW ? '有新的就业协议待审核' : `有新的签约待${verb}`;
  await notifyReviewers(ctx.tx, ctx.row, stage, { title, body: `${name(ctx)}${what}`, link: `/school/agreements/${ctx.id}` });
}

const agreementReview = reviewEvents<S, Agreement>(AGREEMENT_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, AGREEMENT_REVIEW, '的就业协议已通过院系审核。'),
  approved: async (ctx) => {
    await numberAgreement(ctx.tx, ctx.row);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '就业协议审核通过', body: '请下载就业协议书，打印后请用人单位盖章，再回传协议书。', link: link(ctx.id) }, '【网签平台】你的就业协议审核通过，请登录网签平台下载就业协议书，请用人单位盖章后回传。');
  },
  returned: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '就业协议审核退回修改', body: `原因：${ctx.reason}`, link: link(ctx.id) }, `【网签平台】你的就业协议被退回修改，原因：${ctx.reason}。请登录网签平台修改后重新提交。`),
  rejected: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '就业协议审核不通过', body: `原因：${ctx.reason}。该申请已作废，可重新填写。`, link: link(ctx.id) }, `【网签平台】你的就业协议审核不通过，原因：${ctx.reason}。请登录网签平台查看。`),
});

const signingReview = reviewEvents<S, Agreement>(SIGNING_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, SIGNING_REVIEW, '的签约已通过院系审核。'),
  passWrites: (now) => ({ signedAt: now }),
  approved: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '签约完成', body: `学校${verb}通过，可在线预览、下载就业协议书。`, link: link(ctx.id) }, `【网签平台】你的就业协议已${verb}通过，签约完成。`);
    await notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name(ctx)}签约完成`, body: '可在“已签约”中查看、下载就业协议书。', link: `/employer/agreements/${ctx.id}` });
  },
  returned: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: `签约${verb}退回修改`, body: `原因：${ctx.reason}。请重新回传盖章的协议书。`, link: link(ctx.id) }, `【网签平台】你回传的协议书被退回，原因：${ctx.reason}。请登录网签平台重新回传。`);
  },
  rejected: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: `签约${verb}不通过`, body: `原因：${ctx.reason}。该申请已作废，可重新填写。`, link: link(ctx.id) }, `【网签平台】你的签约${verb}不通过，原因：${ctx.reason}。请登录网签平台查看。`);
  },
});

const LABELS: Record<S, string> = {
  agreement_department_review: '就业协议审核中',
  agreement_school_review: '就业协议审核中',
  returned: '协议审核待提交（老师退回）',
  withdrawn: '已撤回，待提交',
  awaiting_stamped_copy: '就业协议审核通过',
  signing_department_review: '签约审核中',
  signing_school_review: '签约审核中',
  copy_returned: '签约审核退回，待重新回传',
  signed: '已签约',
  agreement_rejected: '就业协议审核不通过',
  signing_rejected: '签约审核不通过',
  abandoned: '已放弃申请',
  terminated: '已解约',
};

export const offlineSigning = defineWorkflow({
  name: 'offline_signing',
  subject: 'agreement',
  table: agreements,
  id: agreements.id,
  schoolOf: (row: { schoolId: number }) => row.schoolId,
  states: STATES,
  groups: {
    /** G4: the graduate's one application, from 提交 to 已签约. */
    active: ['agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'signed'],
    terminal: ['terminated', 'agreement_rejected', 'signing_rejected', 'abandoned'],
    pending: [],
    inReview: ['agreement_department_review', 'agreement_school_review', 'signing_department_review', 'signing_school_review'],
    /** The graduate edits the form again and resubmits (退回修改, 撤回修改). */
    editable: ['returned', 'withdrawn'],
    /** The stamped copy is awaited from the graduate or the unit. */
    awaitingCopy: ['awaiting_stamped_copy', 'copy_returned'],
    signed: ['signed'],
    /** 已解约: ended by a termination (school guide 7); /verify says so. */
    terminated: ['terminated'],
    /** G8: the electronic agreement exists once 就业协议审核 passed. */
    documented: ['awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned', 'signed', 'terminated'],
    failed: ['agreement_rejected', 'signing_rejected'],
  },
  labels: {
    graduate: LABELS,
    employer: LABELS,
    reviewer: {
      ...LABELS,
      agreement_department_review: '就业协议审核中，等待院系审核',
      agreement_school_review: '就业协议审核中，等待学校审核',
      awaiting_stamped_copy: '就业协议审核通过，等待回传盖章协议书',
      signing_department_review: '已回传协议书，等待院系{verb}',
      signing_school_review: '已回传协议书，等待学校{verb}',
      copy_returned: '签约{verb}退回，等待重新回传',
      signing_rejected: '签约{verb}不通过',
    },
    summary: {
      ...LABELS,
      agreement_department_review: '就业协议审核中',
      agreement_school_review: '就业协议审核中',
      signing_department_review: '签约审核中',
      signing_school_review: '签约审核中',
      agreement_rejected: '未签约',
      signing_rejected: '未签约',
      abandoned: '未签约',
    },
  },
  creations: {
    /** 提交 (after the confirmation): S4 (在线签约), G2/G9, G4; to the first stage of 就业协议审核. */
    submit: {
      to: enterReview<S, NewAgreement>(AGREEMENT_REVIEW),
      by: ['student'],
      guards: [schoolSwitchOn<NewAgreement>('onlineSigning', '学校暂未开启在线签约，暂不能申请签约'), graduateMaySign<NewAgreement>(), noOtherActiveAgreement<NewAgreement>(ONE_AT_A_TIME)],
      effects: [
        async (ctx) => {
          const stage = ctx.to === AGREEMENT_REVIEW.stages.school ? 'school' : 'department';
          await notifyReviewers(ctx.tx, ctx.row, stage, { title: '有新的就业协议待审核', body: `${ctx.row.graduateSnapshot?.name ?? ''}提交了就业协议申请。`, link: `/school/agreements/${ctx.id}` });
        },
        supersedeRegistration,
      ],
    },
  },
  events: {
    /** 撤回修改 (G7): before a reviewer acts. */
    withdraw: {
      transitions: [
        { from: 'agreement_department_review', to: 'withdrawn', by: 'student' },
        { from: 'agreement_school_review', to: 'withdrawn', by: 'student' },
      ],
      guards: [untouchedSinceSubmission],
    },
    /** 提交 again after 撤回修改 or 退回修改, into 就业协议审核 afresh. */
    resubmit: {
      transitions: [
        { from: 'returned', to: enterReview<S, Agreement>(AGREEMENT_REVIEW), by: 'student' },
        { from: 'withdrawn', to: enterReview<S, Agreement>(AGREEMENT_REVIEW), by: 'student' },
      ],
      guards: [schoolSwitchOn<Agreement>('onlineSigning', '学校暂未开启在线签约，暂不能提交'), graduateMaySign<Agreement>()],
      effects: [(ctx) => tellReviewers(ctx, AGREEMENT_REVIEW, '重新提交了就业协议申请。'), supersedeRegistration],
    },
    /**
     * 放弃申请: the graduate gives up an application waiting for them (to be edited, or for a stamp
     * the unit will not give), to sign some other way.
     */
    abandon: {
      transitions: (['returned', 'withdrawn', 'awaiting_stamped_copy', 'copy_returned'] as const).map((from) => ({ from, to: 'abandoned' as const, by: 'student' as const })),
    },
    /** 本人回传协议书 or 用人单位协助回传协议书: the stamped copy goes to 签约审核. */
    upload_copy: {
      transitions: [
        { from: 'awaiting_stamped_copy', to: enterReview<S, Agreement>(SIGNING_REVIEW), by: 'student' },
        { from: 'copy_returned', to: enterReview<S, Agreement>(SIGNING_REVIEW), by: 'student' },
        { from: 'awaiting_stamped_copy', to: enterReview<S, Agreement>(SIGNING_REVIEW), by: 'link' },
        { from: 'copy_returned', to: enterReview<S, Agreement>(SIGNING_REVIEW), by: 'link' },
      ],
      effects: [(ctx) => tellReviewers(ctx, SIGNING_REVIEW, '的盖章协议书已回传。')],
    },
    approve: mergeEvents(agreementReview.approve, signingReview.approve),
    return: mergeEvents(agreementReview.return, signingReview.return),
    reject: mergeEvents(agreementReview.reject, signingReview.reject),
    terminate: TERMINATE,
  },
  eventLabels: {
    terminate: TERMINATE_LABEL,
    submit: '学生提交就业协议申请',
    withdraw: '学生撤回修改',
    resubmit: '学生重新提交就业协议申请',
    abandon: '学生放弃申请',
    upload_copy: '回传盖章的就业协议书',
    approve: ({ from }) =>
      ({ agreement_department_review: '院系就业协议审核通过', agreement_school_review: '学校就业协议审核通过，生成就业协议书', signing_department_review: '院系{verb}通过', signing_school_review: '学校{verb}通过，签约完成' })[from as string] ?? '审核通过',
    return: ({ from }) => (from === 'agreement_department_review' || from === 'agreement_school_review' ? '就业协议审核退回修改' : '签约{verb}退回修改'),
    reject: ({ from }) => (from === 'agreement_department_review' || from === 'agreement_school_review' ? '就业协议审核不通过' : '签约{verb}不通过'),
  },
  afterEach: [refreshDestinationWhen(['signed', 'terminated'])],
  refusal: '该申请当前状态下不能进行此操作，请刷新页面查看最新状态',
});

/** The progress steps of the graduate guide's 线下签约流程, and the step each state has reached. */
export const OFFLINE_PROGRESS = {
  steps: ['填写协议信息', '就业协议审核', '单位盖章回传', '签约{verb}', '签约完成'],
  reached: {
    agreement_department_review: 2, agreement_school_review: 2, returned: 1, withdrawn: 1, awaiting_stamped_copy: 3, signing_department_review: 4, signing_school_review: 4,
    copy_returned: 3, signed: 5, agreement_rejected: 2, signing_rejected: 4, abandoned: 1, terminated: 5
  },
} as const satisfies { steps: readonly string[]; reached: Record<S, number> };

const queueOf = (key: string, title: string, chain: ReviewChain<S>): ReviewQueue => ({
  key,
  title,
  href: '/school/agreements?initiator=student',
  noun: chain === AGREEMENT_REVIEW ? '就业协议' : '签约',
  table: agreements,
  columns: { state: agreements.state, schoolId: agreements.schoolId, departmentId: agreements.departmentId, updatedAt: agreements.updatedAt },
  filter: eq(agreements.kind, 'offline'),
  chain,
});

/** 在线签约管理, 签约发起方 学生: its two reviews as queues of the reviewers' inbox. */
export const OFFLINE_QUEUES = [queueOf('offline_agreement', '在线签约管理（学生申请）· 就业协议审核', AGREEMENT_REVIEW), queueOf('offline_signing', '在线签约管理（学生申请）· 签约{verb}', SIGNING_REVIEW)];
