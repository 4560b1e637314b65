import { and, asc, desc, eq, ilike, inArray, isNull } from 'drizzle-orm';
import { isUniqueViolation, type Db, type DbOrTx, type Tx } from '../../../db/client.ts';
import { agreementDrafts, agreements, assistLinks, employers, graduates, uploads } from '../../../db/schema/index.ts';
import type { Storage } from '../../../db/storage.ts';
import type { Actor } from '../../auth/sessions.ts';
import { cityOptionOf } from '../../codes/regions.ts';
import { checkUscc } from '../../codes/uscc.ts';
import { DomainError, forbidden, notFound } from '../../errors.ts';
import type { EventSource } from '../../events.ts';
import { parseForm } from '../../forms.ts';
import { recordUploads, stageBatch, type IncomingFile } from '../../uploads/store-upload.ts';
import type { UploadPurpose } from '../../uploads/purposes.ts';
import { create, creationAvailability, fire, KNOWN, type AnyWorkflow, type Availability } from '../../workflow/kernel.ts';
import type { SchoolSettings } from '../../schools/switches.ts';
import { inAgreementGroup } from '../kinds.ts';
import { ONE_AT_A_TIME, offlineSigning } from '../offline/workflow.ts';
import { partySnapshots } from '../parties.ts';
import { paperRegistration } from '../registered/workflow.ts';
import type { Agreement } from '../rows.ts';
import { applicationForm, draftOf, formValuesOf, termsOf, unitSnapshotOf } from './form.ts';
import { containsPattern } from '../../paging.ts';

// The graduate's applications: 未签就业协议申请签约 (offline) and 已签就业协议登记信息 (补登). The form
// is kept on the server as typed (暂存); 提交 validates it, freezes the graduate's record and goes
// through the kind's table, which holds the switches, G2/G9 and G4. After 撤回修改 or 退回修改 the same
// form edits the application and 提交 resubmits it.
type Source = EventSource & { actor: Actor };

export type ApplicationKind = 'offline' | 'registered';
/** Each application's table (both have submit, withdraw, resubmit, abandon and an `editable` group), and whether pages come with the form. */
export const APPLICATION_KINDS: Record<ApplicationKind, { workflow: AnyWorkflow; pagesRequired: boolean }> = {
  offline: { workflow: offlineSigning, pagesRequired: false },
  registered: { workflow: paperRegistration, pagesRequired: true },
};

/** Pages of a stamped or paper agreement one upload may carry (MAX_BATCH_BYTES in all), and their purpose. */
export const MAX_PAGES = 10;
const PAGE_PURPOSE: Record<ApplicationKind, UploadPurpose> = { offline: 'agreement_copy', registered: 'paper_agreement' };

function graduateOf(actor: Actor): number {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  return actor.graduateId;
}

async function graduateRow(db: DbOrTx, graduateId: number) {
  const [g] = await db.select().from(graduates).where(eq(graduates.id, graduateId));
  if (!g) throw notFound('毕业生');
  return g;
}

/** The graduate's application of this kind waiting to be edited and resubmitted (撤回修改, 退回修改), if any. */
async function editableApplication(db: DbOrTx, graduateId: number, kind: ApplicationKind): Promise<Agreement | null> {
  const rows = await db
    .select()
    .from(agreements)
    .where(and(eq(agreements.graduateId, graduateId), eq(agreements.kind, kind), inArray(agreements.state, [...(APPLICATION_KINDS[kind].workflow.groups.editable as Agreement['state'][])])))
    .orderBy(desc(agreements.id))
    .limit(1);
  return rows[0] ?? null;
}

async function draftRow(db: DbOrTx, graduateId: number, kind: ApplicationKind) {
  const [d] = await db.select().from(agreementDrafts).where(and(eq(agreementDrafts.graduateId, graduateId), eq(agreementDrafts.kind, kind)));
  return d ?? null;
}

type KnownGraduate = { id: number; schoolId: number; departmentId: number; trainingMode: string; removedAt: Date | null };

/**
 * Whether the graduate may start an application of this kind now (S4, G2/G9, G4), or why not.
 * `known`: the roster row and the guards' facts (creationAvailability's `known`) a caller has read.
 */
export async function mayApply(db: DbOrTx, actor: Actor, kind: ApplicationKind, known?: { graduate: KnownGraduate; facts: Record<string, unknown> }): Promise<Availability> {
  const g = known?.graduate ?? (await graduateRow(db, graduateOf(actor)));
  return creationAvailability(db, APPLICATION_KINDS[kind].workflow, 'submit', { graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId } as never, actor, new Date(), known?.facts);
}

/**
 * The entrances on the graduate home: each application the graduate may start now, or has in hand (a
 * draft, one to edit). The home has read the roster row, the agreements, the active one's state and
 * the school's settings already; the guards are answered from them, and only the drafts are read here
 * (issue 14), unless the home has read them too.
 */
export async function applicationEntries(
  db: DbOrTx,
  actor: Actor,
  known: { graduate: KnownGraduate; agreements: ReadonlyArray<Pick<Agreement, 'kind' | 'state'>>; activeAgreementState: string | null; school: SchoolSettings; drafts: ReadonlyArray<{ kind: string }> },
): Promise<ApplicationKind[]> {
  const { graduate: g } = known;
  const { drafts } = known;
  const facts = { [KNOWN.roster]: { trainingMode: g.trainingMode, removedAt: g.removedAt }, [KNOWN.activeAgreement]: known.activeAgreementState, [KNOWN.school]: known.school };
  const kinds: ApplicationKind[] = ['offline', 'registered'];
  const open = await Promise.all(
    kinds.map(async (kind) => {
      const editable = APPLICATION_KINDS[kind].workflow.groups.editable as readonly string[];
      if (drafts.some((d) => d.kind === kind) || known.agreements.some((a) => a.kind === kind && editable.includes(a.state))) return true;
      return (await mayApply(db, actor, kind, { graduate: g, facts })).allowed;
    }),
  );
  return kinds.filter((_, i) => open[i]);
}

/**
 * The form as the graduate left it: the draft (暂存), else the application being edited, else
 * empty; the pages uploaded with it; whether the graduate may submit, or why not.
 */
export async function applicationFormState(db: DbOrTx, actor: Actor, kind: ApplicationKind) {
  const graduateId = graduateOf(actor);
  const [draft, editing] = await Promise.all([draftRow(db, graduateId, kind), editableApplication(db, graduateId, kind)]);
  const availability: Availability = editing ? { allowed: true } : await mayApply(db, actor, kind);
  const pageIds = draft?.pageUploadIds ?? editing?.copyUploadIds ?? [];
  const pages = pageIds.length ? await db.select({ id: uploads.id, mime: uploads.mime, originalName: uploads.originalName }).from(uploads).where(inArray(uploads.id, pageIds)).orderBy(asc(uploads.createdAt)) : [];
  return {
    values: draft?.values ?? (editing ? formValuesOf(editing) : { archiveMode: 'none' }),
    pages,
    editing,
    availability,
    saved: draft?.updatedAt ?? null,
  };
}


/** 暂存: the form as typed, on the server; nothing is checked but its size. */
export async function saveDraft(db: DbOrTx, actor: Actor, kind: ApplicationKind, input: Record<string, string>): Promise<void> {
  const graduateId = graduateOf(actor);
  const values = draftOf(input);
  const editing = await editableApplication(db, graduateId, kind);
  // While an application is under way (and not back with the graduate), there is nothing to draft.
  if (!editing) {
    const may = await mayApply(db, actor, kind);
    if (!may.allowed) throw new DomainError('conflict', may.refusal);
  }
  const pageUploadIds = editing && !(await draftRow(db, graduateId, kind)) ? editing.copyUploadIds : undefined;
  await db
    .insert(agreementDrafts)
    .values({ graduateId, kind, values, pageUploadIds: pageUploadIds ?? [] })
    .onConflictDoUpdate({ target: [agreementDrafts.graduateId, agreementDrafts.kind], set: { values, updatedAt: new Date() } });
}

/** 点击搜索: units on the platform (verified) whose name contains the words, to pre-fill the form. */
export async function searchUnits(db: DbOrTx, q: string) {
  const words = q.trim().slice(0, 50);
  if (words.length < 2) return [];
  return db
    .select({ id: employers.id, name: employers.name, uscc: employers.uscc })
    .from(employers)
    .where(and(eq(employers.verification, 'verified'), ilike(employers.name, containsPattern(words))))
    .orderBy(asc(employers.name))
    .limit(10);
}

/** A unit picked from the search fills the form's unit fields (the rest as typed) and is kept as the draft; its contacts stay the unit's own. */
export async function pickUnit(db: DbOrTx, actor: Actor, kind: ApplicationKind, employerId: number, input: Record<string, string>): Promise<void> {
  if (!Number.isSafeInteger(employerId) || employerId <= 0) throw notFound('单位');
  const [unit] = await db.select().from(employers).where(and(eq(employers.id, employerId), eq(employers.verification, 'verified')));
  if (!unit) throw notFound('单位');
  await saveDraft(db, actor, kind, {
    ...input,
    unitName: unit.name,
    uscc: unit.uscc,
    employerType: unit.employerType,
    industry: unit.industry,
    region: cityOptionOf(unit.region) ?? '',
    address: unit.address,
  });
}

/** The draft checked for 提交: the agreement as it will be submitted, for the confirmation page; refused with field messages otherwise. */
export async function checkSubmission(db: DbOrTx, actor: Actor, kind: ApplicationKind) {
  const graduateId = graduateOf(actor);
  const draft = await draftRow(db, graduateId, kind);
  const editing = await editableApplication(db, graduateId, kind);
  if (!editing) {
    const may = await mayApply(db, actor, kind);
    if (!may.allowed) throw new DomainError('conflict', may.refusal);
  }
  const form = parseForm(applicationForm, draft?.values ?? (editing ? formValuesOf(editing) : {}));
  const pages = draft?.pageUploadIds ?? editing?.copyUploadIds ?? [];
  if (APPLICATION_KINDS[kind].pagesRequired && pages.length === 0) throw new DomainError('invalid', '请上传纸质就业协议书的照片或扫描件', { pages: '请上传纸质就业协议书的照片或扫描件' });
  return { form, pages, editing, usccCheckPassed: checkUscc(form.uscc).checkDigit };
}

/** 提交 after the confirmation: a new application, or the edited one again; the draft is done with. */
export async function submitApplication(db: Db, source: Source, kind: ApplicationKind): Promise<number> {
  const graduateId = graduateOf(source.actor);
  const { workflow } = APPLICATION_KINDS[kind];
  try {
    return await db.transaction(async (tx) => {
      const { form, pages, editing } = await checkSubmission(tx, source.actor, kind);
      const g = await graduateRow(tx, graduateId);
      const [platformUnit] = await tx.select({ id: employers.id }).from(employers).where(and(eq(employers.uscc, form.uscc), eq(employers.verification, 'verified')));
      const { graduateSnapshot, schoolSnapshot } = await partySnapshots(tx, graduateId);
      // The unit is the platform's when the USCC is a verified unit's: the agreement also reaches that unit.
      const content = { ...termsOf(form), unitSnapshot: unitSnapshotOf(form), employerId: platformUnit?.id ?? null, graduateSnapshot, schoolSnapshot, copyUploadIds: kind === 'registered' ? pages : [] };
      let id: number;
      if (editing) {
        const [locked] = await tx.select().from(agreements).where(eq(agreements.id, editing.id)).for('update');
        await fire(tx, workflow, source, locked!, 'resubmit', { changes: { ...content, reviewReason: null } });
        id = editing.id;
      } else {
        const created = await create(tx, workflow, source, 'submit', { kind, graduateId, schoolId: g.schoolId, departmentId: g.departmentId, cohort: g.cohort, ...content });
        if ('refused' in created) throw new DomainError('conflict', created.refused);
        if ('conflict' in created) throw new DomainError('conflict', ONE_AT_A_TIME);
        id = created.id;
      }
      if (pages.length) await tx.update(uploads).set({ agreementId: id }).where(inArray(uploads.id, pages));
      await tx.delete(agreementDrafts).where(and(eq(agreementDrafts.graduateId, graduateId), eq(agreementDrafts.kind, kind)));
      return id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', ONE_AT_A_TIME);
    throw e;
  }
}

/** One of the graduate's own applications, locked, with its kind's table. */
async function lockOwnApplication(tx: Tx, actor: Actor, id: number) {
  const graduateId = graduateOf(actor);
  const [row] = await tx.select().from(agreements).where(eq(agreements.id, id)).for('update');
  if (!row || row.graduateId !== graduateId || !Object.hasOwn(APPLICATION_KINDS, row.kind)) throw notFound('申请');
  return { row, workflow: APPLICATION_KINDS[row.kind as ApplicationKind].workflow };
}

/** 撤回修改 (G7): before a reviewer acts; the form opens with what was submitted. */
export async function withdrawApplication(db: Db, source: Source, id: number): Promise<string> {
  return db.transaction(async (tx) => {
    const { row, workflow } = await lockOwnApplication(tx, source.actor, id);
    return fire(tx, workflow, source, row, 'withdraw');
  });
}

/** 放弃申请: an application waiting for the graduate is given up; the graduate may sign another way. */
export async function abandonApplication(db: Db, source: Source, id: number): Promise<string> {
  return db.transaction(async (tx) => {
    const { row, workflow } = await lockOwnApplication(tx, source.actor, id);
    const state = await fire(tx, workflow, source, row, 'abandon');
    await tx.delete(agreementDrafts).where(and(eq(agreementDrafts.graduateId, row.graduateId), eq(agreementDrafts.kind, row.kind)));
    return state;
  });
}

/** Stages the pages of one upload; any refusal is the form's `pages` field's. */
const stagePages = (storage: Storage, files: IncomingFile[], already = 0) =>
  stageBatch(storage, files, { field: 'pages', max: MAX_PAGES, unit: '页', already, required: '请选择要上传的照片或扫描件' });

/** Pages for the draft of a 补登 (the paper agreement), checked and stored; the draft lists them. */
export async function addDraftPages(db: Db, storage: Storage, actor: Actor, kind: ApplicationKind, files: IncomingFile[]): Promise<void> {
  const graduateId = graduateOf(actor);
  const current = (await draftRow(db, graduateId, kind))?.pageUploadIds ?? (await editableApplication(db, graduateId, kind))?.copyUploadIds ?? [];
  const { stored, discard } = await stagePages(storage, files, current.length);
  try {
    await db.transaction(async (tx) => {
      const ids = await recordUploads(tx, stored, { purpose: PAGE_PURPOSE[kind], uploadedBy: actor.userId });
      const existing = await draftRow(tx, graduateId, kind);
      const editing = existing ? null : await editableApplication(tx, graduateId, kind);
      const values = existing?.values ?? (editing ? formValuesOf(editing) : { archiveMode: 'none' });
      await tx
        .insert(agreementDrafts)
        .values({ graduateId, kind, values, pageUploadIds: [...current, ...ids] })
        .onConflictDoUpdate({ target: [agreementDrafts.graduateId, agreementDrafts.kind], set: { pageUploadIds: [...current, ...ids], updatedAt: new Date() } });
    });
  } catch (e) {
    await discard();
    throw e;
  }
}

/** Takes one page off the draft (the file stays on record if an application already showed it). */
export async function removeDraftPage(db: Db, actor: Actor, kind: ApplicationKind, uploadId: string): Promise<void> {
  const graduateId = graduateOf(actor);
  await db.transaction(async (tx) => {
    const draft = await draftRow(tx, graduateId, kind);
    const editing = draft ? null : await editableApplication(tx, graduateId, kind);
    const pages = draft?.pageUploadIds ?? editing?.copyUploadIds ?? [];
    if (!pages.includes(uploadId)) throw notFound('文件');
    const values = draft?.values ?? (editing ? formValuesOf(editing) : { archiveMode: 'none' });
    const rest = pages.filter((p) => p !== uploadId);
    await tx
      .insert(agreementDrafts)
      .values({ graduateId, kind, values, pageUploadIds: rest })
      .onConflictDoUpdate({ target: [agreementDrafts.graduateId, agreementDrafts.kind], set: { pageUploadIds: rest, updatedAt: new Date() } });
  });
}

/** 本人回传协议书: the stamped copy's pages, checked and stored, go to 签约审核. */
export async function uploadStampedCopy(db: Db, storage: Storage, source: Source, id: number, files: IncomingFile[]): Promise<string> {
  graduateOf(source.actor);
  return storeCopy(db, storage, files, async (tx) => {
    const { row } = await lockOwnApplication(tx, source.actor, id);
    if (row.kind !== 'offline') throw notFound('申请');
    return { row, uploadedBy: source.actor.userId, fireAs: source, viaLink: false };
  });
}

/** The stamped copy through either door (the graduate's, the unit's link): one upload, one event. */
export async function storeCopy(
  db: Db,
  storage: Storage,
  files: IncomingFile[],
  lockRow: (tx: Tx) => Promise<{ row: Agreement; uploadedBy: number | null; fireAs: EventSource; viaLink: boolean; after?: (tx: Tx) => Promise<void> }>,
): Promise<string> {
  const { stored, discard } = await stagePages(storage, files);
  try {
    return await db.transaction(async (tx) => {
      const { row, uploadedBy, fireAs, viaLink, after } = await lockRow(tx);
      if (!inAgreementGroup(row.kind, 'awaitingCopy', row.state)) throw new DomainError('illegal_transition', '当前不需要回传协议书，请刷新页面查看最新状态');
      const ids = await recordUploads(tx, stored, { purpose: 'agreement_copy', uploadedBy, agreementId: row.id, schoolId: row.schoolId });
      const state = await fire(tx, offlineSigning, fireAs, row, 'upload_copy', { changes: { copyUploadIds: ids, reviewReason: null }, viaLink });
      await after?.(tx);
      // Whichever door the copy came through, links sent earlier stop working: a copy returned later needs a new one.
      await tx.update(assistLinks).set({ revokedAt: new Date() }).where(and(eq(assistLinks.agreementId, row.id), isNull(assistLinks.usedAt), isNull(assistLinks.revokedAt)));
      return state;
    });
  } catch (e) {
    await discard();
    throw e;
  }
}
