import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation, type Db, type DbOrTx, type Tx } from '../../db/client.ts';
import type { Storage } from '../../db/storage.ts';
import { departments, destinationDrafts, destinationRegistrations, events, graduates, uploads } from '../../db/schema/index.ts';
import { ROLE_LABELS, type Role } from '../auth/roles.ts';
import type { Actor } from '../auth/sessions.ts';
import { regionName } from '../codes/regions.ts';
import { NOT_SIGNABLE_TRAINING_MODES } from '../codes/tables.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { amongIds, cappedCounts, containsPattern, pageByStates, stateIn, type StateList } from '../paging.ts';
import type { SchoolSettings } from '../schools/switches.ts';
import { filesInOrder } from '../uploads/files.ts';
import { DECISION_LABELS, decisionForm, reviewStageOf } from '../reviews/chain.ts';
import { recordUploads, stageBatch, type IncomingFile } from '../uploads/store-upload.ts';
import { availableActions, create, creationAvailability, eventLabel, fire, inGroup, KNOWN, offers, type Availability } from '../workflow/kernel.ts';
import { lockDestination } from './current.ts';
import type { DestinationState } from './states.ts';
import {
  codeOfType,
  describe,
  DESTINATION_SCHEMAS,
  detailsOf,
  draftValuesOf,
  formValuesOf,
  isDestinationType,
  isDirected,
  proofOf,
  typeChoices,
  typeLabel,
  type DestinationType,
  type Details,
} from './types.ts';
import { DESTINATION_REVIEW, destinationRegistration, G9_DIRECTED_ONLY, G9_NOT_DIRECTED, type DestinationRegistration, type NewDestinationRegistration } from './workflow.ts';
import { graduateMatches } from '../graduates/roster.ts';

// The use cases of 去向登记: the graduate's form (暂存, proofs, 提交, 撤回修改, 作废), the reviewers'
// 去向登记管理 (the list, the review, the S9 change). Each loads what the actor may touch and fires
// the table (workflow.ts).
type Source = EventSource & { actor: Actor };

/** Proof files one registration may carry. */
export const MAX_PROOFS = 5;
const wf = destinationRegistration;

/** Which registrations an actor sees: the graduate's own, the school's, the department's. Units and others never. */
export function destinationScope(actor: Actor): SQL {
  switch (actor.role) {
    case 'student':
      if (actor.graduateId !== null) return eq(destinationRegistrations.graduateId, actor.graduateId);
      break;
    case 'school':
      if (actor.schoolId !== null) return eq(destinationRegistrations.schoolId, actor.schoolId);
      break;
    case 'department':
      if (actor.schoolId !== null && actor.departmentId !== null) return and(eq(destinationRegistrations.schoolId, actor.schoolId), eq(destinationRegistrations.departmentId, actor.departmentId))!;
      break;
  }
  throw forbidden();
}

function graduateOf(actor: Actor): number {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  return actor.graduateId;
}

async function graduateRow(db: DbOrTx, graduateId: number) {
  const [g] = await db.select().from(graduates).where(eq(graduates.id, graduateId));
  if (!g) throw notFound('毕业生');
  return g;
}

const directedOnly = (trainingMode: string) => (NOT_SIGNABLE_TRAINING_MODES as readonly string[]).includes(trainingMode);

/** The graduate's standing registration (under review, back with them, or approved), if any. */
async function standing(db: DbOrTx, graduateId: number): Promise<DestinationRegistration | null> {
  const [row] = await db
    .select()
    .from(destinationRegistrations)
    .where(and(eq(destinationRegistrations.graduateId, graduateId), inArray(destinationRegistrations.state, [...wf.groups.live])))
    .limit(1);
  return row ?? null;
}

async function draftRow(db: DbOrTx, graduateId: number) {
  const [d] = await db.select().from(destinationDrafts).where(eq(destinationDrafts.graduateId, graduateId));
  return d ?? null;
}

/** Whether the graduate may register a destination of this type now (S4, G2, G9, G4, G10), or why not. */
async function mayRegister(db: DbOrTx, actor: Actor, type: DestinationType): Promise<Availability> {
  const g = await graduateRow(db, graduateOf(actor));
  return creationAvailability(db, wf, 'submit', newRegistration(g, type, {}), actor);
}

function newRegistration(g: { id: number; schoolId: number; departmentId: number; cohort: number }, type: DestinationType, details: Details): NewDestinationRegistration {
  return { graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort, type, code: codeOfType(type), details };
}

/**
 * The graduate home's 毕业去向 card: the entrance (无需就业协议去向登记, or for 定向/委培 graduates
 * their 补充登记) when it is open or something is in hand, and the standing registration.
 */
export async function destinationEntry(
  db: DbOrTx,
  actor: Actor,
  known: {
    graduate: { id: number; schoolId: number; departmentId: number; cohort: number; trainingMode: string; removedAt: Date | null };
    activeAgreementState: string | null;
    school: SchoolSettings;
    /** The graduate's latest registrations, newest first (graduateHome reads them with the record). */
    latest: ReadonlyArray<Pick<DestinationRegistration, 'id' | 'state' | 'type'>>;
  },
) {
  const { graduate: g, latest } = known;
  const directed = directedOnly(g.trainingMode);
  // The standing one (G10: at most one) and the record.
  const current = latest.find((r) => inGroup(wf.groups.live, r.state)) ?? null;
  const past = latest.filter((r) => inGroup(wf.groups.terminal, r.state)).slice(0, 5);
  // With a registration standing, another cannot be started (G10): only that one is followed or edited.
  const availability: Availability | null = current
    ? null
    : await creationAvailability(db, wf, 'submit', newRegistration(g, typeChoices(directed)[0]!.options[0]!.value, {}), actor, new Date(), { [KNOWN.roster]: g, [KNOWN.standing]: null, [KNOWN.activeAgreement]: known.activeAgreementState, [KNOWN.school]: known.school });
  return {
    title: directed ? '定向/委培毕业去向补充登记' : '无需就业协议去向登记',
    open: availability?.allowed === true || (current !== null && inGroup(wf.groups.editable, current.state)),
    // S4: while the school's switch is off the entrance is hidden, not explained.
    refusal: !availability || availability.allowed || availability.rule === 'S4' ? null : availability.refusal,
    current: current && { id: current.id, state: current.state, stateLabel: wf.labels.graduate[current.state], typeLabel: typeLabel(current.type as DestinationType) },
    /** Rejected and voided ones, the latest first: the record the school keeps too. */
    past: past.map((r) => ({ id: r.id, stateLabel: wf.labels.graduate[r.state], typeLabel: typeLabel(r.type as DestinationType) })),
  };
}

/** What a signing's confirmation page warns of (its kernel effect voids the standing registration), or null. */
export async function supersedeWarning(db: DbOrTx, graduateId: number): Promise<string | null> {
  const r = await standing(db, graduateId);
  return r && `提交后，你登记的毕业去向“${typeLabel(r.type as DestinationType)}”（${wf.labels.graduate[r.state]}）将自动作废，且不能恢复；如签约未成功，需要重新登记。`;
}

/**
 * The form as the graduate left it: the draft (暂存), else the registration being edited, else
 * empty, with the type asked for in the URL; the proofs; whether the graduate may submit, or why not.
 */
export async function registrationFormState(db: DbOrTx, actor: Actor, typeAsked?: string) {
  const g = await graduateRow(db, graduateOf(actor));
  const directed = directedOnly(g.trainingMode);
  const [draft, current] = await Promise.all([draftRow(db, g.id), standing(db, g.id)]);
  const editing = current && inGroup(wf.groups.editable, current.state) ? current : null;
  const choices = typeChoices(directed);
  const allowedTypes = choices.flatMap((c) => c.options.map((o) => o.value));
  const kept = draft?.type ?? editing?.type;
  const type = [typeAsked, kept, directed ? allowedTypes[0] : undefined].find((t): t is DestinationType => isDestinationType(t) && allowedTypes.includes(t)) ?? null;
  const availability: Availability = editing ? { allowed: true } : await mayRegister(db, actor, type ?? allowedTypes[0]!);
  const proofIds = draft?.proofUploadIds ?? editing?.proofUploadIds ?? [];
  return {
    type,
    choices,
    values: draft?.values ?? (editing ? formValuesOf(editing.details) : {}),
    proofs: await filesInOrder(db, proofIds),
    editing,
    standing: current,
    availability,
    saved: draft?.updatedAt ?? null,
  };
}


function typeOf(input: Record<string, string>): DestinationType {
  if (!isDestinationType(input.type)) throw new DomainError('invalid', '请选择毕业去向类型', { type: '请选择毕业去向类型' });
  return input.type;
}

/** Before anything is kept: the graduate may pick this type (G9), and may register (or is editing). */
async function mayKeep(db: DbOrTx, actor: Actor, type: DestinationType) {
  const g = await graduateRow(db, graduateOf(actor));
  if (isDirected(type) !== directedOnly(g.trainingMode)) throw new DomainError('forbidden', isDirected(type) ? G9_NOT_DIRECTED : G9_DIRECTED_ONLY);
  const current = await standing(db, g.id);
  if (current && inGroup(wf.groups.editable, current.state)) return { g, editing: current };
  const may = await mayRegister(db, actor, type);
  if (!may.allowed) throw new DomainError(may.rule === 'G9' ? 'forbidden' : 'conflict', may.refusal);
  return { g, editing: null };
}

/** 暂存: the type and the fields as typed, on the server; nothing is checked but the graduate's right to register. */
export async function saveDraft(db: DbOrTx, actor: Actor, input: Record<string, string>): Promise<void> {
  const type = typeOf(input);
  const { g, editing } = await mayKeep(db, actor, type);
  const values = draftValuesOf(input);
  const existing = await draftRow(db, g.id);
  const proofUploadIds = existing?.proofUploadIds ?? editing?.proofUploadIds ?? [];
  await db
    .insert(destinationDrafts)
    .values({ graduateId: g.id, type, values, proofUploadIds })
    .onConflictDoUpdate({ target: destinationDrafts.graduateId, set: { type, values, updatedAt: new Date() } });
}

const stageProofs = (storage: Storage, files: IncomingFile[], already: number) =>
  stageBatch(storage, files, { field: 'proofs', max: MAX_PROOFS, unit: '个文件', already, required: '请选择要上传的证明材料' });

/** Proof files for the draft, checked and stored; the draft lists them. Call after saveDraft. */
export async function addDraftProofs(db: Db, storage: Storage, actor: Actor, files: IncomingFile[]): Promise<void> {
  const graduateId = graduateOf(actor);
  const current = (await draftRow(db, graduateId))?.proofUploadIds ?? [];
  const { stored, discard } = await stageProofs(storage, files, current.length);
  try {
    await db.transaction(async (tx) => {
      const ids = await recordUploads(tx, stored, { purpose: 'destination_proof', uploadedBy: actor.userId });
      const [draft] = await tx.select().from(destinationDrafts).where(eq(destinationDrafts.graduateId, graduateId)).for('update');
      if (!draft) throw new DomainError('conflict', '请先选择毕业去向类型');
      await tx.update(destinationDrafts).set({ proofUploadIds: [...draft.proofUploadIds, ...ids], updatedAt: new Date() }).where(eq(destinationDrafts.graduateId, graduateId));
    });
  } catch (e) {
    await discard();
    throw e;
  }
}

/** Takes one proof off the draft (the file stays on record if a registration already showed it). */
export async function removeDraftProof(db: Db, actor: Actor, uploadId: string): Promise<void> {
  const graduateId = graduateOf(actor);
  await db.transaction(async (tx) => {
    let draft = await draftRow(tx, graduateId);
    if (!draft) {
      const editing = await standing(tx, graduateId);
      if (!editing || !inGroup(wf.groups.editable, editing.state)) throw notFound('文件');
      await tx.insert(destinationDrafts).values({ graduateId, type: editing.type, values: formValuesOf(editing.details), proofUploadIds: editing.proofUploadIds });
      draft = (await draftRow(tx, graduateId))!;
    }
    if (!draft.proofUploadIds.includes(uploadId)) throw notFound('文件');
    await tx.update(destinationDrafts).set({ proofUploadIds: draft.proofUploadIds.filter((p) => p !== uploadId), updatedAt: new Date() }).where(eq(destinationDrafts.graduateId, graduateId));
  });
}

/** The draft checked for 提交, with its type's schema and proof: the registration as it will be, for the confirmation page. */
export async function checkSubmission(db: DbOrTx, actor: Actor) {
  const graduateId = graduateOf(actor);
  const [draft, current] = await Promise.all([draftRow(db, graduateId), standing(db, graduateId)]);
  const editing = current && inGroup(wf.groups.editable, current.state) ? current : null;
  const values = draft?.values ?? (editing ? formValuesOf(editing.details) : {});
  const type = typeOf({ type: draft?.type ?? editing?.type ?? '' });
  await mayKeep(db, actor, type);
  const parsed = parseForm(DESTINATION_SCHEMAS[type], values);
  const proofs = draft?.proofUploadIds ?? editing?.proofUploadIds ?? [];
  const proof = proofOf(type);
  if (proof && proofs.length === 0) throw new DomainError('invalid', `请上传${proof.label}`, { proofs: `请上传${proof.label}` });
  const details = detailsOf(type, parsed);
  return { type, details, proofs: proof ? proofs : [], editing, described: describe(type, details, regionName) };
}

const ONE_STANDING = '你已有一条去向登记在办理中或已审核通过，请先处理该登记';

/** 提交 after the confirmation: a new registration, or the edited one again; the draft is done with. */
export async function submitRegistration(db: Db, source: Source): Promise<number> {
  const graduateId = graduateOf(source.actor);
  try {
    return await db.transaction(async (tx) => {
      // A signing of the same graduate waits for this, or this sees it (current.ts).
      await lockDestination(tx, graduateId);
      const { type, details, proofs, editing } = await checkSubmission(tx, source.actor);
      const content = { type, code: codeOfType(type), details, proofUploadIds: proofs };
      let id: number;
      if (editing) {
        const [locked] = await tx.select().from(destinationRegistrations).where(eq(destinationRegistrations.id, editing.id)).for('update');
        // The guards look at the registration as it will be (its new type, for G9).
        await fire(tx, wf, source, { ...locked!, ...content }, 'resubmit', { changes: { ...content, reviewReason: null } });
        id = editing.id;
      } else {
        const g = await graduateRow(tx, graduateId);
        const created = await create(tx, wf, source, 'submit', { ...newRegistration(g, type, details), proofUploadIds: proofs });
        if ('refused' in created) throw new DomainError(created.rule === 'G9' ? 'forbidden' : 'conflict', created.refused);
        if ('conflict' in created) throw new DomainError('conflict', ONE_STANDING);
        id = created.id;
      }
      if (proofs.length) await tx.update(uploads).set({ destinationId: id, schoolId: source.actor.schoolId }).where(inArray(uploads.id, proofs));
      await tx.delete(destinationDrafts).where(eq(destinationDrafts.graduateId, graduateId));
      return id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', ONE_STANDING);
    throw e;
  }
}

/** One registration the actor may see. */
export async function getRegistration(db: DbOrTx, actor: Actor, id: number): Promise<DestinationRegistration> {
  const [row] = await db.select().from(destinationRegistrations).where(and(eq(destinationRegistrations.id, id), destinationScope(actor)));
  if (!row) throw notFound('去向登记');
  return row;
}

/** The registration locked for a change, after the graduate's destination lock (the order every path takes). */
async function lockRegistration(tx: Tx, actor: Actor, id: number): Promise<DestinationRegistration> {
  const visible = await getRegistration(tx, actor, id);
  await lockDestination(tx, visible.graduateId);
  const [row] = await tx.select().from(destinationRegistrations).where(eq(destinationRegistrations.id, id)).for('update');
  return row!;
}

/** 撤回修改 (G7): before a reviewer acts; the form opens with what was submitted. */
export async function withdrawRegistration(db: Db, source: Source, id: number): Promise<DestinationState> {
  graduateOf(source.actor);
  return db.transaction(async (tx) => fire(tx, wf, source, await lockRegistration(tx, source.actor, id), 'withdraw'));
}

/** 作废 (G10): an approved registration, by the graduate, with no review. */
export async function voidRegistration(db: Db, source: Source, id: number): Promise<DestinationState> {
  graduateOf(source.actor);
  return db.transaction(async (tx) => fire(tx, wf, source, await lockRegistration(tx, source.actor, id), 'void', { changes: { voidCause: 'graduate' } }));
}

export type Amendment = { label: string; from: string; to: string };

/** X1: the registration's timeline; S9 changes carry what they changed (old → new). */
export async function registrationTimeline(db: DbOrTx, id: number) {
  const rows = await db
    .select({ at: events.occurredAt, action: events.action, role: events.actorRole, fromState: events.fromState, toState: events.toState, reason: events.reason, data: events.data })
    .from(events)
    .where(and(eq(events.subjectType, wf.subject), eq(events.subjectId, String(id))))
    .orderBy(asc(events.id));
  return rows.map((r) => ({
    at: r.at,
    what: eventLabel(wf, r.action, r.fromState, r.toState),
    who: r.role && Object.hasOwn(ROLE_LABELS, r.role) ? ROLE_LABELS[r.role as Role] : '系统',
    reason: r.reason,
    changes: ((r.data as { changes?: Amendment[] } | null)?.changes ?? []) as Amendment[],
  }));
}

/** A registration as a page shows it: type, fields in its words, proofs, and its state in the audience's words. */
export async function registrationView(db: DbOrTx, r: DestinationRegistration, audience: 'graduate' | 'reviewer') {
  const type = r.type as DestinationType;
  return {
    id: r.id,
    state: r.state,
    stateLabel: wf.labels[audience][r.state],
    type,
    typeLabel: typeLabel(type),
    code: r.code,
    fields: describe(type, r.details, regionName),
    proofLabel: proofOf(type)?.label ?? null,
    proofs: await filesInOrder(db, r.proofUploadIds),
    reviewReason: r.reviewReason,
    voidCause: r.voidCause,
    updatedAt: r.updatedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// 去向登记管理 (school guide 8): the reviewers' list, the review and the S9 change.

export const DESTINATION_TABS = {
  review: { label: '去向登记审核中', states: ['department_review', 'school_review', 'returned', 'withdrawn'] },
  rejected: { label: '去向登记审核不通过', states: ['rejected'] },
  approved: { label: '去向登记审核通过', states: ['approved'] },
  voided: { label: '已作废', states: ['voided'] },
} as const satisfies Record<string, { label: string; states: readonly DestinationState[] }>;
export type DestinationTab = keyof typeof DESTINATION_TABS;
export const DESTINATION_PAGE_SIZE = 20;
const DESTINATION_LIST: StateList = { table: destinationRegistrations, id: destinationRegistrations.id, state: destinationRegistrations.state, updatedAt: destinationRegistrations.updatedAt };
export type DestinationQuery = { tab: DestinationTab; states?: readonly DestinationState[]; departmentId?: number | undefined; major?: string | undefined; type?: DestinationType | undefined; q?: string | undefined; page: number; id?: number };

export async function listRegistrations(db: DbOrTx, actor: Actor, query: DestinationQuery) {
  reviewStageOf(actor);
  const conditions: SQL[] = [destinationScope(actor)];
  if (query.id) conditions.push(eq(destinationRegistrations.id, query.id));
  if (query.departmentId) conditions.push(eq(destinationRegistrations.departmentId, query.departmentId));
  if (query.type) conditions.push(eq(destinationRegistrations.type, query.type));
  const schoolId = actor.schoolId!;
  if (query.major) conditions.push(await amongIds(db, destinationRegistrations.graduateId, () => db.select({ id: graduates.id }).from(graduates).where(and(eq(graduates.schoolId, schoolId), eq(graduates.majorName, query.major!)))));
  if (query.q) {
    // The school's matching graduates first (read once for the page and its count), then their registrations.
    const like = containsPattern(query.q);
    conditions.push(await amongIds(db, destinationRegistrations.graduateId, () => db.select({ id: graduates.id }).from(graduates).where(and(eq(graduates.schoolId, schoolId), graduateMatches(like)))));
  }
  const states = query.states ?? DESTINATION_TABS[query.tab].states;
  // Without a search, a major (a list of ids), an id or a type, the statement is made of plain values only: built once per key
  // and run with one generic plan (domain/paging.ts). A type is left out: how many registrations have it varies too much
  // for one plan (at a million registrations the generic plan took 110 ms where the planner's own for the type takes 25).
  const reuse = query.q || query.major || query.id || query.type ? undefined : JSON.stringify(['registrations', actor.role, actor.schoolId, actor.departmentId, actor.employerId, actor.graduateId, states, query.departmentId ?? null]);
  const { ids, total, more, pages, page } = await pageByStates(db, DESTINATION_LIST, () => ({ where: and(...conditions) }), states, query.page, DESTINATION_PAGE_SIZE, reuse);
  const rows =
    ids.length === 0
      ? []
      : await db
          .select({ r: destinationRegistrations, name: graduates.name, idNumber: graduates.idNumberMasked, studentNo: graduates.studentNo, major: graduates.majorName, department: departments.name })
          .from(destinationRegistrations)
          .innerJoin(graduates, eq(graduates.id, destinationRegistrations.graduateId))
          .innerJoin(departments, eq(departments.id, destinationRegistrations.departmentId))
          .where(inArray(destinationRegistrations.id, ids))
          .orderBy(desc(destinationRegistrations.updatedAt), desc(destinationRegistrations.id));
  return {
    rows: rows.map((x) => ({
      id: x.r.id,
      state: x.r.state,
      stateLabel: wf.labels.reviewer[x.r.state],
      typeLabel: typeLabel(x.r.type as DestinationType),
      name: x.name,
      idNumber: x.idNumber,
      studentNo: x.studentNo,
      major: x.major,
      department: x.department,
      updatedAt: x.r.updatedAt,
      canDecide: offers(wf, x.r.state, 'approve', actor.role),
    })),
    total,
    more,
    page,
    pages,
  };
}

/** The reviewer's counts per tab, each capped. */
export async function registrationCounts(db: DbOrTx, actor: Actor) {
  const scope = destinationScope(actor);
  const tabs = Object.entries(DESTINATION_TABS);
  const counts = await cappedCounts(db, destinationRegistrations, tabs.map(([, tab]) => and(scope, stateIn(destinationRegistrations.state, tab.states))));
  return tabs.map(([key, tab], i) => ({ key, label: tab.label, ...counts[i]! }));
}

/** One registration as its reviewer sees it: the graduate (ID masked), the record, and what the reviewer may do now. */
export async function getRegistrationForReview(db: DbOrTx, actor: Actor, id: number) {
  reviewStageOf(actor);
  const r = await getRegistration(db, actor, id);
  const [g] = await db
    .select({ name: graduates.name, idNumber: graduates.idNumberMasked, studentNo: graduates.studentNo, major: graduates.majorName, trainingMode: graduates.trainingMode, department: departments.name })
    .from(graduates)
    .innerJoin(departments, eq(departments.id, graduates.departmentId))
    .where(eq(graduates.id, r.graduateId));
  const actions = await availableActions(db, wf, r, actor);
  return {
    r,
    graduate: g!,
    directedOnly: directedOnly(g!.trainingMode),
    canDecide: actions.approve?.allowed === true,
    canAmend: actions.amend?.allowed === true,
    decisions: actions.approve?.allowed ? DESTINATION_REVIEW.decisions.map((d) => ({ value: d, label: DECISION_LABELS[d] })) : [],
  };
}

const NOT_YOUR_STAGE = '该去向登记不在你的审核环节，请刷新页面查看最新状态';

/** A reviewer's decision at the registration's stage: 通过, or 退回修改 / 不通过 with the reason the graduate reads. */
export async function decideRegistration(db: Db, source: Source, id: number, input: unknown): Promise<DestinationState> {
  reviewStageOf(source.actor);
  return db.transaction(async (tx) => {
    const row = await lockRegistration(tx, source.actor, id);
    if (!offers(wf, row.state, 'approve', source.actor.role)) throw new DomainError('illegal_transition', NOT_YOUR_STAGE);
    const { decision, reason } = parseForm(decisionForm(DESTINATION_REVIEW), input);
    return fire(tx, wf, source, row, decision, { changes: decision === 'approve' ? { reviewReason: null } : { reviewReason: reason ?? null }, reason: reason ?? null });
  });
}

const AGREED = z.literal('on', { error: '请先与毕业生沟通确认一致，并勾选确认' });
const AGREED_FORM = z.object({ agreed: AGREED });

/**
 * S9: the reviewer at the registration's stage changes its type and fields (proofs stay), having
 * agreed it with the graduate; the change is recorded old → new and the graduate is told (G11).
 */
export async function amendRegistration(db: Db, source: Source, id: number, input: Record<string, string>): Promise<Amendment[]> {
  reviewStageOf(source.actor);
  const type = typeOf(input);
  const parsed = parseForm(DESTINATION_SCHEMAS[type], input);
  parseForm(AGREED_FORM, input);
  return db.transaction(async (tx) => {
    const row = await lockRegistration(tx, source.actor, id);
    if (!offers(wf, row.state, 'amend', source.actor.role)) throw new DomainError('illegal_transition', NOT_YOUR_STAGE);
    const details = detailsOf(type, parsed);
    const changes = diff(row.type as DestinationType, row.details, type, details);
    if (changes.length === 0) throw new DomainError('invalid', '没有修改任何内容');
    // A type that asks a proof the graduate never uploaded cannot be made so: the graduate supplies it (退回修改).
    const proof = proofOf(type);
    if (proof && row.proofUploadIds.length === 0) {
      const refusal = `该去向类型需要${proof.label}，毕业生尚未上传。请与毕业生沟通后选择“退回修改”，由毕业生补充材料`;
      throw new DomainError('invalid', refusal, { type: refusal });
    }
    await fire(tx, wf, source, { ...row, type, details }, 'amend', { changes: { type, code: codeOfType(type), details }, data: { changes } });
    return changes;
  });
}

/** What an S9 change changed, in the reviewer's and graduate's words. */
function diff(fromType: DestinationType, from: Details, toType: DestinationType, to: Details): Amendment[] {
  const changes: Amendment[] = [];
  if (fromType !== toType) changes.push({ label: '去向类型', from: typeLabel(fromType), to: typeLabel(toType) });
  const before = new Map(describe(fromType, from, regionName).map((f) => [f.label, f.value]));
  for (const f of describe(toType, to, regionName)) {
    const old = before.get(f.label) ?? '';
    if (old !== f.value) changes.push({ label: f.label, from: old, to: f.value });
  }
  return changes;
}

export { typeChoices, typeLabel };
export type { NewDestinationRegistration };
