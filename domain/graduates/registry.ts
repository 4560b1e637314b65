import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { idNumberLookup, openedIdNumber } from '../../db/id-number-keys.ts';
import { graduates, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden } from '../errors.ts';
import { writeEvent } from '../events.ts';
import { getGraduate } from './roster.ts';

// G1: at first sign-in the graduate sees the roster record; its key fields (姓名, 身份证号, 毕业院校,
// 学历层次) must agree with the 学籍 registry before the graduate may confirm it and enter. Confirmed
// information is what agreements show. G2: a graduate no longer on the roster is told so.

/** The registry's record of a student; educationLevel is the code of EDUCATION_LEVELS ('31' 本科 …). */
export type RegistryRecord = { name: string; idNumber: string; schoolName: string; educationLevel: string };

/** The 学籍 registry (学信网 on the national platform). An adapter for a real one plugs in here. */
export interface StudentRegistry {
  lookup(idNumber: string): Promise<RegistryRecord | null>;
}

/** The default: the roster is the registry (the current roster record of that ID number). */
export function rosterRegistry(db: DbOrTx): StudentRegistry {
  return {
    async lookup(idNumber) {
      const [row] = await db
        .select({ name: graduates.name, sealed: graduates.idNumberSealed, schoolName: schools.name, educationLevel: graduates.educationLevel })
        .from(graduates)
        .innerJoin(schools, eq(schools.id, graduates.schoolId))
        .where(and(eq(graduates.idNumberIndex, idNumberLookup(idNumber)), isNull(graduates.removedAt)))
        .orderBy(desc(graduates.cohort), desc(graduates.id))
        .limit(1);
      return row ? { name: row.name, idNumber: openedIdNumber(row.sealed), schoolName: row.schoolName, educationLevel: row.educationLevel } : null;
    },
  };
}

export const NOT_ON_ROSTER = '你不在学校当前的毕业生名单中，暂不能使用网上签约与毕业去向登记。如有疑问，请联系学校就业部门。';
export const mismatchMessage = (fields: string[]) => `你的${fields.join('、')}与学籍信息不一致，请联系学校就业部门更正后再确认。`;

/** The graduate's own record, with the full ID number the graduate checks it by (G1). */
export type RosterRecord = Awaited<ReturnType<typeof getGraduate>> & { idNumber: string };
export type RosterCheck = { onRoster: boolean; consistent: boolean; mismatches: string[]; record: RosterRecord };

export async function checkRosterAgainstRegistry(db: DbOrTx, actor: Actor, registry: StudentRegistry): Promise<RosterCheck> {
  const row = await getGraduate(db, actor, ownGraduateId(actor));
  const record: RosterRecord = { ...row, idNumber: openedIdNumber(row.idNumberSealed) };
  if (record.removedAt) return { onRoster: false, consistent: false, mismatches: [], record };
  const mismatches = mismatchedKeyFields(record, await registry.lookup(record.idNumber));
  return { onRoster: true, consistent: mismatches.length === 0, mismatches, record };
}

/** 信息确认无误，进入系统: only a consistent record on the current roster is confirmed; once is enough. */
export async function confirmRosterRecord(db: Db, registry: StudentRegistry, source: { actor: Actor; ip: string | null }): Promise<void> {
  const check = await checkRosterAgainstRegistry(db, source.actor, registry);
  if (!check.onRoster) throw new DomainError('forbidden', NOT_ON_ROSTER);
  if (!check.consistent) throw new DomainError('conflict', mismatchMessage(check.mismatches));
  if (check.record.confirmedAt) return;
  const { record } = check;
  await db.transaction(async (tx) => {
    // Confirms the record as it was checked: a roster change in between leaves it unconfirmed.
    const [confirmed] = await tx
      .update(graduates)
      .set({ confirmedAt: new Date() })
      .where(
        and(
          eq(graduates.id, record.id),
          isNull(graduates.confirmedAt),
          isNull(graduates.removedAt),
          eq(graduates.name, record.name),
          eq(graduates.idNumberIndex, record.idNumberIndex ?? ''),
          eq(graduates.educationLevel, record.educationLevel),
        ),
      )
      .returning({ id: graduates.id });
    if (!confirmed) return;
    await writeEvent(tx, source, {
      subjectType: 'graduate',
      subjectId: record.id,
      schoolId: record.schoolId,
      action: 'roster.confirmed',
      fromState: 'unconfirmed',
      toState: 'confirmed',
    });
  });
}

// The key fields in the guides' words, each as the roster and the registry spell it.
const KEY_FIELDS: Array<{ label: string; ours: (r: RosterRecord) => string; theirs: (o: RegistryRecord) => string }> = [
  { label: '姓名', ours: (r) => r.name, theirs: (o) => o.name },
  { label: '身份证号', ours: (r) => r.idNumber.toUpperCase(), theirs: (o) => o.idNumber.toUpperCase() },
  { label: '毕业院校', ours: (r) => r.school, theirs: (o) => o.schoolName },
  { label: '学历层次', ours: (r) => r.educationLevel, theirs: (o) => o.educationLevel },
];

/** The labels of the key fields that differ; all of them when the registry has no record. */
function mismatchedKeyFields(record: RosterRecord, official: RegistryRecord | null): string[] {
  return KEY_FIELDS.filter((f) => !official || f.ours(record).trim() !== f.theirs(official).trim()).map((f) => f.label);
}

function ownGraduateId(actor: Actor): number {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  return actor.graduateId;
}
