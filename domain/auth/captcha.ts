import { randomBytes } from 'node:crypto';
import { eq, lt, and, gt } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { captchas } from '../../db/schema/index.ts';
import { randomCaptchaText, renderCaptchaPng } from './captcha-image.ts';

// S1: the sign-in page shows an image whose answer stays on the server; each captcha is used once.
const LIFETIME_MS = 10 * 60 * 1000;

export async function createCaptcha(db: DbOrTx, now = new Date()): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  await db.insert(captchas).values({ id, answer: randomCaptchaText(), expiresAt: new Date(now.getTime() + LIFETIME_MS) });
  return id;
}

export async function captchaImage(db: DbOrTx, id: string, now = new Date()): Promise<Buffer | null> {
  const [row] = await db
    .select({ answer: captchas.answer })
    .from(captchas)
    .where(and(eq(captchas.id, id), gt(captchas.expiresAt, now)));
  return row ? renderCaptchaPng(row.answer) : null;
}

/** True when the answer matches; the captcha is gone afterwards either way. */
export async function consumeCaptcha(db: DbOrTx, id: string, answer: string, now = new Date()): Promise<boolean> {
  const [row] = await db.delete(captchas).where(eq(captchas.id, id)).returning();
  return !!row && row.expiresAt > now && row.answer === answer.trim().toUpperCase();
}

export async function deleteExpiredCaptchas(db: DbOrTx, now = new Date()): Promise<void> {
  await db.delete(captchas).where(lt(captchas.expiresAt, now));
}
