import { notFound } from '../errors.ts';
import { REVIEW_STAGES, withVerb, type ReviewStage, type Verb } from '../reviews/chain.ts';
import { eventLabel } from '../workflow/kernel.ts';
import { ONLINE_PROGRESS, ONLINE_REVIEW, onlineSigning } from './online/workflow.ts';
import type { AgreementKind } from './states.ts';

// Each kind of agreement and its workflow table: what the shared pages (the timeline, the progress
// steps, the document, /verify) read to speak of an agreement in its own kind's words. Offline
// signing and 补登 add their tables here.
const AGREEMENT_WORKFLOWS = {
  online: { workflow: onlineSigning, progress: ONLINE_PROGRESS, reviews: [ONLINE_REVIEW] },
} satisfies Partial<Record<AgreementKind, unknown>>;

export type AgreementAudience = keyof typeof onlineSigning.labels;

function kindOf(kind: AgreementKind) {
  const entry = (AGREEMENT_WORKFLOWS as Partial<Record<AgreementKind, (typeof AGREEMENT_WORKFLOWS)['online']>>)[kind];
  if (!entry) throw notFound('签约');
  return entry;
}

export function workflowOfKind(kind: AgreementKind) {
  return kindOf(kind).workflow;
}

/** Which review stage an event row left: 院系 or 学校, for the document's list of approvals. */
export function reviewStageLeft(kind: AgreementKind, fromState: string | null): ReviewStage | null {
  for (const chain of kindOf(kind).reviews) for (const stage of REVIEW_STAGES) if (chain.stages[stage] === fromState) return stage;
  return null;
}

/** A state in an audience's words; the reviewers' words carry the province's verb (S3), the parties' are the guides' status names. */
export function agreementStateLabel(kind: AgreementKind, audience: AgreementAudience, state: string, verb?: Verb): string {
  const label = (kindOf(kind).workflow.labels[audience] as Record<string, string>)[state] ?? state;
  return verb ? withVerb(label, verb) : label;
}

/** Whether the state is in one of the kind's named groups (G4 active, signed, pending …). */
export function inAgreementGroup(kind: AgreementKind, group: keyof typeof onlineSigning.groups, state: string): boolean {
  return (kindOf(kind).workflow.groups[group] as readonly string[]).includes(state);
}

/** Rows of an agreement's trail that record something other than a state change. */
const RECORD_LABELS: Record<string, string> = {
  'agreement.contacts_filled': '平台升级：按签约邀请函和单位信息补全了协议书中空缺的单位联系人信息',
};

/** The timeline's words for one of the agreement's event rows. */
export function agreementEventLabel(kind: AgreementKind, action: string, from: string | null, to: string | null, verb: Verb): string {
  return RECORD_LABELS[action] ?? withVerb(eventLabel(kindOf(kind).workflow, action, from, to), verb);
}

/** The progress steps of the kind, and how far a state has come. */
export function progressSteps(kind: AgreementKind, state: string, verb: Verb) {
  const { steps, reached: reachedIn } = kindOf(kind).progress;
  const reached = (reachedIn as Record<string, number>)[state] ?? 1;
  return steps.map((label, i) => ({ label: withVerb(label, verb), done: i < reached, current: i === reached - 1 }));
}
