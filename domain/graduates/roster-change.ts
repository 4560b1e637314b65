import { eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { graduates } from '../../db/schema/index.ts';
import { writeEvent, type EventSource } from '../events.ts';

// G2/G9: the roster decides who may sign. Removing a graduate or changing a key field (姓名,
// 身份证号, 学历层次) is ONE event that the later workflows react to, in the same transaction:
// the graduate confirms the record again (G1); favourites and pending invitations become 失效
// (added here by the signing issue).
export const KEY_FIELDS = ['name', 'idNumber', 'educationLevel'] as const;
export type KeyField = (typeof KEY_FIELDS)[number];

export type RosterChange =
  | { kind: 'removed'; graduateId: number; schoolId: number }
  | { kind: 'key_fields_changed'; graduateId: number; schoolId: number; fields: KeyField[] };

export async function applyRosterChange(tx: Tx, source: EventSource, change: RosterChange): Promise<void> {
  await tx.update(graduates).set({ confirmedAt: null }).where(eq(graduates.id, change.graduateId));
  await writeEvent(tx, source, {
    subjectType: 'graduate',
    subjectId: change.graduateId,
    schoolId: change.schoolId,
    action: change.kind === 'removed' ? 'roster.removed' : 'roster.key_fields_changed',
    data: change.kind === 'key_fields_changed' ? { fields: change.fields } : null,
  });
}

/** Which key fields differ between the stored record and the new one. */
export function changedKeyFields(before: Pick<typeof graduates.$inferSelect, KeyField>, after: Pick<typeof graduates.$inferSelect, KeyField>): KeyField[] {
  return KEY_FIELDS.filter((f) => before[f] !== after[f]);
}
