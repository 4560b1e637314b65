// E2 identity verification (身份认证), one workflow for both methods and for joining a verified unit.
// The transitions live in domain/employers/transitions.ts.
export const VERIFICATION_METHODS = ['remittance', 'documents', 'join'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export const VERIFICATION_METHOD_LABELS: Record<VerificationMethod, string> = {
  remittance: '对公账号汇款认证',
  documents: '上传材料认证',
  join: '加入已认证单位',
};

export const VERIFICATION_STATES = ['submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed', 'approved', 'rejected'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];

export const VERIFICATION_STATE_LABELS: Record<VerificationState, string> = {
  submitted: '已提交，等待平台处理',
  remittance_sent: '平台已汇款，请填写收到的金额',
  amount_confirmed: '汇款金额已确认，等待平台审核',
  remittance_failed: '汇款金额填写错误次数过多，等待平台重新汇款',
  approved: '审核通过',
  rejected: '审核不通过',
};

/** States in which the application is still open (one open application per user). */
export const OPEN_VERIFICATION_STATES: readonly VerificationState[] = ['submitted', 'remittance_sent', 'amount_confirmed', 'remittance_failed'];
