import { notFound } from '../errors.ts';
import { REVIEW_STAGES, withVerb, type ReviewChain, type ReviewStage, type Verb } from '../reviews/chain.ts';
import { eventLabel, type AnyWorkflow } from '../workflow/kernel.ts';
import { AGREEMENT_REVIEW, OFFLINE_PROGRESS, offlineSigning, SIGNING_REVIEW } from './offline/workflow.ts';
import { ONLINE_PROGRESS, ONLINE_REVIEW, onlineSigning } from './online/workflow.ts';
import { paperRegistration, REGISTRATION_PROGRESS, REGISTRATION_REVIEW } from './registered/workflow.ts';
import type { AgreementKind } from './states.ts';

// Each kind of agreement and its workflow table: what the shared pages (the timeline, the progress
// steps, the document, /verify, the review page) read to speak of an agreement in its own words.

/** The groups every kind's table names, so shared code can ask them of any agreement. */
export type AgreementGroup = 'active' | 'terminal' | 'pending' | 'inReview' | 'editable' | 'awaitingCopy' | 'signed' | 'terminated' | 'documented' | 'failed';
export type AgreementAudience = 'graduate' | 'employer' | 'reviewer' | 'summary';

type KindEntry = {
  workflow: AnyWorkflow & { groups: Record<AgreementGroup, readonly string[]>; labels: Record<AgreementAudience, Record<string, string>> };
  progress: { steps: readonly string[]; reached: Record<string, number> };
  /** Its review chains, in the order an agreement meets them. */
  reviews: ReadonlyArray<ReviewChain<string>>;
  /** Printed to be stamped and signed on paper (offline signing): the document leaves room for it. */
  stampedOnPaper: boolean;
};

const AGREEMENT_WORKFLOWS: Record<AgreementKind, KindEntry> = {
  online: { workflow: onlineSigning, progress: ONLINE_PROGRESS, reviews: [ONLINE_REVIEW], stampedOnPaper: false },
  offline: { workflow: offlineSigning, progress: OFFLINE_PROGRESS, reviews: [AGREEMENT_REVIEW, SIGNING_REVIEW], stampedOnPaper: true },
  registered: { workflow: paperRegistration, progress: REGISTRATION_PROGRESS, reviews: [REGISTRATION_REVIEW], stampedOnPaper: false },
};

function kindOf(kind: AgreementKind): KindEntry {
  const entry = AGREEMENT_WORKFLOWS[kind];
  if (!entry) throw notFound('签约');
  return entry;
}

export function isStampedOnPaper(kind: AgreementKind): boolean {
  return kindOf(kind).stampedOnPaper;
}

export function workflowOfKind(kind: AgreementKind) {
  return kindOf(kind).workflow;
}

/** The kind's review chains, in the order an agreement meets them. */
export function reviewsOfKind(kind: AgreementKind): ReadonlyArray<ReviewChain<string>> {
  return kindOf(kind).reviews;
}

/** The review a state is a stage of, and which stage: what a reviewer decides there. */
export function reviewAt(kind: AgreementKind, state: string): { chain: ReviewChain<string>; stage: ReviewStage } | null {
  for (const chain of kindOf(kind).reviews) for (const stage of REVIEW_STAGES) if (chain.stages[stage] === state) return { chain, stage };
  return null;
}

/** Which review stage an event row left, for the document's list of approvals. */
export function reviewStageLeft(kind: AgreementKind, fromState: string | null) {
  return fromState === null ? null : reviewAt(kind, fromState);
}

/** A state in an audience's words; the reviewers' words carry the province's verb (S3), the parties' are the guides' status names. */
export function agreementStateLabel(kind: AgreementKind, audience: AgreementAudience, state: string, verb?: Verb): string {
  const label = kindOf(kind).workflow.labels[audience][state] ?? state;
  return verb ? withVerb(label, verb) : label;
}

/** Whether the state is in one of the kind's named groups (G4 active, signed, documented …). */
export function inAgreementGroup(kind: AgreementKind, group: AgreementGroup, state: string): boolean {
  return kindOf(kind).workflow.groups[group].includes(state);
}

/** Every kind's states of a group: a filter over the one agreements table. */
export function statesInGroup(group: AgreementGroup): string[] {
  return [...new Set(Object.values(AGREEMENT_WORKFLOWS).flatMap((k) => k.workflow.groups[group]))];
}

/** Rows of an agreement's trail that record something other than a state change. */
const RECORD_LABELS: Record<string, string> = {
  'agreement.contacts_filled': '平台升级：按签约邀请函和单位信息补全了协议书中空缺的单位联系人信息',
  'agreement.assist_link_sent': '学生向用人单位发送协助回传协议书的短信链接',
};

/** The timeline's words for one of the agreement's event rows. */
export function agreementEventLabel(kind: AgreementKind, action: string, from: string | null, to: string | null, verb: Verb): string {
  return RECORD_LABELS[action] ?? withVerb(eventLabel(kindOf(kind).workflow, action, from, to), verb);
}

/** The progress steps of the kind, and how far a state has come. */
export function progressSteps(kind: AgreementKind, state: string, verb: Verb) {
  const { steps, reached: reachedIn } = kindOf(kind).progress;
  const reached = reachedIn[state] ?? 1;
  return steps.map((label, i) => ({ label: withVerb(label, verb), done: i < reached, current: i === reached - 1 }));
}
