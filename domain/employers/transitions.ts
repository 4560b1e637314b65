import type { Role } from '../auth/roles.ts';
import { DomainError } from '../errors.ts';
import type { VerificationMethod, VerificationState } from './verification-states.ts';

// The state table of E2 身份认证: state → event → next state, who may fire it, for which methods.
// 对公账号汇款认证 goes through the remittance; 上传材料认证 and joining a verified unit go straight
// to review. Platform staff decide every application.
export const VERIFICATION_EVENTS = ['send_remittance', 'confirm_amount', 'exhaust_attempts', 'approve', 'reject'] as const;
export type VerificationEvent = (typeof VERIFICATION_EVENTS)[number];

type Transition = { to: VerificationState; by: Role; methods?: readonly VerificationMethod[] };

export const VERIFICATION_TRANSITIONS: Record<VerificationState, Partial<Record<VerificationEvent, Transition>>> = {
  submitted: {
    send_remittance: { to: 'remittance_sent', by: 'admin', methods: ['remittance'] },
    approve: { to: 'approved', by: 'admin', methods: ['documents', 'join'] },
    reject: { to: 'rejected', by: 'admin' },
  },
  remittance_sent: {
    confirm_amount: { to: 'amount_confirmed', by: 'employer' },
    exhaust_attempts: { to: 'remittance_failed', by: 'employer' },
    reject: { to: 'rejected', by: 'admin' },
  },
  amount_confirmed: {
    approve: { to: 'approved', by: 'admin' },
    reject: { to: 'rejected', by: 'admin' },
  },
  remittance_failed: {
    send_remittance: { to: 'remittance_sent', by: 'admin' },
    reject: { to: 'rejected', by: 'admin' },
  },
  approved: {},
  rejected: {},
};

/** The state an event leads to, or an illegal_transition error naming what is not possible now. */
export function nextVerificationState(from: VerificationState, event: VerificationEvent, by: Role, method: VerificationMethod): VerificationState {
  const t = VERIFICATION_TRANSITIONS[from][event];
  if (!t || t.by !== by || (t.methods && !t.methods.includes(method))) {
    throw new DomainError('illegal_transition', '该认证申请当前状态下不能进行此操作，请刷新页面查看最新状态');
  }
  return t.to;
}
