import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreements, users } from '../../db/schema/index.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { notifyUser, queueSms, type Notice } from '../notifications.ts';
import type { AgreementState } from './states.ts';
import { nextSigningState, type SigningActor, type SigningEvent } from './transitions.ts';

export type Agreement = typeof agreements.$inferSelect;

/**
 * Fires one event of the state table on a locked agreement: the new state, the field changes and
 * the event row (X1) in the caller's transaction. Returns the row as it was and the new state.
 */
export async function fireSigningEvent(
  tx: Tx,
  source: EventSource,
  locked: Agreement,
  event: SigningEvent,
  by: SigningActor,
  opts: { schoolOnly?: boolean; changes?: Partial<typeof agreements.$inferInsert>; reason?: string | null } = {},
): Promise<AgreementState> {
  const to = nextSigningState(locked.state, event, by, opts.schoolOnly);
  await tx.update(agreements).set({ ...opts.changes, state: to, updatedAt: new Date() }).where(eq(agreements.id, locked.id));
  await writeEvent(tx, source, {
    subjectType: 'agreement',
    subjectId: locked.id,
    schoolId: locked.schoolId,
    action: `agreement.${event}`,
    fromState: locked.state,
    toState: to,
    reason: opts.reason ?? null,
  });
  return to;
}

/** Tells every user of a unit, in-app (G11). */
export async function notifyUnit(tx: Tx, employerId: number, notice: Notice): Promise<void> {
  const members = await tx.select({ id: users.id }).from(users).where(and(eq(users.employerId, employerId), eq(users.role, 'employer'), eq(users.disabled, false)));
  for (const m of members) await notifyUser(tx, m.id, notice);
}

/** Tells the graduate in-app and, where the graduate has an account with a phone, by SMS (G11). */
export async function notifyGraduate(tx: Tx, graduateId: number, notice: Notice, sms?: string): Promise<void> {
  const [account] = await tx.select({ id: users.id, phone: users.phone }).from(users).where(and(eq(users.graduateId, graduateId), eq(users.role, 'student')));
  if (!account) return;
  await notifyUser(tx, account.id, notice);
  if (sms && account.phone) await queueSms(tx, account.phone, sms);
}

/** Tells the reviewers of a stage: the department's users, or the school's. */
export async function notifyReviewers(tx: Tx, agreement: Agreement, stage: 'department_review' | 'school_review', notice: Notice): Promise<void> {
  const reviewers = await tx
    .select({ id: users.id })
    .from(users)
    .where(
      stage === 'department_review'
        ? and(eq(users.role, 'department'), eq(users.departmentId, agreement.departmentId), eq(users.disabled, false))
        : and(inArray(users.role, ['school']), eq(users.schoolId, agreement.schoolId), eq(users.disabled, false)),
    );
  for (const r of reviewers) await notifyUser(tx, r.id, notice);
}

export async function lockAgreement(tx: Tx, id: number): Promise<Agreement | undefined> {
  const [row] = await tx.select().from(agreements).where(eq(agreements.id, id)).for('update');
  return row;
}
