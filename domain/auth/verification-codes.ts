import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { and, count, eq, gt, isNull, max, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import { outbox, verificationCodes } from '../../db/schema/index.ts';
import { DomainError } from '../errors.ts';
import type { VerificationPurpose } from './verification-purposes.ts';

// 6-digit SMS codes. The browser holds a ticket `<row id>.<secret>`; the row's code_hash holds two
// SHA-256 digests, of the secret and of secret + code. A forged ticket is refused before it can use
// up anyone's attempts, and neither a leaked table nor a leaked ticket alone reveals a code. What
// the code unlocks (its subject, e.g. `graduate:42`) stays on the server, in the row.

const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const CODE_LIMITS = { resendAfterMs: 60 * 1000, perPhonePerHour: 5, perIpPerHour: 20, wrongAttempts: 5 } as const;
export const CODE_MESSAGES = {
  wrong: '验证码错误',
  expired: '验证码已过期，请重新获取',
  used: '验证码已使用，请重新获取',
  exhausted: '错误次数过多，请重新获取验证码',
  tooSoon: '验证码发送过于频繁，请 60 秒后再试',
  tooMany: '获取验证码次数过多，请 1 小时后再试',
} as const;

const HOUR_MS = 60 * 60 * 1000;

export type IssueInput = {
  purpose: VerificationPurpose;
  phone: string;
  subject: string;
  ip: string | null;
  /** The SMS text around the code. */
  message: (code: string) => string;
};

/**
 * Sends a new code to `phone` (through the outbox, in the caller's transaction) and returns the
 * ticket the form carries to step two. It replaces any live code of the same purpose and subject.
 */
export async function issueVerificationCode(tx: Tx, input: IssueInput): Promise<{ ticket: string }> {
  const now = new Date();
  // Requests for one phone (and from one address) queue up, so parallel requests cannot slip past the counts.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sms:${input.purpose}:${input.phone}`}))`);
  if (input.ip) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sms-ip:${input.ip}`}))`);
  const hourAgo = new Date(now.getTime() - HOUR_MS);
  const [byPhone] = await tx
    .select({ n: count(), last: max(verificationCodes.createdAt) })
    .from(verificationCodes)
    .where(and(eq(verificationCodes.purpose, input.purpose), eq(verificationCodes.phone, input.phone), gt(verificationCodes.createdAt, hourAgo)));
  if (byPhone?.last && now.getTime() - byPhone.last.getTime() < CODE_LIMITS.resendAfterMs) {
    throw new DomainError('rate_limited', CODE_MESSAGES.tooSoon);
  }
  if ((byPhone?.n ?? 0) >= CODE_LIMITS.perPhonePerHour) throw new DomainError('rate_limited', CODE_MESSAGES.tooMany);
  if (input.ip) {
    const [byIp] = await tx
      .select({ n: count() })
      .from(verificationCodes)
      .where(and(eq(verificationCodes.ip, input.ip), gt(verificationCodes.createdAt, hourAgo)));
    if ((byIp?.n ?? 0) >= CODE_LIMITS.perIpPerHour) throw new DomainError('rate_limited', CODE_MESSAGES.tooMany);
  }

  await tx
    .update(verificationCodes)
    .set({ expiresAt: now })
    .where(
      and(
        eq(verificationCodes.purpose, input.purpose),
        eq(verificationCodes.subject, input.subject),
        isNull(verificationCodes.consumedAt),
        gt(verificationCodes.expiresAt, now),
      ),
    );
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const secret = randomBytes(16).toString('base64url');
  const [row] = await tx
    .insert(verificationCodes)
    .values({
      purpose: input.purpose,
      phone: input.phone,
      subject: input.subject,
      codeHash: sha256(secret) + sha256(`${secret}:${code}`),
      ip: input.ip,
      expiresAt: new Date(now.getTime() + CODE_LIFETIME_MS),
      createdAt: now,
    })
    .returning({ id: verificationCodes.id });
  await tx.insert(outbox).values({ channel: 'sms', recipient: input.phone, body: input.message(code) });
  return { ticket: `${row!.id}.${secret}` };
}

export type RedeemInput = { purpose: VerificationPurpose; ticket: string; code: string };
/** What a redeemed code was issued for, read from the server's row. */
export type RedeemedCode = { subject: string; phone: string };

/**
 * Runs `work` in one transaction with the code's use, once the code checks out; `work` failing
 * leaves the code unused. A failed check is committed (a wrong attempt must count) and then thrown
 * as a 422 with the message on the `code` field.
 */
export async function redeemVerificationCode<T>(db: Db, input: RedeemInput, work: (tx: Tx, code: RedeemedCode) => Promise<T>): Promise<T> {
  const outcome = await db.transaction(async (tx) => {
    const check = await checkVerificationCode(tx, input);
    return 'failure' in check ? check : { value: await work(tx, check) };
  });
  if ('failure' in outcome) throw new DomainError('invalid', outcome.failure, { code: outcome.failure });
  return outcome.value;
}

async function checkVerificationCode(tx: Tx, input: RedeemInput): Promise<RedeemedCode | { failure: string }> {
  const now = new Date();
  const ticket = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(input.ticket);
  if (!ticket) return { failure: CODE_MESSAGES.expired };
  const [row] = await tx
    .select()
    .from(verificationCodes)
    .where(and(eq(verificationCodes.id, Number(ticket[1])), eq(verificationCodes.purpose, input.purpose)))
    .for('update');
  const secret = ticket[2]!;
  if (!row || !sameDigest(row.codeHash.slice(0, 64), sha256(secret))) return { failure: CODE_MESSAGES.expired };
  if (row.consumedAt) return { failure: CODE_MESSAGES.used };
  if (row.attempts >= CODE_LIMITS.wrongAttempts) return { failure: CODE_MESSAGES.exhausted };
  if (row.expiresAt <= now) return { failure: CODE_MESSAGES.expired };
  if (!sameDigest(row.codeHash.slice(64), sha256(`${secret}:${input.code.trim()}`))) {
    const attempts = row.attempts + 1;
    await tx.update(verificationCodes).set({ attempts }).where(eq(verificationCodes.id, row.id));
    return { failure: attempts >= CODE_LIMITS.wrongAttempts ? CODE_MESSAGES.exhausted : CODE_MESSAGES.wrong };
  }
  await tx.update(verificationCodes).set({ consumedAt: now }).where(eq(verificationCodes.id, row.id));
  return { subject: row.subject, phone: row.phone };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameDigest(storedHex: string, givenHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given);
}

/** 13912341000 → 139****1000: enough for the owner to recognise the number. */
export function maskPhone(phone: string): string {
  return phone.length === 11 ? `${phone.slice(0, 3)}****${phone.slice(7)}` : '*'.repeat(phone.length);
}
