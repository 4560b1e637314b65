import { and, count, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../../db/client.ts';
import { agreements, departments, employers, graduates, provinces, schools } from '../../../db/schema/index.ts';
import type { Actor } from '../../auth/sessions.ts';
import { maskIdNumber } from '../../codes/id-number.ts';
import { DomainError, notFound } from '../../errors.ts';
import type { EventSource } from '../../events.ts';
import { parseForm } from '../../forms.ts';
import { decisionForm, reviewStageOf, withVerb, type Verb } from '../../reviews/chain.ts';
import { eventsFrom, fire, offers } from '../../workflow/kernel.ts';
import { reviewVerb } from '../../tenancy/agreement-types.ts';
import { workflowOfKind } from '../kinds.ts';
import type { AgreementKind, AgreementState } from '../states.ts';
import { agreementScope } from '../visibility.ts';
import { lockAgreement } from './respond.ts';
import { ONLINE_REVIEW, onlineSigning, type OnlineState } from './workflow.ts';

// 在线签约管理 (S6, S7): the reviewer's list with the guide's filters, the review page and the
// decision. Which stage a reviewer decides, and whether an item is there, is the table's.
type Source = EventSource & { actor: Actor };

export const REVIEW_PAGE_SIZE = 20;
/** 签约发起方: a unit starts online signing, a graduate applies for offline signing. */
export const INITIATOR_KINDS = { employer: 'online', student: 'offline' } as const satisfies Record<string, AgreementKind>;
export type Initiator = keyof typeof INITIATOR_KINDS;
export type ReviewQuery = { id?: number; initiator?: Initiator | undefined; state?: AgreementState | undefined; departmentId?: number | undefined; q?: string | undefined; page: number };

const unitName = sql<string>`${agreements.unitSnapshot}->>'name'`;

export async function listForReview(db: DbOrTx, actor: Actor, query: ReviewQuery) {
  reviewStageOf(actor);
  const conditions: SQL[] = [agreementScope(actor)];
  if (query.id) conditions.push(eq(agreements.id, query.id));
  if (query.initiator) conditions.push(eq(agreements.kind, INITIATOR_KINDS[query.initiator]));
  if (query.state) conditions.push(eq(agreements.state, query.state));
  if (query.departmentId) conditions.push(eq(agreements.departmentId, query.departmentId));
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    conditions.push(or(ilike(graduates.name, like), ilike(graduates.studentNo, like), ilike(unitName, like))!);
  }
  const where = and(...conditions);
  const [rows, total] = await Promise.all([
    db
      .select({
        id: agreements.id,
        kind: agreements.kind,
        state: agreements.state,
        number: agreements.number,
        name: graduates.name,
        idNumber: graduates.idNumber,
        studentNo: graduates.studentNo,
        department: departments.name,
        unit: unitName,
        positionName: agreements.positionName,
        updatedAt: agreements.updatedAt,
      })
      .from(agreements)
      .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
      .innerJoin(departments, eq(departments.id, agreements.departmentId))
      .where(where)
      .orderBy(desc(agreements.updatedAt), desc(agreements.id))
      .limit(REVIEW_PAGE_SIZE)
      .offset((query.page - 1) * REVIEW_PAGE_SIZE),
    db.select({ n: count() }).from(agreements).innerJoin(graduates, eq(graduates.id, agreements.graduateId)).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return {
    rows: rows.map((r) => ({ ...r, idNumber: maskIdNumber(r.idNumber), canDecide: eventsFrom(workflowOfKind(r.kind), r.state, actor.role).includes('approve') })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / REVIEW_PAGE_SIZE)),
  };
}

/** The count cards above the list: each stage, signed and rejected, in the province's verb (S3). */
export async function reviewCounts(db: DbOrTx, actor: Actor, verb: Verb) {
  const cards = [
    { label: '等待院系{verb}', states: [ONLINE_REVIEW.stages.department] },
    { label: '等待学校{verb}', states: [ONLINE_REVIEW.stages.school] },
    { label: '已签约', states: onlineSigning.groups.signed },
    { label: '{verb}不通过', states: [ONLINE_REVIEW.rejectTo] },
  ];
  const rows = await db
    .select({ state: agreements.state, n: count() })
    .from(agreements)
    .where(and(agreementScope(actor), inArray(agreements.state, cards.flatMap((c) => c.states))))
    .groupBy(agreements.state);
  return cards.map((c) => ({ label: withVerb(c.label, verb), n: rows.filter((r) => (c.states as readonly string[]).includes(r.state)).reduce((s, r) => s + r.n, 0) }));
}

/** One agreement as its reviewer sees it: agreement, unit and graduate information (S6). */
export async function getForReview(db: DbOrTx, actor: Actor, id: number) {
  reviewStageOf(actor);
  const [row] = await db
    .select({ agreement: agreements, graduate: graduates, department: departments.name, unitVerification: employers.verification, agreementType: provinces.agreementType })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .innerJoin(schools, eq(schools.id, agreements.schoolId))
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .leftJoin(employers, eq(employers.id, agreements.employerId))
    .where(and(eq(agreements.id, id), agreementScope(actor)));
  if (!row) throw notFound('签约');
  const { agreementType, ...rest } = row;
  return {
    ...rest,
    // S3: the verb the agreement was made under once it has one, else the province's today.
    verb: reviewVerb(row.agreement.schoolSnapshot?.agreementType ?? agreementType),
    canDecide: eventsFrom(workflowOfKind(row.agreement.kind), row.agreement.state, actor.role).includes('approve'),
  };
}

const onlineDecision = decisionForm(ONLINE_REVIEW);
const NOT_YOUR_STAGE = '该签约不在你的审核环节，请刷新页面查看最新状态';

/** 通过 moves the agreement to the next stage or signs it; 不通过 ends it (签约失败) with the reason. */
export async function decideReview(db: Db, source: Source, id: number, input: unknown): Promise<OnlineState> {
  reviewStageOf(source.actor);
  const { decision, reason } = parseForm(onlineDecision, input);
  return db.transaction(async (tx) => {
    await getForReview(tx, source.actor, id);
    const locked = (await lockAgreement(tx, id))!;
    const wf = workflowOfKind(locked.kind);
    // The form offers only this chain's decisions (online signing: 通过 / 不通过).
    const event = decision as 'approve' | 'reject';
    if (!offers(wf, locked.state, event, source.actor.role)) throw new DomainError('illegal_transition', NOT_YOUR_STAGE);
    return fire(tx, wf, source, locked, event, {
      changes: decision === 'reject' ? { reviewReason: reason ?? null } : {},
      reason: reason ?? null,
    });
  });
}
