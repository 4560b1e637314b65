import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
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
  const subjectId = String(e.subjectId);
  await tx.insert(events).values({
    actorUserId: source.actor?.userId ?? null,
    actorRole: source.actor?.role ?? source.role ?? 'system',
    ip: source.ip,
    schoolId: e.schoolId ?? null,
    subjectType: e.subjectType,
    subjectId,
    action: e.action,
    fromState: e.fromState ?? null,
    toState: e.toState ?? null,
    reason: e.reason ?? null,
    data: e.data ?? null,
    secondsSincePrevious: sql`(select extract(epoch from now() - max(p.occurred_at))::float8 from events p where p.subject_type = ${e.subjectType} and p.subject_id = ${subjectId})`,
  });
}
