import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { builtOnce, type DbOrTx } from '../../db/client.ts';
import { employers, graduates, notifications, schools, sessions, users } from '../../db/schema/index.ts';
import { ABSOLUTE_LIFETIME_MS, IDLE_TIMEOUT_MS, type Portal, type Role } from './roles.ts';

// Sessions after the Lucia guide: the browser holds a random token, we store only its SHA-256,
// so a leaked sessions table cannot be replayed.

/** Who is acting: the signed-in user with the tenant links every query filters by. */
export type Actor = {
  userId: number;
  sessionId: string;
  role: Role;
  portal: Portal;
  displayName: string;
  provinceId: number | null;
  schoolId: number | null;
  departmentId: number | null;
  employerId: number | null;
  /** E3: the user's unit has passed identity verification. */
  employerVerified: boolean;
  graduateId: number | null;
};

const TOUCH_EVERY_MS = 60 * 1000;

export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdOf(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export async function createSession(
  db: DbOrTx,
  userId: number,
  meta: { ip: string | null; userAgent: string | null },
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = generateSessionToken();
  const expiresAt = new Date(now.getTime() + ABSOLUTE_LIFETIME_MS);
  await db.insert(sessions).values({
    id: sessionIdOf(token),
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    ip: meta.ip,
    userAgent: meta.userAgent?.slice(0, 300) ?? null,
  });
  return { token, expiresAt };
}

/** The actor behind a token, or null when the session is unknown, idle too long or past its lifetime. */
export async function validateSessionToken(db: DbOrTx, token: string, now = new Date()): Promise<Actor | null> {
  return (await signedInSession(db, token, now))?.actor ?? null;
}

/**
 * What every signed-in page needs besides the actor, read with it in the one look-up (issue 14: a
 * page spends at most three queries): the header's unread count (G11) and, for a graduate, the G1
 * gate (roster record confirmed and still on the roster, G2); for a school's staff and graduates,
 * the school's cache version (what the app keeps per school is good while it holds, routes/school-cache.ts).
 */
export type SignedInSession = { actor: Actor; unread: number; rosterConfirmed: boolean; schoolCacheVersion: number | null };

/** The user's columns an Actor is made of (and `disabled`, which ends a session). */
const ACTOR_COLUMNS = {
  id: users.id,
  role: users.role,
  portal: users.portal,
  displayName: users.displayName,
  provinceId: users.provinceId,
  schoolId: users.schoolId,
  departmentId: users.departmentId,
  employerId: users.employerId,
  graduateId: users.graduateId,
  disabled: users.disabled,
};
type ActorColumns = { [K in keyof typeof ACTOR_COLUMNS]: (typeof users.$inferSelect)[K] };

/** The look-up, built once per database handle: every signed-in request runs it (issue 14). */
const sessionLookup = builtOnce((db) =>
  db
    .select({
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      // What an actor is made of: not the password hash, the contacts or the dates (issue 14: each
      // column is parsed and mapped on every signed-in request; the hash has no business there).
      user: ACTOR_COLUMNS,
      employerVerification: employers.verification,
      unread: sql<number>`(select count(*) from ${notifications} where ${and(eq(notifications.userId, users.id), isNull(notifications.readAt))})`.mapWith(Number),
      rosterConfirmed: sql<boolean>`(${graduates.confirmedAt} is not null and ${graduates.removedAt} is null)`,
      schoolCacheVersion: schools.cacheVersion,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(employers, eq(employers.id, users.employerId))
    .leftJoin(graduates, eq(graduates.id, users.graduateId))
    .leftJoin(schools, eq(schools.id, users.schoolId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare('session_lookup'),
);

/** The session behind a token with the rest of SignedInSession, or null as validateSessionToken. */
export async function signedInSession(db: DbOrTx, token: string, now = new Date()): Promise<SignedInSession | null> {
  const id = sessionIdOf(token);
  const [row] = await sessionLookup(db).execute({ id });
  if (!row) return null;
  const { user, employerVerification } = row;
  const idleFor = now.getTime() - row.lastSeenAt.getTime();
  if (now >= row.expiresAt || idleFor > IDLE_TIMEOUT_MS[user.portal] || user.disabled) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return null;
  }
  if (idleFor > TOUCH_EVERY_MS) {
    await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  }
  return { actor: actorOf(user, id, employerVerification === 'verified'), unread: row.unread, rosterConfirmed: row.rosterConfirmed === true, schoolCacheVersion: row.schoolCacheVersion };
}

/** The actor of a user row, for a session or for work done on the user's behalf outside one (sessionId ''). */
export function actorOf(user: Omit<ActorColumns, 'disabled'>, sessionId: string, employerVerified: boolean): Actor {
  return {
    userId: user.id,
    sessionId,
    role: user.role,
    portal: user.portal,
    displayName: user.displayName,
    provinceId: user.provinceId,
    schoolId: user.schoolId,
    departmentId: user.departmentId,
    employerId: user.employerId,
    employerVerified,
    graduateId: user.graduateId,
  };
}

export async function deleteSessionByToken(db: DbOrTx, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionIdOf(token)));
}

export async function deleteExpiredSessions(db: DbOrTx, now = new Date()): Promise<number> {
  const longestIdle = Math.max(...Object.values(IDLE_TIMEOUT_MS));
  const gone = await db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle))))
    .returning({ id: sessions.id });
  return gone.length;
}
