import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { OFFLINE_QUEUES } from '../agreements/offline/workflow.ts';
import { ONLINE_QUEUE } from '../agreements/online/workflow.ts';
import { REGISTERED_QUEUE } from '../agreements/registered/workflow.ts';
import { TERMINATION_QUEUES } from '../terminations/workflow.ts';
import { DESTINATION_QUEUE } from '../destinations/workflow.ts';
import type { Actor } from '../auth/sessions.ts';
import { notifyUser } from '../notifications.ts';
import { reviewVerb, type AgreementType } from '../tenancy/agreement-types.ts';
import { reviewStageOf, withVerb, type ReviewChain, type Verb } from './chain.ts';

// One inbox per school or department user across every reviewed workflow: how many items wait at
// the reviewer's own stage, each leading to its workflow's list. The daily digest reads the same
// queues. A new reviewed workflow adds its queue here.

export type ReviewQueue = {
  key: string;
  /** The room the items are decided in, with the guide's words. */
  title: string;
  href: string;
  /** What waits, as the digest says it: 有签约等待审核. */
  noun: string;
  table: PgTable;
  columns: { state: PgColumn; schoolId: PgColumn; departmentId: PgColumn; updatedAt: PgColumn };
  /** Which rows of the table are this queue's (a kind of agreement). */
  filter: SQL;
  chain: ReviewChain<string>;
};

export const REVIEW_QUEUES: readonly ReviewQueue[] = [ONLINE_QUEUE, ...OFFLINE_QUEUES, REGISTERED_QUEUE, ...TERMINATION_QUEUES, DESTINATION_QUEUE];

export type InboxEntry = { key: string; title: string; label: string; href: string; waiting: number };

/** The reviewer's inbox: per queue, the items at the reviewer's stage within the reviewer's school or department. */
export async function reviewInbox(db: DbOrTx, actor: Actor, verb: Verb): Promise<InboxEntry[]> {
  const stage = reviewStageOf(actor);
  return Promise.all(
    REVIEW_QUEUES.map(async (q) => {
      const state = q.chain.stages[stage];
      const mine = stage === 'department' ? eq(q.columns.departmentId, actor.departmentId!) : undefined;
      const [row] = await db
        .select({ n: count() })
        .from(q.table)
        .where(and(eq(q.columns.schoolId, actor.schoolId!), mine, eq(q.columns.state, state), q.filter));
      return { key: q.key, title: withVerb(q.title, verb), label: withVerb(stage === 'department' ? '等待院系{verb}' : '等待学校{verb}', q.chain.fixedVerb ?? verb), href: `${q.href}${q.href.includes('?') ? '&' : '?'}state=${state}`, waiting: row?.n ?? 0 };
    }),
  );
}

const literal = (state: string) => {
  if (!/^[a-z_]+$/.test(state)) throw new Error(`not a state: ${state}`);
  return sql.raw(`'${state}'`);
};

/**
 * The daily digest: each reviewer hears, per queue, how many items have waited at their stage
 * longer than `days`, in the province's verb. One notification per reviewer and queue per run.
 */
export async function remindReviewers(tx: Tx, now: Date, days: number): Promise<number> {
  const before = new Date(now.getTime() - days * 24 * 60 * 60 * 1000).toISOString();
  const told = new Set<number>();
  for (const q of REVIEW_QUEUES) {
    const [dept, school] = [literal(q.chain.stages.department), literal(q.chain.stages.school)];
    const { state, departmentId, schoolId, updatedAt } = q.columns;
    const waiting = await tx.execute<{ user_id: number; n: number; agreement_type: string }>(sql`
      select u.id as user_id, count(*)::int as n, p.agreement_type
      from ${q.table}
      join users u on u.disabled = false and (
        (${state} = ${dept} and u.role = 'department' and u.department_id = ${departmentId}) or
        (${state} = ${school} and u.role = 'school' and u.school_id = ${schoolId}))
      join schools s on s.id = u.school_id
      join provinces p on p.id = s.province_id
      where ${state} in (${dept}, ${school}) and ${q.filter} and ${updatedAt} < ${before}::timestamptz
      group by u.id, p.agreement_type`);
    for (const w of waiting) {
      const verb = q.chain.fixedVerb ?? reviewVerb(w.agreement_type as AgreementType);
      await notifyUser(tx, w.user_id, { title: withVerb(`有${q.noun}等待{verb}`, verb), body: `有 ${w.n} 条${withVerb(q.noun, verb)}已等待超过 ${days} 天，请及时处理。`, link: q.href });
      told.add(w.user_id);
    }
  }
  return told.size;
}
