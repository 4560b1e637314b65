import { and, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../../db/client.ts';
import { agreements } from '../../../db/schema/index.ts';
import { formatShanghai } from '../deadline.ts';
import { notifyGraduate } from '../notify.ts';
import { EXPIRY_NOTICE, onlineSigning } from './workflow.ts';

export const EXPIRY_BATCH = 2500;
const DAY_MS = 24 * 60 * 60 * 1000;

// The table's expiry (X3), run for many rows at once: its only transition gives the states.
// Written into the statement as literals, so the planner matches the partial index on pending deadlines.
const [EXPIRY, ...more] = onlineSigning.events.expire.transitions;
if (!EXPIRY || more.length > 0) throw new Error('the set-based expiry expects exactly one expire transition');
const FROM = stateLiteral(EXPIRY!.from);
const TO = stateLiteral(EXPIRY!.to as string);
const EXPIRE_ACTION = `${onlineSigning.subject}.expire`;

function stateLiteral(state: string) {
  if (!/^[a-z_]+$/.test(state)) throw new Error(`not a state: ${state}`);
  return sql.raw(`'${state}'`);
}

/**
 * X3: due invitations become 学生逾期未回应, a batch at a time through the partial index on pending
 * deadlines, each batch one statement that also writes the event rows (X1) and tells the units'
 * users, as the table's expire event does for one row. `workers` loops run side by side (issue 14,
 * goal 6), each committing its batches in transactions of its own, so the expiry of a busy deadline
 * hour uses more than one core of the database; nothing is half expired whichever batch fails.
 * SKIP LOCKED keeps their batches apart, so two runs never expire one twice; a loop stops at a short
 * batch, what it skipped being another loop's batch, expired by that loop.
 */
export async function expireDueInvitations(db: Db, now: Date, workers = 2, batch = EXPIRY_BATCH): Promise<number> {
  const done = await Promise.all(
    Array.from({ length: workers }, async () => {
      let total = 0;
      for (;;) {
        const n = await db.transaction((tx) => expireBatch(tx, now, batch));
        total += n;
        if (n < batch) return total;
      }
    }),
  );
  return done.reduce((a, b) => a + b, 0);
}

/** One batch: up to `batch` due invitations expired, with their events and the units' notices. */
async function expireBatch(tx: Tx, now: Date, batch: number): Promise<number> {
  const at = now.toISOString();
  const [row] = await tx.execute<{ n: number }>(sql`
    with expired as (
      update ${agreements} set state = ${TO}, updated_at = ${at}::timestamptz
      -- An array, not "in (select …)": the planner would otherwise hash-join against a scan of
      -- every agreement; the array makes it look the batch up by primary key.
      where id = any(array(
        select id from ${agreements}
        where state = ${FROM} and deadline <= ${at}::timestamptz
        order by deadline
        limit ${batch}
        for update skip locked
      ))
      returning id, employer_id, school_id, invited_at
    ), logged as (
      -- The invitation's previous event is its sending.
      insert into events (occurred_at, actor_role, subject_type, subject_id, school_id, action, from_state, to_state, seconds_since_previous)
      select ${at}::timestamptz, 'system', ${onlineSigning.subject}, id::text, school_id, ${EXPIRE_ACTION}, ${FROM}, ${TO}, extract(epoch from ${at}::timestamptz - invited_at)::float8 from expired
    ), told as (
      insert into notifications (user_id, title, body, link)
      select u.id, ${EXPIRY_NOTICE.title}, ${EXPIRY_NOTICE.body}, '/employer/agreements/' || e.id
      from expired e join users u on u.employer_id = e.employer_id and u.role = 'employer' and not u.disabled
    )
    select count(*)::int as n from expired`);
  return row?.n ?? 0;
}

/** Reminds each graduate once when an invitation's deadline is less than 24 hours away. */
export async function remindDueInvitations(tx: Tx, now: Date): Promise<number> {
  const due = await tx
    .update(agreements)
    .set({ remindedAt: now })
    .where(and(inArray(agreements.state, [...onlineSigning.groups.pending]), isNull(agreements.remindedAt), gt(agreements.deadline, now), lte(agreements.deadline, new Date(now.getTime() + DAY_MS))))
    .returning({ id: agreements.id, graduateId: agreements.graduateId, deadline: agreements.deadline, unit: sql<string>`${agreements.unitSnapshot}->>'name'` });
  for (const d of due) {
    const deadline = formatShanghai(d.deadline!);
    await notifyGraduate(
      tx,
      d.graduateId,
      { title: '签约邀请即将截止', body: `${d.unit}的签约邀请将于 ${deadline} 截止，请及时回应。`, link: `/student/invitations/${d.id}` },
      `【网签平台】${d.unit}的签约邀请将于 ${deadline} 截止，请及时登录网签平台回应。`,
    );
  }
  return due.length;
}
