import { createHash, timingSafeEqual } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client.ts';
import { openedIdNumber } from '../../db/id-number-keys.ts';
import { agreements, events } from '../../db/schema/index.ts';
import type { Actor } from '../auth/sessions.ts';
import { regionName } from '../codes/regions.ts';
import { EDUCATION_LEVEL_SHORT, EMPLOYER_TYPES, ETHNICITIES, INDUSTRIES, labelOf, POLITICAL_STATUSES, POSITION_CATEGORIES, SEXES, TRAINING_MODES } from '../codes/tables.ts';
import { ARCHIVE_LABELS } from '../employers/unit.ts';
import { guardAttempts } from '../auth/sign-in.ts';
import { ipv6Groups } from '../addresses.ts';
import { DomainError, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { parseForm } from '../forms.ts';
import { reviewVerb, type AgreementType } from '../tenancy/agreement-types.ts';
import { formatShanghai } from './deadline.ts';
import { agreementStateLabel, inAgreementGroup, isStampedOnPaper, reviewStageLeft, workflowOfKind } from './kinds.ts';
import type { GraduateSnapshot, UnitSnapshot } from './snapshots.ts';
import { AGREEMENT_KIND_LABELS, ARCHIVE_MODE_LABELS, type AgreementKind } from './states.ts';
import { withVerb } from '../reviews/chain.ts';
import { agreementScope } from './visibility.ts';

// 就业协议书 (DESIGN.md section 7): what the preview page and the PDF show, for the three parties
// once the agreement is signed (G8, each kind's `signed` group), and the public check of its
// number and code (/verify).

/** A snapshot's fields as the document prints them. */
type Displayed<T> = { [K in keyof T]: string };

export type AgreementDocument = {
  id: number;
  kindCode: AgreementKind;
  number: string;
  verificationCode: string;
  /** The /verify page, and the address the QR code opens with this agreement's number and code. */
  verifyPage: string;
  verifyUrl: string;
  /** The QR code of verifyUrl as inline SVG: the printer loads nothing but the document and its fonts. */
  qrSvg: string;
  agreementType: AgreementType;
  /** 鉴证 (两方协议) or 审核 (三方协议), S3. */
  reviewVerb: '鉴证' | '审核';
  signing: {
    kind: string;
    state: string;
    positionCategory: string;
    positionName: string;
    probation: string;
    probationPay: string;
    regularPay: string;
    penalty: string;
    reportPlace: string;
    reportDeadline: string;
    workPlace: string;
  };
  /** The invitation letter's rows, for an online agreement only. */
  letter: { invitedAt: string; validity: string; deadline: string; contact: string } | null;
  /** The unit's snapshot as display text (code labels resolved, blanks as ''). */
  unit: Displayed<UnitSnapshot>;
  archive: { mode: string; details: Array<{ label: string; value: string }> };
  supplement: string;
  /** The graduate's snapshot as display text, with the full ID number the agreement needs. */
  graduate: Displayed<Omit<GraduateSnapshot, 'idNumberSealed'> & { idNumber: string }>;
  school: { name: string; handlerName: string; handlerPhone: string; address: string; postcode: string };
  /** Each approval of the review chain (X1 event rows): 院系审核 then 学校审核, or 鉴证. */
  reviews: Array<{ stage: string; reviewer: string; at: string }>;
  signedAt: string;
  /** How the agreement came to be in force, or what it still waits for, in the words of its kind. */
  completion: string;
  /** An offline agreement generated for the unit's stamp, not yet in force. */
  awaitingStamp: boolean;
  /** Room for the parties' stamp and signatures on the printed copy (offline signing). */
  stampBlock: boolean;
  /** 已解约: when, for the mark on the preview and the PDF. */
  terminatedOn: string | null;
  /** In force or ended: every party's review is complete, so the PDF is issued signed (issue 15). */
  sealed: boolean;
  /** SHA-256 (hex) of what the parties agreed: every field above but the state, the same before and after a termination. */
  contentDigest: string;
};

/** The agreed content in a fixed order, for its SHA-256: the state and the links are not content. */
function contentDigestOf(doc: Omit<AgreementDocument, 'contentDigest'>): string {
  const { number, agreementType, signing, letter, unit, archive, supplement, graduate, school, reviews, signedAt } = doc;
  const { state: _state, ...terms } = signing;
  return createHash('sha256').update(JSON.stringify({ number, agreementType, terms, letter, unit, archive, supplement, graduate, school, reviews, signedAt })).digest('hex');
}

const PLATFORM = '全国高校毕业生网上签约与毕业去向登记平台';

function completionOf(kind: AgreementKind, signed: boolean, verb: string, signedAt: string): string {
  if (kind === 'online') return `甲、乙双方已在${PLATFORM}在线确认本协议，经学校（院系）${verb}通过，于 ${signedAt} 签约完成。`;
  if (kind === 'registered') return `本协议为乙方在${PLATFORM}登记的已签纸质就业协议书信息，经学校（院系）${verb}通过，于 ${signedAt} 完成登记。`;
  if (!signed) return `本协议由乙方在${PLATFORM}填写，经学校（院系）审核通过后生成。须经甲方（用人单位）盖章并回传，经学校（院系）${verb}通过后方可生效。`;
  return `本协议由乙方在${PLATFORM}填写，经学校（院系）审核通过后生成，经甲方（用人单位）盖章回传、学校（院系）${verb}通过，于 ${signedAt} 签约完成。`;
}

/**
 * The agreement as its parties may see it: the unit's verified users, the graduate, the school
 * and the graduate's department (G8, section 4); anyone else is told it does not exist. A party
 * asking before it is signed is told why rather than "not found": it knows the agreement exists.
 * The document carries the full ID number (section 7), so a view by anyone but the graduate is
 * logged as a reveal (section 4). `origin` is where /verify is reached, for the QR code.
 */
export async function loadAgreementDocument(db: DbOrTx, source: EventSource & { actor: Actor }, agreementId: number, origin: string): Promise<AgreementDocument> {
  const [row] = await db.select().from(agreements).where(and(eq(agreements.id, agreementId), agreementScope(source.actor)));
  if (!row) throw notFound('就业协议书');
  return agreementDocument(db, source, row, origin);
}

/**
 * The document of an agreement the caller has already found the source may see (a party, or the
 * holder of an assist link); views by anyone but the graduate are logged as reveals.
 */
export async function agreementDocument(db: DbOrTx, source: EventSource, row: typeof agreements.$inferSelect, origin: string): Promise<AgreementDocument> {
  const { number, verificationCode, graduateSnapshot: graduate, schoolSnapshot: school, unitSnapshot: unit } = row;
  if (!inAgreementGroup(row.kind, 'documented', row.state) || !number || !verificationCode || !graduate || !school) {
    throw new DomainError('illegal_transition', '签约完成后才能查看就业协议书');
  }
  const terminated = inAgreementGroup(row.kind, 'terminated', row.state);
  const signed = terminated || inAgreementGroup(row.kind, 'signed', row.state);
  const approvals = await db
    .select({ fromState: events.fromState, occurredAt: events.occurredAt })
    .from(events)
    .where(and(eq(events.subjectType, 'agreement'), eq(events.subjectId, String(row.id)), eq(events.action, `${workflowOfKind(row.kind).subject}.approve`)))
    .orderBy(asc(events.occurredAt), asc(events.id));
  if (source.actor?.graduateId !== row.graduateId) {
    await writeEvent(db, source, { subjectType: 'graduate', subjectId: row.graduateId, schoolId: row.schoolId, action: 'graduate.id_number_revealed', data: { agreementId: row.id } });
  }

  const verb = reviewVerb(school.agreementType);
  const verifyPage = `${origin}/verify`;
  const verifyUrl = `${verifyPage}?${new URLSearchParams({ no: number, code: verificationCode })}`;
  const doc: Omit<AgreementDocument, 'contentDigest'> = {
    id: row.id,
    kindCode: row.kind,
    number,
    verificationCode,
    verifyPage,
    verifyUrl,
    qrSvg: await QRCode.toString(verifyUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 0, width: 160 }),
    agreementType: school.agreementType,
    reviewVerb: verb,
    signing: {
      kind: AGREEMENT_KIND_LABELS[row.kind],
      state: agreementStateLabel(row.kind, 'graduate', row.state),
      positionCategory: labelOf(POSITION_CATEGORIES, row.positionCategory),
      positionName: row.positionName,
      probation: row.probation ?? '',
      probationPay: inYuan(row.probationPay),
      regularPay: inYuan(row.regularPay),
      penalty: inYuan(row.penalty),
      reportPlace: row.reportPlace ?? '',
      reportDeadline: row.reportDeadline ?? '',
      workPlace: row.workPlace ?? '',
    },
    letter:
      row.invitedAt && row.deadline
        ? { invitedAt: formatShanghai(row.invitedAt), validity: `${row.validityDays}天`, deadline: formatShanghai(row.deadline), contact: `${row.contactName ?? ''} ${row.contactPhone ?? ''}`.trim() }
        : null,
    unit: {
      name: unit.name,
      uscc: unit.uscc,
      employerType: labelOf(EMPLOYER_TYPES, unit.employerType),
      industry: labelOf(INDUSTRIES, unit.industry),
      region: regionName(unit.region) ?? unit.region,
      address: unit.address,
      contactName: unit.contactName ?? '',
      contactPhone: unit.contactPhone ?? '',
      contactMobile: unit.contactMobile ?? '',
      contactEmail: unit.contactEmail ?? '',
    },
    archive: {
      mode: ARCHIVE_MODE_LABELS[row.archiveMode],
      details:
        row.archiveMode === 'none'
          ? []
          : Object.entries(ARCHIVE_LABELS).flatMap(([key, label]) => {
              const value = row.archive?.[key];
              return value ? [{ label, value }] : [];
            }),
    },
    supplement: row.supplement ?? '',
    graduate: {
      examNo: graduate.examNo ?? '',
      name: graduate.name,
      sex: labelOf(SEXES, graduate.sex),
      idNumber: openedIdNumber(graduate.idNumberSealed),
      ethnicity: labelOf(ETHNICITIES, graduate.ethnicity),
      politicalStatus: labelOf(POLITICAL_STATUSES, graduate.politicalStatus),
      birthDate: graduate.birthDate,
      school: graduate.school,
      department: graduate.department,
      educationLevel: labelOf(EDUCATION_LEVEL_SHORT, graduate.educationLevel),
      majorName: graduate.majorName,
      trainingMode: labelOf(TRAINING_MODES, graduate.trainingMode),
      originRegion: regionName(graduate.originRegion) ?? graduate.originRegion,
      studentNo: graduate.studentNo,
      programYears: graduate.programYears,
      enrolledOn: graduate.enrolledOn,
      graduatesOn: graduate.graduatesOn,
      phone: graduate.phone,
      email: graduate.email ?? '',
    },
    school: {
      name: school.name,
      handlerName: school.handlerName ?? '',
      handlerPhone: school.handlerPhone ?? '',
      address: school.address ?? '',
      postcode: school.postcode ?? '',
    },
    // Each stage's latest approval: one that came before a 退回修改 was for what was then resubmitted.
    reviews: [...new Map(approvals.flatMap((a) => {
      const left = reviewStageLeft(row.kind, a.fromState);
      if (!left) return [];
      return [[a.fromState, { stage: withVerb(left.chain.stageLabels[left.stage], verb), reviewer: left.stage === 'department' ? graduate.department : school.name, at: formatShanghai(a.occurredAt) }] as const];
    })).values()],
    signedAt: row.signedAt ? formatShanghai(row.signedAt) : '',
    completion: completionOf(row.kind, signed, verb, row.signedAt ? formatShanghai(row.signedAt) : ''),
    awaitingStamp: !signed,
    stampBlock: isStampedOnPaper(row.kind),
    terminatedOn: terminated ? formatShanghai(row.updatedAt).slice(0, 10) : null,
    sealed: signed,
  };
  return { ...doc, contentDigest: contentDigestOf(doc) };
}

/** Pay and penalty are typed as amounts in 元 (the letter's fields); anything else is shown as written. */
function inYuan(value: string | null): string {
  if (!value) return '';
  return /^\d+(\.\d+)?$/.test(value) ? `${value} 元` : value;
}

// ---------------------------------------------------------------------------------------------
// /verify: number + code → 有效 or 不存在, never anything about the graduate.

export const verifyForm = z.object({
  no: z.string().trim().min(1, { error: '请输入协议编号' }).max(40, { error: '协议编号不超过 40 个字符' }),
  code: z.string().trim().min(1, { error: '请输入校验码' }).max(32, { error: '校验码不超过 32 个字符' }),
});

export type AgreementValidity =
  | { status: 'valid'; number: string; kind: string; signedOn: string; schoolName: string; unitName: string }
  | { status: 'pending'; number: string; kind: string; schoolName: string; unitName: string }
  | { status: 'terminated'; number: string; kind: string; signedOn: string; terminatedOn: string; schoolName: string; unitName: string }
  | { status: 'unknown' };

/**
 * Whom /verify's limit counts: an IPv4 address, or an IPv6 address's /64 (one subscriber's network,
 * whose addresses its holder can rotate at will).
 */
export function verifierKey(ip: string | null): string {
  if (!ip || !ip.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(ip)) return `verify:${ip ?? 'unknown'}`;
  return `verify:${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/** Wrong number/code pairs an IP may try in a sliding window, counted in PostgreSQL for all processes. */
export const VERIFY_LIMITS = { windowMs: 15 * 60 * 1000, perAccount: 10, perIp: 10 } as const;
const TOO_MANY_LOOKUPS = '查验次数过多，请 15 分钟后再试';

/**
 * What the number and code printed on an agreement say about it. A wrong code and an unknown
 * number get the same answer and both count against the IP, so the page can be used neither to
 * find out which numbers exist nor to guess codes. Only
 * a signed agreement is 有效, one printed for the unit's stamp (offline) is 尚未生效, and one ended by a
 * termination is 已解约.
 */
export async function verifyAgreement(db: Db, input: unknown, ip: string | null): Promise<AgreementValidity> {
  const { no, code } = parseForm(verifyForm, input);
  return db.transaction(async (tx) => {
    // Keyed by IP, not by number: a per-number limit would let anyone block an agreement's check.
    const attempt = await guardAttempts(tx, { purpose: 'agreement_verify', portal: null, accountKey: verifierKey(ip), ip }, TOO_MANY_LOOKUPS, VERIFY_LIMITS);
    const [row] = await tx
      .select({ kind: agreements.kind, state: agreements.state, code: agreements.verificationCode, signedAt: agreements.signedAt, updatedAt: agreements.updatedAt, school: agreements.schoolSnapshot, unitSnapshot: agreements.unitSnapshot })
      .from(agreements)
      .where(eq(agreements.number, no));
    const known = !!row?.code && sameCode(row.code, code) && inAgreementGroup(row.kind, 'documented', row.state) && !!row.school;
    await attempt.record(known);
    if (!known) return { status: 'unknown' } as const;
    return validityOf(no, { ...row!, schoolSnapshot: row!.school! });
  });
}

type ValidityRow = Pick<typeof agreements.$inferSelect, 'kind' | 'state' | 'signedAt' | 'updatedAt' | 'unitSnapshot'> & { schoolSnapshot: NonNullable<(typeof agreements.$inferSelect)['schoolSnapshot']> };

/** What /verify says of a documented agreement, by number: 有效, 尚未生效 or 已解约. */
export function validityOf(no: string, row: ValidityRow): AgreementValidity {
  const shown = { number: no, kind: AGREEMENT_KIND_LABELS[row.kind], schoolName: row.schoolSnapshot.name, unitName: row.unitSnapshot.name };
  const signedOn = row.signedAt ? formatShanghai(row.signedAt).slice(0, 10) : '';
  if (inAgreementGroup(row.kind, 'terminated', row.state)) return { status: 'terminated', ...shown, signedOn, terminatedOn: formatShanghai(row.updatedAt).slice(0, 10) };
  if (!inAgreementGroup(row.kind, 'signed', row.state)) return { status: 'pending', ...shown };
  return { status: 'valid', ...shown, signedOn };
}

/** Codes are printed in upper case; people type them in either. Compared in constant time. */
function sameCode(stored: string, typed: string): boolean {
  const a = Buffer.from(stored.toUpperCase());
  const b = Buffer.from(typed.toUpperCase());
  return a.length === b.length && timingSafeEqual(a, b);
}
