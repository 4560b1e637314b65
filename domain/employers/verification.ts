// E2/E3: an employer's identity verification; only verified units reach signing features.
export const EMPLOYER_VERIFICATION_STATUSES = ['unverified', 'pending', 'verified', 'rejected'] as const;
export type EmployerVerificationStatus = (typeof EMPLOYER_VERIFICATION_STATUSES)[number];

export const EMPLOYER_VERIFICATION_LABELS: Record<EmployerVerificationStatus, string> = {
  unverified: '未认证',
  pending: '认证审核中',
  verified: '已认证',
  rejected: '认证不通过',
};
