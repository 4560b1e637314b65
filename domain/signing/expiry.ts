import { and, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreements } from '../../db/schema/index.ts';
import { notifyUser } from '../notifications.ts';
import { notifyGraduate } from './transition.ts';
import { formatShanghai } from './deadline.ts';

export const EXPIRY_BATCH = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * X3: due invitations become 学生逾期未回应, a batch at a time through the partial index on pending
 * deadlines, each batch one statement that also writes the event rows (X1) and tells the units'
 * users; rows another run holds are skipped, so two runs never expire one twice.
 */
export async function expireDueInvitations(tx: Tx, now: Date, batch = EXPIRY_BATCH): Promise<number> {
  const at = now.toISOString();
  let total = 0;
  for (;;) {
    const [row] = await tx.execute<{ n: number }>(sql`
      with expired as (
        update ${agreements} set state = 'expired', updated_at = ${at}::timestamptz
        -- An array, not "in (select …)": the planner would otherwise hash-join against a scan of
        -- every agreement; the array makes it look the batch up by primary key.
        where id = any(array(
          select id from ${agreements}
          where state = 'invited' and deadline <= ${at}::timestamptz
          order by deadline
          limit ${batch}
          for update skip locked
        ))
        returning id, employer_id, school_id
      ), logged as (
        insert into events (occurred_at, actor_role, subject_type, subject_id, school_id, action, from_state, to_state)
        select ${at}::timestamptz, 'system', 'agreement', id::text, school_id, 'agreement.expire', 'invited', 'expired' from expired
      ), told as (
        insert into notifications (user_id, title, body, link)
        select u.id, '签约邀请已逾期', '学生在应约截止时间前未回应，可在“签约失败”中再次发起签约。', '/employer/agreements/' || e.id
        from expired e join users u on u.employer_id = e.employer_id and u.role = 'employer' and not u.disabled
      )
      select count(*)::int as n from expired`);
    const n = row?.n ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/** Reminds each graduate once when an invitation's deadline is less than 24 hours away. */
export async function remindDueInvitations(tx: Tx, now: Date): Promise<number> {
  const due = await tx
    .update(agreements)
    .set({ remindedAt: now })
    .where(and(eq(agreements.state, 'invited'), isNull(agreements.remindedAt), gt(agreements.deadline, now), lte(agreements.deadline, new Date(now.getTime() + DAY_MS))))
    .returning({ id: agreements.id, graduateId: agreements.graduateId, deadline: agreements.deadline, unit: sql<string>`${agreements.unitSnapshot}->>'name'` });
  for (const d of due) {
    await notifyGraduate(
      tx,
      d.graduateId,
      { title: '签约邀请即将截止', body: `${d.unit}的签约邀请将于 ${formatShanghai(d.deadline)} 截止，请及时回应。`, link: `/student/invitations/${d.id}` },
      `【网签平台】${d.unit}的签约邀请将于 ${formatShanghai(d.deadline)} 截止，请及时登录网签平台回应。`,
    );
  }
  return due.length;
}

/**
 * The daily digest: each reviewer hears how many signings have waited at their stage longer than
 * `days`. One notification per reviewer per run; the job runs once a day.
 */
export async function remindReviewers(tx: Tx, now: Date, days: number): Promise<number> {
  const before = new Date(now.getTime() - days * DAY_MS).toISOString();
  const waiting = await tx.execute<{ user_id: number; n: number }>(sql`
    select u.id as user_id, count(*)::int as n
    from ${agreements} a
    join users u on u.disabled = false and (
      (a.state = 'department_review' and u.role = 'department' and u.department_id = a.department_id) or
      (a.state = 'school_review' and u.role = 'school' and u.school_id = a.school_id))
    where a.state in ('department_review', 'school_review') and a.updated_at < ${before}::timestamptz
    group by u.id`);
  for (const w of waiting) {
    await notifyUser(tx, w.user_id, { title: '有签约等待审核', body: `有 ${w.n} 条签约已等待超过 ${days} 天，请及时处理。`, link: '/school/agreements' });
  }
  return waiting.length;
}
