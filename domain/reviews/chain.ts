import { z } from 'zod';
import type { Actor } from '../auth/sessions.ts';
import { forbidden } from '../errors.ts';
import { schoolSettingsOf } from '../schools/switches.ts';
import type { Effect, EventSpec, FireContext, Target } from '../workflow/kernel.ts';

// The review chain every reviewed workflow shares (DESIGN.md section 5): the department's stage
// then the school's, or the school's alone, as the school set it (S4) when the item entered review;
// the workflow's decisions; and the verb of the province (S3). A workflow declares its chain — the
// states of its two stages and where each decision leads — and takes the events from here.

export const REVIEW_STAGES = ['department', 'school'] as const;
export type ReviewStage = (typeof REVIEW_STAGES)[number];

export const REVIEW_DECISIONS = ['approve', 'return', 'reject'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
export const DECISION_LABELS: Record<ReviewDecision, string> = { approve: '通过', return: '退回修改', reject: '不通过' };

export type Verb = '审核' | '鉴证';

export type ReviewChain<S extends string> = {
  /** The workflow's state for each stage. */
  stages: Record<ReviewStage, S>;
  /** Where the school's 通过 leads. */
  passTo: S;
  /** Where 不通过 leads, at either stage. */
  rejectTo: S;
  /** Where 退回修改 leads, for workflows that have it (online signing has not: school guide 5.1). */
  returnTo?: S;
  decisions: readonly ReviewDecision[];
  /** The form's words: what to say when no decision is chosen, and when a reason is missing. */
  messages: { decision: string; reason: string };
  /** What the review is called on its page: 签约{verb}; offline signing's first review is 就业协议审核 in every province (school guide 5.2 ①). */
  title: string;
  /** Each stage's approval as the agreement lists it. */
  stageLabels: Record<ReviewStage, string>;
  /** A review whose verb is the same in every province (就业协议审核). */
  fixedVerb?: Verb;
  /** The reviewer decides on uploaded pages, so a list offers no one-click 通过. */
  checksPages?: boolean;
};

/** The stage of a chain that a state is, if any. */
export function stageOfState<S extends string>(chain: ReviewChain<S>, state: string): ReviewStage | null {
  return REVIEW_STAGES.find((stage) => chain.stages[stage] === state) ?? null;
}

/** The stage a reviewer decides: a department user the department's, a school user the school's. */
export function reviewStageOf(actor: Actor): ReviewStage {
  if (actor.role === 'department') return 'department';
  if (actor.role === 'school') return 'school';
  throw forbidden();
}

/** S4: where an item entering review goes — the department's stage, or the school's when it reviews alone. */
export function enterReview<S extends string, R extends { schoolId: number }>(chain: ReviewChain<S>): Target<S, R> {
  return { oneOf: [chain.stages.department, chain.stages.school], pick: (ctx) => firstStage(chain, ctx) };
}

/** The stage an item enters review at, as its school reviews now (S4). */
export async function firstStage<S extends string>(chain: ReviewChain<S>, ctx: FireContext<{ schoolId: number }>): Promise<S> {
  return (await schoolSettingsOf(ctx)).reviewMode === 'school_only' ? chain.stages.school : chain.stages.department;
}

export type ReviewEffects<S extends string, R> = {
  /** 通过 at the department: the item moves on to the school's stage. */
  advanced?: Effect<S, R>;
  approved?: Effect<S, R>;
  /** Columns written with the state when the item passes the chain (通过 at its last stage), in the state's own update. */
  passWrites?: (now: Date) => Record<string, unknown>;
  returned?: Effect<S, R>;
  rejected?: Effect<S, R>;
};

/**
 * The events of a chain: each decision at each stage, fired by that stage's role. The workflow puts
 * the ones its decisions name into its table (`approve`, `reject`, and `return` where it has it).
 */
export function reviewEvents<S extends string, R>(chain: ReviewChain<S>, effects: ReviewEffects<S, R>): Record<ReviewDecision, EventSpec<S, R>> {
  const atEachStage = (to: (stage: ReviewStage) => S) => REVIEW_STAGES.map((stage) => ({ from: chain.stages[stage], to: to(stage), by: stage }));
  // Each effect runs only for a decision at this chain's stages, so a workflow with two reviews can merge both chains' events.
  const ours = (effect: Effect<S, R> | undefined): Array<Effect<S, R>> => (effect ? [async (ctx) => (ctx.from !== null && stageOfState(chain, ctx.from) ? effect(ctx) : undefined)] : []);
  return {
    approve: {
      transitions: atEachStage((stage) => (stage === 'department' ? chain.stages.school : chain.passTo)),
      effects: ours(async (ctx) => (ctx.to === chain.stages.school ? effects.advanced?.(ctx) : effects.approved?.(ctx))),
      changes: effects.passWrites ? [({ from, to, now }) => (stageOfState(chain, from) === 'school' && to === chain.passTo ? effects.passWrites!(now) : undefined)] : [],
    },
    return: { transitions: chain.returnTo ? atEachStage(() => chain.returnTo!) : [], effects: ours(effects.returned) },
    reject: { transitions: atEachStage(() => chain.rejectTo), effects: ours(effects.rejected) },
  };
}

/** One event made of several chains' same decision: their transitions and their effects. */
export function mergeEvents<S extends string, R>(...specs: Array<EventSpec<S, R>>): EventSpec<S, R> {
  return { transitions: specs.flatMap((s) => s.transitions), effects: specs.flatMap((s) => s.effects ?? []), changes: specs.flatMap((s) => s.changes ?? []) };
}

type DecisionChain = Pick<ReviewChain<string>, 'decisions' | 'messages'>;
const decisionForms = new WeakMap<DecisionChain, ReturnType<typeof buildDecisionForm>>();

/**
 * The decision form of a chain: one of its decisions; a reason for 退回修改 and 不通过, shown to the
 * submitter. Built once per chain: a zod schema compiles its parser on first use, which per request
 * cost more than the rest of the decision's node time (issue 14).
 */
export function decisionForm(chain: DecisionChain) {
  let form = decisionForms.get(chain);
  if (!form) decisionForms.set(chain, (form = buildDecisionForm(chain)));
  return form;
}

function buildDecisionForm(chain: DecisionChain) {
  const decisions = chain.decisions as readonly [ReviewDecision, ...ReviewDecision[]];
  return z
    .object({ decision: z.enum(decisions, { error: chain.messages.decision }), reason: z.string().trim().max(500, { error: '不超过 500 个字' }).optional() })
    .superRefine((f, ctx) => {
      if (f.decision !== 'approve' && !f.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: chain.messages.reason });
    });
}

/** A label written with {verb} in the province's word (S3). */
export function withVerb(label: string, verb: Verb): string {
  return label.replaceAll('{verb}', verb);
}

