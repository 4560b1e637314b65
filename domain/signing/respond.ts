import { randomInt } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { isUniqueViolation, type Db, type Tx } from '../../db/client.ts';
import { agreementCounters, agreements, departments, graduates, provinces, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { snapshotOfGraduate, snapshotOfSchool } from './snapshots.ts';
import { fireSigningEvent, lockAgreement, notifyReviewers, notifyUnit, type Agreement } from './transition.ts';

// The graduate's answer to 签约邀请 (G3–G5) and the system's endings of a pending invitation
// (expiry, X3; 失效 from the roster).
type Source = EventSource & { actor: Actor };

const ALREADY_SIGNING = '你已接受其他单位的签约邀请，其他签约邀请只能查看，无法操作';
const PAST_DEADLINE = '已超过应约截止时间，该签约邀请已失效';

async function lockOwnInvitation(tx: Tx, actor: Actor, id: number): Promise<Agreement> {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  const row = await lockAgreement(tx, id);
  if (!row || row.graduateId !== actor.graduateId) throw notFound('签约邀请');
  return row;
}

/**
 * 接受: the one place a graduate's acceptance happens. Checks the deadline itself (X3), holds G4
 * (also held by a partial unique index, so concurrent acceptances cannot both win, X4), numbers
 * the agreement, freezes what it will show, and sends it to the first review stage. Accepting an
 * invitation already accepted by this graduate is answered as done (a repeated submission).
 */
export async function acceptInvitation(db: Db, source: Source, id: number, now = new Date()): Promise<Agreement['state']> {
  try {
    return await db.transaction(async (tx) => {
      const invitation = await lockOwnInvitation(tx, source.actor, id);
      if (invitation.state === 'department_review' || invitation.state === 'school_review') return invitation.state;
      if (invitation.state === 'invited' && invitation.deadline <= now) {
        await fireSigningEvent(tx, { actor: null, ip: source.ip }, invitation, 'expire', 'system');
        return 'expired';
      }
      const [active] = await tx
        .select({ id: agreements.id })
        .from(agreements)
        .where(and(eq(agreements.graduateId, invitation.graduateId), sql`${agreements.state} in ('department_review', 'school_review', 'signed')`));
      if (active) throw new DomainError('conflict', ALREADY_SIGNING);
      const [row] = await tx
        .select({ graduate: graduates, school: schools, department: departments.name, agreementType: provinces.agreementType })
        .from(graduates)
        .innerJoin(schools, eq(schools.id, graduates.schoolId))
        .innerJoin(provinces, eq(provinces.id, schools.provinceId))
        .innerJoin(departments, eq(departments.id, graduates.departmentId))
        .where(eq(graduates.id, invitation.graduateId));
      const { graduate, school, department, agreementType } = row!;
      const schoolOnly = school.reviewMode === 'school_only';
      const to = await fireSigningEvent(tx, source, invitation, 'accept', 'student', {
        schoolOnly,
        changes: {
          number: await nextAgreementNumber(tx, school.id, school.code, invitation.cohort),
          verificationCode: verificationCode(),
          respondedAt: now,
          graduateSnapshot: snapshotOfGraduate(graduate, school.name, department),
          schoolSnapshot: snapshotOfSchool(school, agreementType),
        },
      });
      await notifyUnit(tx, invitation.employerId, { title: `${graduate.name}已接受签约邀请`, body: '已提交学校（学院）审核。', link: `/employer/agreements/${id}` });
      await notifyReviewers(tx, invitation, to as 'department_review' | 'school_review', { title: '有新的签约待审核', body: `${graduate.name}已同意签约，等待审核。`, link: `/school/agreements/${id}` });
      return to;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', ALREADY_SIGNING);
    throw e;
  }
}

/** 拒绝: before the deadline (X3); the unit may invite again afterwards (G6). */
export async function declineInvitation(db: Db, source: Source, id: number, now = new Date()): Promise<Agreement['state']> {
  return db.transaction(async (tx) => {
    const invitation = await lockOwnInvitation(tx, source.actor, id);
    if (invitation.state === 'declined') return 'declined';
    if (invitation.state === 'invited' && invitation.deadline <= now) throw new DomainError('illegal_transition', PAST_DEADLINE);
    const to = await fireSigningEvent(tx, source, invitation, 'decline', 'student', { changes: { respondedAt: now } });
    const name = invitation.graduateSnapshot?.name ?? (await graduateName(tx, invitation.graduateId));
    await notifyUnit(tx, invitation.employerId, { title: `${name}拒绝了签约邀请`, body: '可在“签约失败”中再次发起签约。', link: `/employer/agreements/${id}` });
    return to;
  });
}

/** The roster-change event's part: a pending invitation becomes 失效 and the unit is told. */
export async function invalidateInvitation(tx: Tx, source: EventSource, id: number, reason: string): Promise<void> {
  const invitation = await lockAgreement(tx, id);
  if (!invitation || invitation.state !== 'invited') return;
  await fireSigningEvent(tx, source, invitation, 'invalidate', 'system', { changes: { invalidReason: reason }, reason });
  await notifyUnit(tx, invitation.employerId, { title: '签约邀请已失效', body: reason, link: `/employer/agreements/${id}` });
}

async function graduateName(tx: Tx, graduateId: number): Promise<string> {
  const [g] = await tx.select({ name: graduates.name }).from(graduates).where(eq(graduates.id, graduateId));
  return g?.name ?? '';
}

/** 协议编号: cohort + school code + a serial per school and cohort, e.g. 2026-10001-000042. */
async function nextAgreementNumber(tx: Tx, schoolId: number, schoolCode: string, cohort: number): Promise<string> {
  const [row] = await tx
    .insert(agreementCounters)
    .values({ schoolId, cohort, last: 1 })
    .onConflictDoUpdate({ target: [agreementCounters.schoolId, agreementCounters.cohort], set: { last: sql`${agreementCounters.last} + 1` } })
    .returning({ last: agreementCounters.last });
  return `${cohort}-${schoolCode}-${String(row!.last).padStart(6, '0')}`;
}

const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** The random code printed beside the number; both together open /verify. */
function verificationCode(): string {
  return Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}
