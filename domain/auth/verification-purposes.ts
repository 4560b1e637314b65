// What a 6-digit SMS code is for; a code of one purpose never works for another.
export const VERIFICATION_PURPOSES = ['activate', 'reset_password', 'change_phone', 'employer_register'] as const;
export type VerificationPurpose = (typeof VERIFICATION_PURPOSES)[number];
