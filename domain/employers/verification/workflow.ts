import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../../../db/client.ts';
import { employerVerifications, employers, uploads, users } from '../../../db/schema/index.ts';
import { writeEvent, type EventSource } from '../../events.ts';
import { notifyUser, queueSms } from '../../notifications.ts';
import type { ReviewChain } from '../../reviews/chain.ts';
import { defineWorkflow, type Guard } from '../../workflow/kernel.ts';
import { OPEN_VERIFICATION_STATES, VERIFICATION_STATES, type VerificationState } from './states.ts';

// E2 身份认证: the employer user submits; 对公账号汇款认证 goes through the platform's small
// remittance, typed back by the user; 上传材料认证 and joining a verified unit go straight to review.
// Platform staff decide every application 通过 / 不通过 (a reason for 不通过).

export type Verification = typeof employerVerifications.$inferSelect;
type S = VerificationState;

/** Platform staff's decision, with the review chain's form: 通过, or 不通过 with a reason. */
export const VERIFICATION_DECISIONS: Pick<ReviewChain<S>, 'decisions' | 'messages'> = {
  decisions: ['approve', 'reject'],
  messages: { decision: '请选择审核结果', reason: '审核不通过时必须填写原因' },
};

const remittanceOnly: Guard<Verification> = { rule: 'E2', allows: (ctx) => ctx.row.method === 'remittance', refusal: '只有对公账号汇款认证需要平台汇款' };
/** 对公账号汇款认证 is approved only once the user typed the amount back. */
const evidenceComplete: Guard<Verification> = {
  rule: 'E2',
  allows: (ctx) => ctx.row.method !== 'remittance' || ctx.row.state === 'amount_confirmed',
  refusal: '对公账号汇款认证需在单位用户填写正确的汇款金额后才能审核通过',
};

async function applicantOf(tx: Tx, userId: number) {
  const [u] = await tx.select({ id: users.id, phone: users.phone }).from(users).where(eq(users.id, userId));
  return u!;
}

/** The unit an approved application belongs to: the verified unit it joins, or its own, created or confirmed now. */
async function approvedUnit(tx: Tx, source: EventSource, v: Verification, now: Date): Promise<number> {
  const [existing] = await tx.select({ id: employers.id }).from(employers).where(and(eq(employers.uscc, v.uscc), eq(employers.verification, 'verified')));
  if (existing) return existing.id;
  const unit = {
    name: v.unitName,
    employerType: v.employerType,
    industry: v.industry,
    region: v.region,
    address: v.address,
    contactName: v.contactName,
    contactPhone: v.contactPhone,
    contactMobile: v.contactMobile,
    contactEmail: v.contactEmail,
    verification: 'verified' as const,
    verifiedAt: now,
  };
  const [row] = await tx.insert(employers).values({ uscc: v.uscc, ...unit }).onConflictDoUpdate({ target: employers.uscc, set: unit }).returning({ id: employers.id });
  await writeEvent(tx, source, { subjectType: 'employer', subjectId: row!.id, action: 'employer.verified', toState: 'verified', data: { verificationId: v.id } });
  return row!.id;
}

const LABELS: Record<S, string> = {
  submitted: '已提交，等待平台处理',
  remittance_sent: '平台已汇款，请填写收到的金额',
  amount_confirmed: '汇款金额已确认，等待平台审核',
  remittance_failed: '汇款金额填写错误次数过多，等待平台重新汇款',
  approved: '审核通过',
  rejected: '审核不通过',
};

export const employerVerification = defineWorkflow({
  name: 'employer_verification',
  subject: 'employer_verification',
  action: 'verification',
  table: employerVerifications,
  id: employerVerifications.id,
  states: VERIFICATION_STATES,
  groups: {
    /** One open application per user (the partial unique index); the platform queue's default. */
    open: OPEN_VERIFICATION_STATES,
    terminal: ['approved', 'rejected'],
    /** 不通过: the user sees the reason and may submit again. */
    rejected: ['rejected'],
  },
  labels: { employer: LABELS, admin: LABELS },
  creations: {
    submitted: { to: 'submitted', by: ['employer'] },
  },
  events: {
    /** Platform staff record the random remittance as sent; the applicant is told to type it back. */
    send_remittance: {
      transitions: [
        { from: 'submitted', to: 'remittance_sent', by: 'admin' },
        { from: 'remittance_failed', to: 'remittance_sent', by: 'admin' },
      ],
      guards: [remittanceOnly],
      effects: [
        async (ctx) => {
          const applicant = await applicantOf(ctx.tx, ctx.row.userId);
          await notifyUser(ctx.tx, applicant.id, { title: '平台已向贵单位对公账户汇款', body: '请查询对公账户收到的汇款金额，登录网签平台填写以完成认证。', link: '/employer/verification' });
          if (applicant.phone) await queueSms(ctx.tx, applicant.phone, '【网签平台】平台已向贵单位对公账户汇入一笔小额款项，请登录网签平台填写收到的金额以完成身份认证。');
        },
      ],
    },
    confirm_amount: { transitions: [{ from: 'remittance_sent', to: 'amount_confirmed', by: 'employer' }] },
    exhaust_attempts: { transitions: [{ from: 'remittance_sent', to: 'remittance_failed', by: 'employer' }] },
    /** 通过 creates (or confirms) the unit and links the applicant and the evidence to it. */
    approve: {
      transitions: [
        { from: 'submitted', to: 'approved', by: 'admin' },
        { from: 'amount_confirmed', to: 'approved', by: 'admin' },
      ],
      guards: [evidenceComplete],
      effects: [
        async (ctx) => {
          const v = ctx.row;
          const employerId = await approvedUnit(ctx.tx, ctx.source, v, ctx.now);
          await ctx.tx.update(employerVerifications).set({ employerId }).where(eq(employerVerifications.id, v.id));
          await ctx.tx.update(users).set({ employerId, displayName: v.applicantName, email: v.applicantEmail }).where(eq(users.id, v.userId));
          await ctx.tx.update(uploads).set({ employerId }).where(inArray(uploads.id, [v.authorizationUploadId, ...(v.licenceUploadId ? [v.licenceUploadId] : [])]));
          const applicant = await applicantOf(ctx.tx, v.userId);
          await notifyUser(ctx.tx, applicant.id, { title: '身份认证审核通过', body: '您已可以使用网签平台与毕业生线上签约。', link: '/employer' });
          if (applicant.phone) await queueSms(ctx.tx, applicant.phone, '【网签平台】您提交的单位身份认证已审核通过，现在可以登录网签平台与毕业生线上签约。');
        },
      ],
    },
    reject: {
      transitions: OPEN_VERIFICATION_STATES.map((from) => ({ from, to: 'rejected' as const, by: 'admin' as const })),
      effects: [
        async (ctx) => {
          const applicant = await applicantOf(ctx.tx, ctx.row.userId);
          await notifyUser(ctx.tx, applicant.id, { title: '身份认证审核不通过', body: `原因：${ctx.reason}。请修改后重新提交认证。`, link: '/employer/verification' });
          if (applicant.phone) await queueSms(ctx.tx, applicant.phone, `【网签平台】您提交的单位身份认证审核不通过，原因：${ctx.reason}。请登录网签平台修改后重新提交。`);
        },
      ],
    },
  },
  eventLabels: {
    submitted: '提交认证申请',
    send_remittance: '平台汇款',
    confirm_amount: '填写汇款金额正确',
    exhaust_attempts: '汇款金额填写错误次数过多',
    approve: '审核通过',
    reject: '审核不通过',
  },
  refusal: '该认证申请当前状态下不能进行此操作，请刷新页面查看最新状态',
});

export type VerificationEvent = (typeof employerVerification.eventNames)[number];
