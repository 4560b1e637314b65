import { and, eq } from 'drizzle-orm';
import * as assert from 'uvu/assert';
import { idNumberLookup, openedIdNumber } from '../../db/id-number-keys.ts';
import { graduates, schools, users } from '../../db/schema/index.ts';
import { hashPassword } from '../../domain/auth/passwords.ts';
import type { Client, TestApp } from './app.ts';

// Roster graduates as route tests meet them: who can sign, and a signed-in client of their own.
// `idNumber` is the number opened from its sealed column, as a graduate would type it.
export type Graduate = typeof graduates.$inferSelect & { idNumber: string };

/** A stored graduates row with its ID number opened. */
export function opened(g: typeof graduates.$inferSelect): Graduate {
  return { ...g, idNumber: openedIdNumber(g.idNumberSealed) };
}

/** Roster graduates of a school who can sign (training mode 1), in roster order. */
export async function signable(t: Pick<TestApp, 'db'>, schoolCode: string): Promise<Graduate[]> {
  const rows = await t.db.select({ g: graduates }).from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(and(eq(schools.code, schoolCode), eq(graduates.trainingMode, '1'))).orderBy(graduates.id);
  return rows.map((r) => opened(r.g));
}

/** The graduate's own account, created as activation would (the roster phone), signed in and past the G1 check. */
export async function graduateClient(t: Pick<TestApp, 'db' | 'client'>, g: typeof graduates.$inferSelect): Promise<Client> {
  const [existing] = await t.db.select().from(users).where(and(eq(users.portal, 'student'), eq(users.graduateId, g.id)));
  if (!existing) await t.db.insert(users).values({ role: 'student', portal: 'student', login: g.idNumberIndex!, phone: g.phone, displayName: g.name, passwordHash: await hashPassword('Student#2026'), graduateId: g.id, schoolId: g.schoolId, departmentId: g.departmentId });
  const c = t.client();
  assert.is((await c.post('/student/login', { login: idOf(g), password: 'Student#2026' })).status, 303);
  await c.post('/student/check', {});
  return c;
}

/** The full ID number of a stored graduates row (or an agreement's graduate snapshot). */
export function idOf(g: { idNumberSealed: string }): string {
  return openedIdNumber(g.idNumberSealed);
}
