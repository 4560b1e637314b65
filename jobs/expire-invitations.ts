import type { Db, Tx } from '../db/client.ts';
import { expireDueInvitations, remindDueInvitations } from '../domain/agreements/online/expiry.ts';
import { remindReviewers } from '../domain/reviews/inbox.ts';
import { remindSilentTerminations } from '../domain/terminations/terminate.ts';
import type { Job } from './scheduler.ts';

// X3: invitations past 应约截止时间 end as 学生逾期未回应 every minute, in batches committed side by
// side (the job's transaction holds its lock meanwhile); graduates are reminded 24 h before a
// deadline. Both are idempotent: a second run finds nothing left to do.
export function expireInvitationsJob(db: Db): Job {
  return {
    name: 'expire-invitations',
    schedule: '* * * * *',
    async run(tx: Tx) {
      const now = new Date();
      const expired = await expireDueInvitations(db, now);
      const reminded = await remindDueInvitations(tx, now);
      return { expired, reminded };
    },
  };
}

export function reviewDigestJob(days: number, terminationAnswerDays: number): Job {
  return {
    name: 'review-digest',
    schedule: '0 8 * * *',
    async run(tx: Tx) {
      const now = new Date();
      return { reviewers: await remindReviewers(tx, now, days), silentTerminations: await remindSilentTerminations(tx, now, terminationAnswerDays) };
    },
  };
}
