import { eq } from 'drizzle-orm';
import { isUniqueViolation, type Db, type Tx } from '../../../db/client.ts';
import { agreements } from '../../../db/schema/index.ts';
import type { Actor } from '../../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../../errors.ts';
import type { EventSource } from '../../events.ts';
import { fire, offers } from '../../workflow/kernel.ts';
import { ALREADY_SIGNING, onlineSigning, type Agreement, type OnlineState } from './workflow.ts';

// The graduate's answer to 签约邀请 (G3–G5) and the roster's ending of a pending invitation (失效).
// The rules live in the table (online/workflow.ts); these load the row and fire.
type Source = EventSource & { actor: Actor };

export async function lockAgreement(tx: Tx, id: number): Promise<Agreement | undefined> {
  const [row] = await tx.select().from(agreements).where(eq(agreements.id, id)).for('update');
  return row;
}

async function lockOwnInvitation(tx: Tx, actor: Actor, id: number): Promise<Agreement> {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  const row = await lockAgreement(tx, id);
  if (!row || row.graduateId !== actor.graduateId || row.kind !== 'online') throw notFound('签约邀请');
  return row;
}

/**
 * 接受. Past the deadline the invitation expires instead ('expired' is returned); a repeated
 * acceptance is answered as done. Two acceptances of one graduate cannot both win (X4): the G4
 * guard and, under concurrency, the partial unique index.
 */
export async function acceptInvitation(db: Db, source: Source, id: number, now = new Date()): Promise<OnlineState> {
  try {
    return await db.transaction(async (tx) => fire(tx, onlineSigning, source, await lockOwnInvitation(tx, source.actor, id), 'accept', { now }));
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', ALREADY_SIGNING);
    throw e;
  }
}

/** 拒绝. Past the deadline the invitation expires instead. */
export async function declineInvitation(db: Db, source: Source, id: number, now = new Date()): Promise<OnlineState> {
  return db.transaction(async (tx) => fire(tx, onlineSigning, source, await lockOwnInvitation(tx, source.actor, id), 'decline', { now, changes: { respondedAt: now } }));
}

/** The roster-change event's part: a pending invitation becomes 失效 and the unit is told. */
export async function invalidateInvitation(tx: Tx, source: EventSource, id: number, reason: string): Promise<void> {
  const invitation = await lockAgreement(tx, id);
  if (!invitation || !offers(onlineSigning, invitation.state, 'invalidate', 'system')) return;
  await fire(tx, onlineSigning, source, invitation, 'invalidate', { changes: { invalidReason: reason }, reason, reaction: true });
}
