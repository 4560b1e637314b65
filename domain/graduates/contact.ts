import { and, eq, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../../db/client.ts';
import { graduates, users } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { CODE_MESSAGES, issueVerificationCode, maskPhone, redeemVerificationCode } from '../auth/verification-codes.ts';
import { DomainError, forbidden } from '../errors.ts';
import { writeEvent } from '../events.ts';

// G1: phone and email are the graduate's own, changed here and not by the school. A new phone is
// proven by a code sent to it, and it becomes the sign-in phone too.

export const PHONE_TAKEN = '该手机号已被其他毕业生账号使用';

type GraduateSource = { actor: Actor; ip: string | null };

export async function startPhoneChange(db: Db, source: GraduateSource, input: { phone: string }): Promise<{ ticket: string; maskedPhone: string }> {
  const { actor } = source;
  const phone = input.phone.trim();
  if (!/^1\d{10}$/.test(phone)) throw fieldError('phone', '请输入 11 位手机号');
  return db.transaction(async (tx) => {
    const graduate = await ownGraduate(tx, actor);
    if (graduate.phone === phone) throw fieldError('phone', '新手机号与当前手机号相同');
    if (await studentPhoneInUse(tx, phone, actor.userId)) throw fieldError('phone', PHONE_TAKEN);
    const { ticket } = await issueVerificationCode(tx, {
      purpose: 'change_phone',
      phone,
      subject: `user:${actor.userId}`,
      ip: source.ip,
      message: (code) => `【毕业生网上签约平台】验证码 ${code}，用于修改手机号，10 分钟内有效。如非本人操作，请忽略本短信。`,
    });
    return { ticket, maskedPhone: maskPhone(phone) };
  });
}

/** The phone the code went to becomes the graduate's phone on the roster record and the account. */
export async function completePhoneChange(db: Db, source: GraduateSource, input: { ticket: string; code: string }): Promise<void> {
  const { actor } = source;
  await redeemVerificationCode(db, { purpose: 'change_phone', ticket: input.ticket, code: input.code }, async (tx, code) => {
    if (code.subject !== `user:${actor.userId}`) throw fieldError('code', CODE_MESSAGES.expired);
    const graduate = await ownGraduate(tx, actor);
    if (await studentPhoneInUse(tx, code.phone, actor.userId)) throw fieldError('phone', PHONE_TAKEN);
    const now = new Date();
    await tx.update(graduates).set({ phone: code.phone, updatedAt: now }).where(eq(graduates.id, graduate.id));
    await tx.update(users).set({ phone: code.phone }).where(eq(users.id, actor.userId));
    await writeEvent(tx, source, {
      subjectType: 'graduate',
      subjectId: graduate.id,
      schoolId: graduate.schoolId,
      action: 'contact.phone_changed',
      data: { from: graduate.phone, to: code.phone },
    });
  });
}

const emailSchema = z.email({ error: '电子邮箱格式不正确' }).max(100, { error: '电子邮箱过长' });

export async function changeEmail(db: Db, source: GraduateSource, input: { email: string }): Promise<void> {
  const parsed = emailSchema.safeParse(input.email.trim());
  if (!parsed.success) throw fieldError('email', parsed.error.issues[0]!.message);
  const email = parsed.data;
  await db.transaction(async (tx) => {
    const graduate = await ownGraduate(tx, source.actor);
    if (graduate.email === email) return;
    await tx.update(graduates).set({ email, updatedAt: new Date() }).where(eq(graduates.id, graduate.id));
    await writeEvent(tx, source, {
      subjectType: 'graduate',
      subjectId: graduate.id,
      schoolId: graduate.schoolId,
      action: 'contact.email_changed',
      data: { from: graduate.email, to: email },
    });
  });
}

/**
 * Whether another student account signs in with this phone. Phone sign-in must find one account,
 * so every write of a student phone asks this first; the lock queues writers of the same number.
 */
export async function studentPhoneInUse(tx: Tx, phone: string, exceptUserId: number | null): Promise<boolean> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`student-phone:${phone}`}))`);
  const [row] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.portal, 'student'), eq(users.phone, phone), exceptUserId === null ? undefined : ne(users.id, exceptUserId)))
    .limit(1);
  return row !== undefined;
}

async function ownGraduate(tx: Tx, actor: Actor) {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  const [graduate] = await tx.select().from(graduates).where(eq(graduates.id, actor.graduateId)).for('update');
  if (!graduate) throw forbidden();
  return graduate;
}

const fieldError = (field: string, message: string) => new DomainError('invalid', message, { [field]: message });
