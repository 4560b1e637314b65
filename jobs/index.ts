import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../db/log.ts';
import { storageFor, type Storage } from '../db/storage.ts';
import { foldAgreementCountsJob } from './agreement-counts.ts';
import { backupJob } from './backup.ts';
import { cleanupJob } from './cleanup.ts';
import { dispatchOutboxJob } from './dispatch-outbox.ts';
import { expireInvitationsJob, reviewDigestJob } from './expire-invitations.ts';
import { ministryExportsJob } from './ministry-exports.ts';
import { rosterImportsJob } from './roster-imports.ts';
import { statisticsJob } from './statistics.ts';
import type { Job } from './scheduler.ts';
import { devTransport } from './transports/dev.ts';
import type { Transport } from './transports/types.ts';
import { webhookTransport } from './transports/webhook.ts';

export function transportsFor(config: Config, db: Db): Record<'sms' | 'email' | 'wechat', Transport> {
  const sms = config.sms.transport === 'webhook' ? webhookTransport(config.sms.webhookUrl!) : devTransport(db);
  const email = config.mail.transport === 'webhook' ? webhookTransport(config.mail.webhookUrl!) : devTransport(db);
  // WeChat template messages go through the same gateway as SMS until a WeChat adapter exists.
  return { sms, email, wechat: sms };
}

/** `storage` is the app's: the import and export jobs read and write the same files as its pages. */
export function allJobs(config: Config, db: Db, log: Logger, storage: Storage = storageFor(config)): Job[] {
  return [dispatchOutboxJob(transportsFor(config, db), db), cleanupJob, rosterImportsJob(db, storage, log), ministryExportsJob(db, storage, log), expireInvitationsJob(db), reviewDigestJob(config.reviewDigestDays, config.terminationAnswerDays), statisticsJob, foldAgreementCountsJob, ...(config.backupDir ? [backupJob(db, { ...config, backupDir: config.backupDir })] : [])];
}
