import { randomInt } from 'node:crypto';
import { and, count, desc, eq, ilike, inArray, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../../../db/client.ts';
import { employerVerifications, employers, uploads, users } from '../../../db/schema/index.ts';
import type { Storage } from '../../../db/storage.ts';
import type { Actor } from '../../auth/sessions.ts';
import { isRegionCode } from '../../codes/regions.ts';
import { EMPLOYER_TYPES, INDUSTRIES, isCode } from '../../codes/tables.ts';
import { checkUscc } from '../../codes/uscc.ts';
import { DomainError, forbidden, notFound } from '../../errors.ts';
import type { EventSource } from '../../events.ts';
import { parseForm } from '../../forms.ts';
import { decisionForm } from '../../reviews/chain.ts';
import { recordUpload, stageFiles, type IncomingFile } from '../../uploads/store-upload.ts';
import { create, fire, statesFrom } from '../../workflow/kernel.ts';
import { VERIFICATION_METHODS, type VerificationState } from './states.ts';
import { employerVerification, VERIFICATION_DECISIONS, type Verification, type VerificationEvent } from './workflow.ts';
import { containsPattern } from '../../paging.ts';

// E2 身份认证: the employer user submits personal and unit information with evidence; platform
// staff remit (对公账号汇款认证) and decide. E3: only a verified unit reaches signing features.
type Source = EventSource & { actor: Actor };
/** 对公账号汇款认证: the amount the unit received, as it types it. */
const AMOUNT_FORM = z.object({ amount: z.string().trim().regex(/^0?\.\d{1,2}$|^0$/, { error: '请填写收到的金额，如 0.35' }) });

export const MAX_AMOUNT_ATTEMPTS = 3;

const optionalText = (max: number) => z.string().trim().max(max, { error: `不超过 ${max} 个字` }).optional().transform((v) => v || null);
const MOBILE = z.string().trim().regex(/^1\d{10}$/, { error: '请填写 11 位手机号' });

export const verificationForm = z
  .object({
    method: z.enum(['remittance', 'documents'], { error: '请选择认证方式' }),
    applicantName: z.string().trim().min(2, { error: '请填写姓名' }).max(30, { error: '不超过 30 个字' }),
    applicantPosition: optionalText(30),
    applicantEmail: z.union([z.literal(''), z.email({ error: '电子邮箱格式不正确' })]).optional().transform((v) => v || null),
    unitName: z.string().trim().min(2, { error: '请填写单位名称' }).max(100, { error: '不超过 100 个字' }),
    uscc: z
      .string()
      .trim()
      .toUpperCase()
      .refine((v) => checkUscc(v).format, { error: '统一社会信用代码为 18 位数字或大写字母' }),
    employerType: z.string().refine((v) => isCode(EMPLOYER_TYPES, v), { error: '请选择单位性质' }),
    industry: z.string().refine((v) => isCode(INDUSTRIES, v), { error: '请选择单位行业' }),
    region: z.string().refine((v) => /^\d{6}$/.test(v) && isRegionCode(v), { error: '请填写 6 位行政区划代码，如 110108' }),
    address: z.string().trim().min(5, { error: '请填写详细地址' }).max(100, { error: '不超过 100 个字' }),
    contactName: z.string().trim().min(2, { error: '请填写单位联系人' }).max(30, { error: '不超过 30 个字' }),
    contactPhone: optionalText(20),
    contactMobile: MOBILE,
    contactEmail: z.union([z.literal(''), z.email({ error: '电子邮箱格式不正确' })]).optional().transform((v) => v || null),
    bankAccount: z.string().trim().optional(),
    bankName: z.string().trim().optional(),
  })
  .superRefine((f, ctx) => {
    if (f.method !== 'remittance') return;
    if (!f.bankAccount || !/^\d{8,30}$/.test(f.bankAccount.replace(/\s/g, ''))) ctx.addIssue({ code: 'custom', path: ['bankAccount'], message: '请填写单位对公账号（8 至 30 位数字）' });
    if (!f.bankName || f.bankName.length < 4) ctx.addIssue({ code: 'custom', path: ['bankName'], message: '请填写开户行名称' });
  });

export type VerificationFiles = { authorization?: IncomingFile | undefined; licence?: IncomingFile | undefined };

function requireEmployerUser(actor: Actor): void {
  if (actor.role !== 'employer') throw forbidden();
}
function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw forbidden();
}

/** The user's latest application (open or decided), or null. */
export async function latestVerification(db: Db | Tx, actor: Actor) {
  requireEmployerUser(actor);
  const [row] = await db.select().from(employerVerifications).where(eq(employerVerifications.userId, actor.userId)).orderBy(desc(employerVerifications.id)).limit(1);
  return row ?? null;
}

/** A verified unit with this USCC, which the applicant joins instead of registering it again. */
export async function verifiedUnitByUscc(db: Db | Tx, uscc: string) {
  const [unit] = await db.select().from(employers).where(and(eq(employers.uscc, uscc), eq(employers.verification, 'verified')));
  return unit ?? null;
}

export async function submitVerification(db: Db, storage: Storage, source: Source, input: unknown, files: VerificationFiles): Promise<number> {
  requireEmployerUser(source.actor);
  if (source.actor.employerVerified) throw new DomainError('conflict', '您的单位已通过认证');
  const form = parseForm(verificationForm, input);
  const joining = await verifiedUnitByUscc(db, form.uscc);
  const missing: Record<string, string> = {};
  if (!files.authorization) missing.authorization = '请上传加盖单位公章的网签授权书';
  if (!joining && form.method === 'documents' && !files.licence) missing.licence = '请上传加盖单位公章的营业执照或统一社会信用代码证书扫描件';
  if (Object.keys(missing).length) throw new DomainError('invalid', '请检查下面标出的内容', missing);

  const { stored, discard } = await stageFiles(storage, { authorization: files.authorization, licence: joining ? undefined : files.licence });
  try {
    return await db.transaction(async (tx) => {
      const owner = { uploadedBy: source.actor.userId, employerId: joining?.id ?? null };
      const authorizationUploadId = await recordUpload(tx, stored.authorization!, { ...owner, purpose: 'employer_authorization' });
      const licenceUploadId = stored.licence ? await recordUpload(tx, stored.licence, { ...owner, purpose: 'employer_licence' }) : null;
      const method = joining ? 'join' : form.method;
      const created = await create(
        tx,
        employerVerification,
        source,
        'submitted',
        {
          ...form,
          bankAccount: method === 'remittance' ? form.bankAccount!.replace(/\s/g, '') : null,
          bankName: method === 'remittance' ? form.bankName! : null,
          method,
          userId: source.actor.userId,
          employerId: joining?.id ?? null,
          usccCheckPassed: checkUscc(form.uscc).checkDigit,
          authorizationUploadId,
          licenceUploadId,
        },
        { skipOnConflict: true, data: { method } },
      );
      if (!('id' in created)) throw new DomainError('conflict', '您已有一份认证申请正在处理中，请勿重复提交');
      return created.id;
    });
  } catch (e) {
    await discard();
    throw e;
  }
}

/** Fires an event on one application, locked; an applicant reaches only their own. */
async function fireOn(tx: Tx, source: Source, id: number, event: VerificationEvent, opts: { changes?: Partial<Verification>; reason?: string | null } = {}) {
  const [before] = await tx.select().from(employerVerifications).where(eq(employerVerifications.id, id)).for('update');
  if (!before || (source.actor.role === 'employer' && before.userId !== source.actor.userId)) throw notFound('认证申请');
  return fire(tx, employerVerification, source, before, event, opts);
}

/** Platform staff record the random remittance of 0.01–0.99 元 as sent; the applicant is told to type it back. */
export async function sendRemittance(db: Db, source: Source, id: number): Promise<number> {
  requireAdmin(source.actor);
  const cents = randomInt(1, 100);
  await db.transaction((tx) => fireOn(tx, source, id, 'send_remittance', { changes: { remittanceCents: cents, remittanceAttempts: 0, remittanceSentAt: new Date() } }));
  return cents;
}

export type AmountResult = { ok: true } | { ok: false; attemptsLeft: number };

/** The applicant types the amount back: right → staff review; three wrong answers need a new remittance. */
export async function confirmRemittanceAmount(db: Db, source: Source, input: unknown): Promise<AmountResult> {
  requireEmployerUser(source.actor);
  const { amount } = parseForm(AMOUNT_FORM, input);
  const cents = Math.round(Number(amount) * 100);
  return db.transaction(async (tx) => {
    const [open] = await tx
      .select()
      .from(employerVerifications)
      .where(and(eq(employerVerifications.userId, source.actor.userId), inArray(employerVerifications.state, statesFrom(employerVerification, 'confirm_amount') as VerificationState[])))
      .for('update');
    if (!open) throw new DomainError('illegal_transition', '当前没有等待填写的汇款金额');
    if (cents === open.remittanceCents) {
      await fireOn(tx, source, open.id, 'confirm_amount');
      return { ok: true };
    }
    const attempts = open.remittanceAttempts + 1;
    if (attempts >= MAX_AMOUNT_ATTEMPTS) {
      await fireOn(tx, source, open.id, 'exhaust_attempts', { changes: { remittanceAttempts: attempts } });
      return { ok: false, attemptsLeft: 0 };
    }
    await tx.update(employerVerifications).set({ remittanceAttempts: attempts, updatedAt: new Date() }).where(eq(employerVerifications.id, open.id));
    return { ok: false, attemptsLeft: MAX_AMOUNT_ATTEMPTS - attempts };
  });
}

const verificationDecision = decisionForm(VERIFICATION_DECISIONS);

/** 通过 creates (or confirms) the unit and links the applicant to it; 不通过 needs a reason. The applicant is notified (the table's effects). */
export async function decideVerification(db: Db, source: Source, id: number, input: unknown): Promise<VerificationState> {
  requireAdmin(source.actor);
  const { decision, reason } = parseForm(verificationDecision, input);
  return db.transaction((tx) =>
    fireOn(tx, source, id, decision as 'approve' | 'reject', { changes: { reviewedBy: source.actor.userId, reviewedAt: new Date(), decisionReason: reason ?? null }, reason: reason ?? null }),
  );
}

export const QUEUE_PAGE_SIZE = 20;
export type QueueQuery = { state?: VerificationState | undefined; method?: (typeof VERIFICATION_METHODS)[number] | undefined; q?: string | undefined; page: number };

/** The platform's review queue: open applications first by default, searchable by unit name or USCC. */
export async function listVerificationQueue(db: Db, actor: Actor, query: QueueQuery) {
  requireAdmin(actor);
  const conditions: SQL[] = [query.state ? eq(employerVerifications.state, query.state) : inArray(employerVerifications.state, [...employerVerification.groups.open])];
  if (query.method) conditions.push(eq(employerVerifications.method, query.method));
  if (query.q) {
    const like = containsPattern(query.q);
    conditions.push(or(ilike(employerVerifications.unitName, like), ilike(employerVerifications.uscc, like))!);
  }
  const where = and(...conditions);
  const [rows, total] = await Promise.all([
    db
      .select({
        id: employerVerifications.id,
        unitName: employerVerifications.unitName,
        uscc: employerVerifications.uscc,
        usccCheckPassed: employerVerifications.usccCheckPassed,
        method: employerVerifications.method,
        state: employerVerifications.state,
        applicantName: employerVerifications.applicantName,
        createdAt: employerVerifications.createdAt,
      })
      .from(employerVerifications)
      .where(where)
      .orderBy(employerVerifications.createdAt, employerVerifications.id)
      .limit(QUEUE_PAGE_SIZE)
      .offset((query.page - 1) * QUEUE_PAGE_SIZE),
    db.select({ n: count() }).from(employerVerifications).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return { rows, total, page: query.page, pages: Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE)) };
}

/** One application with its applicant's phone and files, for platform staff. */
export async function getVerificationForReview(db: Db, actor: Actor, id: number) {
  requireAdmin(actor);
  const [row] = await db
    .select({ v: employerVerifications, phone: users.phone })
    .from(employerVerifications)
    .innerJoin(users, eq(users.id, employerVerifications.userId))
    .where(eq(employerVerifications.id, id));
  if (!row) throw notFound('认证申请');
  const files = await db
    .select({ id: uploads.id, purpose: uploads.purpose, mime: uploads.mime, originalName: uploads.originalName })
    .from(uploads)
    .where(inArray(uploads.id, [row.v.authorizationUploadId, ...(row.v.licenceUploadId ? [row.v.licenceUploadId] : [])]));
  const joining = row.v.method === 'join' && row.v.employerId ? (await db.select({ name: employers.name }).from(employers).where(eq(employers.id, row.v.employerId)))[0] : undefined;
  return { ...row.v, applicantPhone: row.phone, files, joiningUnitName: joining?.name ?? null };
}

