// Online signing (单位发起), DESIGN.md section 5: the states of one agreement and their words for
// each audience. The transitions live in domain/signing/transitions.ts.
export const AGREEMENT_KINDS = ['online'] as const;
export type AgreementKind = (typeof AGREEMENT_KINDS)[number];

export const AGREEMENT_STATES = ['invited', 'department_review', 'school_review', 'signed', 'declined', 'expired', 'review_rejected', 'invalidated'] as const;
export type AgreementState = (typeof AGREEMENT_STATES)[number];

/** The words the employer and the graduate see (the guides' status names). */
export const AGREEMENT_STATE_LABELS: Record<AgreementState, string> = {
  invited: '等待学生应约',
  department_review: '学生已应约提交审核中',
  school_review: '学生已应约提交审核中',
  signed: '已签约',
  declined: '学生拒绝签约',
  expired: '学生逾期未回应',
  review_rejected: '学校（学院）审核不通过',
  invalidated: '失效',
};

/** The reviewers' words: which stage an item waits at. */
export const REVIEW_STATE_LABELS: Record<AgreementState, string> = {
  ...AGREEMENT_STATE_LABELS,
  department_review: '学生已同意签约，等待院系审核',
  school_review: '学生已同意签约，等待学校审核',
};

/** G4: at most one agreement per graduate in these states, across every kind (a partial unique index). */
export const ACTIVE_AGREEMENT_STATES = ['department_review', 'school_review', 'signed'] as const satisfies readonly AgreementState[];

/** E6 tabs of 签约/解约 and the states each shows. */
export const EMPLOYER_TABS = {
  signing: { label: '签约中', states: ['invited', 'department_review', 'school_review'] },
  signed: { label: '已签约', states: ['signed'] },
  failed: { label: '签约失败', states: ['declined', 'expired', 'review_rejected'] },
  invalid: { label: '失效', states: ['invalidated'] },
} as const satisfies Record<string, { label: string; states: readonly AgreementState[] }>;

export const ARCHIVE_MODES = ['accept', 'custodian', 'none'] as const;
export type ArchiveMode = (typeof ARCHIVE_MODES)[number];
export const ARCHIVE_MODE_LABELS: Record<ArchiveMode, string> = { accept: '接收', custodian: '托管单位接收', none: '不接收' };
