import { and, asc, count, desc, eq, ilike, ne, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.ts';
import { employerArchives, employers, events, sessions, users } from '../../db/schema/index.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import type { Actor } from '../auth/sessions.ts';
import { isRegionCode } from '../codes/regions.ts';
import { EMPLOYER_TYPES, INDUSTRIES, isCode } from '../codes/tables.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { containsPattern } from '../paging.ts';

// What a verified unit's users share: 户档信息管理 (E7), 账号管理 (E8), 单位信息 (E9, read-only for
// them; platform staff edit it).
type Source = EventSource & { actor: Actor };

/** E3: the unit of a verified employer user; anyone else is refused. */
export function verifiedUnitOf(actor: Actor): number {
  if (actor.role !== 'employer' || !actor.employerVerified || actor.employerId === null) throw new DomainError('forbidden', '单位通过身份认证后才能使用此功能');
  return actor.employerId;
}

export async function getUnit(db: DbOrTx, employerId: number) {
  const [unit] = await db.select().from(employers).where(eq(employers.id, employerId));
  if (!unit) throw notFound('单位');
  return unit;
}

const ARCHIVE_FIELDS = ['archiveUnit', 'archiveAddress', 'archivePostcode', 'archiveContact', 'archivePhone', 'hukouAddress'] as const;
export const ARCHIVE_LABELS: Record<(typeof ARCHIVE_FIELDS)[number], string> = {
  archiveUnit: '档案接收单位',
  archiveAddress: '档案接收地址',
  archivePostcode: '邮政编码',
  archiveContact: '档案接收联系人',
  archivePhone: '联系电话',
  hukouAddress: '户口迁移地址',
};

export const archiveForm = z.object({
  archiveUnit: z.string().trim().min(2, { error: '请填写档案接收单位' }).max(100, { error: '不超过 100 个字' }),
  archiveAddress: z.string().trim().min(5, { error: '请填写档案接收地址' }).max(100, { error: '不超过 100 个字' }),
  archivePostcode: z.string().trim().regex(/^\d{6}$/, { error: '邮政编码为 6 位数字' }),
  archiveContact: z.string().trim().min(2, { error: '请填写联系人' }).max(30, { error: '不超过 30 个字' }),
  archivePhone: z.string().trim().regex(/^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$/, { error: '请填写手机号或带区号的固定电话' }),
  hukouAddress: z.string().trim().min(5, { error: '请填写户口迁移地址' }).max(100, { error: '不超过 100 个字' }),
});
export type ArchiveInput = z.infer<typeof archiveForm>;

export async function getArchive(db: DbOrTx, actor: Actor) {
  const employerId = verifiedUnitOf(actor);
  const [row] = await db.select().from(employerArchives).where(eq(employerArchives.employerId, employerId));
  return row ?? null;
}

/** Saves the unit's one 户档 record; the event row holds who changed what from → to (查看编辑记录). */
export async function saveArchive(db: Db, source: Source, input: unknown): Promise<string[]> {
  const employerId = verifiedUnitOf(source.actor);
  const next = parseForm(archiveForm, input);
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(employerArchives).where(eq(employerArchives.employerId, employerId)).for('update');
    const changed = ARCHIVE_FIELDS.filter((k) => before?.[k] !== next[k]);
    if (changed.length === 0) return [];
    await tx
      .insert(employerArchives)
      .values({ employerId, ...next, updatedBy: source.actor.userId, updatedAt: new Date() })
      .onConflictDoUpdate({ target: employerArchives.employerId, set: { ...next, updatedBy: source.actor.userId, updatedAt: new Date() } });
    await writeEvent(tx, source, {
      subjectType: 'employer_archive',
      subjectId: employerId,
      action: before ? 'archive.updated' : 'archive.created',
      data: Object.fromEntries(changed.map((k) => [k, { from: before?.[k] ?? null, to: next[k] }])),
    });
    return changed;
  });
}

/** 查看编辑记录: every change of the unit's 户档, newest first, with the editor's name. */
export async function archiveHistory(db: DbOrTx, actor: Actor) {
  const employerId = verifiedUnitOf(actor);
  const rows = await db
    .select({ at: events.occurredAt, who: users.displayName, data: events.data })
    .from(events)
    .leftJoin(users, eq(users.id, events.actorUserId))
    .where(and(eq(events.subjectType, 'employer_archive'), eq(events.subjectId, String(employerId))))
    .orderBy(desc(events.id));
  return rows.map((r) => ({
    at: r.at,
    who: r.who ?? '系统',
    changes: Object.entries((r.data ?? {}) as Record<string, { from: string | null; to: string }>).map(([k, v]) => ({ label: ARCHIVE_LABELS[k as keyof typeof ARCHIVE_LABELS] ?? k, ...v })),
  }));
}

/** E8: the unit's verified users. */
export async function unitUsers(db: DbOrTx, actor: Actor) {
  const employerId = verifiedUnitOf(actor);
  return db
    .select({ id: users.id, displayName: users.displayName, phone: users.phone, email: users.email, disabled: users.disabled })
    .from(users)
    .where(and(eq(users.employerId, employerId), eq(users.role, 'employer')))
    .orderBy(asc(users.id));
}

export const ownInfoForm = z.object({
  displayName: z.string().trim().min(2, { error: '请填写姓名' }).max(30, { error: '不超过 30 个字' }),
  email: z.union([z.literal(''), z.email({ error: '电子邮箱格式不正确' })]).optional().transform((v) => v || null),
});

export async function updateOwnInfo(db: Db, source: Source, input: unknown): Promise<void> {
  verifiedUnitOf(source.actor);
  const form = parseForm(ownInfoForm, input);
  await db.transaction(async (tx) => {
    await tx.update(users).set(form).where(eq(users.id, source.actor.userId));
    await writeEvent(tx, source, { subjectType: 'user', subjectId: source.actor.userId, action: 'account.updated', data: form });
  });
}

export const passwordForm = z
  .object({
    currentPassword: z.string().min(1, { error: '请输入原密码' }),
    password: z.string().superRefine((p, ctx) => {
      const problem = passwordProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    passwordConfirmation: z.string(),
  })
  .refine((f) => f.password === f.passwordConfirmation, { path: ['passwordConfirmation'], error: '两次输入的密码不一致' });

/** Changes the actor's own password (any portal); other sessions of the user end. */
export async function changeOwnPassword(db: Db, source: Source, input: unknown): Promise<void> {
  const form = parseForm(passwordForm, input);
  const [user] = await db.select().from(users).where(eq(users.id, source.actor.userId));
  if (!user || !(await verifyPassword(user.passwordHash, form.currentPassword))) throw new DomainError('invalid', '原密码不正确', { currentPassword: '原密码不正确' });
  const passwordHash = await hashPassword(form.password);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    await tx.delete(sessions).where(and(eq(sessions.userId, user.id), ne(sessions.id, source.actor.sessionId)));
    await writeEvent(tx, source, { subjectType: 'user', subjectId: user.id, action: 'account.password_changed' });
  });
}

// E9: platform staff correct a unit's information.
export const unitForm = z.object({
  name: z.string().trim().min(2, { error: '请填写单位名称' }).max(100, { error: '不超过 100 个字' }),
  employerType: z.string().refine((v) => isCode(EMPLOYER_TYPES, v), { error: '请选择单位性质' }),
  industry: z.string().refine((v) => isCode(INDUSTRIES, v), { error: '请选择单位行业' }),
  region: z.string().refine((v) => /^\d{6}$/.test(v) && isRegionCode(v), { error: '请填写 6 位行政区划代码' }),
  address: z.string().trim().min(5, { error: '请填写详细地址' }).max(100, { error: '不超过 100 个字' }),
  contactName: z.string().trim().max(30).optional().transform((v) => v || null),
  contactPhone: z.string().trim().max(20).optional().transform((v) => v || null),
  contactMobile: z.union([z.literal(''), z.string().trim().regex(/^1\d{10}$/, { error: '请填写 11 位手机号' })]).optional().transform((v) => v || null),
  contactEmail: z.union([z.literal(''), z.email({ error: '电子邮箱格式不正确' })]).optional().transform((v) => v || null),
});

export async function updateUnitByAdmin(db: Db, source: Source, employerId: number, input: unknown): Promise<void> {
  if (source.actor.role !== 'admin') throw forbidden();
  const next = parseForm(unitForm, input);
  await db.transaction(async (tx) => {
    const [before] = await tx.select().from(employers).where(eq(employers.id, employerId)).for('update');
    if (!before) throw notFound('单位');
    await tx.update(employers).set(next).where(eq(employers.id, employerId));
    const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => before[k] !== next[k]);
    await writeEvent(tx, source, { subjectType: 'employer', subjectId: employerId, action: 'employer.updated', data: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: next[k] }])) });
  });
}

export async function listUnits(db: DbOrTx, actor: Actor, query: { q?: string | undefined; page: number }) {
  if (actor.role !== 'admin') throw forbidden();
  const where = query.q ? or(ilike(employers.name, containsPattern(query.q)), eq(employers.uscc, query.q.toUpperCase())) : undefined;
  const [rows, total] = await Promise.all([
    db.select().from(employers).where(where).orderBy(asc(employers.id)).limit(20).offset((query.page - 1) * 20),
    db.select({ n: count() }).from(employers).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return { rows, total, page: query.page, pages: Math.max(1, Math.ceil(total / 20)) };
}
