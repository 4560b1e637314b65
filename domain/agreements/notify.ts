import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { graduates, notifications, users } from '../../db/schema/index.ts';
import { notifyUser, queueSms, type Notice } from '../notifications.ts';
import type { ReviewStage } from '../reviews/chain.ts';

// G11: who hears of an agreement's changes. Every notice is written in the transaction of the change.

/** Tells every user of a unit, in-app. */
export async function notifyUnit(tx: Tx, employerId: number | null, notice: Notice, sms?: string): Promise<void> {
  if (employerId === null) return;
  const members = await tx.select({ id: users.id, phone: users.phone }).from(users).where(and(eq(users.employerId, employerId), eq(users.role, 'employer'), eq(users.disabled, false)));
  for (const m of members) {
    await notifyUser(tx, m.id, notice);
    if (sms && m.phone) await queueSms(tx, m.phone, sms);
  }
}

/** What an SMS to a graduate without an account adds: how to get one. */
export const ACTIVATE_HINT = '你尚未激活网签平台账号，请在“学生登录”页点击“激活账号”，用姓名和身份证号激活后查看。';

/**
 * Tells the graduate in-app and by SMS. A roster graduate who has not activated an account yet gets
 * the SMS at the roster phone with how to activate, and the in-app notice waits for the account.
 */
export async function notifyGraduate(tx: Tx, graduateId: number, notice: Notice, sms?: string): Promise<void> {
  const [row] = await tx
    .select({ userId: users.id, accountPhone: users.phone, rosterPhone: graduates.phone })
    .from(graduates)
    .leftJoin(users, and(eq(users.graduateId, graduates.id), eq(users.role, 'student')))
    .where(eq(graduates.id, graduateId));
  if (!row) return;
  if (row.userId !== null) {
    await notifyUser(tx, row.userId, notice);
    if (sms && row.accountPhone) await queueSms(tx, row.accountPhone, sms);
    return;
  }
  await tx.insert(notifications).values({ graduateId, title: notice.title, body: notice.body ?? null, link: notice.link ?? null });
  if (sms) await queueSms(tx, row.rosterPhone, sms + ACTIVATE_HINT);
}

/** Tells the reviewers of a stage: the department's users, or the school's. */
export async function notifyReviewers(tx: Tx, item: { schoolId: number; departmentId: number }, stage: ReviewStage, notice: Notice): Promise<void> {
  const reviewers = await tx
    .select({ id: users.id })
    .from(users)
    .where(
      stage === 'department'
        ? and(eq(users.role, 'department'), eq(users.departmentId, item.departmentId), eq(users.disabled, false))
        : and(eq(users.role, 'school'), eq(users.schoolId, item.schoolId), eq(users.disabled, false)),
    );
  for (const r of reviewers) await notifyUser(tx, r.id, notice);
}
