import { and, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import { apart, type Db, type Tx } from '../../../db/client.ts';
import { agreements } from '../../../db/schema/index.ts';
import { formatShanghai } from '../deadline.ts';
import { notifyGraduate } from '../notify.ts';
import { EXPIRY_NOTICE, onlineSigning } from './workflow.ts';

export const EXPIRY_BATCH = 2500;
const DAY_MS = 24 * 60 * 60 * 1000;

// The table's expiry (X3), run for many rows at once: its only transition gives the states.
// Written into the statements as literals, so the planner matches the partial index on pending deadlines.
const [EXPIRY, ...more] = onlineSigning.events.expire.transitions;
if (!EXPIRY || more.length > 0) throw new Error('the set-based expiry expects exactly one expire transition');
const FROM = stateLiteral(EXPIRY!.from);
const TO = stateLiteral(EXPIRY!.to as string);
const EXPIRE_ACTION = `${onlineSigning.subject}.expire`;

function stateLiteral(state: string) {
  if (!/^[a-z_]+$/.test(state)) throw new Error(`not a state: ${state}`);
  return sql.raw(`'${state}'`);
}

/** At most this many due invitations' ids held at once; a larger backlog is expired round after round. */
const EXPIRY_ROUND = 100_000;

/**
 * X3: due invitations become 学生逾期未回应. Their ids are read first, in deadline order, from the
 * partial index on pending deadlines alone; then `workers` loops side by side (issue 14, goal 6)
 * expire them a batch at a time, each batch one statement in a transaction of its own that also
 * writes the event rows (X1) and tells the units' users, as the table's expire event does for one
 * row; nothing is half expired whichever batch fails. The ids are read without locks: each batch
 * locks its rows by primary key, asking again that each be pending and due (of its latest version),
 * and skips a row another transaction holds. So an invitation answered in between stays answered,
 * two runs at once never expire one twice, and a batch never waits: waiting could deadlock with a
 * transaction that locks several invitations in another order (a roster import invalidating its
 * graduates' invitations, G2). A skipped invitation still due is expired by the next run.
 * Before, each batch found and locked its rows through the deadline index and the table, the two
 * loops skipping each other's locked rows: a fifth of the work.
 */
export async function expireDueInvitations(db: Db, now: Date, workers = 2, batch = EXPIRY_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await dueInvitations(db, now, EXPIRY_ROUND);
    let next = 0;
    const done = await Promise.all(
      Array.from({ length: Math.min(workers, Math.ceil(due.length / batch)) }, async () => {
        let expired = 0;
        for (let from = next++ * batch; from < due.length; from = next++ * batch) {
          const ids = due.slice(from, from + batch);
          expired += await db.transaction((tx) => expireBatch(tx, now, ids));
        }
        return expired;
      }),
    );
    const expired = done.reduce((a, b) => a + b, 0);
    total += expired;
    // A short round held all that was due; a round that expired none met only invitations answered meanwhile.
    if (due.length < EXPIRY_ROUND || expired === 0) return total;
  }
}

/** The ids of the invitations due at `now`, soonest first: an index-only scan of the partial index on pending deadlines. */
async function dueInvitations(db: Db, now: Date, limit: number): Promise<number[]> {
  const rows = await apart(db).execute<{ id: number }>(sql`
    select id from ${agreements} where state = ${FROM} and deadline <= ${now.toISOString()}::timestamptz order by deadline, id limit ${limit}`);
  return rows.map((r) => r.id);
}

/** One batch: those of `ids` still pending and due, and not held by another transaction, expired with their events and the units' notices. */
async function expireBatch(tx: Tx, now: Date, ids: number[]): Promise<number> {
  const at = now.toISOString();
  const [row] = await tx.execute<{ n: number }>(sql`
    with expired as (
      update ${agreements} set state = ${TO}, updated_at = ${at}::timestamptz
      -- Locked by primary key, the state and deadline asked again (the ids were read without locks);
      -- a row another transaction holds is left to the next run rather than waited for.
      where id = any(array(
        select id from ${agreements}
        where id = any(${sql.param(ids)}::int[]) and state = ${FROM} and deadline <= ${at}::timestamptz
        for no key update skip locked
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
