import { createHash } from 'node:crypto';
import { and, count, eq, gt, or, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import { idNumberLookup } from '../../db/id-number-keys.ts';
import { loginAttempts, users } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import { consumeCaptcha } from './captcha.ts';
import { verifyAgainstNothing, verifyPassword } from './passwords.ts';
import type { AttemptPurpose } from './attempt-purposes.ts';
import { CAPTCHA_PORTALS, type Portal } from './roles.ts';
import { createSession } from './sessions.ts';

// Failed sign-ins are limited per account and per IP over a sliding window, counted in
// PostgreSQL so the limit survives restarts and holds across processes.
export const LOGIN_LIMITS = { windowMs: 15 * 60 * 1000, perAccount: 5, perIp: 20 } as const;

export const WRONG_CREDENTIALS = '账号或密码错误';
export const TOO_MANY_ATTEMPTS = '登录失败次数过多，请 15 分钟后再试';

export type SignInInput = {
  portal: Portal;
  login: string;
  password: string;
  ip: string | null;
  userAgent: string | null;
  captcha?: { id: string; answer: string } | undefined;
  captchaRequired: boolean;
};

/** Signs in and returns a new session token; throws DomainError (invalid / rate_limited). */
export async function signIn(db: Db, input: SignInInput): Promise<{ token: string; expiresAt: Date; userId: number }> {
  const login = normaliseLogin(input.portal, input.login);

  if (input.captchaRequired && CAPTCHA_PORTALS.includes(input.portal)) {
    const ok = input.captcha && (await consumeCaptcha(db, input.captcha.id, input.captcha.answer));
    if (!ok) throw new DomainError('invalid', '图片验证码错误，请重新输入', { captcha: '图片验证码错误' });
  }

  return db.transaction(async (tx) => {
    const [user] = await tx
      .select()
      .from(users)
      .where(
        and(
          eq(users.portal, input.portal),
          // A graduate's login is the blind index of the ID number (no full number is stored in plain).
          input.portal !== 'student' ? eq(users.login, login) : /^1\d{10}$/.test(login) ? eq(users.phone, login) : eq(users.login, idNumberLookup(login)),
        ),
      )
      .limit(1);
    // Failures count per account, whichever login names it (a graduate's ID number or phone): each
    // account gets its five guesses per window, not five per way of typing it. A login that names
    // no account is counted by what was typed.
    // A typed ID number is keyed by its HMAC, never its plain digest (which a table of all numbers would reverse).
    const accountKey = user ? createHash('sha256').update(`user:${user.id}`).digest('hex') : idNumberLookup(`${input.portal}:${login}`);
    const attempt = await guardAttempts(tx, { purpose: 'sign_in', portal: input.portal, accountKey, ip: input.ip }, TOO_MANY_ATTEMPTS);
    const ok = user ? await verifyPassword(user.passwordHash, input.password) : await verifyAgainstNothing(input.password);
    await attempt.record(ok);
    if (!ok || !user) {
      // Commit the failure before answering: it must count even though the sign-in failed.
      return null;
    }
    if (user.disabled) throw new DomainError('forbidden', '账号已停用，请联系管理员');
    const session = await createSession(tx, user.id, { ip: input.ip, userAgent: input.userAgent });
    return { ...session, userId: user.id };
  }).then((result) => {
    if (!result) throw new DomainError('invalid', WRONG_CREDENTIALS);
    return result;
  });
}

function normaliseLogin(portal: Portal, login: string): string {
  const trimmed = login.trim();
  return portal === 'student' ? trimmed.toUpperCase() : trimmed;
}

/**
 * Attempts on one key run one at a time (so parallel guesses cannot slip past the count) and are
 * refused once the window holds the limit of failures for the key, or for the IP, of the same
 * purpose. Returns how to record this attempt's outcome.
 */
export async function guardAttempts(
  tx: Tx,
  attempt: { purpose: AttemptPurpose; portal: Portal | null; accountKey: string; ip: string | null },
  tooMany: string,
  limits: { windowMs: number; perAccount: number; perIp: number } = LOGIN_LIMITS,
) {
  const { purpose, portal, accountKey, ip } = attempt;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${accountKey}))`);
  const since = new Date(Date.now() - limits.windowMs);
  const failures = (where: SQL) =>
    tx
      .select({ n: count() })
      .from(loginAttempts)
      .where(and(where, eq(loginAttempts.purpose, purpose), eq(loginAttempts.succeeded, false), gt(loginAttempts.createdAt, since)))
      .then((r) => r[0]?.n ?? 0);
  const byAccount = await failures(eq(loginAttempts.accountKey, accountKey));
  const byIp = ip ? await failures(eq(loginAttempts.ip, ip)) : 0;
  if (byAccount >= limits.perAccount || byIp >= limits.perIp) throw new DomainError('rate_limited', tooMany);
  return {
    record: async (succeeded: boolean) => {
      await tx.insert(loginAttempts).values({ purpose, portal, accountKey, ip, succeeded });
    },
  };
}
