// Agreements of every kind share one table, so that one partial unique index holds G4 across all
// of them. These lists are what the database enums and that index are made of; each kind's
// workflow table (e.g. domain/agreements/online/workflow.ts) declares its own states, groups and
// words from them.

/** 线上签约 (单位发起), 线下签约 (学生申请 an agreement online, stamped on paper), 补登 (a paper agreement registered). */
export const AGREEMENT_KINDS = ['online', 'offline', 'registered'] as const;
export type AgreementKind = (typeof AGREEMENT_KINDS)[number];

/** 签约类型, as the agreement prints it. */
export const AGREEMENT_KIND_LABELS: Record<AgreementKind, string> = { online: '线上签约', offline: '线下签约', registered: '纸质协议补登' };

export const AGREEMENT_STATES = [
  // online (单位发起)
  'invited', 'department_review', 'school_review', 'signed', 'declined', 'expired', 'review_rejected', 'invalidated',
  // offline (学生申请): 就业协议审核, the stamped copy, 签约审核
  'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy',
  'signing_department_review', 'signing_school_review', 'copy_returned', 'agreement_rejected', 'signing_rejected',
  // registered (补登)
  'registration_department_review', 'registration_school_review', 'registration_rejected',
  // an application the graduate gave up (offline, registered)
  'abandoned',
  // 已解约: a signed agreement ended by a termination (every kind)
  'terminated',
] as const;
export type AgreementState = (typeof AGREEMENT_STATES)[number];

/**
 * G4: at most one agreement or application per graduate in these states, across every kind (the
 * partial unique index); the union of every kind's `active` group.
 */
export const ACTIVE_AGREEMENT_STATES = [
  'department_review', 'school_review', 'signed',
  'agreement_department_review', 'agreement_school_review', 'returned', 'withdrawn', 'awaiting_stamped_copy', 'signing_department_review', 'signing_school_review', 'copy_returned',
  'registration_department_review', 'registration_school_review',
] as const satisfies readonly AgreementState[];

/** Waiting for a reviewer: the union of every kind's `inReview` group (风险预警's long-wait check reads them through a partial index). */
export const IN_REVIEW_AGREEMENT_STATES = [
  'department_review', 'school_review',
  'agreement_department_review', 'agreement_school_review', 'signing_department_review', 'signing_school_review',
  'registration_department_review', 'registration_school_review',
] as const satisfies readonly AgreementState[];

/** Signed, and ended by a termination: the union of every kind's `signed` and `terminated` groups, which the graduate's destination reads (domain/destinations/current.ts). */
export const SIGNED_AGREEMENT_STATES = ['signed'] as const satisfies readonly AgreementState[];
export const TERMINATED_AGREEMENT_STATES = ['terminated'] as const satisfies readonly AgreementState[];

/** An invitation waiting for the graduate's answer: one per unit and graduate (G6), expired by its deadline (X3); online signing's `pending` group. */
export const PENDING_INVITATION_STATES = ['invited'] as const satisfies readonly AgreementState[];

export const ARCHIVE_MODES = ['accept', 'custodian', 'none'] as const;
export type ArchiveMode = (typeof ARCHIVE_MODES)[number];
export const ARCHIVE_MODE_LABELS: Record<ArchiveMode, string> = { accept: '接收', custodian: '托管单位接收', none: '不接收' };
