import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { agreements, departments, employers, events, graduates, provinces, schools } from '../../db/schema/index.ts';
import { openedIdNumber } from '../../db/id-number-keys.ts';
import { responseDeadline } from '../../domain/agreements/deadline.ts';
import { snapshotOfGraduate, snapshotOfSchool, snapshotOfUnit } from '../../domain/agreements/snapshots.ts';
import type { AgreementState } from '../../domain/agreements/states.ts';

export type AgreementFixture = { id: number; graduateId: number; number: string; code: string; graduateName: string; idNumber: string; unitName: string; schoolName: string };

const INVITED_AT = new Date('2026-05-05T08:05:24Z'); // 16:05:24 in Beijing
const ACCEPTED_AT = new Date('2026-05-06T02:00:00Z');
const DEPARTMENT_APPROVED_AT = new Date('2026-05-07T01:30:00Z');
const SCHOOL_APPROVED_AT = new Date('2026-05-08T03:00:00Z');

/**
 * An online agreement written straight into the database as the signing workflow leaves it: the
 * letter, the snapshots taken by the builders, and — once signed — the approval event rows of the
 * school's review chain. The unit is given contact details first so the document shows them.
 */
export async function insertAgreement(
  db: Db,
  opts: { graduateId: number; unitName?: string; state?: AgreementState; number: string; code: string },
): Promise<AgreementFixture> {
  const state = opts.state ?? 'signed';
  const [found] = await db
    .select({ graduate: graduates, school: schools, department: departments.name, agreementType: provinces.agreementType })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .where(eq(graduates.id, opts.graduateId));
  const { graduate, school, department, agreementType } = found!;
  const [unit] = await db
    .update(employers)
    .set({ contactName: '王经理', contactPhone: '010-88886666', contactMobile: '13911112222', contactEmail: 'hr@yue.example.com' })
    .where(eq(employers.name, opts.unitName ?? '越综合企业'))
    .returning();
  const [row] = await db
    .insert(agreements)
    .values({
      kind: 'online',
      state,
      number: opts.number,
      verificationCode: opts.code,
      employerId: unit!.id,
      graduateId: graduate.id,
      schoolId: school.id,
      departmentId: graduate.departmentId,
      cohort: graduate.cohort,
      invitedAt: INVITED_AT,
      positionCategory: '13',
      positionName: '软件开发工程师',
      validityDays: 3,
      deadline: responseDeadline(INVITED_AT, 3),
      contactName: '王经理',
      contactPhone: '010-88886666',
      probation: '3个月',
      probationPay: '8000',
      regularPay: '10000',
      penalty: '5000',
      reportPlace: '北京市海淀区中关村大街 100 号',
      reportDeadline: '2026-07-15',
      workPlace: '北京市海淀区',
      archiveMode: 'accept',
      archive: {
        archiveUnit: '北京市海淀区人才服务中心',
        archiveAddress: '北京市海淀区北四环西路 1 号',
        archivePostcode: '100080',
        archiveContact: '李老师',
        archivePhone: '010-62345678',
        hukouAddress: '北京市海淀区中关村街道',
      },
      supplement: '甲方为乙方缴纳五险一金。\n乙方入职后参加岗前培训。',
      unitSnapshot: snapshotOfUnit(unit!),
      graduateSnapshot: snapshotOfGraduate(graduate, school.name, department),
      schoolSnapshot: snapshotOfSchool(school, agreementType),
      respondedAt: ACCEPTED_AT,
      signedAt: state === 'signed' ? SCHOOL_APPROVED_AT : null,
    })
    .returning({ id: agreements.id });
  const id = row!.id;
  if (state === 'signed') {
    const approval = (actorRole: string, fromState: AgreementState, toState: AgreementState, occurredAt: Date) =>
      ({ occurredAt, actorRole, schoolId: school.id, subjectType: 'agreement', subjectId: String(id), action: 'agreement.approve', fromState, toState }) as const;
    await db
      .insert(events)
      .values(
        school.reviewMode === 'department_then_school'
          ? [approval('department', 'department_review', 'school_review', DEPARTMENT_APPROVED_AT), approval('school', 'school_review', 'signed', SCHOOL_APPROVED_AT)]
          : [approval('school', 'school_review', 'signed', SCHOOL_APPROVED_AT)],
      );
  }
  return { id, graduateId: graduate.id, number: opts.number, code: opts.code, graduateName: graduate.name, idNumber: openedIdNumber(graduate.idNumberSealed), unitName: unit!.name, schoolName: school.name };
}
