// S3: the province chooses the agreement type for all its schools; it decides the reviewer's verb.
export const AGREEMENT_TYPES = ['two_party', 'three_party'] as const;
export type AgreementType = (typeof AGREEMENT_TYPES)[number];

export const AGREEMENT_TYPE_LABELS: Record<AgreementType, string> = {
  two_party: '两方协议（学校、院系鉴证）',
  three_party: '三方协议（学校、院系审核）',
};

export function reviewVerb(type: AgreementType): '鉴证' | '审核' {
  return type === 'two_party' ? '鉴证' : '审核';
}

export const REVIEW_MODES = ['school_only', 'department_then_school'] as const;
export type ReviewMode = (typeof REVIEW_MODES)[number];

/** Written with {verb}: a 两方协议 school reads 仅校级鉴证 (S3). */
export const REVIEW_MODE_LABELS: Record<ReviewMode, string> = {
  school_only: '仅校级{verb}',
  department_then_school: '先院系再校级{verb}',
};
