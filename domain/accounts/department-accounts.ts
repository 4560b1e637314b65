import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../../db/client.ts';
import { departments, sessions, users } from '../../db/schema/index.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { temporaryPassword } from './temporary-password.ts';

// S2 账号管理: the school user manages its department users; a department user's 院系 must be one
// of the school's roster departments (the departments the roster import created).

export const USERNAME = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$/, { error: '用户名为 3 至 32 位字母、数字、下划线或短横线，以字母或数字开头' });

export const departmentAccountForm = z.object({
  displayName: z.string().trim().min(1, { error: '请填写名称' }).max(40, { error: '不超过 40 个字' }),
  departmentId: z.coerce.number({ error: '请选择院系' }).int().positive({ error: '请选择院系' }),
});
const newDepartmentAccountForm = departmentAccountForm.extend({ login: USERNAME });

type SchoolSource = EventSource & { actor: Actor };

function schoolOf(actor: Actor): number {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  return actor.schoolId;
}

export async function listRosterDepartments(db: Db | Tx, actor: Actor) {
  const schoolId = schoolOf(actor);
  return db.select({ id: departments.id, name: departments.name }).from(departments).where(eq(departments.schoolId, schoolId)).orderBy(asc(departments.name));
}

export async function listDepartmentAccounts(db: Db, actor: Actor) {
  const schoolId = schoolOf(actor);
  return db
    .select({ id: users.id, login: users.login, displayName: users.displayName, disabled: users.disabled, department: departments.name, departmentId: users.departmentId })
    .from(users)
    .innerJoin(departments, eq(departments.id, users.departmentId))
    .where(and(eq(users.schoolId, schoolId), eq(users.role, 'department')))
    .orderBy(asc(departments.name), asc(users.login));
}

export async function getDepartmentAccount(db: Db | Tx, actor: Actor, id: number) {
  const schoolId = schoolOf(actor);
  const [u] = await db.select().from(users).where(and(eq(users.id, id), eq(users.schoolId, schoolId), eq(users.role, 'department')));
  if (!u) throw notFound('账号');
  return u;
}

async function requireRosterDepartment(tx: Tx, schoolId: number, departmentId: number) {
  const [d] = await tx.select().from(departments).where(and(eq(departments.id, departmentId), eq(departments.schoolId, schoolId)));
  if (!d) throw new DomainError('invalid', '院系须为本校学生名单中的院系', { departmentId: '院系须为本校学生名单中的院系' });
}

/** Creates a department user with a one-time password, which is returned to show once. */
export async function createDepartmentAccount(db: Db, source: SchoolSource, input: unknown): Promise<{ id: number; password: string }> {
  const schoolId = schoolOf(source.actor);
  const form = parseForm(newDepartmentAccountForm, input);
  const password = temporaryPassword();
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    await requireRosterDepartment(tx, schoolId, form.departmentId);
    const [taken] = await tx.select({ id: users.id }).from(users).where(and(eq(users.portal, 'school'), eq(users.login, form.login)));
    if (taken) throw new DomainError('conflict', '该用户名已被使用', { login: '该用户名已被使用' });
    const [u] = await tx
      .insert(users)
      .values({ role: 'department', portal: 'school', login: form.login, displayName: form.displayName, passwordHash, provinceId: source.actor.provinceId, schoolId, departmentId: form.departmentId })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (!u) throw new DomainError('conflict', '该用户名已被使用', { login: '该用户名已被使用' });
    await writeEvent(tx, source, { subjectType: 'user', subjectId: u.id, schoolId, action: 'account.created', data: { login: form.login, departmentId: form.departmentId } });
    return { id: u.id, password };
  });
}

export async function updateDepartmentAccount(db: Db, source: SchoolSource, id: number, input: unknown): Promise<void> {
  const schoolId = schoolOf(source.actor);
  const form = parseForm(departmentAccountForm, input);
  await db.transaction(async (tx) => {
    const before = await getDepartmentAccount(tx, source.actor, id);
    await requireRosterDepartment(tx, schoolId, form.departmentId);
    await tx.update(users).set(form).where(eq(users.id, id));
    // A user moved to another department keeps no session that still shows the old one's graduates.
    if (before.departmentId !== form.departmentId) await tx.delete(sessions).where(eq(sessions.userId, id));
    await writeEvent(tx, source, {
      subjectType: 'user',
      subjectId: id,
      schoolId,
      action: 'account.updated',
      data: { displayName: { from: before.displayName, to: form.displayName }, departmentId: { from: before.departmentId, to: form.departmentId } },
    });
  });
}

export async function setDepartmentAccountDisabled(db: Db, source: SchoolSource, id: number, disabled: boolean): Promise<void> {
  const schoolId = schoolOf(source.actor);
  await db.transaction(async (tx) => {
    const before = await getDepartmentAccount(tx, source.actor, id);
    if (before.disabled === disabled) return;
    await tx.update(users).set({ disabled }).where(eq(users.id, id));
    if (disabled) await tx.delete(sessions).where(eq(sessions.userId, id));
    await writeEvent(tx, source, {
      subjectType: 'user',
      subjectId: id,
      schoolId,
      action: disabled ? 'account.disabled' : 'account.enabled',
      fromState: before.disabled ? 'disabled' : 'active',
      toState: disabled ? 'disabled' : 'active',
    });
  });
}

/** A new one-time password for a department user; its sessions end. */
export async function resetDepartmentAccountPassword(db: Db, source: SchoolSource, id: number): Promise<string> {
  const schoolId = schoolOf(source.actor);
  const password = temporaryPassword();
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await getDepartmentAccount(tx, source.actor, id);
    await tx.update(users).set({ passwordHash }).where(eq(users.id, id));
    await tx.delete(sessions).where(eq(sessions.userId, id));
    await writeEvent(tx, source, { subjectType: 'user', subjectId: id, schoolId, action: 'account.password_reset' });
  });
  return password;
}
