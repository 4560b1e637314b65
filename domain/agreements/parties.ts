import { eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { agreements, departments, graduates, provinces, schools } from '../../db/schema/index.ts';
import { nextAgreementNumber, verificationCode } from './numbering.ts';
import { snapshotOfGraduate, snapshotOfSchool } from './snapshots.ts';

// What an agreement freezes of its parties, and its number: every kind does both, at the moment its
// table says (online: at acceptance; offline and 补登: the record at 提交, the number once reviewed).

/** The graduate's confirmed record and the school's handler, as the agreement will show them (G1, S4). */
export async function partySnapshots(tx: Tx, graduateId: number) {
  const [found] = await tx
    .select({ graduate: graduates, school: schools, department: departments.name, agreementType: provinces.agreementType })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .where(eq(graduates.id, graduateId));
  const { graduate, school, department, agreementType } = found!;
  return { graduateSnapshot: snapshotOfGraduate(graduate, school.name, department), schoolSnapshot: snapshotOfSchool(school, agreementType), graduateName: graduate.name };
}

/** 协议编号 and 校验码 for an agreement that has none yet. */
export async function numberAgreement(tx: Tx, agreement: { id: number; schoolId: number; cohort: number }): Promise<void> {
  const [school] = await tx.select({ code: schools.code }).from(schools).where(eq(schools.id, agreement.schoolId));
  await tx
    .update(agreements)
    .set({ number: await nextAgreementNumber(tx, agreement.schoolId, school!.code, agreement.cohort), verificationCode: verificationCode() })
    .where(eq(agreements.id, agreement.id));
}
