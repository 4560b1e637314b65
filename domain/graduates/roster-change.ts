import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreements, favourites, graduates } from '../../db/schema/index.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { invalidateInvitation } from '../agreements/online/respond.ts';
import { onlineSigning } from '../agreements/online/workflow.ts';

// G2/G9: the roster decides who may sign. Removing a graduate or changing a key field (姓名,
// 身份证号, 学历层次) is ONE event that the later workflows react to, in the same transaction:
// the graduate confirms the record again (G1); favourites and pending invitations become 失效
// and the inviting units are told.
export const KEY_FIELDS = ['name', 'idNumber', 'educationLevel'] as const;
export type KeyField = (typeof KEY_FIELDS)[number];

export type RosterChange =
  | { kind: 'removed'; graduateId: number; schoolId: number }
  | { kind: 'key_fields_changed'; graduateId: number; schoolId: number; fields: KeyField[] };

const INVALID_REASON: Record<RosterChange['kind'], string> = {
  removed: '学生已被学校移出毕业生名单',
  key_fields_changed: '学校更正了学生的关键信息（姓名、身份证号或学历层次）',
};

export async function applyRosterChange(tx: Tx, source: EventSource, change: RosterChange): Promise<void> {
  await tx.update(graduates).set({ confirmedAt: null }).where(eq(graduates.id, change.graduateId));
  const reason = INVALID_REASON[change.kind];
  await tx.update(favourites).set({ invalidatedAt: new Date(), invalidReason: reason }).where(and(eq(favourites.graduateId, change.graduateId), isNull(favourites.invalidatedAt)));
  const pending = await tx.select({ id: agreements.id }).from(agreements).where(and(eq(agreements.graduateId, change.graduateId), inArray(agreements.state, [...onlineSigning.groups.pending]))).for('update');
  for (const { id } of pending) await invalidateInvitation(tx, source, id, reason);
  await writeEvent(tx, source, {
    subjectType: 'graduate',
    subjectId: change.graduateId,
    schoolId: change.schoolId,
    action: change.kind === 'removed' ? 'roster.removed' : 'roster.key_fields_changed',
    data: change.kind === 'key_fields_changed' ? { fields: change.fields } : null,
  });
}

/** Which key fields differ between the stored record and the new one. */
export function changedKeyFields(before: Record<KeyField, string>, after: Record<KeyField, string>): KeyField[] {
  return KEY_FIELDS.filter((f) => before[f] !== after[f]);
}
