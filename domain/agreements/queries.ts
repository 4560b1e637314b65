import { and, asc, count, desc, eq, ilike, or, sql, type SQL } from 'drizzle-orm';
import { builtOnce, type DbOrTx } from '../../db/client.ts';
import { agreements, departments, events, graduates, provinces, schools, terminations, users } from '../../db/schema/index.ts';
import { ROLE_LABELS, type Role } from '../auth/roles.ts';
import type { Actor } from '../auth/sessions.ts';
import { EDUCATION_LEVEL_SHORT, labelOf } from '../codes/tables.ts';
import { ipv6Groups } from '../addresses.ts';
import { notFound } from '../errors.ts';
import { reviewVerb } from '../tenancy/agreement-types.ts';
import { agreementEventLabel, agreementStateLabel, inAgreementGroup } from './kinds.ts';
import { termination } from '../terminations/workflow.ts';
import { eventLabel } from '../workflow/kernel.ts';
import { withVerb } from '../reviews/chain.ts';
import { EMPLOYER_TABS, type EmployerTab } from './employer-tabs.ts';
import { agreementScope, unitAgreements } from './visibility.ts';
import { containsPattern, pageTotal, windowTotal } from '../paging.ts';

// What each party reads about its agreements; every query goes through agreementScope.

/**
 * One agreement the actor may see, with the graduate's, school's and department's names and the
 * verb it is reviewed with (S3): the one frozen on the agreement, else the province's today.
 */
export async function getAgreement(db: DbOrTx, actor: Actor, id: number) {
  const [row] = await db
    .select({ agreement: agreements, graduateName: graduates.name, school: schools.name, department: departments.name, agreementType: provinces.agreementType })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(schools, eq(schools.id, agreements.schoolId))
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .where(and(eq(agreements.id, id), agreementScope(actor)));
  if (!row) throw notFound('签约');
  const verb = reviewVerb(row.agreement.schoolSnapshot?.agreementType ?? row.agreementType);
  return { ...row.agreement, graduateName: row.graduateName, school: row.school, department: row.department, verb };
}

export type LoadedAgreement = Awaited<ReturnType<typeof getAgreement>>;

/** An agreement's events in order, the query built once: every page showing an agreement reads them (issue 14). */
const timelineRows = builtOnce((db) =>
  db
    .select({ at: events.occurredAt, action: events.action, role: events.actorRole, fromState: events.fromState, toState: events.toState, reason: events.reason })
    .from(events)
    .where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, sql.placeholder('subjectId'))))
    .orderBy(asc(events.id))
    .prepare('agreement_timeline'),
);

/** X1: the agreement's timeline, the same for the unit, the graduate and the school; call with an agreement the actor may see. */
export async function agreementTimeline(db: DbOrTx, a: Pick<LoadedAgreement, 'id' | 'kind' | 'verb'>) {
  const rows = await timelineRows(db).execute({ subjectId: String(a.id) });
  return rows.map((r) => timelineEntry(a, r));
}

type EventWords = { at: Date; action: string; role: string | null; fromState: string | null; toState: string | null; reason: string | null };

function timelineEntry(a: Pick<LoadedAgreement, 'kind' | 'verb'>, r: EventWords) {
  return {
    at: r.at,
    // A termination's events join its agreement's trail (one timeline), in the termination's words.
    what: r.action.startsWith(`${termination.action ?? termination.subject}.`) ? withVerb(eventLabel(termination, r.action, r.fromState, r.toState), a.verb) : agreementEventLabel(a.kind, r.action, r.fromState, r.toState, a.verb),
    who: r.role === 'link' ? '用人单位（协助回传）' : r.role && Object.hasOwn(ROLE_LABELS, r.role) ? ROLE_LABELS[r.role as Role] : '系统',
    reason: r.reason,
  };
}

/**
 * The timeline for the 签约完成证明 (issue 15): each event with the account that made it and the
 * network it came from as the platform saw it, shortened (an IPv4 address to its /24, IPv6 to its
 * /48), since the certificate goes to all three parties.
 */
export async function agreementTrail(db: DbOrTx, a: Pick<LoadedAgreement, 'id' | 'kind' | 'verb'>) {
  const rows = await db
    .select({
      at: events.occurredAt,
      action: events.action,
      role: events.actorRole,
      fromState: events.fromState,
      toState: events.toState,
      // A termination's reason is its row's, written when it was applied for or proposed.
      reason: sql<string | null>`coalesce(${events.reason}, case when ${events.action} in ('termination.apply', 'termination.propose') then (select ${terminations.reason} from ${terminations} where ${terminations.id} = (${events.data}->>'termination')::int and ${terminations.agreementId} = ${a.id}) end)`,
      name: users.displayName,
      ip: events.ip,
    })
    .from(events)
    .leftJoin(users, eq(users.id, events.actorUserId))
    .where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(a.id))))
    .orderBy(asc(events.id));
  return rows.map((r) => ({ ...timelineEntry(a, r), account: r.name ?? '', network: networkOf(r.ip) }));
}

/** An address as the certificate shows it: 203.0.113.*, 2001:db8:85a3:*. */
export function networkOf(ip: string | null): string {
  if (!ip) return '';
  if (ip === '::1') return '本机';
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/.exec(ip);
  if (v4) return `${v4[1]}.*`;
  // IPv6: the first three groups of the written-out address (the /48), whatever '::' stood for.
  return `${ipv6Groups(ip).slice(0, 3).join(':')}:*`;
}

/** An agreement as the graduate home lists it (graduateHome reads them, newest first, with the record). */
export type OwnAgreementRow = { id: number; kind: LoadedAgreement['kind']; state: LoadedAgreement['state']; unitName: string; positionName: string; deadline: Date | null };

/** The graduate's invitations and agreements as the home lists them, and the one active agreement if any (G4). */
export function graduateAgreementList(own: readonly OwnAgreementRow[]) {
  const active = own.find((r) => inAgreementGroup(r.kind, 'active', r.state));
  return {
    active: active ? { state: active.state, summary: agreementStateLabel(active.kind, 'summary', active.state) } : null,
    /** Every agreement's kind and state, for the entrances' guards. */
    states: own.map((r) => ({ kind: r.kind, state: r.state })),
    rows: own.map((r) => ({
      id: r.id,
      // An invitation is answered on its letter's page; an application is followed on its own.
      href: r.kind === 'online' ? `/student/invitations/${r.id}` : `/student/applications/${r.id}`,
      unit: r.unitName,
      positionName: r.positionName,
      stateLabel: agreementStateLabel(r.kind, 'graduate', r.state),
      next: nextStep(r.kind, r.state),
      deadline: inAgreementGroup(r.kind, 'pending', r.state) ? r.deadline : null,
    })),
  };
}

/** What the graduate does next with an application, on the home. */
function nextStep(kind: LoadedAgreement['kind'], state: string): string | null {
  if (inAgreementGroup(kind, 'editable', state)) return '请修改后重新提交';
  if (inAgreementGroup(kind, 'awaitingCopy', state)) return '请下载协议书，请单位盖章后回传';
  if (kind !== 'online' && inAgreementGroup(kind, 'inReview', state)) return '等待学校（院系）审核';
  return null;
}

export type { EmployerTab };
export const EMPLOYER_PAGE_SIZE = 20;

/** A page of the unit's agreements under `where`, newest activity first, with the total and each one's latest termination state. */
const unitAgreementsPage = (db: DbOrTx, where: SQL | undefined) =>
  db
    .select({
      a: agreements,
      name: graduates.name,
      idNumber: graduates.idNumberMasked,
      school: schools.name,
      level: graduates.educationLevel,
      major: graduates.majorName,
      // A signed agreement's latest status is its latest termination's, if any (解约中, 解约失败 …).
      terminationState: sql<(typeof terminations.$inferSelect)['state'] | null>`(${db.select({ state: terminations.state }).from(terminations).where(eq(terminations.agreementId, agreements.id)).orderBy(desc(terminations.id)).limit(1)})`,
      total: windowTotal(),
    })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(schools, eq(schools.id, agreements.schoolId))
    .where(where)
    .orderBy(desc(agreements.updatedAt), desc(agreements.id))
    .limit(EMPLOYER_PAGE_SIZE);

/** A tab without a search, built once per tab and run with the unit, cohort and page as parameters (issue 14). */
const unitTabPage = builtOnce((db, tab: EmployerTab) =>
  unitAgreementsPage(db, and(unitAgreements(sql.placeholder('employerId')), eq(agreements.cohort, sql.placeholder('cohort')), EMPLOYER_TABS[tab].where))
    .offset(sql.placeholder('offset'))
    .prepare(`unit_agreements_${tab}`),
);

/** E6: the unit's agreements of one tab and cohort, searchable by name; ID numbers masked. */
export async function employerAgreements(db: DbOrTx, actor: Actor, query: { tab: EmployerTab; cohort: number; q?: string | undefined; page: number }) {
  const conditions: SQL[] = [agreementScope(actor), eq(agreements.cohort, query.cohort), EMPLOYER_TABS[query.tab].where];
  if (query.q) conditions.push(or(ilike(graduates.name, containsPattern(query.q)))!);
  const where = and(...conditions);
  const offset = (query.page - 1) * EMPLOYER_PAGE_SIZE;
  // agreementScope has vouched for the actor: a verified unit's user, whose scope is unitAgreements.
  const found = query.q || actor.role !== 'employer' ? await unitAgreementsPage(db, where).offset(offset) : await unitTabPage(db, query.tab).execute({ employerId: actor.employerId!, cohort: query.cohort, offset });
  const { rows, total } = await pageTotal(found, query.page, () => db.select({ n: count() }).from(agreements).innerJoin(graduates, eq(graduates.id, agreements.graduateId)).where(where));
  const terminationState = new Map(rows.filter((r) => r.terminationState !== null && inAgreementGroup(r.a.kind, 'signed', r.a.state)).map((r) => [r.a.id, r.terminationState!]));
  return {
    rows: rows.map((r) => ({
      id: r.a.id,
      graduateId: r.a.graduateId,
      name: r.name,
      idNumber: r.idNumber,
      school: r.school,
      level: labelOf(EDUCATION_LEVEL_SHORT, r.level),
      major: r.major,
      stateLabel: terminationState.has(r.a.id) ? termination.labels.employer[terminationState.get(r.a.id)!] : agreementStateLabel(r.a.kind, 'employer', r.a.state),
      updatedAt: r.a.updatedAt,
    })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / EMPLOYER_PAGE_SIZE)),
  };
}

/** The 工作台 counts per status word of the unit's agreements in a cohort, in one pass. */
export async function employerCounts(db: DbOrTx, actor: Actor, cohort: number) {
  const tabs = Object.values(EMPLOYER_TABS);
  const [row] = await db
    .select(Object.fromEntries(tabs.map((t, i) => [`t${i}`, sql<number>`count(*) filter (where ${t.where})`.mapWith(Number)])))
    .from(agreements)
    .where(and(agreementScope(actor), eq(agreements.cohort, cohort)));
  return tabs.map((t, i) => ({ label: t.label, n: (row as Record<string, number> | undefined)?.[`t${i}`] ?? 0 }));
}
