import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { graduates, notifications, outbox, users } from '../../db/schema/index.ts';
import type { Notice } from '../notifications.ts';
import type { ReviewStage } from '../reviews/chain.ts';

// G11: who hears of an agreement's changes. Every notice is written in the transaction of the change.

/** Tells every user of a unit, in-app (and by SMS where one is given), in one statement. */
export async function notifyUnit(tx: Tx, employerId: number | null, notice: Notice, sms?: string): Promise<void> {
  if (employerId === null) return;
  await tx.execute(sql`
    with members as (
      select id, phone from ${users} where ${users.employerId} = ${employerId} and ${users.role} = 'employer' and not ${users.disabled}
    ), told as (
      insert into ${notifications} (user_id, title, body, link) select id, ${notice.title}, ${notice.body ?? null}, ${notice.link ?? null} from members
    )
    insert into ${outbox} (channel, recipient, body) select 'sms', phone, ${sms ?? null}::text from members where ${sms ?? null}::text is not null and phone is not null`);
}

/** What an SMS to a graduate without an account adds: how to get one. */
export const ACTIVATE_HINT = '你尚未激活网签平台账号，请在“学生登录”页点击“激活账号”，用姓名和身份证号激活后查看。';

/**
 * Tells the graduate in-app and by SMS. A roster graduate who has not activated an account yet gets
 * the SMS at the roster phone with how to activate, and the in-app notice waits for the account.
 */
export async function notifyGraduate(tx: Tx, graduateId: number, notice: Notice, sms?: string): Promise<void> {
  // One statement: the account's notice (or the roster record's, waiting for the account) and the SMS.
  await tx.execute(sql`
    with g as (
      select ${graduates.id} as id, ${users.id} as user_id, case when ${users.id} is null then ${graduates.phone} else ${users.phone} end as phone
      from ${graduates} left join ${users} on ${users.graduateId} = ${graduates.id} and ${users.role} = 'student'
      where ${graduates.id} = ${graduateId}
    ), told as (
      insert into ${notifications} (user_id, graduate_id, title, body, link)
      select user_id, case when user_id is null then id end, ${notice.title}, ${notice.body ?? null}, ${notice.link ?? null} from g
    )
    insert into ${outbox} (channel, recipient, body)
    select 'sms', phone, case when user_id is null then ${sms ?? null}::text || ${ACTIVATE_HINT}::text else ${sms ?? null}::text end
    from g where ${sms ?? null}::text is not null and phone is not null`);
}

/** Tells the reviewers of a stage: the department's users, or the school's. */
export async function notifyReviewers(tx: Tx, item: { schoolId: number; departmentId: number }, stage: ReviewStage, notice: Notice): Promise<void> {
  const reviewers =
    stage === 'department'
      ? and(eq(users.role, 'department'), eq(users.departmentId, item.departmentId), eq(users.disabled, false))
      : and(eq(users.role, 'school'), eq(users.schoolId, item.schoolId), eq(users.disabled, false));
  await tx.execute(sql`insert into ${notifications} (user_id, title, body, link) select ${users.id}, ${notice.title}, ${notice.body ?? null}, ${notice.link ?? null} from ${users} where ${reviewers}`);
}
