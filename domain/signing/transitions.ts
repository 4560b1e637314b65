import type { Role } from '../auth/roles.ts';
import { DomainError } from '../errors.ts';
import type { AgreementState } from './states.ts';

// The state table of online signing (单位发起): state → event → next state and who may fire it.
// 'system' is a job or the roster-change event. Acceptance goes to the department stage or, when
// the school reviews alone (S4), straight to the school stage.
export const SIGNING_EVENTS = ['accept', 'decline', 'expire', 'approve', 'reject', 'invalidate'] as const;
export type SigningEvent = (typeof SIGNING_EVENTS)[number];
export type SigningActor = Role | 'system';

type Transition = { to: AgreementState; by: SigningActor; toWhenSchoolOnly?: AgreementState };

export const SIGNING_TRANSITIONS: Record<AgreementState, Partial<Record<SigningEvent, Transition>>> = {
  invited: {
    accept: { to: 'department_review', toWhenSchoolOnly: 'school_review', by: 'student' },
    decline: { to: 'declined', by: 'student' },
    expire: { to: 'expired', by: 'system' },
    invalidate: { to: 'invalidated', by: 'system' },
  },
  department_review: {
    approve: { to: 'school_review', by: 'department' },
    reject: { to: 'review_rejected', by: 'department' },
  },
  school_review: {
    approve: { to: 'signed', by: 'school' },
    reject: { to: 'review_rejected', by: 'school' },
  },
  signed: {},
  declined: {},
  expired: {},
  review_rejected: {},
  invalidated: {},
};

/** The next state, or an illegal_transition error when the event is not possible now for this actor. */
export function nextSigningState(from: AgreementState, event: SigningEvent, by: SigningActor, schoolOnly = false): AgreementState {
  const t = SIGNING_TRANSITIONS[from][event];
  if (!t || t.by !== by) throw new DomainError('illegal_transition', '该签约当前状态下不能进行此操作，请刷新页面查看最新状态');
  return schoolOnly && t.toWhenSchoolOnly ? t.toWhenSchoolOnly : t.to;
}
