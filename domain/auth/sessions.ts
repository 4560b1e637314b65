import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { ChangeFeed, ChangeKey } from '../../db/changes.ts';
import { builtOnce, changeFeedOf, type DbOrTx } from '../../db/client.ts';
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

type LookupRow = Awaited<ReturnType<ReturnType<typeof sessionLookup>['execute']>>[number];

/** The session behind a token with the rest of SignedInSession, or null as validateSessionToken. */
export async function signedInSession(db: DbOrTx, token: string, now = new Date()): Promise<SignedInSession | null> {
  const id = sessionIdOf(token);
  const kept = keptSessionsOf(db);
  const known = kept && (await kept.settled()) ? kept.get(id) : undefined;
  // A kept look-up serves while the session lives by it; an ending is decided on the database's own
  // row (another process may have seen the session since this one kept it).
  if (known !== undefined && !ended(known, now)) {
    await touch(db, id, known, now);
    return signedIn(known, id);
  }
  const mark = kept?.mark() ?? -1;
  const [row] = await sessionLookup(db).execute({ id });
  if (!row) return null;
  if (ended(row, now)) {
    kept?.drop(id);
    await db.delete(sessions).where(eq(sessions.id, id));
    return null;
  }
  await touch(db, id, row, now);
  kept?.keep(id, row, mark);
  return signedIn(row, id);
}

function ended(row: LookupRow, now: Date): boolean {
  return now >= row.expiresAt || now.getTime() - row.lastSeenAt.getTime() > IDLE_TIMEOUT_MS[row.user.portal] || row.user.disabled;
}

/** The session's last use, written at most once a minute (the idle timeout counts from it). */
async function touch(db: DbOrTx, id: string, row: LookupRow, now: Date): Promise<void> {
  if (now.getTime() - row.lastSeenAt.getTime() <= TOUCH_EVERY_MS) return;
  await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  row.lastSeenAt = now;
}

function signedIn(row: LookupRow, id: string): SignedInSession {
  return { actor: actorOf(row.user, id, row.employerVerification === 'verified'), unread: row.unread, rosterConfirmed: row.rosterConfirmed === true, schoolCacheVersion: row.schoolCacheVersion };
}

/** How long a kept look-up serves at most, should a change ever go unheard (a trigger missing for a new column). */
const KEPT_MS = 30_000;
/** Sessions a process keeps; past it the oldest kept goes. */
const SESSIONS_KEPT = 20_000;

/**
 * The session look-ups a process keeps (issue 14: a signed-in page's round trip to the database
 * fewer), each under the rows it was read from: the user (its sessions, row and notices), the unit,
 * the graduate, the school. Migration 0030's triggers name those on every change; the change feed
 * (db/changes.ts) says when a kept one may be served at all.
 */
class KeptSessions {
  private readonly rows = new Map<string, { row: LookupRow; keys: ChangeKey[]; at: number }>();
  private readonly byKey = new Map<ChangeKey, Set<string>>();
  private readonly feed: ChangeFeed;

  constructor(feed: ChangeFeed) {
    this.feed = feed;
    feed.subscribe((keys) => {
      if (keys === null) {
        this.rows.clear();
        this.byKey.clear();
      } else for (const key of keys) this.dropUnder(key);
    });
  }

  /** Whether kept look-ups may serve, once this process's own writes so far are heard (db/changes.ts). */
  settled(): boolean | Promise<boolean> {
    return this.feed.settled();
  }

  /** The kept look-up of a session, if any and young enough; ask `settled` first. */
  get(id: string): LookupRow | undefined {
    const kept = this.rows.get(id);
    if (kept === undefined) return undefined;
    if (performance.now() - kept.at > KEPT_MS) {
      this.drop(id);
      return undefined;
    }
    return kept.row;
  }

  mark(): number {
    return this.feed.mark();
  }

  /** Keeps a look-up read after `mark`, unless what it was read from changed since. */
  keep(id: string, row: LookupRow, mark: number): void {
    const { user } = row;
    const keys = [`u${user.id}`];
    if (user.employerId !== null) keys.push(`e${user.employerId}`);
    if (user.graduateId !== null) keys.push(`g${user.graduateId}`);
    if (user.schoolId !== null) keys.push(`s${user.schoolId}`);
    if (!this.feed.unchangedSince(mark, keys)) return;
    this.drop(id);
    if (this.rows.size >= SESSIONS_KEPT) this.drop(this.rows.keys().next().value!);
    this.rows.set(id, { row, keys, at: performance.now() });
    for (const key of keys) {
      let ids = this.byKey.get(key);
      if (ids === undefined) this.byKey.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  drop(id: string): void {
    const kept = this.rows.get(id);
    if (kept === undefined) return;
    this.rows.delete(id);
    for (const key of kept.keys) {
      const ids = this.byKey.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.byKey.delete(key);
    }
  }

  private dropUnder(key: ChangeKey): void {
    const ids = this.byKey.get(key);
    if (ids === undefined) return;
    for (const id of [...ids]) this.drop(id);
  }
}

const keptSessions = new WeakMap<ChangeFeed, KeptSessions>();

/** The look-ups kept for a database handle with a change feed (connect's); none for a transaction. */
function keptSessionsOf(db: DbOrTx): KeptSessions | undefined {
  const feed = changeFeedOf(db);
  if (feed === undefined) return undefined;
  let kept = keptSessions.get(feed);
  if (kept === undefined) keptSessions.set(feed, (kept = new KeptSessions(feed)));
  return kept;
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
  const id = sessionIdOf(token);
  keptSessionsOf(db)?.drop(id);
  await db.delete(sessions).where(eq(sessions.id, id));
}

export async function deleteExpiredSessions(db: DbOrTx, now = new Date()): Promise<number> {
  const longestIdle = Math.max(...Object.values(IDLE_TIMEOUT_MS));
  const gone = await db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle))))
    .returning({ id: sessions.id });
  return gone.length;
}
