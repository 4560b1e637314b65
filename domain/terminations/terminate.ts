import { and, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation, type Db, type DbOrTx, type Tx } from '../../db/client.ts';
import type { Storage } from '../../db/storage.ts';
import { agreements, departments, graduates, terminations, users } from '../../db/schema/index.ts';
import { notifyUser } from '../notifications.ts';
import { agreementsOfUnitsLike } from '../agreements/unit-names.ts';
import { amongIds, cappedCounts, containsPattern, pageByStates, stateIn, type StateList } from '../paging.ts';
import { filesInOrder } from '../uploads/files.ts';
import { agreementScope } from '../agreements/visibility.ts';
import type { Agreement } from '../agreements/rows.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { DECISION_LABELS, decisionForm, reviewStageOf, REVIEW_STAGES } from '../reviews/chain.ts';
import { recordUploads, stageBatch, type IncomingFile } from '../uploads/store-upload.ts';
import type { UploadPurpose } from '../uploads/purposes.ts';
import { availableActions, create, creationAvailability, fire, offers, type Availability } from '../workflow/kernel.ts';
import type { TerminationState } from './states.ts';
import { AGREED_REVIEW, LETTER_REVIEW, termination, terminationAllowance, type NewTermination, type Termination } from './workflow.ts';
import { graduateMatches } from '../graduates/roster.ts';

// The use cases of 解约: each loads what the actor may touch and fires the table (workflow.ts).
type Source = EventSource & { actor: Actor };

const reasonText = (what: string) => z.string().trim().min(2, { error: `请填写${what}` }).max(500, { error: '不超过 500 个字' });
// The forms, built once (a zod schema compiles its parser on first use).
const APPLICATION_FORM = z.object({ reason: reasonText('解约原因'), confirm: z.literal('on', { error: '请确认已与用人单位协商一致，并知晓提交后计入解约申请次数' }) });
const REASON_FORM = z.object({ reason: reasonText('解约原因') });
const FORCE_FORM = z.object({ reason: reasonText('强制解约的原因'), confirm: z.literal('on', { error: '请确认已与单位协商一致并留存相关材料' }) });
const MAX_FILES = 5;

/** Which terminations an actor may see: the graduate's own, the unit's, the school's, the department's. */
export function terminationScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'student':
      if (actor.graduateId !== null) return eq(terminations.graduateId, actor.graduateId);
      break;
    case 'employer':
      if (actor.employerId !== null && actor.employerVerified) return eq(terminations.employerId, actor.employerId);
      break;
    case 'school':
      if (actor.schoolId !== null) return eq(terminations.schoolId, actor.schoolId);
      break;
    case 'department':
      if (actor.schoolId !== null && actor.departmentId !== null) return and(eq(terminations.schoolId, actor.schoolId), eq(terminations.departmentId, actor.departmentId))!;
      break;
  }
  throw forbidden();
}

async function ownAgreement(db: DbOrTx, actor: Actor, agreementId: number): Promise<Agreement> {
  const [a] = await db.select().from(agreements).where(and(eq(agreements.id, agreementId), agreementScope(actor)));
  if (!a) throw notFound('协议');
  return a;
}

/** What a termination of this agreement would be, before it exists: for the guards to look at. */
function newTermination(a: Agreement, actor: Actor, initiator: 'graduate' | 'employer', reason: string): NewTermination {
  return {
    agreementId: a.id,
    path: a.kind === 'online' ? 'online' : 'letter',
    initiator,
    graduateId: a.graduateId,
    employerId: a.employerId,
    schoolId: a.schoolId,
    departmentId: a.departmentId,
    cohort: a.cohort,
    requestedBy: actor.userId,
    reason,
  };
}

/** The agreement's termination as a party sees it: the latest, what the party may do with it, and whether (and how often) a new one may be asked for. */
export async function terminationOf(db: DbOrTx, actor: Actor, agreementId: number) {
  const a = await ownAgreement(db, actor, agreementId);
  const [latest] = await db.select().from(terminations).where(and(eq(terminations.agreementId, a.id), terminationScope(actor))).orderBy(desc(terminations.id)).limit(1);
  const actions = latest ? await availableActions(db, termination, latest, actor) : {};
  let start: Availability = { allowed: false, refusal: '', rule: 'role' };
  let allowance: Awaited<ReturnType<typeof terminationAllowance>> | null = null;
  if (actor.role === 'student') {
    start = await creationAvailability(db, termination, 'apply', newTermination(a, actor, 'graduate', ''), actor);
    allowance = await terminationAllowance({ db }, a);
  } else if (actor.role === 'employer' && a.kind === 'online') {
    start = await creationAvailability(db, termination, 'propose', newTermination(a, actor, 'employer', ''), actor);
  }
  return { agreement: a, latest: latest ?? null, actions, start, allowance, letterRequired: a.kind !== 'online', pages: latest ? await filesInOrder(db, [...latest.letterUploadIds, ...latest.evidenceUploadIds]) : [] };
}


/** Files for a termination (解约函, evidence): checked and stored before the transaction that records them. */
const stage = (storage: Storage, files: IncomingFile[], required: string | null) => stageBatch(storage, files, { field: 'files', max: MAX_FILES, unit: '个文件', required });

/** A termination's files belong to its agreement: its parties and reviewers may open them. */
const record = (tx: Tx, stored: Awaited<ReturnType<typeof stage>>['stored'], purpose: UploadPurpose, uploadedBy: number, agreement: { id: number; schoolId: number }) =>
  recordUploads(tx, stored, { purpose, uploadedBy, agreementId: agreement.id, schoolId: agreement.schoolId });

const ONE_OPEN = '该协议已有一份解约申请在办理中';

/** 申请解约 (the graduate): a reason; for an offline or 补登 agreement also the 解约函. */
export async function applyForTermination(db: Db, storage: Storage, source: Source, agreementId: number, input: unknown, files: IncomingFile[]): Promise<number> {
  if (source.actor.role !== 'student') throw forbidden();
  const { reason } = parseForm(APPLICATION_FORM, input);
  const a = await ownAgreement(db, source.actor, agreementId);
  const { stored, discard } = await stage(storage, files, a.kind === 'online' ? null : '请上传解约函（用人单位同意解约的证明）');
  try {
    return await db.transaction(async (tx) => {
      const [locked] = await tx.select().from(agreements).where(eq(agreements.id, a.id)).for('update');
      const letters = await record(tx, stored, 'termination_letter', source.actor.userId, locked!);
      const created = await create(tx, termination, source, 'apply', { ...newTermination(locked!, source.actor, 'graduate', reason), letterUploadIds: letters });
      if ('refused' in created) throw new DomainError('conflict', created.refused);
      if ('conflict' in created) throw new DomainError('conflict', ONE_OPEN);
      return created.id;
    });
  } catch (e) {
    await discard();
    if (isUniqueViolation(e)) throw new DomainError('conflict', ONE_OPEN);
    throw e;
  }
}

/** 发起解约 / 提交解约申请 (the unit, online agreements): a reason; the graduate answers. */
export async function proposeTermination(db: Db, source: Source, agreementId: number, input: unknown): Promise<number> {
  if (source.actor.role !== 'employer') throw forbidden();
  const { reason } = parseForm(REASON_FORM, input);
  try {
    return await db.transaction(async (tx) => {
      const [a] = await tx.select().from(agreements).where(and(eq(agreements.id, agreementId), agreementScope(source.actor))).for('update');
      if (!a) throw notFound('协议');
      if (a.kind !== 'online') throw new DomainError('illegal_transition', '线下签约和补登的协议由毕业生提交解约函申请解约');
      const created = await create(tx, termination, source, 'propose', newTermination(a, source.actor, 'employer', reason));
      if ('refused' in created) throw new DomainError('conflict', created.refused);
      if ('conflict' in created) throw new DomainError('conflict', ONE_OPEN);
      return created.id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', ONE_OPEN);
    throw e;
  }
}

/** The agreement of a termination the actor may see. */
export async function agreementIdOfTermination(db: DbOrTx, actor: Actor, id: number): Promise<number> {
  const [row] = await db.select({ agreementId: terminations.agreementId }).from(terminations).where(and(eq(terminations.id, id), terminationScope(actor)));
  if (!row) throw notFound('解约申请');
  return row.agreementId;
}

async function lockTermination(tx: Tx, actor: Actor, id: number): Promise<Termination> {
  const [visible] = await tx.select({ id: terminations.id }).from(terminations).where(and(eq(terminations.id, id), terminationScope(actor)));
  if (!visible) throw notFound('解约申请');
  const [row] = await tx.select().from(terminations).where(eq(terminations.id, id)).for('update');
  return row!;
}

export const answerForm = z
  .object({ answer: z.enum(['agree', 'refuse'], { error: '请选择同意或不同意' }), reason: z.string().trim().max(500, { error: '不超过 500 个字' }).optional() })
  .superRefine((f, ctx) => {
    if (f.answer === 'refuse' && !f.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: '不同意时请说明理由' });
  });

/** The other party's 同意 or 不同意. The table decides who may answer (never the initiator). */
export async function answerTermination(db: Db, source: Source, id: number, input: unknown): Promise<TerminationState> {
  const { answer, reason } = parseForm(answerForm, input);
  return db.transaction(async (tx) => {
    const row = await lockTermination(tx, source.actor, id);
    return fire(tx, termination, source, row, answer, { changes: answer === 'refuse' ? { answerReason: reason ?? null } : {}, reason: reason ?? null });
  });
}

/** 强制解约 (school users): a unit left the graduate's request unanswered; a reason and evidence are required. */
export async function forceTermination(db: Db, storage: Storage, source: Source, id: number, input: unknown, files: IncomingFile[]): Promise<TerminationState> {
  if (source.actor.role !== 'school') throw forbidden();
  const { reason } = parseForm(FORCE_FORM, input);
  const { stored, discard } = await stage(storage, files, '请上传证明材料（如与单位协商一致的记录）');
  try {
    return await db.transaction(async (tx) => {
      const row = await lockTermination(tx, source.actor, id);
      if (!offers(termination, row.state, 'force', 'school')) throw new DomainError('illegal_transition', '只有“学生发起解约等待单位应约”的申请可以强制解约，请刷新页面查看最新状态');
      const evidence = await record(tx, stored, 'termination_evidence', source.actor.userId, { id: row.agreementId, schoolId: row.schoolId });
      return fire(tx, termination, source, row, 'force', { changes: { forced: true, evidenceUploadIds: evidence, reviewReason: reason }, reason });
    });
  } catch (e) {
    await discard();
    throw e;
  }
}

/** 退回修改 answered: a new reason and 解约函 go to review again. */
export async function resubmitTermination(db: Db, storage: Storage, source: Source, id: number, input: unknown, files: IncomingFile[]): Promise<TerminationState> {
  if (source.actor.role !== 'student') throw forbidden();
  const { reason } = parseForm(REASON_FORM, input);
  const { stored, discard } = await stage(storage, files, '请上传解约函');
  try {
    return await db.transaction(async (tx) => {
      const row = await lockTermination(tx, source.actor, id);
      const letters = await record(tx, stored, 'termination_letter', source.actor.userId, { id: row.agreementId, schoolId: row.schoolId });
      return fire(tx, termination, source, row, 'resubmit', { changes: { reason, letterUploadIds: letters, reviewReason: null } });
    });
  } catch (e) {
    await discard();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// 解约管理 (school guide 7): the reviewers' list, the detail and the decision.

export const TERMINATION_TABS = {
  agreed: { label: '已同意解约等待学校（学院）审核', states: ['agreed_department_review', 'agreed_school_review'] },
  letter: { label: '解约中', states: ['letter_department_review', 'letter_school_review', 'returned'] },
  awaiting: { label: '学生发起解约等待单位应约', states: ['awaiting_unit'] },
  awaitingGraduate: { label: '单位发起解约等待学生应约', states: ['awaiting_graduate'] },
  terminated: { label: '已解约', states: ['terminated'] },
  failed: { label: '解约失败', states: ['failed'] },
} as const satisfies Record<string, { label: string; states: readonly TerminationState[] }>;
export type TerminationTab = keyof typeof TERMINATION_TABS;
export const TERMINATION_PAGE_SIZE = 20;
const TERMINATION_LIST: StateList = { table: terminations, id: terminations.id, state: terminations.state, updatedAt: terminations.updatedAt };

export async function listTerminations(db: DbOrTx, actor: Actor, query: { tab: TerminationTab; states?: TerminationState[]; departmentId?: number | undefined; q?: string | undefined; page: number; id?: number }) {
  reviewStageOf(actor);
  const states: readonly TerminationState[] = query.states ?? TERMINATION_TABS[query.tab].states;
  const conditions: SQL[] = [terminationScope(actor)];
  if (query.id) conditions.push(eq(terminations.id, query.id));
  if (query.departmentId) conditions.push(eq(terminations.departmentId, query.departmentId));
  const unitName = sql<string>`${agreements.unitSnapshot}->>'name'`;
  if (query.q) {
    // The school's matching graduates and agreements first, then their terminations through the
    // graduate and agreement indexes: never a pass over the whole tab.
    const like = containsPattern(query.q);
    const schoolId = actor.schoolId!;
    const [byGraduate, byUnit] = await Promise.all([
      amongIds(db, terminations.graduateId, () => db.select({ id: graduates.id }).from(graduates).where(and(eq(graduates.schoolId, schoolId), graduateMatches(like)))),
      amongIds(db, terminations.agreementId, () => agreementsOfUnitsLike(db, schoolId, like)),
    ]);
    conditions.push(or(byGraduate, byUnit)!);
  }
  const where = and(...conditions);
  const order = [desc(terminations.updatedAt), desc(terminations.id)];
  // Without a search (or an id) the statement is made of plain values only: built once per key (domain/paging.ts).
  const reuse = query.q || query.id ? undefined : JSON.stringify(['terminations', actor.role, actor.schoolId, actor.departmentId, actor.employerId, actor.graduateId, states, query.departmentId ?? null]);
  const { ids, total, more, pages, page } = await pageByStates(db, TERMINATION_LIST, () => ({ where }), states, query.page, TERMINATION_PAGE_SIZE, reuse);
  const rows =
    ids.length === 0
      ? []
      : await db
          .select({ t: terminations, name: graduates.name, idNumber: graduates.idNumberMasked, department: departments.name, unit: unitName, number: agreements.number })
          .from(terminations)
          .innerJoin(agreements, eq(agreements.id, terminations.agreementId))
          .innerJoin(graduates, eq(graduates.id, terminations.graduateId))
          .innerJoin(departments, eq(departments.id, terminations.departmentId))
          .where(inArray(terminations.id, ids))
          .orderBy(...order);
  return {
    rows: rows.map((r) => ({ ...r.t, name: r.name, idNumber: r.idNumber, department: r.department, unit: r.unit, number: r.number })),
    total,
    more,
    page,
    pages,
  };
}

/** The counts per tab for the reviewer, each capped. */
export async function terminationCounts(db: DbOrTx, actor: Actor) {
  const scope = terminationScope(actor);
  const tabs = Object.entries(TERMINATION_TABS);
  const counts = await cappedCounts(db, terminations, tabs.map(([, tab]) => and(scope, stateIn(terminations.state, tab.states))));
  return tabs.map(([key, tab], i) => ({ key, label: tab.label, ...counts[i]! }));
}

const chainAt = (state: string) => [AGREED_REVIEW, LETTER_REVIEW].flatMap((chain) => REVIEW_STAGES.filter((st) => chain.stages[st] === state).map((stage) => ({ chain, stage })))[0] ?? null;

/** One termination as its reviewer sees it: both parties' reasons, the files, and what may be decided now. */
export async function getTerminationForReview(db: DbOrTx, actor: Actor, id: number) {
  reviewStageOf(actor);
  const [row] = await db.select().from(terminations).where(and(eq(terminations.id, id), terminationScope(actor)));
  if (!row) throw notFound('解约申请');
  const actions = await availableActions(db, termination, row, actor);
  const at = chainAt(row.state);
  return {
    t: row,
    review: at,
    canDecide: actions.approve?.allowed === true,
    canForce: actions.force?.allowed === true,
    /** 学生单方面解约 is recorded by the 通过 that ends the termination: the school's. */
    unilateralOffered: at?.chain === LETTER_REVIEW && at.stage === 'school' && actions.approve?.allowed === true,
    decisions: at && actions.approve?.allowed ? at.chain.decisions.map((d) => ({ value: d, label: DECISION_LABELS[d] })) : [],
    pages: await filesInOrder(db, [...row.letterUploadIds, ...row.evidenceUploadIds]),
  };
}

/** A reviewer's decision; on a 解约函's final 通过 the school may record 学生单方面解约 (school guide 7.2). */
export async function decideTermination(db: Db, source: Source, id: number, input: Record<string, string>): Promise<TerminationState> {
  reviewStageOf(source.actor);
  return db.transaction(async (tx) => {
    const row = await lockTermination(tx, source.actor, id);
    const at = chainAt(row.state);
    if (!at || !offers(termination, row.state, 'approve', source.actor.role)) throw new DomainError('illegal_transition', '该解约申请不在你的审核环节，请刷新页面查看最新状态');
    const { decision, reason } = parseForm(decisionForm(at.chain), input);
    const unilateral = decision === 'approve' && at.chain === LETTER_REVIEW && at.stage === 'school' && input.unilateral === 'on';
    return fire(tx, termination, source, row, decision, {
      changes: decision === 'approve' ? { unilateral } : { reviewReason: reason ?? null },
      reason: unilateral ? '学生单方面解约' : (reason ?? null),
      data: unilateral ? { unilateral: true } : null,
    });
  });
}

/**
 * The digest's other half: a school hears of graduates' terminations that have waited for the
 * unit's answer longer than `days` (a unit gone silent may call for 强制解约). One notice per school user per run.
 */
export async function remindSilentTerminations(tx: Tx, now: Date, days: number): Promise<number> {
  const before = new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
  const waiting = await tx
    .select({ userId: users.id, n: count() })
    .from(terminations)
    .innerJoin(users, and(eq(users.schoolId, terminations.schoolId), eq(users.role, 'school'), eq(users.disabled, false)))
    .where(and(eq(terminations.state, 'awaiting_unit'), lt(terminations.updatedAt, before)))
    .groupBy(users.id);
  for (const w of waiting) {
    await notifyUser(tx, w.userId, { title: '有解约申请长时间未获答复', body: `有 ${w.n} 条学生发起的解约申请等待单位应约已超过 ${days} 天，请核实情况，必要时可强制解约。`, link: '/school/terminations?tab=awaiting' });
  }
  return waiting.length;
}
