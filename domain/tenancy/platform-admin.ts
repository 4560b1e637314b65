import { and, asc, count, eq, ilike, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation, type Db, type Tx } from '../../db/client.ts';
import { provinces, schools, users } from '../../db/schema/index.ts';
import { USERNAME } from '../accounts/department-accounts.ts';
import { temporaryPassword } from '../accounts/temporary-password.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { AGREEMENT_TYPES } from './agreement-types.ts';
import { containsPattern } from '../paging.ts';

// The platform admin's tenants: provinces, schools, and each school's first account.
type AdminSource = EventSource & { actor: Actor };

function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw forbidden();
}

export const provinceForm = z.object({
  code: z.string().trim().regex(/^\d{2}$/, { error: '省份代码为 2 位数字（行政区划代码前两位），如 11' }),
  name: z.string().trim().min(2, { error: '请填写省份名称' }).max(20, { error: '不超过 20 个字' }),
  agreementType: z.enum(AGREEMENT_TYPES, { error: '请选择电子协议书类型' }),
});

export const schoolForm = z.object({
  code: z.string().trim().regex(/^\d{5}$/, { error: '学校代码为 5 位数字，如 10001' }),
  name: z.string().trim().min(2, { error: '请填写学校名称' }).max(50, { error: '不超过 50 个字' }),
  provinceId: z.coerce.number({ error: '请选择所在省份' }).int().positive({ error: '请选择所在省份' }),
});

export const schoolAccountForm = z.object({
  login: USERNAME,
  displayName: z.string().trim().min(1, { error: '请填写名称' }).max(40, { error: '不超过 40 个字' }),
});

export async function listProvinces(db: Db, actor: Actor) {
  requireAdmin(actor);
  return db
    .select({ id: provinces.id, code: provinces.code, name: provinces.name, agreementType: provinces.agreementType, schools: count(schools.id) })
    .from(provinces)
    .leftJoin(schools, eq(schools.provinceId, provinces.id))
    .groupBy(provinces.id)
    .orderBy(asc(provinces.code));
}

export async function getProvince(db: Db, actor: Actor, id: number) {
  requireAdmin(actor);
  const [p] = await db.select().from(provinces).where(eq(provinces.id, id));
  if (!p) throw notFound('省份');
  return p;
}

export async function saveProvince(db: Db, source: AdminSource, id: number | null, input: unknown): Promise<number> {
  requireAdmin(source.actor);
  // The agreement type is the province's own choice (S3); the admin sets it only at creation.
  const form = id ? parseForm(provinceForm.omit({ agreementType: true }), input) : parseForm(provinceForm, input);
  try {
    return await db.transaction(async (tx) => {
      const [row] = id
        ? await tx.update(provinces).set(form).where(eq(provinces.id, id)).returning({ id: provinces.id })
        : await tx.insert(provinces).values(form).returning({ id: provinces.id });
      if (!row) throw notFound('省份');
      await writeEvent(tx, source, { subjectType: 'province', subjectId: row.id, action: id ? 'province.updated' : 'province.created', data: form });
      return row.id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', '省份代码已存在', { code: '省份代码已存在' });
    throw e;
  }
}

export type SchoolQuery = { q?: string | undefined; provinceId?: number | undefined; page: number };
export const SCHOOLS_PER_PAGE = 20;

export async function listSchools(db: Db, actor: Actor, query: SchoolQuery) {
  requireAdmin(actor);
  const conditions: SQL[] = [];
  if (query.q) {
    const like = containsPattern(query.q);
    conditions.push(or(ilike(schools.name, like), ilike(schools.code, like))!);
  }
  if (query.provinceId) conditions.push(eq(schools.provinceId, query.provinceId));
  const where = conditions.length ? and(...conditions) : undefined;
  const [rows, total] = await Promise.all([
    db
      .select({ id: schools.id, code: schools.code, name: schools.name, province: provinces.name })
      .from(schools)
      .innerJoin(provinces, eq(provinces.id, schools.provinceId))
      .where(where)
      .orderBy(asc(schools.code))
      .limit(SCHOOLS_PER_PAGE)
      .offset((query.page - 1) * SCHOOLS_PER_PAGE),
    db.select({ n: count() }).from(schools).where(where).then((r) => r[0]?.n ?? 0),
  ]);
  return { rows, total, page: query.page, pages: Math.max(1, Math.ceil(total / SCHOOLS_PER_PAGE)) };
}

export async function getSchool(db: Db | Tx, actor: Actor, id: number) {
  requireAdmin(actor);
  const [s] = await db.select().from(schools).where(eq(schools.id, id));
  if (!s) throw notFound('学校');
  const accounts = await db
    .select({ id: users.id, login: users.login, displayName: users.displayName, disabled: users.disabled })
    .from(users)
    .where(and(eq(users.schoolId, id), eq(users.role, 'school')))
    .orderBy(asc(users.id));
  return { ...s, accounts };
}

export async function saveSchool(db: Db, source: AdminSource, id: number | null, input: unknown): Promise<number> {
  requireAdmin(source.actor);
  const form = parseForm(schoolForm, input);
  try {
    return await db.transaction(async (tx) => {
      const [province] = await tx.select({ id: provinces.id }).from(provinces).where(eq(provinces.id, form.provinceId));
      if (!province) throw new DomainError('invalid', '请选择所在省份', { provinceId: '请选择所在省份' });
      const [row] = id
        ? await tx.update(schools).set(form).where(eq(schools.id, id)).returning({ id: schools.id })
        : await tx.insert(schools).values(form).returning({ id: schools.id });
      if (!row) throw notFound('学校');
      // School users carry their province for the province's statistics; keep them in step.
      if (id) await tx.update(users).set({ provinceId: form.provinceId }).where(eq(users.schoolId, id));
      await writeEvent(tx, source, { subjectType: 'school', subjectId: row.id, schoolId: row.id, action: id ? 'school.updated' : 'school.created', data: form });
      return row.id;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new DomainError('conflict', '学校代码已存在', { code: '学校代码已存在' });
    throw e;
  }
}

/** Creates a school user (the school's first account) with a one-time password to show once. */
export async function createSchoolAccount(db: Db, source: AdminSource, schoolId: number, input: unknown): Promise<{ login: string; password: string }> {
  requireAdmin(source.actor);
  const form = parseForm(schoolAccountForm, input);
  const password = temporaryPassword();
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const school = await getSchool(tx, source.actor, schoolId);
    const [u] = await tx
      .insert(users)
      .values({ role: 'school', portal: 'school', login: form.login, displayName: form.displayName, passwordHash, provinceId: school.provinceId, schoolId })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (!u) throw new DomainError('conflict', '该用户名已被使用', { login: '该用户名已被使用' });
    await writeEvent(tx, source, { subjectType: 'user', subjectId: u.id, schoolId, action: 'account.created', data: { login: form.login, role: 'school' } });
    return { login: form.login, password };
  });
}
