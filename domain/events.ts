import { sql } from 'drizzle-orm';
import { builtOnce, type DbOrTx } from '../db/client.ts';
import { events } from '../db/schema/index.ts';
import type { Actor } from './auth/sessions.ts';

/** Who did it and from where; jobs act as the system (no actor); `role` names an actor without an account (the holder of a link). */
export type EventSource = { actor: Actor | null; ip: string | null; role?: string };

export type EventInput = {
  subjectType: string;
  subjectId: string | number;
  action: string;
  schoolId?: number | null;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  data?: Record<string, unknown> | null;
};

/** X1: the audit row of a state change; call it inside the change's own transaction. */
export async function writeEvent(tx: DbOrTx, source: EventSource, e: EventInput): Promise<void> {
  await eventInsert(tx).execute({
    actorUserId: source.actor?.userId ?? null,
    actorRole: source.actor?.role ?? source.role ?? 'system',
    ip: source.ip,
    schoolId: e.schoolId ?? null,
    subjectType: e.subjectType,
    subjectId: String(e.subjectId),
    action: e.action,
    fromState: e.fromState ?? null,
    toState: e.toState ?? null,
    reason: e.reason ?? null,
    data: e.data == null ? null : JSON.stringify(e.data),
  });
}

/** The event row's insert, built once (issue 14: building it was a sixth of a review decision's drizzle time). */
const eventInsert = builtOnce((db) => {
  const value = (name: string) => sql.placeholder(name);
  return db
    .insert(events)
    .values({
      actorUserId: value('actorUserId'),
      actorRole: value('actorRole'),
      ip: sql`${value('ip')}::inet`,
      schoolId: value('schoolId'),
      subjectType: value('subjectType'),
      subjectId: value('subjectId'),
      action: value('action'),
      fromState: value('fromState'),
      toState: value('toState'),
      reason: value('reason'),
      data: sql`${value('data')}::jsonb`,
      secondsSincePrevious: sql`(select extract(epoch from now() - max(p.occurred_at))::float8 from events p where p.subject_type = ${value('subjectType')} and p.subject_id = ${value('subjectId')})`,
    })
    .prepare('write_event');
});
