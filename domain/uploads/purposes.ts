// What an uploaded file is for; it decides who may see it (domain/uploads/access.ts).
export const UPLOAD_PURPOSES = ['employer_licence', 'employer_authorization', 'agreement_copy', 'paper_agreement', 'termination_letter', 'termination_evidence', 'destination_proof'] as const;
export type UploadPurpose = (typeof UPLOAD_PURPOSES)[number];

export const UPLOAD_PURPOSE_LABELS: Record<UploadPurpose, string> = {
  employer_licence: '营业执照或统一社会信用代码证书',
  employer_authorization: '网签授权书',
  agreement_copy: '单位盖章的就业协议书',
  paper_agreement: '纸质就业协议书',
  termination_letter: '解约函',
  termination_evidence: '强制解约证明材料',
  destination_proof: '毕业去向证明材料',
};
