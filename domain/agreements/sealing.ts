import { eq } from 'drizzle-orm';
import type { X509Certificate } from 'node:crypto';
import type { Db, DbOrTx } from '../../db/client.ts';
import { agreements, loginAttempts, signingCertificates } from '../../db/schema/index.ts';
import { certificateSha256, commonName, SIGNING_PLATFORM, type SigningIdentity } from '../../db/signing-identity.ts';
import { guardAttempts } from '../auth/sign-in.ts';
import { reviewVerb } from '../tenancy/agreement-types.ts';
import { CadesSigner } from '../signing/cades.ts';
import { inspectPdfSignature, type PdfSignature } from '../signing/inspect.ts';
import type { Seal } from '../signing/seal.ts';
import { formatShanghai } from './deadline.ts';
import { inAgreementGroup } from './kinds.ts';
import { agreementTrail } from './queries.ts';
import { validityOf, verifierKey, VERIFY_LIMITS, type AgreementDocument, type AgreementValidity } from './document.ts';

// Sealed agreements (issue 15): every agreement PDF issued once every party's review is complete is
// signed by the platform (PAdES), with a 签约完成证明 as its last page. A terminated agreement's PDF
// is a new signed revision marked 已解约; a copy signed before stays valid as the record of what was
// signed, and /verify tells anyone holding either which agreement it is and what its state is now.

/** The platform's signing identity, loaded once (the generated CA's first start, or the configured PKCS#12). */
export type PlatformSigning = {
  identity(): Promise<SigningIdentity>;
  signer(): Promise<CadesSigner>;
};

/**
 * The identity `load` gives, loaded on first use; its signing certificate is recorded in
 * signing_certificates then, before anything is signed with it, so /verify knows it as the platform's.
 */
export function platformSigning(db: DbOrTx, load: () => Promise<SigningIdentity>): PlatformSigning {
  let loading: Promise<{ identity: SigningIdentity; signer: CadesSigner }> | undefined;
  const loaded = () => {
    loading ??= load()
      .then(async (identity) => {
        await recordSigningCertificate(db, identity.chain[0]!);
        return { identity, signer: new CadesSigner(identity) };
      })
      .catch((e: unknown) => {
        loading = undefined; // a failed load or record (the database away a moment) is tried again on the next print
        throw e;
      });
    return loading;
  };
  return { identity: async () => (await loaded()).identity, signer: async () => (await loaded()).signer };
}

export async function recordSigningCertificate(db: DbOrTx, cert: X509Certificate): Promise<void> {
  await db.insert(signingCertificates).values({ sha256: certificateSha256(cert.raw), pem: cert.toString(), subject: cert.subject }).onConflictDoNothing();
}

/** Whether a certificate (SHA-256 of its DER, hex) is one this platform has signed with. */
export async function isPlatformCertificate(db: DbOrTx, sha256: string): Promise<boolean> {
  const [row] = await db.select({ sha256: signingCertificates.sha256 }).from(signingCertificates).where(eq(signingCertificates.sha256, sha256));
  return !!row;
}

/** The revision's words: the state the signed copy records. */
export const REVISION_LABELS = { signed: '已签约', terminated: '已解约' } as const;
export type Revision = keyof typeof REVISION_LABELS;

const revisionOf = (doc: Pick<AgreementDocument, 'terminatedOn'>): Revision => (doc.terminatedOn ? 'terminated' : 'signed');

/** The signature's reason: the platform, the agreement and the revision (what a reader shows first). */
export const sealReason = (number: string, revision: Revision) => `${SIGNING_PLATFORM}签发：就业协议书 ${number}（${REVISION_LABELS[revision]}）`;
const REASON = /签发：就业协议书 (\S+)（(已签约|已解约)）$/;

export function agreementSeal(doc: AgreementDocument, signingTime: Date): Seal {
  return {
    reason: sealReason(doc.number, revisionOf(doc)),
    name: SIGNING_PLATFORM,
    location: new URL(doc.verifyPage).host,
    contactInfo: doc.verifyPage,
    signingTime,
  };
}

export type CompletionCertificate = {
  number: string;
  revision: string;
  issuedAt: string;
  contentDigest: string;
  signer: string;
  fingerprint: string;
  trail: Array<{ at: string; who: string; account: string; network: string; what: string; reason: string }>;
};

/** The 签约完成证明 printed as the sealed PDF's last page: the whole trail, the content's SHA-256 and who signs. */
export async function completionCertificate(db: DbOrTx, doc: AgreementDocument, identity: SigningIdentity, issuedAt: Date): Promise<CompletionCertificate> {
  const trail = await agreementTrail(db, { id: doc.id, kind: doc.kindCode, verb: reviewVerb(doc.agreementType) });
  const signer = identity.chain[0]!;
  return {
    number: doc.number,
    revision: REVISION_LABELS[revisionOf(doc)],
    issuedAt: formatShanghai(issuedAt),
    contentDigest: doc.contentDigest,
    signer: commonName(signer),
    fingerprint: identity.anchor.fingerprint256,
    trail: trail.map((e) => ({ at: formatShanghai(e.at), who: e.who, account: e.account, network: e.network, what: e.what, reason: e.reason ?? '' })),
  };
}

export type UploadedAgreementCheck = {
  signature: PdfSignature;
  /** For an intact signature of this platform: which agreement, the revision the file records, and its state now. */
  agreement: { number: string; revision: string; signedAt: string; now: AgreementValidity } | null;
};

/** Wrong files an address may check in the window: the same budget as wrong numbers and codes (VERIFY_LIMITS). */
const TOO_MANY_CHECKS = '查验次数过多，请 15 分钟后再试';

/**
 * /verify with a file: is its signature intact and this platform's, and which agreement is it.
 * A file that is not an intact agreement of ours counts against the address like a wrong code.
 */
export async function checkUploadedAgreement(db: Db, pdf: Buffer, ip: string | null): Promise<UploadedAgreementCheck> {
  // The limit is checked and the check counted as a failure in a short transaction; the file is read
  // outside it (hashing and the RSA check hold no connection), and the count turned into a success after.
  const attemptId = await db.transaction(async (tx) => {
    const key = { purpose: 'agreement_verify' as const, portal: null, accountKey: verifierKey(ip), ip };
    await guardAttempts(tx, key, TOO_MANY_CHECKS, VERIFY_LIMITS);
    const [row] = await tx.insert(loginAttempts).values({ ...key, succeeded: false }).returning({ id: loginAttempts.id });
    return row!.id;
  });
  const result = await readUploadedAgreement(db, pdf);
  if (result.agreement) await db.update(loginAttempts).set({ succeeded: true }).where(eq(loginAttempts.id, attemptId));
  return result;
}

async function readUploadedAgreement(db: DbOrTx, pdf: Buffer): Promise<UploadedAgreementCheck> {
  const signature = await inspectPdfSignature(pdf, (sha256) => isPlatformCertificate(db, sha256));
  if (signature.status !== 'intact' || !signature.ours) return { signature, agreement: null };
  const named = REASON.exec(signature.reason);
  if (!named) return { signature, agreement: null };
  const [, number = '', revision = ''] = named;
  const [row] = await db
    .select({ kind: agreements.kind, state: agreements.state, signedAt: agreements.signedAt, updatedAt: agreements.updatedAt, schoolSnapshot: agreements.schoolSnapshot, unitSnapshot: agreements.unitSnapshot })
    .from(agreements)
    .where(eq(agreements.number, number));
  // Signed by us but no longer here (a restored backup of another install): say what the file says, not more.
  const now: AgreementValidity = row?.schoolSnapshot && inAgreementGroup(row.kind, 'documented', row.state) ? validityOf(number, { ...row, schoolSnapshot: row.schoolSnapshot }) : { status: 'unknown' };
  return { signature, agreement: { number, revision, signedAt: signature.signedAt ? formatShanghai(signature.signedAt) : '', now } };
}
