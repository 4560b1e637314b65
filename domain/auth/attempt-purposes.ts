// What a limited attempt was (login_attempts.purpose): each purpose counts its own failures, so
// guesses at /verify cannot lock an office's IP out of signing in.
export const ATTEMPT_PURPOSES = ['sign_in', 'roster_lookup', 'agreement_verify', 'assist_link'] as const;
export type AttemptPurpose = (typeof ATTEMPT_PURPOSES)[number];
