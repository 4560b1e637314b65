import { eq } from 'drizzle-orm';
import { agreements } from '../../../db/schema/index.ts';
import { enterReview, reviewEvents, type ReviewChain } from '../../reviews/chain.ts';
import type { ReviewQueue } from '../../reviews/inbox.ts';
import { schoolSettingsOf, schoolSwitchOn } from '../../schools/switches.ts';
import { defineWorkflow, type EffectContext } from '../../workflow/kernel.ts';
import { graduateMaySign, noOtherActiveAgreement } from '../guards.ts';
import { untouchedSinceSubmission, ONE_AT_A_TIME } from '../offline/workflow.ts';
import { notifyGraduate, notifyReviewers, notifyUnit } from '../notify.ts';
import { numberAgreement } from '../parties.ts';
import type { Agreement, NewAgreement } from '../rows.ts';
import type { AgreementState } from '../states.ts';
import { TERMINATE, TERMINATE_LABEL } from '../terminate-event.ts';
import { refreshDestinationWhen } from '../../destinations/current.ts';
import { supersedeRegistration } from '../../destinations/workflow.ts';

// 已签就业协议登记信息 (补登), graduate guide 5, campus edition (三), school guide 6: a graduate who
// signed a paper agreement fills in what it says and uploads its stamped pages; 补登管理 reviews it
// (通过 / 退回修改 / 不通过). Governed by the school's 补登 switch (S4); 撤回修改 until a reviewer acts (G7).

const STATES = ['registration_department_review', 'registration_school_review', 'returned', 'withdrawn', 'signed', 'registration_rejected', 'abandoned', 'terminated'] as const satisfies readonly AgreementState[];
type S = (typeof STATES)[number];

export const REGISTRATION_REVIEW: ReviewChain<S> = {
  stages: { department: 'registration_department_review', school: 'registration_school_review' },
  passTo: 'signed',
  returnTo: 'returned',
  rejectTo: 'registration_rejected',
  decisions: ['approve', 'return', 'reject'],
  messages: { decision: '请选择通过、退回修改或不通过', reason: '退回修改或不通过时请填写原因及具体问题' },
  title: '签约{verb}',
  stageLabels: { department: '院系{verb}', school: '学校{verb}' },
  checksPages: true,
};

const link = (id: number) => `/student/applications/${id}`;

async function tellReviewers(ctx: EffectContext<S, Agreement | NewAgreement>, what: string) {
  const { verb } = await schoolSettingsOf(ctx);
  const stage = ctx.to === REGISTRATION_REVIEW.stages.school ? 'school' : 'department';
  await notifyReviewers(ctx.tx, ctx.row, stage, { title: `有新的补登信息待${verb}`, body: `${ctx.row.graduateSnapshot?.name ?? ''}${what}`, link: `/school/registrations/${ctx.id}` });
}

const review = reviewEvents<S, Agreement>(REGISTRATION_REVIEW, {
  advanced: (ctx) => tellReviewers(ctx, '的补登信息已通过院系审核。'),
  passWrites: (now) => ({ signedAt: now }),
  approved: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    await numberAgreement(ctx.tx, ctx.row);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: `签约${verb}通过`, body: '你登记的就业协议信息已完成补登。', link: link(ctx.id) }, `【网签平台】你登记的就业协议信息已${verb}通过。`);
    await notifyUnit(ctx.tx, ctx.row.employerId, { title: `${ctx.row.graduateSnapshot?.name ?? ''}登记的就业协议已${verb}通过`, body: '可在“已签约”中查看。', link: `/employer/agreements/${ctx.id}` });
  },
  returned: (ctx) => notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '补登信息退回修改', body: `原因：${ctx.reason}`, link: link(ctx.id) }, `【网签平台】你登记的就业协议信息被退回修改，原因：${ctx.reason}。请登录网签平台修改后重新提交。`),
  rejected: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    await notifyGraduate(ctx.tx, ctx.row.graduateId, { title: `签约${verb}不通过`, body: `原因：${ctx.reason}。登记信息已作废，可重新登记。`, link: link(ctx.id) }, `【网签平台】你登记的就业协议信息${verb}不通过，原因：${ctx.reason}。`);
  },
});

const LABELS: Record<S, string> = {
  registration_department_review: '签约审核中',
  registration_school_review: '签约审核中',
  returned: '退回修改',
  withdrawn: '已撤回，待提交',
  signed: '签约审核通过',
  registration_rejected: '签约审核不通过',
  abandoned: '已放弃登记',
  terminated: '已解约',
};

export const paperRegistration = defineWorkflow({
  name: 'paper_registration',
  subject: 'agreement',
  table: agreements,
  id: agreements.id,
  schoolOf: (row: { schoolId: number }) => row.schoolId,
  states: STATES,
  groups: {
    active: ['registration_department_review', 'registration_school_review', 'returned', 'withdrawn', 'signed'],
    terminal: ['terminated', 'registration_rejected', 'abandoned'],
    pending: [],
    inReview: ['registration_department_review', 'registration_school_review'],
    editable: ['returned', 'withdrawn'],
    awaitingCopy: [],
    signed: ['signed'],
    /** 已解约: ended by a termination (school guide 7); /verify says so. */
    terminated: ['terminated'],
    documented: ['signed', 'terminated'],
    failed: ['registration_rejected'],
  },
  labels: {
    graduate: LABELS,
    employer: LABELS,
    reviewer: {
      ...LABELS,
      registration_department_review: '签约{verb}中，等待院系{verb}',
      registration_school_review: '签约{verb}中，等待学校{verb}',
      signed: '签约{verb}通过',
      registration_rejected: '签约{verb}不通过',
    },
    summary: { ...LABELS, signed: '已签约（补登）', registration_rejected: '未签约', abandoned: '未签约' },
  },
  creations: {
    /** 提交 (after the confirmation): S4 (补登), G2/G9, G4; to the first review stage. */
    submit: {
      to: enterReview<S, NewAgreement>(REGISTRATION_REVIEW),
      by: ['student'],
      guards: [schoolSwitchOn<NewAgreement>('paperRegistration', '学校暂未开启补登，暂不能登记已签就业协议'), graduateMaySign<NewAgreement>(), noOtherActiveAgreement<NewAgreement>(ONE_AT_A_TIME)],
      effects: [(ctx) => tellReviewers(ctx, '提交了已签就业协议登记信息。'), supersedeRegistration],
    },
  },
  events: {
    withdraw: {
      transitions: [
        { from: 'registration_department_review', to: 'withdrawn', by: 'student' },
        { from: 'registration_school_review', to: 'withdrawn', by: 'student' },
      ],
      guards: [untouchedSinceSubmission],
    },
    resubmit: {
      transitions: [
        { from: 'returned', to: enterReview<S, Agreement>(REGISTRATION_REVIEW), by: 'student' },
        { from: 'withdrawn', to: enterReview<S, Agreement>(REGISTRATION_REVIEW), by: 'student' },
      ],
      guards: [schoolSwitchOn<Agreement>('paperRegistration', '学校暂未开启补登，暂不能提交'), graduateMaySign<Agreement>()],
      effects: [(ctx) => tellReviewers(ctx, '重新提交了已签就业协议登记信息。'), supersedeRegistration],
    },
    abandon: {
      transitions: [
        { from: 'returned', to: 'abandoned', by: 'student' },
        { from: 'withdrawn', to: 'abandoned', by: 'student' },
      ],
    },
    approve: review.approve,
    return: review.return,
    reject: review.reject,
    terminate: TERMINATE,
  },
  eventLabels: {
    terminate: TERMINATE_LABEL,
    submit: '学生提交已签就业协议登记信息',
    withdraw: '学生撤回修改',
    resubmit: '学生重新提交登记信息',
    abandon: '学生放弃登记',
    approve: ({ from }) => (from === 'registration_department_review' ? '院系{verb}通过' : '学校{verb}通过，补登完成'),
    return: '签约{verb}退回修改',
    reject: '签约{verb}不通过',
  },
  afterEach: [refreshDestinationWhen(['signed', 'terminated'])],
  refusal: '该登记当前状态下不能进行此操作，请刷新页面查看最新状态',
});

export const REGISTRATION_PROGRESS = {
  steps: ['填写登记信息', '签约{verb}', '补登完成'],
  reached: { registration_department_review: 2, registration_school_review: 2, returned: 1, withdrawn: 1, signed: 3, registration_rejected: 2, abandoned: 1, terminated: 3 },
} as const satisfies { steps: readonly string[]; reached: Record<S, number> };

/** 补登管理 as a queue of the reviewers' inbox and digest. */
export const REGISTERED_QUEUE: ReviewQueue = {
  key: 'registration',
  title: '补登管理',
  href: '/school/registrations',
  noun: '补登信息',
  table: agreements,
  columns: { state: agreements.state, schoolId: agreements.schoolId, departmentId: agreements.departmentId, updatedAt: agreements.updatedAt },
  filter: eq(agreements.kind, 'registered'),
  chain: REGISTRATION_REVIEW,
};
