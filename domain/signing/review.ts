import { and, count, desc, eq, ilike, inArray, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.ts';
import { agreements, departments, employers, graduates, provinces, schools } from '../../db/schema/index.ts';
import { reviewVerb } from '../tenancy/agreement-types.ts';
import type { Actor } from '../auth/sessions.ts';
import { maskIdNumber } from '../codes/id-number.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import type { EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { AGREEMENT_STATES, type AgreementState } from './states.ts';
import { fireSigningEvent, lockAgreement, notifyGraduate, notifyReviewers, notifyUnit } from './transition.ts';
import { agreementScope } from './visibility.ts';

// 在线签约管理 (S6, S7): the department stage then the school stage, or the school alone (S4);
// 通过 or 不通过 with 原因及具体问题. The verb (鉴证/审核) comes from the province (S3).
type Source = EventSource & { actor: Actor };

export const REVIEW_PAGE_SIZE = 20;
export type ReviewQuery = { id?: number; state?: AgreementState | undefined; departmentId?: number | undefined; q?: string | undefined; page: number };

/** The stage this reviewer decides. */
function stageOf(actor: Actor): 'department_review' | 'school_review' {
  if (actor.role === 'department') return 'department_review';
  if (actor.role === 'school') return 'school_review';
  throw forbidden();
}

export async function listForReview(db: DbOrTx, actor: Actor, query: ReviewQuery) {
  stageOf(actor);
  const conditions: SQL[] = [agreementScope(actor)];
  if (query.id) conditions.push(eq(agreements.id, query.id));
  if (query.state) conditions.push(eq(agreements.state, query.state));
  if (query.departmentId) conditions.push(eq(agreements.departmentId, query.departmentId));
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    conditions.push(or(ilike(graduates.name, like), ilike(graduates.studentNo, like), ilike(employers.name, like))!);
  }
  const where = and(...conditions);
  const [rows, total] = await Promise.all([
    db
      .select({
        id: agreements.id,
        state: agreements.state,
        number: agreements.number,
        name: graduates.name,
        idNumber: graduates.idNumber,
        studentNo: graduates.studentNo,
        department: departments.name,
        unit: employers.name,
        positionName: agreements.positionName,
        updatedAt: agreements.updatedAt,
      })
      .from(agreements)
      .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
      .innerJoin(departments, eq(departments.id, agreements.departmentId))
      .innerJoin(employers, eq(employers.id, agreements.employerId))
      .where(where)
      .orderBy(desc(agreements.updatedAt), desc(agreements.id))
      .limit(REVIEW_PAGE_SIZE)
      .offset((query.page - 1) * REVIEW_PAGE_SIZE),
    db.select({ n: count() }).from(agreements).innerJoin(graduates, eq(graduates.id, agreements.graduateId)).innerJoin(employers, eq(employers.id, agreements.employerId)).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return { rows: rows.map((r) => ({ ...r, idNumber: maskIdNumber(r.idNumber) })), total, page: query.page, pages: Math.max(1, Math.ceil(total / REVIEW_PAGE_SIZE)) };
}

/** How many items wait at each review stage, for the counts above the list (swapped by htmx). */
export async function reviewCounts(db: DbOrTx, actor: Actor) {
  const rows = await db
    .select({ state: agreements.state, n: count() })
    .from(agreements)
    .where(and(agreementScope(actor), inArray(agreements.state, ['department_review', 'school_review', 'signed', 'review_rejected'])))
    .groupBy(agreements.state);
  return Object.fromEntries(AGREEMENT_STATES.map((s) => [s, rows.find((r) => r.state === s)?.n ?? 0])) as Record<AgreementState, number>;
}

/** One agreement as its reviewer sees it: agreement, unit and graduate information (S6). */
export async function getForReview(db: DbOrTx, actor: Actor, id: number) {
  stageOf(actor);
  const [row] = await db
    .select({ agreement: agreements, graduate: graduates, department: departments.name, unit: employers })
    .from(agreements)
    .innerJoin(graduates, eq(graduates.id, agreements.graduateId))
    .innerJoin(departments, eq(departments.id, agreements.departmentId))
    .innerJoin(employers, eq(employers.id, agreements.employerId))
    .where(and(eq(agreements.id, id), agreementScope(actor)));
  if (!row) throw notFound('签约');
  return row;
}

const decisionForm = z
  .object({ decision: z.enum(['approve', 'reject'], { error: '请选择通过或不通过' }), reason: z.string().trim().max(500, { error: '不超过 500 个字' }).optional() })
  .superRefine((f, ctx) => {
    if (f.decision === 'reject' && !f.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: '不通过时请填写原因及具体问题' });
  });

/** 通过 moves the agreement to the next stage or signs it; 不通过 ends it (签约失败) with the reason. */
export async function decideReview(db: Db, source: Source, id: number, input: unknown): Promise<AgreementState> {
  const stage = stageOf(source.actor);
  const { decision, reason } = parseForm(decisionForm, input);
  return db.transaction(async (tx) => {
    await getForReview(tx, source.actor, id);
    const locked = (await lockAgreement(tx, id))!;
    if (locked.state !== stage) throw new DomainError('illegal_transition', '该签约不在你的审核环节，请刷新页面查看最新状态');
    const now = new Date();
    const to = await fireSigningEvent(tx, source, locked, decision, source.actor.role as 'department' | 'school', {
      changes: decision === 'reject' ? { reviewReason: reason ?? null } : stage === 'school_review' ? { signedAt: now } : {},
      reason: reason ?? null,
    });
    const name = locked.graduateSnapshot?.name ?? '';
    if (to === 'school_review') {
      await notifyReviewers(tx, locked, 'school_review', { title: '有新的签约待审核', body: `${name}的签约已通过院系审核。`, link: `/school/agreements/${id}` });
    } else if (to === 'signed') {
      await notifyGraduate(tx, locked.graduateId, { title: '签约完成', body: '学校审核通过，可在线预览、下载就业协议书。', link: `/student/invitations/${id}` }, '【网签平台】你的就业协议已审核通过，签约完成，可登录网签平台下载就业协议书。');
      await notifyUnit(tx, locked.employerId, { title: `与${name}签约完成`, body: '可在“已签约”中下载就业协议书。', link: `/employer/agreements/${id}` });
    } else {
      await notifyGraduate(tx, locked.graduateId, { title: '签约审核不通过', body: `原因：${reason}`, link: `/student/invitations/${id}` }, `【网签平台】你的签约审核不通过，原因：${reason}。请登录网签平台查看。`);
      await notifyUnit(tx, locked.employerId, { title: `与${name}的签约审核不通过`, body: `原因：${reason}。可在“签约失败”中再次发起签约。`, link: `/employer/agreements/${id}` });
    }
    return to;
  });
}

/** S3: 鉴证 (两方协议) or 审核 (三方协议), as the reviewer's province decided. */
export async function reviewerVerb(db: DbOrTx, actor: Actor): Promise<'鉴证' | '审核'> {
  if (actor.schoolId === null) throw forbidden();
  const [row] = await db.select({ type: provinces.agreementType }).from(schools).innerJoin(provinces, eq(provinces.id, schools.provinceId)).where(eq(schools.id, actor.schoolId));
  return reviewVerb(row!.type);
}
