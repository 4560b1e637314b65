import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import { idNumberLookup } from '../../db/id-number-keys.ts';
import { graduates, notifications, sessions, users } from '../../db/schema/index.ts';
import { newPasswordHash, signInWithin } from '../auth/account-sessions.ts';
import { guardAttempts } from '../auth/sign-in.ts';
import { issueVerificationCode, maskPhone, redeemVerificationCode } from '../auth/verification-codes.ts';
import { parseIdNumber } from '../codes/id-number.ts';
import { DomainError } from '../errors.ts';
import { writeEvent } from '../events.ts';
import { studentPhoneInUse } from './contact.ts';

// A graduate on the roster activates an account with 姓名 + 身份证号 and a code sent to the roster
// phone, and resets a forgotten password the same way. Step one answers the same for "not on a
// roster" and "wrong name", and wrong guesses are limited like sign-ins, so nobody learns whether
// an ID number is on a roster without also knowing the name. Between the steps only the code's
// ticket travels with the form; which graduate or account it is for stays in the code's row.

export const NO_MATCHING_GRADUATE = '未找到与姓名、身份证号匹配的毕业生信息，请核对后重试，或联系学校就业部门';
export const NO_MATCHING_ACCOUNT = '未找到与姓名、账号匹配的毕业生账号，请核对后重试；尚未激活的请先激活账号';
export const ALREADY_ACTIVATED = '你已激活账号，请直接登录；如忘记密码，请通过“忘记密码”重置';
export const TOO_MANY_LOOKUPS = '尝试次数过多，请 15 分钟后再试';

export type PendingCode = { ticket: string; maskedPhone: string };
export type Visitor = { ip: string | null; userAgent: string | null };
export type NewPasswordInput = { ticket: string; code: string; password: string };

export async function startActivation(db: Db, input: { name: string; idNumber: string; ip: string | null }): Promise<PendingCode> {
  const idNumber = input.idNumber.trim().toUpperCase();
  const checked = parseIdNumber(idNumber);
  if (!checked.ok) throw new DomainError('invalid', checked.reason, { id_number: checked.reason });
  const index = idNumberLookup(idNumber);
  const pending = await db.transaction(async (tx) => {
    const attempt = await limitLookups(tx, `activate:${idNumber}`, input.ip);
    const [graduate] = await tx
      .select()
      .from(graduates)
      .where(and(eq(graduates.idNumberIndex, index), isNull(graduates.removedAt)))
      .orderBy(desc(graduates.cohort), desc(graduates.id))
      .limit(1);
    const matched = graduate?.name === input.name.trim() ? graduate : undefined;
    await attempt.record(matched !== undefined);
    if (!matched) return null;
    if (await studentAccountExists(tx, index)) throw new DomainError('conflict', ALREADY_ACTIVATED);
    const { ticket } = await issueVerificationCode(tx, {
      purpose: 'activate',
      phone: matched.phone,
      subject: `graduate:${matched.id}`,
      ip: input.ip,
      message: (code) => `【毕业生网上签约平台】验证码 ${code}，用于激活账号，10 分钟内有效。请勿告诉他人。`,
    });
    return { ticket, maskedPhone: maskPhone(matched.phone) };
  });
  if (!pending) throw new DomainError('invalid', NO_MATCHING_GRADUATE);
  return pending;
}

/** Creates the graduate's account and signs it in; returns the new session. */
export async function completeActivation(db: Db, visitor: Visitor, input: NewPasswordInput): Promise<{ token: string }> {
  const passwordHash = await newPasswordHash(input.password);
  try {
    return await redeemVerificationCode(db, { purpose: 'activate', ticket: input.ticket, code: input.code }, async (tx, code) => {
      const [graduate] = await tx.select().from(graduates).where(eq(graduates.id, idInSubject(code.subject, 'graduate')));
      if (!graduate || graduate.removedAt) throw new DomainError('invalid', NO_MATCHING_GRADUATE);
      // The account's login is the blind index of the ID number: sign-in by ID number looks it up so.
      const login = graduate.idNumberIndex!;
      if (await studentAccountExists(tx, login)) throw new DomainError('conflict', ALREADY_ACTIVATED);
      // Two accounts on one roster phone would make phone sign-in ambiguous: the second signs in by ID number.
      const phone = (await studentPhoneInUse(tx, graduate.phone, null)) ? null : graduate.phone;
      const [user] = await tx
        .insert(users)
        .values({
          role: 'student',
          portal: 'student',
          login,
          phone,
          displayName: graduate.name,
          passwordHash,
          schoolId: graduate.schoolId,
          departmentId: graduate.departmentId,
          graduateId: graduate.id,
        })
        .returning({ id: users.id });
      // G11: notices that waited for the account (an invitation sent before activation) become its own.
      await tx.update(notifications).set({ userId: user!.id }).where(and(eq(notifications.graduateId, graduate.id), isNull(notifications.userId)));
      const session = await signInWithin(tx, user!.id, visitor);
      await writeEvent(tx, { actor: session.actor, ip: visitor.ip }, {
        subjectType: 'graduate',
        subjectId: graduate.id,
        schoolId: graduate.schoolId,
        action: 'account.activated',
        toState: 'activated',
        data: { userId: user!.id },
      });
      return { token: session.token };
    });
  } catch (e) {
    // Two completions at once: the unique (portal, login) index lets one through.
    if (violatesConstraint(e, 'users_portal_login_key')) throw new DomainError('conflict', ALREADY_ACTIVATED);
    throw e;
  }
}

/** Step one of 忘记密码: 姓名 + ID number or phone of an activated account; the code goes to its phone. */
export async function startPasswordReset(db: Db, input: { name: string; login: string; ip: string | null }): Promise<PendingCode> {
  const login = input.login.trim().toUpperCase();
  const byPhone = /^1\d{10}$/.test(login);
  if (!byPhone && !parseIdNumber(login).ok) {
    const message = '请输入 11 位手机号或 18 位身份证号';
    throw new DomainError('invalid', message, { login: message });
  }
  const pending = await db.transaction(async (tx) => {
    const attempt = await limitLookups(tx, `reset:${login}`, input.ip);
    const [account] = await tx
      .select({ userId: users.id, disabled: users.disabled, accountPhone: users.phone, name: graduates.name, rosterPhone: graduates.phone })
      .from(users)
      .innerJoin(graduates, eq(graduates.id, users.graduateId))
      .where(and(eq(users.portal, 'student'), byPhone ? eq(users.phone, login) : eq(users.login, idNumberLookup(login))))
      .limit(1);
    const matched = account?.name === input.name.trim() ? account : undefined;
    await attempt.record(matched !== undefined);
    if (!matched) return null;
    if (matched.disabled) throw new DomainError('forbidden', '账号已停用，请联系学校就业部门');
    const phone = matched.accountPhone ?? matched.rosterPhone;
    const { ticket } = await issueVerificationCode(tx, {
      purpose: 'reset_password',
      phone,
      subject: `user:${matched.userId}`,
      ip: input.ip,
      message: (code) => `【毕业生网上签约平台】验证码 ${code}，用于重置密码，10 分钟内有效。如非本人操作，请忽略本短信。`,
    });
    return { ticket, maskedPhone: maskPhone(phone) };
  });
  if (!pending) throw new DomainError('invalid', NO_MATCHING_ACCOUNT);
  return pending;
}

/** Sets the new password, ends every session of the account and signs this browser in afresh. */
export async function completePasswordReset(db: Db, visitor: Visitor, input: NewPasswordInput): Promise<{ token: string }> {
  const passwordHash = await newPasswordHash(input.password);
  return redeemVerificationCode(db, { purpose: 'reset_password', ticket: input.ticket, code: input.code }, async (tx, code) => {
    const userId = idInSubject(code.subject, 'user');
    // reset_password codes serve employers too; this page resets graduates' accounts only.
    const [user] = await tx.update(users).set({ passwordHash }).where(and(eq(users.id, userId), eq(users.portal, 'student'))).returning({ schoolId: users.schoolId });
    if (!user) throw new DomainError('invalid', NO_MATCHING_ACCOUNT);
    await tx.delete(sessions).where(eq(sessions.userId, userId));
    const session = await signInWithin(tx, userId, visitor);
    await writeEvent(tx, { actor: session.actor, ip: visitor.ip }, {
      subjectType: 'user',
      subjectId: userId,
      schoolId: user.schoolId,
      action: 'account.password_reset',
    });
    return { token: session.token };
  });
}


async function studentAccountExists(tx: Tx, login: string): Promise<boolean> {
  const [row] = await tx.select({ id: users.id }).from(users).where(and(eq(users.portal, 'student'), eq(users.login, login))).limit(1);
  return row !== undefined;
}


/**
 * Name + ID lookups count like sign-ins (same window and limits, per looked-up number and per
 * address), so names cannot be guessed for a known ID number.
 */
function limitLookups(tx: Tx, lookup: string, ip: string | null) {
  return guardAttempts(tx, { purpose: 'roster_lookup', portal: 'student', accountKey: idNumberLookup(lookup), ip }, TOO_MANY_LOOKUPS);
}

function idInSubject(subject: string, kind: 'graduate' | 'user'): number {
  const match = /^(\w+):(\d+)$/.exec(subject);
  if (!match || match[1] !== kind) throw new Error(`verification code subject ${subject} is not a ${kind}`);
  return Number(match[2]);
}

function violatesConstraint(e: unknown, constraint: string): boolean {
  const cause = e instanceof Error && e.cause ? e.cause : e;
  return typeof cause === 'object' && cause !== null && (cause as { constraint_name?: unknown }).constraint_name === constraint;
}
