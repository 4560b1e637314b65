// E2 identity verification (身份认证), one workflow for both methods and for joining a verified unit.
// Its table lives in domain/employers/verification/workflow.ts.
export const VERIFICATION_METHODS = ['remittance', 'documents', 'join'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export const VERIFICATION_METHOD_LABELS: Record<VerificationMethod, string> = {
  remittance: '对公账号汇款认证',
  documents: '上传材料认证',
  join: '加入已认证单位',
};

export const VERIFICATION_STATES = ['submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed', 'approved', 'rejected'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];

/** States in which the application is still open: one open application per user (a partial unique index), the queue's default. */
export const OPEN_VERIFICATION_STATES = ['submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed'] as const satisfies readonly VerificationState[];
