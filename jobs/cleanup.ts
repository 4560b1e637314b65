import { lt } from 'drizzle-orm';
import { idempotencyKeys, loginAttempts, verificationCodes } from '../db/schema/index.ts';
import { deleteExpiredCaptchas } from '../domain/auth/captcha.ts';
import { deleteExpiredSessions } from '../domain/auth/sessions.ts';
import type { Job } from './scheduler.ts';

const DAY = 24 * 60 * 60 * 1000;

// Expired sessions and captchas go at once; sign-in attempts are kept 30 days for the audit,
// idempotency keys and SMS codes 2 days (long past any retry of a flaky network, and past the
// hourly limits counted on the code rows).
export const cleanupJob: Job = {
  name: 'cleanup',
  schedule: '17 * * * *',
  async run(tx) {
    const now = new Date();
    const sessions = await deleteExpiredSessions(tx, now);
    await deleteExpiredCaptchas(tx, now);
    await tx.delete(loginAttempts).where(lt(loginAttempts.createdAt, new Date(now.getTime() - 30 * DAY)));
    await tx.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, new Date(now.getTime() - 2 * DAY)));
    await tx.delete(verificationCodes).where(lt(verificationCodes.createdAt, new Date(now.getTime() - 2 * DAY)));
    return { sessions };
  },
};
