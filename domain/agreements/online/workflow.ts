import { eq } from 'drizzle-orm';
import { pipelined, sentWithCommit } from '../../../db/client.ts';
import { agreements, graduates } from '../../../db/schema/index.ts';
import { enterReview, reviewEvents, type ReviewChain } from '../../reviews/chain.ts';
import type { ReviewQueue } from '../../reviews/inbox.ts';
import { schoolSettingsOf, schoolSwitchOn } from '../../schools/switches.ts';
import { defineWorkflow, KNOWN, type FireContext, type Guard } from '../../workflow/kernel.ts';
import { notifyGraduate, notifyReviewers, notifyUnit } from '../notify.ts';
import { numberAgreement, partySnapshots } from '../parties.ts';
import type { Agreement, NewAgreement } from '../rows.ts';
import { noOtherActiveAgreement as noOtherActiveAgreementOf } from '../guards.ts';
import { PENDING_INVITATION_STATES, type AgreementState } from '../states.ts';
import { TERMINATE, TERMINATE_LABEL } from '../terminate-event.ts';
import { refreshDestinationWhen } from '../../destinations/current.ts';
import { supersedeRegistration } from '../../destinations/workflow.ts';

// Online signing (单位发起), DESIGN.md section 5 and the guides: a verified unit invites
// (等待学生应约); the graduate accepts before 应约截止时间 (学生已应约提交审核中) and the review chain
// decides 通过 / 不通过 (school guide 5.1: no 退回修改); 通过 at the school's stage signs it (已签约).
// Failures are 签约失败: declined, expired (X3), review_rejected; 失效 when the graduate leaves the roster.

export type { Agreement, NewAgreement };

const STATES = ['invited', 'department_review', 'school_review', 'signed', 'declined', 'expired', 'review_rejected', 'invalidated', 'terminated'] as const satisfies readonly AgreementState[];
type S = (typeof STATES)[number];

export const ONLINE_REVIEW: ReviewChain<S> = {
  stages: { department: 'department_review', school: 'school_review' },
  passTo: 'signed',
  rejectTo: 'review_rejected',
  decisions: ['approve', 'reject'],
  messages: { decision: '请选择通过或不通过', reason: '不通过时请填写原因及具体问题' },
  title: '签约{verb}',
  stageLabels: { department: '院系{verb}', school: '学校{verb}' },
};

export const ALREADY_SIGNING = '你已接受其他单位的签约邀请，其他签约邀请只能查看，无法操作';
export const PAST_DEADLINE = '已超过应约截止时间，该签约邀请已失效';

/** X3: every answer checks the deadline itself; past it, the invitation expires instead. */
const beforeDeadline: Guard<Agreement> = { rule: 'X3', allows: (ctx) => ctx.row.deadline !== null && ctx.row.deadline > ctx.now, refusal: PAST_DEADLINE, otherwise: 'expire' };

/** G4 (X4 also by the partial unique index), across every kind. */
const noOtherActiveAgreement = noOtherActiveAgreementOf<Agreement>(ALREADY_SIGNING);

/** The graduate's name on notices: the frozen record once there is one; else as the caller read it with the row, or read now. */
async function graduateName(ctx: FireContext<Agreement>): Promise<string> {
  if (ctx.row.graduateSnapshot) return ctx.row.graduateSnapshot.name;
  return ctx.memo(KNOWN.graduateName, async () => {
    const [g] = await ctx.db.select({ name: graduates.name }).from(graduates).where(eq(graduates.id, ctx.row.graduateId));
    return g?.name ?? '';
  });
}

const review = reviewEvents<S, Agreement>(ONLINE_REVIEW, {
  advanced: async (ctx) => {
    const { verb } = await schoolSettingsOf(ctx);
    const body = `${await graduateName(ctx)}的签约已通过院系${verb}。`;
    await sentWithCommit(ctx.tx, notifyReviewers(ctx.tx, ctx.row, 'school', { title: `有新的签约待${verb}`, body, link: `/school/agreements/${ctx.id}` }));
  },
  // The signing time goes out with the state (issue 14: one statement and row version of a decision's fewer).
  passWrites: (now) => ({ signedAt: now }),
  // What the notices say is read first (from what the request knows, mostly), then the notices go out
  // together, with the transaction's COMMIT.
  approved: async (ctx) => {
    const [{ verb }, name] = await pipelined(schoolSettingsOf(ctx), graduateName(ctx));
    await sentWithCommit(
      ctx.tx,
      notifyGraduate(ctx.tx, ctx.row.graduateId, { title: '签约完成', body: `学校${verb}通过，可在线预览、下载就业协议书。`, link: `/student/invitations/${ctx.id}` }, `【网签平台】你的就业协议已${verb}通过，签约完成，可登录网签平台下载就业协议书。`),
      notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name}签约完成`, body: '可在“已签约”中下载就业协议书。', link: `/employer/agreements/${ctx.id}` }),
    );
  },
  rejected: async (ctx) => {
    const [{ verb }, name] = await pipelined(schoolSettingsOf(ctx), graduateName(ctx));
    await sentWithCommit(
      ctx.tx,
      notifyGraduate(ctx.tx, ctx.row.graduateId, { title: `签约${verb}不通过`, body: `原因：${ctx.reason}`, link: `/student/invitations/${ctx.id}` }, `【网签平台】你的签约${verb}不通过，原因：${ctx.reason}。请登录网签平台查看。`),
      notifyUnit(ctx.tx, ctx.row.employerId, { title: `与${name}的签约${verb}不通过`, body: `原因：${ctx.reason}。可在“签约失败”中再次发起签约。`, link: `/employer/agreements/${ctx.id}` }),
    );
  },
});

/** The words of the expiry, for the job's set-based statement and a single expiry alike. */
export const EXPIRY_NOTICE = { title: '签约邀请已逾期', body: '学生在应约截止时间前未回应，可在“签约失败”中再次发起签约。' } as const;

const PARTY_LABELS: Record<S, string> = {
  invited: '等待学生应约',
  department_review: '学生已应约提交审核中',
  school_review: '学生已应约提交审核中',
  signed: '已签约',
  declined: '学生拒绝签约',
  expired: '学生逾期未回应',
  review_rejected: '学校（学院）审核不通过',
  invalidated: '失效',
  terminated: '已解约',
};

export const onlineSigning = defineWorkflow({
  name: 'online_signing',
  subject: 'agreement',
  table: agreements,
  id: agreements.id,
  schoolOf: (row: { schoolId: number }) => row.schoolId,
  states: STATES,
  groups: {
    /** G4: the graduate's one agreement. */
    active: ['department_review', 'school_review', 'signed'],
    terminal: ['terminated', 'declined', 'expired', 'review_rejected', 'invalidated'],
    /** Waiting for the graduate's answer: the deadline is shown, expiry and reminders run (X3). */
    pending: PENDING_INVITATION_STATES,
    inReview: ['department_review', 'school_review'],
    editable: [],
    awaitingCopy: [],
    /** /verify says 有效; the graduate has signed. */
    signed: ['signed'],
    /** 已解约: ended by a termination (school guide 7); /verify says so. */
    terminated: ['terminated'],
    /** G8: the agreement is previewed and downloaded by the three parties. */
    documented: ['signed', 'terminated'],
    /** 签约失败 (E6): the unit may send 再次发起签约 (G6). */
    failed: ['declined', 'expired', 'review_rejected'],
    invalid: ['invalidated'],
  },
  labels: {
    graduate: PARTY_LABELS,
    employer: PARTY_LABELS,
    // The reviewers' words say which stage an item waits at, in the province's verb (S3).
    reviewer: {
      ...PARTY_LABELS,
      department_review: '学生已同意签约，等待院系{verb}',
      school_review: '学生已同意签约，等待学校{verb}',
      review_rejected: '学校（学院）{verb}不通过',
    },
    /** The graduate home's 签约状态 line. */
    summary: {
      invited: '未签约',
      department_review: '学校（院系）审核中',
      school_review: '学校（院系）审核中',
      signed: '已签约',
      declined: '未签约',
      expired: '未签约',
      review_rejected: '未签约',
      invalidated: '未签约',
      terminated: '已解约',
    },
  },
  creations: {
    /** 发送邀请函 (E5): one per chosen graduate; S4 governs inviting. */
    invite: {
      to: 'invited',
      by: ['employer'],
      guards: [schoolSwitchOn<NewAgreement>('onlineSigning', '该学生所在学校暂未开启在线签约，不能发起签约邀请')],
      effects: [
        async (ctx) => {
          const unit = ctx.row.unitSnapshot.name;
          await notifyGraduate(
            ctx.tx,
            ctx.row.graduateId,
            { title: `${unit}向你发起了签约邀请`, body: `岗位：${ctx.row.positionName}，请在应约截止时间前回应。`, link: `/student/invitations/${ctx.id}` },
            `【网签平台】${unit}向你发起了签约邀请，请登录网签平台在应约截止时间前回应。`,
          );
        },
      ],
    },
  },
  events: {
    /** 接受: the deadline (X3), the school's switch (S4), G4; numbered and frozen, then to the first review stage. */
    accept: {
      transitions: [{ from: 'invited', to: enterReview(ONLINE_REVIEW), by: 'student' }],
      guards: [beforeDeadline, schoolSwitchOn('onlineSigning', '你的学校暂未开启在线签约，暂不能接受签约邀请'), noOtherActiveAgreement],
      settledIn: ['department_review', 'school_review'],
      effects: [
        async (ctx) => {
          const { graduateSnapshot, schoolSnapshot, graduateName: name } = await partySnapshots(ctx.tx, ctx.row.graduateId);
          await ctx.tx.update(agreements).set({ respondedAt: ctx.now, graduateSnapshot, schoolSnapshot }).where(eq(agreements.id, ctx.id));
          await numberAgreement(ctx.tx, ctx.row);
          const { verb } = await schoolSettingsOf(ctx);
          await notifyUnit(ctx.tx, ctx.row.employerId, { title: `${name}已接受签约邀请`, body: `已提交学校（学院）${verb}。`, link: `/employer/agreements/${ctx.id}` });
          const stage = ctx.to === ONLINE_REVIEW.stages.school ? 'school' : 'department';
          await notifyReviewers(ctx.tx, ctx.row, stage, { title: `有新的签约待${verb}`, body: `${name}已同意签约，等待${verb}。`, link: `/school/agreements/${ctx.id}` });
        },
        supersedeRegistration,
      ],
    },
    /** 拒绝: before the deadline (X3), while the graduate has no agreement (G4); the unit may invite again afterwards (G6). */
    decline: {
      transitions: [{ from: 'invited', to: 'declined', by: 'student' }],
      // G4: once the graduate has an agreement, other invitations are view-only (graduate guide 3.2).
      guards: [beforeDeadline, noOtherActiveAgreement],
      settledIn: ['declined'],
      effects: [async (ctx) => notifyUnit(ctx.tx, ctx.row.employerId, { title: `${await graduateName(ctx)}拒绝了签约邀请`, body: '可在“签约失败”中再次发起签约。', link: `/employer/agreements/${ctx.id}` })],
    },
    /** X3: past 应约截止时间; the job fires it set-based for due invitations (online/expiry.ts). */
    expire: {
      transitions: [{ from: 'invited', to: 'expired', by: 'system' }],
      effects: [async (ctx) => notifyUnit(ctx.tx, ctx.row.employerId, { ...EXPIRY_NOTICE, link: `/employer/agreements/${ctx.id}` })],
    },
    approve: review.approve,
    reject: review.reject,
    /** 失效: the graduate left the eligible roster or a key field changed (G2, the roster-change event). */
    invalidate: {
      transitions: [{ from: 'invited', to: 'invalidated', by: 'system' }],
      effects: [async (ctx) => notifyUnit(ctx.tx, ctx.row.employerId, { title: '签约邀请已失效', body: ctx.reason ?? '', link: `/employer/agreements/${ctx.id}` })],
    },
    terminate: TERMINATE,
  },
  eventLabels: {
    terminate: TERMINATE_LABEL,
    invite: '单位发起签约邀请',
    accept: '学生接受签约邀请',
    decline: '学生拒绝签约',
    expire: '学生逾期未回应',
    approve: ({ from }) => (from === 'department_review' ? '院系{verb}通过' : '学校{verb}通过，签约完成'),
    reject: ({ from }) => (from === 'department_review' ? '院系{verb}不通过' : '学校{verb}不通过'),
    invalidate: '签约邀请失效',
  },
  afterEach: [refreshDestinationWhen(['signed', 'terminated'])],
  refusal: '该签约当前状态下不能进行此操作，请刷新页面查看最新状态',
});

export type OnlineState = S;

/** The progress steps of the employer guide, and the step each state has reached. */
export const ONLINE_PROGRESS = {
  steps: ['单位已发起邀请', '等待学生应约', '学校（学院）{verb}', '签约完成'],
  reached: { invited: 2, department_review: 3, school_review: 3, signed: 4, declined: 2, expired: 2, review_rejected: 3, invalidated: 2, terminated: 4 },
} as const satisfies { steps: readonly string[]; reached: Record<S, number> };

/** 在线签约管理 as a queue of the reviewers' inbox and digest. */
export const ONLINE_QUEUE: ReviewQueue = {
  key: 'online_signing',
  title: '在线签约管理',
  href: '/school/agreements',
  noun: '签约',
  table: agreements,
  columns: { state: agreements.state, schoolId: agreements.schoolId, departmentId: agreements.departmentId, updatedAt: agreements.updatedAt },
  filter: eq(agreements.kind, 'online'),
  chain: ONLINE_REVIEW,
};
