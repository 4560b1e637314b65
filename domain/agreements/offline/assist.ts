import { createHash, randomBytes } from 'node:crypto';
import { and, count, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../../../db/client.ts';
import { agreements, assistLinks } from '../../../db/schema/index.ts';
import type { Storage } from '../../../db/storage.ts';
import type { Actor } from '../../auth/sessions.ts';
import { guardAttempts } from '../../auth/sign-in.ts';
import { DomainError, forbidden, notFound } from '../../errors.ts';
import { writeEvent, type EventSource } from '../../events.ts';
import { queueSms } from '../../notifications.ts';
import type { IncomingFile } from '../../uploads/store-upload.ts';
import { storeCopy } from '../applications/apply.ts';
import { agreementDocument, type AgreementDocument } from '../document.ts';
import { inAgreementGroup } from '../kinds.ts';
import type { Agreement } from '../rows.ts';

// 用人单位协助回传协议书 (graduate guide 4.3): the graduate has an SMS sent to the unit's 联系人手机 with
// a link; the unit, without an account, downloads the agreement there and uploads the stamped copy.
// The link is a capability: random, kept only as a SHA-256, single-use, 7 days, revoked by a new one;
// wrong tokens are limited per IP like /verify guesses; its page shows the agreement and nothing else.

export const ASSIST_LINK_DAYS = 7;
/** Links a graduate may send per agreement in a day: enough to resend, too few to spam a phone. */
export const ASSIST_LINKS_PER_DAY = 5;
export const ASSIST_LIMITS = { windowMs: 15 * 60 * 1000, perAccount: 20, perIp: 20 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
export const LINK_UNUSABLE = '该链接无效或已过期，请联系毕业生重新发送';

/** Sends a new link to the unit's 联系人手机; any earlier link of the agreement stops working. Returns the masked phone. */
export async function sendAssistLink(db: Db, source: EventSource & { actor: Actor }, id: number, origin: string, now = new Date()): Promise<string> {
  if (source.actor.role !== 'student' || source.actor.graduateId === null) throw forbidden();
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(agreements).where(eq(agreements.id, id)).for('update');
    if (!row || row.graduateId !== source.actor.graduateId || row.kind !== 'offline') throw notFound('申请');
    if (!inAgreementGroup(row.kind, 'awaitingCopy', row.state)) throw new DomainError('illegal_transition', '当前不需要回传协议书，请刷新页面查看最新状态');
    const phone = row.unitSnapshot.contactMobile;
    if (!phone) throw new DomainError('invalid', '协议中没有单位联系人手机，无法发送短信');
    const [sent] = await tx.select({ n: count() }).from(assistLinks).where(and(eq(assistLinks.agreementId, id), gt(assistLinks.createdAt, new Date(now.getTime() - DAY_MS))));
    if ((sent?.n ?? 0) >= ASSIST_LINKS_PER_DAY) throw new DomainError('rate_limited', `每份协议每天最多发送 ${ASSIST_LINKS_PER_DAY} 次，请明天再试`);
    await tx.update(assistLinks).set({ revokedAt: now }).where(and(eq(assistLinks.agreementId, id), isNull(assistLinks.usedAt), isNull(assistLinks.revokedAt)));
    const token = randomBytes(24).toString('base64url');
    await tx.insert(assistLinks).values({ agreementId: id, tokenHash: hashOf(token), phone, createdBy: source.actor.userId, createdAt: now, expiresAt: new Date(now.getTime() + ASSIST_LINK_DAYS * DAY_MS) });
    const name = row.graduateSnapshot?.name ?? '';
    await queueSms(tx, phone, `【网签平台】${name}请贵单位协助回传就业协议书：请打开 ${origin}/assist/${token} 下载协议书，盖章后拍照或扫描上传。链接 ${ASSIST_LINK_DAYS} 天内有效，仅可使用一次。`);
    await writeEvent(tx, source, { subjectType: 'agreement', subjectId: id, schoolId: row.schoolId, action: 'agreement.assist_link_sent' });
    return `${phone.slice(0, 3)}****${phone.slice(7)}`;
  });
}

/** The link and its agreement when the token is live: not used, not revoked, not expired, and a copy is awaited. */
async function findLiveLink(tx: Tx, token: string, now: Date) {
  if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return null;
  const [link] = await tx.select().from(assistLinks).where(eq(assistLinks.tokenHash, hashOf(token))).for('update');
  const [row] = link ? await tx.select().from(agreements).where(eq(agreements.id, link.agreementId)).for('update') : [];
  const live = !!link && !!row && link.usedAt === null && link.revokedAt === null && link.expiresAt > now && inAgreementGroup(row.kind, 'awaitingCopy', row.state);
  return live ? { link: link!, row: row! as Agreement } : null;
}

/** Checks a token and counts a wrong one against the IP, in a transaction of its own so the count stays; call it before reading an upload. */
export async function checkLink(db: Db, token: string, ip: string | null, now = new Date()): Promise<void> {
  const live = await db.transaction(async (tx) => {
    const attempt = await guardAttempts(tx, { purpose: 'assist_link', portal: null, accountKey: `assist:${ip ?? 'unknown'}`, ip }, '尝试次数过多，请 15 分钟后再试', ASSIST_LIMITS);
    const found = await findLiveLink(tx, token, now);
    await attempt.record(found !== null);
    return found !== null;
  });
  if (!live) throw new DomainError('not_found', LINK_UNUSABLE);
}

/** What the link's page shows: the agreement, as its parties see it, and nothing more. */
export async function openAssistLink(db: Db, token: string, ip: string | null, origin: string, now = new Date()): Promise<AgreementDocument> {
  await checkLink(db, token, ip, now);
  return db.transaction(async (tx) => {
    const found = await findLiveLink(tx, token, now);
    if (!found) throw new DomainError('not_found', LINK_UNUSABLE);
    return agreementDocument(tx, { actor: null, ip, role: 'link' }, found.row, origin);
  });
}

/** A link used for an upload within the last minutes: a repeat of that upload (a flaky network) is answered as done. */
export async function usedJustNow(db: Db, token: string, now = new Date()): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return false;
  const [link] = await db.select({ usedAt: assistLinks.usedAt }).from(assistLinks).where(eq(assistLinks.tokenHash, hashOf(token)));
  return !!link?.usedAt && now.getTime() - link.usedAt.getTime() < 10 * 60 * 1000;
}

/** The latest link sent for one of the graduate's applications, if it still works: when it was sent, to which phone, until when. */
export async function liveAssistLink(db: Db, actor: Actor, id: number, now = new Date()) {
  if (actor.role !== 'student' || actor.graduateId === null) throw forbidden();
  const [link] = await db
    .select({ createdAt: assistLinks.createdAt, expiresAt: assistLinks.expiresAt, phone: assistLinks.phone })
    .from(assistLinks)
    .innerJoin(agreements, eq(agreements.id, assistLinks.agreementId))
    .where(and(eq(assistLinks.agreementId, id), eq(agreements.graduateId, actor.graduateId), isNull(assistLinks.usedAt), isNull(assistLinks.revokedAt), gt(assistLinks.expiresAt, now)))
    .orderBy(desc(assistLinks.id))
    .limit(1);
  return link ? { ...link, phone: `${link.phone.slice(0, 3)}****${link.phone.slice(7)}` } : null;
}

/** The unit's upload of the stamped copy through the link, which is then used up. */
export async function uploadViaAssistLink(db: Db, storage: Storage, token: string, ip: string | null, files: IncomingFile[], now = new Date()): Promise<void> {
  await checkLink(db, token, ip, now);
  await storeCopy(db, storage, files, async (tx) => {
    const found = await findLiveLink(tx, token, now);
    if (!found) throw new DomainError('not_found', LINK_UNUSABLE);
    return {
      row: found.row,
      uploadedBy: null,
      fireAs: { actor: null, ip },
      viaLink: true,
      after: async (t) => {
        await t.update(assistLinks).set({ usedAt: now }).where(eq(assistLinks.id, found.link.id));
      },
    };
  });
}
