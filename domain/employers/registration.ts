import { and, eq } from 'drizzle-orm';
import { isUniqueViolation, type Db, type Tx } from '../../db/client.ts';
import { sessions, users } from '../../db/schema/index.ts';
import { newPasswordHash, signInWithin } from '../auth/account-sessions.ts';
import { issueVerificationCode, redeemVerificationCode } from '../auth/verification-codes.ts';
import { DomainError } from '../errors.ts';
import { writeEvent } from '../events.ts';
import type { NewPasswordInput, Visitor } from '../graduates/activation.ts';

// E1: a person of a unit registers with a phone, an SMS code and a password, and resets a
// forgotten password the same way; the phone is the login. Step one answers the same whether or
// not the phone has an account (an SMS goes out either way, under the same limits), so typing
// numbers tells a stranger nothing; only whoever enters the code sent to the phone learns that
// it is already registered. The person's name and the unit come with identity verification (E2).

export const ALREADY_REGISTERED = '该手机号已注册用人单位账号，请直接登录；如忘记密码，请通过“忘记密码”重置';
export const NO_EMPLOYER_ACCOUNT = '该手机号尚未注册用人单位账号，请先注册';
export const ACCOUNT_DISABLED = '账号已停用，请联系平台管理员';
const PHONE_FORMAT = '请输入 11 位手机号';

export type StartInput = { phone: string; ip: string | null };

/** Sends a registration code to any well-formed phone, registered or not; returns the code's ticket. */
export async function startRegistration(db: Db, input: StartInput): Promise<{ ticket: string }> {
  const phone = checkedPhone(input.phone);
  return db.transaction((tx) =>
    issueVerificationCode(tx, {
      purpose: 'employer_register',
      phone,
      subject: `phone:${phone}`,
      ip: input.ip,
      message: (code) => `【毕业生网上签约平台】验证码 ${code}，用于注册用人单位账号，10 分钟内有效。请勿告诉他人。`,
    }),
  );
}

/** Creates the account of the phone the code was sent to and signs it in; returns the new session. */
export async function completeRegistration(db: Db, visitor: Visitor, input: NewPasswordInput): Promise<{ token: string }> {
  const passwordHash = await newPasswordHash(input.password);
  try {
    return await redeemVerificationCode(db, { purpose: 'employer_register', ticket: input.ticket, code: input.code }, async (tx, code) => {
      if (await employerAccountOf(tx, code.phone)) throw new DomainError('conflict', ALREADY_REGISTERED);
      const [user] = await tx
        .insert(users)
        .values({ role: 'employer', portal: 'employer', login: code.phone, phone: code.phone, displayName: code.phone, passwordHash })
        .returning({ id: users.id });
      const session = await signInWithin(tx, user!.id, visitor);
      await writeEvent(tx, { actor: session.actor, ip: visitor.ip }, {
        subjectType: 'user',
        subjectId: user!.id,
        action: 'account.registered',
        toState: 'registered',
      });
      return { token: session.token };
    });
  } catch (e) {
    // Two completions at once: the unique (portal, login) index lets one through.
    if (isUniqueViolation(e)) throw new DomainError('conflict', ALREADY_REGISTERED);
    throw e;
  }
}

/**
 * Step one of 忘记密码. A phone without an account still gets an SMS (saying so, without a code)
 * and the browser a ticket, so the page and the rate limits are the same either way.
 */
export async function startEmployerPasswordReset(db: Db, input: StartInput): Promise<{ ticket: string }> {
  const phone = checkedPhone(input.phone);
  return db.transaction(async (tx) => {
    const account = await employerAccountOf(tx, phone);
    return issueVerificationCode(tx, {
      purpose: 'reset_password',
      phone,
      subject: account ? `user:${account.id}` : `phone:${phone}`,
      ip: input.ip,
      message: account
        ? (code) => `【毕业生网上签约平台】验证码 ${code}，用于重置用人单位账号密码，10 分钟内有效。如非本人操作，请忽略本短信。`
        : () => '【毕业生网上签约平台】有人使用本手机号申请重置用人单位账号密码，但本手机号尚未注册用人单位账号。如非本人操作，请忽略本短信。',
    });
  });
}

/** Sets the new password, ends every session of the account and signs this browser in afresh. */
export async function completeEmployerPasswordReset(db: Db, visitor: Visitor, input: NewPasswordInput): Promise<{ token: string }> {
  const passwordHash = await newPasswordHash(input.password);
  return redeemVerificationCode(db, { purpose: 'reset_password', ticket: input.ticket, code: input.code }, async (tx, code) => {
    // reset_password codes also serve graduates: only an employer account is reset here.
    const userId = /^user:(\d+)$/.exec(code.subject)?.[1];
    const [account] = userId
      ? await tx
          .select({ id: users.id, disabled: users.disabled })
          .from(users)
          .where(and(eq(users.id, Number(userId)), eq(users.portal, 'employer')))
      : [];
    if (!account) throw new DomainError('invalid', NO_EMPLOYER_ACCOUNT);
    if (account.disabled) throw new DomainError('forbidden', ACCOUNT_DISABLED);
    await tx.update(users).set({ passwordHash }).where(eq(users.id, account.id));
    await tx.delete(sessions).where(eq(sessions.userId, account.id));
    const session = await signInWithin(tx, account.id, visitor);
    await writeEvent(tx, { actor: session.actor, ip: visitor.ip }, { subjectType: 'user', subjectId: account.id, action: 'account.password_reset' });
    return { token: session.token };
  });
}

function checkedPhone(phone: string): string {
  const trimmed = phone.trim();
  if (!/^1\d{10}$/.test(trimmed)) throw new DomainError('invalid', PHONE_FORMAT, { phone: PHONE_FORMAT });
  return trimmed;
}

async function employerAccountOf(tx: Tx, phone: string) {
  const [account] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.portal, 'employer'), eq(users.login, phone)));
  return account;
}


