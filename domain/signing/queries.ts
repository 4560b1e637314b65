import { and, asc, count, desc, eq, ilike, inArray, or, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { agreements, departments, events, graduates, schools } from '../../db/schema/index.ts';
import { ROLE_LABELS, type Role } from '../auth/roles.ts';
import type { Actor } from '../auth/sessions.ts';
import { maskIdNumber } from '../codes/id-number.ts';
import { EDUCATION_LEVEL_SHORT, labelOf } from '../codes/tables.ts';
import { notFound } from '../errors.ts';
import { ACTIVE_AGREEMENT_STATES, AGREEMENT_STATE_LABELS, EMPLOYER_TABS, type AgreementState } from './states.ts';
import { agreementScope } from './visibility.ts';

// What each party reads about its agreements; every query goes through agreementScope.

/** One agreement the actor may see, with the graduate's and school's names. */
export async function getAgreement(db: DbOrTx, actor: Actor, id: number) {
  const [row] = await db
    .select({ agreement: agreements, graduateName: graduates.name, school: schools.name, department: departments.name })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(schools, eq(schools.id, agreements.schoolId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .where(and(eq(agreements.id, id), agreementScope(actor)));
  if (!row) throw notFound('签约');
  return { ...row.agreement, graduateName: row.graduateName, school: row.school, department: row.department };
}

const ACTION_LABELS: Record<string, string> = {
  'agreement.invite': '单位发起签约邀请',
  'agreement.accept': '学生接受签约邀请',
  'agreement.decline': '学生拒绝签约',
  'agreement.expire': '学生逾期未回应',
  'agreement.approve': '审核通过',
  'agreement.reject': '审核不通过',
  'agreement.invalidate': '签约邀请失效',
};

/** X1: the agreement's timeline, the same for the unit, the graduate and the school. */
export async function agreementTimeline(db: DbOrTx, actor: Actor, id: number) {
  await getAgreement(db, actor, id);
  const rows = await db
    .select({ at: events.occurredAt, action: events.action, role: events.actorRole, toState: events.toState, reason: events.reason })
    .from(events)
    .where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(id))))
    .orderBy(asc(events.id));
  return rows.map((r) => ({
    at: r.at,
    what: r.action === 'agreement.approve' && r.toState === 'school_review' ? '院系审核通过' : r.action === 'agreement.approve' && r.toState === 'signed' ? '学校审核通过，签约完成' : (ACTION_LABELS[r.action] ?? r.action),
    who: r.role && r.role in ROLE_LABELS ? ROLE_LABELS[r.role as Role] : '系统',
    reason: r.reason,
  }));
}

/** The progress steps of the employer guide: 单位已发起邀请 → 等待学生应约 → 学校（学院）审核 → 签约完成. */
export function progressSteps(state: AgreementState) {
  const reached = { invited: 2, department_review: 3, school_review: 3, signed: 4 }[state as 'invited'] ?? 2;
  return ['单位已发起邀请', '等待学生应约', '学校（学院）审核', '签约完成'].map((label, i) => ({ label, done: i < reached, current: i === reached - 1 }));
}

/** The graduate's invitations and agreements, newest first; whether one is already active (G4). */
export async function graduateAgreements(db: DbOrTx, actor: Actor) {
  const rows = await db.select().from(agreements).where(agreementScope(actor)).orderBy(desc(agreements.invitedAt), desc(agreements.id));
  const active = rows.find((r) => (ACTIVE_AGREEMENT_STATES as readonly string[]).includes(r.state));
  return {
    active: active ?? null,
    rows: rows.map((r) => ({ id: r.id, unit: r.unitSnapshot.name, positionName: r.positionName, state: r.state, stateLabel: AGREEMENT_STATE_LABELS[r.state], deadline: r.deadline, invitedAt: r.invitedAt })),
  };
}

export type EmployerTab = keyof typeof EMPLOYER_TABS;
export const EMPLOYER_PAGE_SIZE = 20;

/** E6: the unit's agreements of one tab and cohort, searchable by name; ID numbers masked. */
export async function employerAgreements(db: DbOrTx, actor: Actor, query: { tab: EmployerTab; cohort: number; q?: string | undefined; page: number }) {
  const conditions: SQL[] = [agreementScope(actor), eq(agreements.cohort, query.cohort), inArray(agreements.state, [...EMPLOYER_TABS[query.tab].states])];
  if (query.q) conditions.push(or(ilike(graduates.name, `%${query.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`))!);
  const where = and(...conditions);
  const [rows, total] = await Promise.all([
    db
      .select({ a: agreements, name: graduates.name, idNumber: graduates.idNumber, school: schools.name, level: graduates.educationLevel, major: graduates.majorName })
      .from(agreements)
      .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
      .innerJoin(schools, eq(schools.id, agreements.schoolId))
      .where(where)
      .orderBy(desc(agreements.updatedAt), desc(agreements.id))
      .limit(EMPLOYER_PAGE_SIZE)
      .offset((query.page - 1) * EMPLOYER_PAGE_SIZE),
    db.select({ n: count() }).from(agreements).innerJoin(graduates, eq(graduates.id, agreements.graduateId)).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return {
    rows: rows.map((r) => ({
      id: r.a.id,
      graduateId: r.a.graduateId,
      name: r.name,
      idNumber: maskIdNumber(r.idNumber),
      school: r.school,
      level: labelOf(EDUCATION_LEVEL_SHORT, r.level),
      major: r.major,
      state: r.a.state,
      stateLabel: AGREEMENT_STATE_LABELS[r.a.state],
      updatedAt: r.a.updatedAt,
    })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / EMPLOYER_PAGE_SIZE)),
  };
}

/** The 工作台 counts per status word of the unit's agreements in a cohort. */
export async function employerCounts(db: DbOrTx, actor: Actor, cohort: number) {
  const rows = await db.select({ state: agreements.state, n: count() }).from(agreements).where(and(agreementScope(actor), eq(agreements.cohort, cohort))).groupBy(agreements.state);
  return Object.values(EMPLOYER_TABS).map((tab) => ({ label: tab.label, n: rows.filter((r) => (tab.states as readonly string[]).includes(r.state)).reduce((s, r) => s + r.n, 0) }));
}
