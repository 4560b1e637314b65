import { and, eq, isNull, sql } from 'drizzle-orm';
import { isUniqueViolation, type Db, type Tx } from '../../db/client.ts';
import { openedIdNumber, storedIdNumber, withStoredIdNumber } from '../../db/id-number-keys.ts';
import { departments, graduates, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { validateRosterRecord, type RosterInput } from './record.ts';
import { applyRosterChange, changedKeyFields } from './roster-change.ts';

// 学生名单管理 one graduate at a time: the school user adds, edits and removes; phone and email
// stay the graduate's own (G1), so the school's form never changes them.
type SchoolSource = EventSource & { actor: Actor };

async function schoolOf(tx: Tx, actor: Actor) {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  const [school] = await tx.select({ id: schools.id, code: schools.code, name: schools.name }).from(schools).where(eq(schools.id, actor.schoolId));
  if (!school) throw notFound('学校');
  return school;
}

/** The department of this name at the school, created when the roster names it first. */
export async function departmentIdFor(tx: Tx, schoolId: number, name: string): Promise<number> {
  await tx.insert(departments).values({ schoolId, name }).onConflictDoNothing();
  const [d] = await tx.select({ id: departments.id }).from(departments).where(and(eq(departments.schoolId, schoolId), eq(departments.name, name)));
  return d!.id;
}

function invalid(errors: Record<string, string>): DomainError {
  return new DomainError('invalid', '请检查下面标出的内容', errors);
}

const duplicate = () => new DomainError('conflict', '该身份证号的毕业生已在本届名单中', { idNumber: '该身份证号的毕业生已在本届名单中' });

export async function addGraduate(db: Db, source: SchoolSource, cohort: number, input: RosterInput): Promise<number> {
  try {
    return await db.transaction(async (tx) => {
      const school = await schoolOf(tx, source.actor);
      const checked = validateRosterRecord({ ...input, school: school.name }, { school });
      if (!checked.ok) throw invalid(checked.errors);
      const { departmentName, ...plain } = checked.record;
      const record = withStoredIdNumber(plain);
      const departmentId = await departmentIdFor(tx, school.id, departmentName);
      const [existing] = await tx
        .select({ id: graduates.id, removedAt: graduates.removedAt })
        .from(graduates)
        .where(and(eq(graduates.schoolId, school.id), eq(graduates.cohort, cohort), eq(graduates.idNumberIndex, record.idNumberIndex)))
        .for('update');
      if (existing && !existing.removedAt) throw duplicate();
      // A graduate removed earlier comes back with the new record instead of a second row.
      const [row] = existing
        ? await tx.update(graduates).set({ ...record, departmentId, removedAt: null, confirmedAt: null, updatedAt: new Date() }).where(eq(graduates.id, existing.id)).returning({ id: graduates.id })
        : await tx.insert(graduates).values({ ...record, departmentId, schoolId: school.id, cohort }).returning({ id: graduates.id });
      await writeEvent(tx, source, { subjectType: 'graduate', subjectId: row!.id, schoolId: school.id, action: existing ? 'roster.restored' : 'roster.added' });
      return row!.id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate();
    throw e;
  }
}

export async function updateGraduate(db: Db, source: SchoolSource, id: number, input: RosterInput): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      const school = await schoolOf(tx, source.actor);
      const [before] = await tx
        .select()
        .from(graduates)
        .where(and(eq(graduates.id, id), eq(graduates.schoolId, school.id), isNull(graduates.removedAt)))
        .for('update');
      if (!before) throw notFound('毕业生');
      // The edit form shows the number masked: sent back unchanged, the mask keeps the stored number.
      const priorIdNumber = openedIdNumber(before.idNumberSealed);
      const typedIdNumber = input.idNumber?.trim() === before.idNumberMasked ? priorIdNumber : input.idNumber;
      const checked = validateRosterRecord({ ...input, idNumber: typedIdNumber, school: school.name, phone: before.phone, email: before.email ?? '' }, { school });
      if (!checked.ok) throw invalid(checked.errors);
      const { departmentName, phone: _phone, email: _email, idNumber, ...record } = checked.record;
      const departmentId = await departmentIdFor(tx, school.id, departmentName);
      // The same number keeps its sealed value; a new one is sealed afresh.
      const idNumberChanged = idNumber !== priorIdNumber;
      await tx.update(graduates).set({ ...record, ...(idNumberChanged ? storedIdNumber(idNumber) : {}), departmentId, updatedAt: new Date() }).where(eq(graduates.id, id));
      const changed = Object.entries({ ...record, departmentId })
        .filter(([k, v]) => before[k as keyof typeof before] !== v)
        .map(([k]) => k)
        .concat(idNumberChanged ? ['idNumber'] : []);
      await writeEvent(tx, source, { subjectType: 'graduate', subjectId: id, schoolId: school.id, action: 'roster.updated', data: { fields: changed } });
      const keyFields = changedKeyFields({ ...before, idNumber: priorIdNumber }, { ...record, idNumber });
      if (keyFields.length > 0) await applyRosterChange(tx, source, { kind: 'key_fields_changed', graduateId: id, schoolId: school.id, fields: keyFields });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate();
    throw e;
  }
}

export async function removeGraduate(db: Db, source: SchoolSource, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    const school = await schoolOf(tx, source.actor);
    const [row] = await tx
      .update(graduates)
      .set({ removedAt: sql`now()` })
      .where(and(eq(graduates.id, id), eq(graduates.schoolId, school.id), isNull(graduates.removedAt)))
      .returning({ id: graduates.id });
    if (!row) throw notFound('毕业生');
    await applyRosterChange(tx, source, { kind: 'removed', graduateId: id, schoolId: school.id });
  });
}

/** The full ID number for a reviewer's detail view; every reveal is logged (DESIGN.md section 4). */
export async function revealIdNumber(db: Db, source: SchoolSource, graduate: { id: number; schoolId: number; idNumberSealed: string }): Promise<string> {
  await writeEvent(db, source, { subjectType: 'graduate', subjectId: graduate.id, schoolId: graduate.schoolId, action: 'graduate.id_number_revealed' });
  return openedIdNumber(graduate.idNumberSealed);
}
