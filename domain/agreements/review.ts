import { and, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { builtOnce, genericPlans, statementOnce, type Db, type DbOrTx } from '../../db/client.ts';
import { agreementCounts, agreements, departments, employers, graduates, provinces, schools } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import type { SchoolSettings } from '../schools/switches.ts';
import { DomainError, notFound } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { DECISION_LABELS, decisionForm, REVIEW_STAGES, reviewStageOf, withVerb, type ReviewStage, type Verb } from '../reviews/chain.ts';
import { reviewVerb } from '../tenancy/agreement-types.ts';
import { fire, KNOWN, offers } from '../workflow/kernel.ts';
import { reviewAt, reviewsOfKind, statesInGroup, workflowOfKind } from './kinds.ts';
import type { AgreementKind, AgreementState } from './states.ts';
import { AGREEMENT_KINDS } from './states.ts';
import { agreementScope, countScope } from './visibility.ts';
import { filesInOrder } from '../uploads/files.ts';
import { agreementsOfUnitsLike } from './unit-names.ts';
import { amongIds, capped, containsPattern, pageByStates, stateIn, type StateList } from '../paging.ts';
import { graduateMatches } from '../graduates/roster.ts';

// The reviewers' side of every kind of agreement: 在线签约管理 (S6, S7: 签约发起方 单位 or 学生) and
// 补登管理. Which review an item is in, at which stage, and what may be decided there, is its kind's
// table and chains'; the verb (鉴证/审核) comes from the province (S3).
type Source = EventSource & { actor: Actor };

export const REVIEW_PAGE_SIZE = 20;
/** 签约发起方: a unit starts online signing, a graduate applies for offline signing. */
export const INITIATOR_KINDS = { employer: 'online', student: 'offline' } as const satisfies Record<string, AgreementKind>;
export type Initiator = keyof typeof INITIATOR_KINDS;
export type ReviewQuery = {
  id?: number;
  kinds: readonly AgreementKind[];
  initiator?: Initiator | undefined;
  states?: readonly AgreementState[] | undefined;
  departmentId?: number | undefined;
  q?: string | undefined;
  page: number;
};

const unitName = sql<string>`${agreements.unitSnapshot}->>'name'`;

/** Whether this reviewer decides at the agreement's state now: its chain's stage is the reviewer's. */
function decidesNow(kind: AgreementKind, state: string, actor: Actor): boolean {
  const at = reviewAt(kind, state);
  return !!at && offers(workflowOfKind(kind), state, 'approve', actor.role);
}

const AGREEMENT_LIST: StateList = { table: agreements, id: agreements.id, state: agreements.state, updatedAt: agreements.updatedAt };

/**
 * One page of the reviewer's agreements of these kinds, newest activity first. Each state is read in
 * the order of the (school, state, updated_at, id) index and the runs merged (domain/paging.ts), the
 * total is capped, and a search finds the school's graduates and units first: no page sorts or
 * counts the school's whole history, at a million agreements as at ten.
 */
export async function listForReview(db: DbOrTx, actor: Actor, query: ReviewQuery, cards?: { verb: Verb; signedLabel: string }) {
  const stage = reviewStageOf(actor);
  const kinds = query.initiator ? query.kinds.filter((k) => k === INITIATOR_KINDS[query.initiator!]) : query.kinds;
  let search: SQL | undefined;
  if (query.q) {
    const like = containsPattern(query.q);
    const schoolId = actor.schoolId!;
    const [byGraduate, byUnit] = await Promise.all([
      amongIds(db, agreements.graduateId, () => db.select({ id: graduates.id }).from(graduates).where(and(eq(graduates.schoolId, schoolId), graduateMatches(like)))),
      amongIds(db, agreements.id, () => agreementsOfUnitsLike(db, schoolId, like)),
    ]);
    search = or(byGraduate, byUnit)!;
  }
  const where = () => and(agreementScope(actor), inArray(agreements.kind, [...kinds]), query.id ? eq(agreements.id, query.id) : undefined, query.departmentId ? eq(agreements.departmentId, query.departmentId) : undefined, search);
  const states = query.states?.length ? query.states : [...new Set(kinds.flatMap((k) => workflowOfKind(k).states as readonly string[]))];
  // The count cards above the list, when asked, come with the page in its statement.
  const shown = cards ? cardStates(query.kinds, cards.signedLabel) : [];
  // Without a search or a department filter, the tab's total is the counters' too. The parts are
  // made only when the statement is built: without a search it is kept, and they never are.
  const parts = () => ({ where: where(), cards: shown.length ? countedEach(countScope(actor), query.kinds, shown.map((c) => c.states)) : undefined, total: query.q || query.departmentId ? undefined : counted$(actor, kinds, states) });
  // One row by id (the row a decision re-renders) needs no paging: its read alone applies the filter.
  const { ids, total, more, pages, page, cards: counted } = query.id
    ? { ids: [query.id], total: 1, more: false, pages: 1, page: 1, cards: [] }
    : await pageByStates(db, AGREEMENT_LIST, parts, states, query.page, REVIEW_PAGE_SIZE, query.q ? undefined : reuseKey(actor, query, kinds, states, shown));
  // A page's ids came from its scoped statement; its rows are read within the reviewer's scope again.
  // One row by id (a decision's) is read the same way, its kinds checked here: a filter or a search
  // still goes through its own statement.
  const byIds = (wanted: number[]) => pageRows(genericPlans(db), stage).execute({ ids: `{${wanted.join(',')}}`, schoolId: actor.schoolId, departmentId: actor.departmentId });
  const rows =
    ids.length === 0 ? [] : !query.id ? await byIds(ids) : query.q || query.departmentId ? await reviewRows(db, where()) : (await byIds(ids)).filter((r) => kinds.includes(r.kind));
  return {
    rows: rows.map((r) => {
      const at = reviewAt(r.kind, r.state);
      const canDecide = decidesNow(r.kind, r.state, actor);
      // One-click 通过 only where nothing uploaded needs looking at; the review's own verb (就业协议审核 is 审核 everywhere).
      return { ...r, canDecide, quickApprove: canDecide && !at?.chain.checksPages, fixedVerb: at?.chain.fixedVerb ?? null };
    }),
    total,
    more,
    page,
    pages,
    counts: shown.map((c, i) => ({ label: withVerb(c.label, cards!.verb), ...counted[i]! })),
  };
}

/**
 * A reviewer stage's scope over a table's school and department columns, as placeholders
 * (agreementScope's and countScope's, for the statements built once): `schoolId`, and for a
 * department `departmentId`.
 */
const stageScope = (stage: ReviewStage, cols: { schoolId: PgColumn; departmentId: PgColumn }) =>
  and(eq(cols.schoolId, sql.placeholder('schoolId')), stage === 'department' ? eq(cols.departmentId, sql.placeholder('departmentId')) : undefined)!;

const reviewRowFields = {
  id: agreements.id,
  kind: agreements.kind,
  state: agreements.state,
  number: agreements.number,
  name: graduates.name,
  idNumber: graduates.idNumberMasked,
  studentNo: graduates.studentNo,
  department: departments.name,
  unit: unitName,
  positionName: agreements.positionName,
  updatedAt: agreements.updatedAt,
};

/** A list's rows under `where`, newest activity first. */
const reviewRows = (db: DbOrTx, where: SQL | undefined) =>
  db
    .select(reviewRowFields)
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .where(where)
    .orderBy(desc(agreements.updatedAt), desc(agreements.id));

/**
 * A page's rows by their ids, within the reviewer's scope (agreementScope's, as placeholders): built
 * once per stage and run with one generic plan (issue 14: left to choose, PostgreSQL planned it
 * afresh on every page and every decision's row, a third of a millisecond of its CPU each time).
 */
const pageRows = builtOnce((db, stage: ReviewStage) =>
  reviewRows(
    db,
    and(sql`${agreements.id} = any(${sql.placeholder('ids')}::int[])`, stageScope(stage, agreements)),
  ).prepare(`review_rows_${stage}`),
);

/** The states of the given kinds' review stages, signed and rejected: the count cards above a list. */
function cardStates(kinds: readonly AgreementKind[], signedLabel: string) {
  const at = (stage: (typeof REVIEW_STAGES)[number]) => AGREEMENT_KINDS.filter((k) => kinds.includes(k)).flatMap((k) => reviewsOfKind(k).map((c) => c.stages[stage]));
  const rejected = AGREEMENT_KINDS.filter((k) => kinds.includes(k)).flatMap((k) => reviewsOfKind(k).map((c) => c.rejectTo));
  return [
    { label: '等待院系{verb}', states: at('department') },
    { label: '等待学校{verb}', states: at('school') },
    { label: signedLabel, states: statesInGroup('signed') },
    { label: '{verb}不通过', states: rejected },
  ];
}

/**
 * Everything a list statement without a search is made of: the reviewer's scope, the kinds, the
 * states, the department filter and the count cards (pageByStates adds the page).
 */
const reuseKey = (actor: Actor, query: ReviewQuery, kinds: readonly AgreementKind[], states: readonly string[], shown: Array<{ states: readonly string[] }>) =>
  JSON.stringify(['review', actor.role, actor.schoolId, actor.departmentId, actor.employerId, actor.graduateId, query.kinds, kinds, states, query.departmentId ?? null, shown.map((c) => c.states)]);

/** How many of the reviewer's agreements of these kinds are in these states, from the counters (a scalar expression). */
const counted$ = (actor: Actor, kinds: readonly AgreementKind[], states: readonly string[]) =>
  sql`(select coalesce(sum(${agreementCounts.n}), 0) from ${agreementCounts} where ${and(countScope(actor), stateIn(agreementCounts.kind, kinds), stateIn(agreementCounts.state, states))})`;

/**
 * Such sums for several groups of states (the count cards), in one pass over the counters within
 * `scope` (the actor's, or placeholders for it), as an int[] expression: the cards read the rows
 * the triggers appended since the last fold once, not once a card (issue 14: four passes were a
 * decision's costliest statement).
 */
const countedEach = (scope: SQL, kinds: readonly AgreementKind[], statesEach: ReadonlyArray<readonly string[]>) =>
  sql`(select array[${sql.join(
    statesEach.map((states) => sql`coalesce(sum(${agreementCounts.n}) filter (where ${stateIn(agreementCounts.state, states)}), 0)`),
    sql`, `,
  )}]::int[] from ${agreementCounts} where ${and(scope, stateIn(agreementCounts.kind, kinds))})`;

/** How many of the reviewer's items of these kinds wait at each stage, are signed or were rejected. */
export async function reviewCounts(db: DbOrTx, actor: Actor, verb: Verb, kinds: readonly AgreementKind[], signedLabel = '已签约') {
  // Each card counted on its own, capped like the lists (“10000+”): 已签约 grows with every cohort.
  const cards = cardStates(kinds, signedLabel);
  const [row] = await cardCounts(db, { schoolId: actor.schoolId, departmentId: actor.departmentId }, JSON.stringify([reviewStageOf(actor), kinds, signedLabel]));
  return cards.map((c, i) => ({ label: withVerb(c.label, verb), ...capped(Number(row!.n[i])) }));
}

/**
 * The count cards' statement, built once per reviewer scope, room and label (issue 14: a decision's
 * htmx answer re-renders them; building their four sums was most of its drizzle time). The shape is
 * the JSON of [stage, kinds, signed label]: a few fixed values from the routes.
 */
const cardCounts = statementOnce<{ n: number[] }, string>((shape) => {
  const [stage, kinds, signedLabel] = JSON.parse(shape) as [ReviewStage, AgreementKind[], string];
  return sql`select ${countedEach(stageScope(stage, agreementCounts), kinds, cardStates(kinds, signedLabel).map((c) => c.states))} as n`;
});

/** The review page's read, built once per scope (issue 14: a review page is a tenth of the peak's mix). */
const reviewedOne = builtOnce((db, stage: 'school' | 'department') =>
  db
    .select({ agreement: agreements, graduate: graduates, department: departments.name, unitVerification: employers.verification, agreementType: provinces.agreementType })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .innerJoin(schools, eq(schools.id, agreements.schoolId))
    .innerJoin(provinces, eq(provinces.id, schools.provinceId))
    .leftJoin(employers, eq(employers.id, agreements.employerId))
    .where(and(eq(agreements.id, sql.placeholder('id')), stageScope(stage, agreements)))
    .prepare(`reviewed_one_${stage}`),
);

/** One agreement as its reviewer sees it (S6): the agreement, unit and graduate, the pages uploaded, the review it is in, and what the reviewer may decide. */
export async function getForReview(db: DbOrTx, actor: Actor, id: number) {
  const stage = reviewStageOf(actor);
  // The reviewer's scope (agreementScope's for a school or a department), as placeholders.
  const [row] = await reviewedOne(db, stage).execute({ id, schoolId: actor.schoolId, departmentId: actor.departmentId });
  if (!row) throw notFound('签约');
  const { agreementType, ...rest } = row;
  const a = row.agreement;
  const review = reviewAt(a.kind, a.state);
  const pages = await filesInOrder(db, a.copyUploadIds);
  return {
    ...rest,
    // S3: the verb the agreement was made under once it has one, else the province's today.
    verb: reviewVerb(a.schoolSnapshot?.agreementType ?? agreementType),
    review,
    canDecide: decidesNow(a.kind, a.state, actor),
    decisions: review ? review.chain.decisions.map((d) => ({ value: d, label: DECISION_LABELS[d] })) : [],
    pages,
  };
}

const NOT_YOUR_STAGE = '该签约不在你的审核环节，请刷新页面查看最新状态';

/**
 * The agreement a decision fires on, locked, within the reviewer's scope (agreementScope's, as
 * placeholders): built once per stage (issue 14). With the graduate's name, which the decision's
 * notices say (a round trip fewer a decision); only the agreement is locked.
 */
const lockedForReview = builtOnce((db, stage: ReviewStage) =>
  db
    .select({ agreement: agreements, graduateName: graduates.name })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .where(and(eq(agreements.id, sql.placeholder('id')), stageScope(stage, agreements)))
    .for('update', { of: agreements })
    .prepare(`locked_for_review_${stage}`),
);

/**
 * A reviewer's decision at the item's current stage, with that review's form: 通过 moves it on (the
 * school's stage, or where the review leads); 退回修改 and 不通过 need the reason shown to the graduate.
 */
export async function decideReview(db: Db, source: Source, id: number, input: unknown, known: { school?: SchoolSettings } = {}): Promise<string> {
  const stage = reviewStageOf(source.actor);
  return db.transaction(async (tx) => {
    // The reviewer's scope, checked as the row is locked: one read, not the review page's.
    const [found] = await lockedForReview(tx, stage).execute({ id, schoolId: source.actor.schoolId, departmentId: source.actor.departmentId });
    if (!found) throw notFound('签约');
    const locked = found.agreement;
    const at = reviewAt(locked.kind, locked.state);
    const wf = workflowOfKind(locked.kind);
    if (!at || !offers(wf, locked.state, 'approve', source.actor.role)) throw new DomainError('illegal_transition', NOT_YOUR_STAGE);
    const { decision, reason } = parseForm(decisionForm(at.chain), input);
    return fire(tx, wf, source, locked, decision, {
      changes: decision === 'approve' ? {} : { reviewReason: reason ?? null },
      reason: reason ?? null,
      // The reviewer's school is the agreement's (the scope above): its settings, when the caller has them.
      facts: { [KNOWN.graduateName]: found.graduateName, ...(known.school && locked.schoolId === source.actor.schoolId ? { [KNOWN.school]: known.school } : {}) },
    });
  });
}
