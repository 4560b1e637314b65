import { eq } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { sentWithCommit, type DbOrTx, type Tx } from '../../db/client.ts';
import type { Role } from '../auth/roles.ts';
import type { Actor } from '../auth/sessions.ts';
import { DomainError } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';

// The workflow kernel (DESIGN.md section 5). A workflow is ONE table: its states and named groups,
// the words each audience reads, and per event who may fire it from which state, the guards that
// decide whether it can fire now (each with its refusal), the target and the effects. `fire` and
// `create` are the only writers of a workflow's state: one update or insert, its event row (X1)
// and its effects, all in the caller's transaction.

/**
 * Who fires an event: a signed-in role; the system (a job, or a reaction to another change); or
 * 'link', whoever holds a capability link sent by SMS (用人单位协助回传协议书), without an account.
 */
export type FireActor = Role | 'system' | 'link';

/** The least a workflow row has: its id and state (a table shared by several workflows holds all their states). */
export type WorkflowRow = { id: number; state: string };

/** What guards, targets and effects read: the row, who acts, when, and a memo for lookups shared within one fire. */
export type FireContext<R> = {
  db: DbOrTx;
  row: R;
  actor: Actor | null;
  now: Date;
  memo: <T>(key: string, load: () => Promise<T>) => Promise<T>;
};

export type Guard<R> = {
  /** The rule it holds, as DESIGN.md numbers it (G4, S4, X3 …). */
  rule: string;
  allows: (ctx: FireContext<R>) => boolean | Promise<boolean>;
  /** What the actor is told; may say what it counted (a limit, say). */
  refusal: string | ((ctx: FireContext<R>) => string | Promise<string>);
  code?: 'illegal_transition' | 'conflict' | 'forbidden';
  /** Refused, the kernel fires this event of the same workflow as the system instead (X3: an action past the deadline expires it). */
  otherwise?: string;
};

/** A target known in advance, or one of several picked when the event fires (a review's first stage, S4). */
export type Target<S extends string, R> = S | { oneOf: readonly S[]; pick: (ctx: FireContext<R>) => S | Promise<S> };

export type Transition<S extends string, R> = { from: S; to: Target<S, R>; by: FireActor };

export type EffectContext<S extends string, R> = FireContext<R> & { tx: Tx; source: EventSource; id: number; event: string; from: S | null; to: S; reason: string | null };
export type Effect<S extends string, R> = (ctx: EffectContext<S, R>) => Promise<void>;

export type EventSpec<S extends string, R> = {
  transitions: ReadonlyArray<Transition<S, R>>;
  guards?: ReadonlyArray<Guard<R>>;
  effects?: ReadonlyArray<Effect<S, R>>;
  /** States in which firing the event again is answered as done: a repeated submission (X2). */
  settledIn?: readonly S[];
  /**
   * Columns the event writes with the new state, in the same statement (a review's pass stamps
   * signed_at): each answers for the transitions it knows, undefined for the rest.
   */
  changes?: ReadonlyArray<(t: { from: S; to: S; now: Date }) => Record<string, unknown> | undefined>;
};

export type CreationSpec<S extends string, I> = {
  to: Target<S, I>;
  by: readonly FireActor[];
  guards?: ReadonlyArray<Guard<I>>;
  effects?: ReadonlyArray<Effect<S, I>>;
};

/** The words of the timeline: one per event, or chosen by the states it went between. */
export type EventLabel<S extends string> = string | ((e: { from: S | null; to: S | null }) => string);

export type WorkflowSpec<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I> = {
  name: string;
  /** events.subject_type of its event rows. */
  subject: string;
  /** The event rows' action is `${action}.${event}`; `action` defaults to the subject. */
  action?: string;
  /** Its table, whose properties `state` and `updatedAt` the kernel writes. */
  table: PgTable;
  id: PgColumn;
  /** The tenant of a row, written on its event rows. */
  schoolOf?: (row: R | I) => number | null;
  /**
   * Whose trail the event rows join, when not the row's own: a termination's events are its
   * agreement's (one timeline); the row's id goes into the event's data under the subject's name.
   */
  trailOf?: (row: R | I) => { type: string; id: number };
  states: readonly S[];
  /** Named state groups; `terminal` is required: no event leaves a terminal state. */
  groups: Record<G | 'terminal', readonly S[]>;
  /** Every state in every audience's words. */
  labels: Record<A, Record<S, string>>;
  events: Record<E, EventSpec<S, R>>;
  creations: Record<C, CreationSpec<S, I>>;
  eventLabels: Record<NoInfer<E | C>, EventLabel<NoInfer<S>>>;
  /** Effects after every event and creation of the table, after the event's own (a projection the table's rows feed). */
  afterEach?: ReadonlyArray<Effect<S, R | I>>;
  /** The message when an event cannot fire from the current state or by this actor. */
  refusal: string;
};

export type Workflow<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I> = WorkflowSpec<S, E, C, A, G, R, I> & {
  readonly eventNames: readonly E[];
};

export function defineWorkflow<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I>(
  spec: WorkflowSpec<S, E, C, A, G, R, I>,
): Workflow<S, E, C, A, G, R, I> {
  return { ...spec, eventNames: Object.keys(spec.events) as E[] };
}

// Any workflow, for code that reads tables generically (tests, the inbox).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWorkflow = Workflow<any, any, any, any, any, any, any>;

export function inGroup<S extends string>(group: readonly S[], state: string): state is S {
  return (group as readonly string[]).includes(state);
}

/**
 * Memo keys of facts several workflows' guards read, which a caller that has loaded them already
 * may answer in advance (creationAvailability's `known`): the graduate's roster row
 * ({ trainingMode, removedAt }), the state of the graduate's active agreement (or null), the
 * standing destination registration, the school's settings (domain/schools/switches.ts), the
 * graduate's name (read with a reviewed agreement's row, for the notices of its decision).
 */
export const KNOWN = { roster: 'roster', standing: 'standing', activeAgreement: 'activeAgreement', school: 'school', graduateName: 'graduateName' } as const;

function context<R>(db: DbOrTx, row: R, actor: Actor | null, now: Date, known: Record<string, unknown> = {}): FireContext<R> {
  // What the caller already loaded answers the guards' look-ups of the same key without a query.
  const memos = new Map<string, Promise<unknown>>(Object.entries(known).map(([k, v]) => [k, Promise.resolve(v)]));
  return {
    db,
    row,
    actor,
    now,
    memo: <T>(key: string, load: () => Promise<T>) => {
      if (!memos.has(key)) memos.set(key, load());
      return memos.get(key) as Promise<T>;
    },
  };
}

const roleOf = (actor: Actor | null): FireActor => actor?.role ?? 'system';

/** Every state a target may lead to (for the table tests). */
export function targetsOf<S extends string, R>(to: Target<S, R>): readonly S[] {
  return typeof to === 'string' ? [to] : to.oneOf;
}

async function resolve<S extends string, R>(to: Target<S, R>, ctx: FireContext<R>): Promise<S> {
  return typeof to === 'string' ? to : to.pick(ctx);
}

function refusalOf<R>(guard: Guard<R>, ctx: FireContext<R>): string | Promise<string> {
  return typeof guard.refusal === 'string' ? guard.refusal : guard.refusal(ctx);
}

/** The first guard that refuses, or null. */
async function refusingGuard<R>(guards: ReadonlyArray<Guard<R>> | undefined, ctx: FireContext<R>): Promise<Guard<R> | null> {
  for (const g of guards ?? []) if (!(await g.allows(ctx))) return g;
  return null;
}

/** The subject an event row is written under, and its data. */
function trail<R>(wf: { subject: string; trailOf?: (row: R) => { type: string; id: number } }, row: R, id: number, data: Record<string, unknown> | null | undefined) {
  const other = wf.trailOf?.(row);
  if (!other) return { subjectType: wf.subject, subjectId: id, data: data ?? null };
  return { subjectType: other.type, subjectId: other.id, data: { ...data, [wf.subject]: id } };
}

type FireOptions = {
  changes?: Record<string, unknown>;
  reason?: string | null;
  data?: Record<string, unknown> | null;
  now?: Date;
  /** Fired as the system, in reaction to the source's own action (the roster change a school user made); the event row still names the source. */
  reaction?: boolean;
  /** Fired through a capability link by someone without an account (no actor). */
  viaLink?: boolean;
  /**
   * What the caller already knows, by KNOWN key, for the guards and effects to read instead of
   * querying (issue 14: the school's settings a request has cached answer a decision's effects).
   */
  facts?: Record<string, unknown>;
};

/**
 * Fires one event on a row the caller has locked (SELECT … FOR UPDATE): the transition for the
 * row's state and the actor, its guards, the new state with the field changes, the event row and
 * the effects, in the caller's transaction. Returns the state the row is in afterwards.
 */
export async function fire<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I>(
  tx: Tx,
  wf: Workflow<S, E, C, A, G, R, I>,
  source: EventSource,
  row: R,
  event: E,
  opts: FireOptions = {},
): Promise<S> {
  const spec = wf.events[event];
  const by: FireActor = opts.reaction ? 'system' : opts.viaLink && !source.actor ? 'link' : roleOf(source.actor);
  // A repeat is answered as done only to whoever may fire the event at all.
  if (spec.settledIn && inGroup(spec.settledIn, row.state) && spec.transitions.some((t) => t.by === by)) return row.state as S;
  const transition = spec.transitions.find((t) => t.from === row.state && t.by === by);
  if (!transition) throw new DomainError('illegal_transition', wf.refusal);
  const now = opts.now ?? new Date();
  const ctx = context(tx, row, source.actor, now, opts.facts);
  const refused = await refusingGuard(spec.guards, ctx);
  if (refused?.otherwise) return fire(tx, wf, { actor: null, ip: source.ip }, row, refused.otherwise as E, { now, ...(opts.facts ? { facts: opts.facts } : {}) });
  if (refused) throw new DomainError(refused.code ?? 'illegal_transition', await refusalOf(refused, ctx));
  const to = await resolve(transition.to, ctx);
  const reason = opts.reason ?? null;
  // The new state and its event row go out together, without waiting for their answers: what the
  // effects send follows them on the connection, and the COMMIT goes out with the last of it (a
  // failure among them fails the transaction, with its own error).
  await sentWithCommit(
    tx,
    tx
      .update(wf.table)
      .set(Object.assign({}, opts.changes, ...(spec.changes ?? []).map((f) => f({ from: row.state as S, to, now })), { state: to, updatedAt: now }) as never)
      .where(eq(wf.id, row.id)),
    writeEvent(tx, by === 'link' ? { ...source, role: 'link' } : source, { ...trail(wf, row, row.id, opts.data), schoolId: wf.schoolOf?.(row) ?? null, action: `${wf.action ?? wf.subject}.${event}`, fromState: row.state, toState: to, reason }),
  );
  const effectCtx = { ...ctx, tx, source, id: row.id, event, from: row.state as S, to, reason };
  for (const effect of spec.effects ?? []) await effect(effectCtx);
  for (const effect of wf.afterEach ?? []) await effect(effectCtx);
  return to;
}

/**
 * Brings a row into being through one of the workflow's creations: its guards, the insert in the
 * creation's state, the event row and the effects. `skipOnConflict` answers null when a unique
 * index refuses the row (G6: a pending invitation already exists) instead of failing.
 */
export async function create<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I extends Record<string, unknown>>(
  tx: Tx,
  wf: Workflow<S, E, C, A, G, R, I>,
  source: EventSource,
  creation: C,
  values: I,
  opts: { skipOnConflict?: boolean; data?: Record<string, unknown> | null; now?: Date } = {},
): Promise<{ id: number } | { refused: string; rule: string } | { conflict: true }> {
  const spec = wf.creations[creation];
  if (!spec.by.includes(roleOf(source.actor))) throw new DomainError('forbidden', wf.refusal);
  const now = opts.now ?? new Date();
  const ctx = context(tx, values, source.actor, now);
  const refused = await refusingGuard(spec.guards, ctx);
  if (refused) return { refused: await refusalOf(refused, ctx), rule: refused.rule };
  const to = await resolve(spec.to, ctx);
  const insert = tx.insert(wf.table).values({ ...values, state: to } as never);
  const rows = (await (opts.skipOnConflict ? insert.onConflictDoNothing() : insert).returning({ id: wf.id })) as Array<{ id: number }>;
  const id = rows[0]?.id;
  if (id === undefined) return { conflict: true };
  await writeEvent(tx, source, { ...trail(wf, values, id, opts.data), schoolId: wf.schoolOf?.(values) ?? null, action: `${wf.action ?? wf.subject}.${creation}`, toState: to });
  const effectCtx = { ...ctx, tx, source, id, event: creation, from: null, to, reason: null };
  for (const effect of spec.effects ?? []) await effect(effectCtx);
  for (const effect of wf.afterEach ?? []) await effect(effectCtx);
  return { id };
}

/** Any workflow's events, read structurally (for helpers that only look at the table). */
type TableOf<E extends string> = {
  events: Record<E, { transitions: ReadonlyArray<{ from: string; to: string | { oneOf: readonly string[] }; by: FireActor }>; settledIn?: readonly string[] }>;
};

/** The states an event can fire from (for set-based statements and lookups). */
export function statesFrom<E extends string>(wf: TableOf<E>, event: E): string[] {
  return [...new Set(wf.events[event].transitions.map((t) => t.from))];
}

/** Whether a state is where the event leads (or settles): false when a guard's `otherwise` fired instead. */
export function leadsTo<E extends string>(wf: TableOf<E>, event: E, state: string): boolean {
  const spec = wf.events[event];
  return spec.transitions.some((t) => (typeof t.to === 'string' ? [t.to] : t.to.oneOf).includes(state)) || (spec.settledIn ?? []).includes(state);
}

/** Whether the table has the event from this state for this actor (no guards). */
export function offers<E extends string>(wf: TableOf<E>, state: string, event: E, by: FireActor): boolean {
  return wf.events[event].transitions.some((t) => t.from === state && t.by === by);
}

/** The events a role could fire from a state, by the table alone (no guards): what a list row offers. */
export function eventsFrom<E extends string>(wf: TableOf<E> & { eventNames: readonly E[] }, state: string, role: FireActor): E[] {
  return wf.eventNames.filter((e) => offers(wf, state, e, role));
}

export type Availability = { allowed: true } | { allowed: false; refusal: string; rule: string };

/**
 * What the viewer may do with a row now, per event the table offers them from its state: allowed,
 * or refused with the first guard's message. Routes and views ask this instead of testing states.
 */
export async function availableActions<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I>(
  db: DbOrTx,
  wf: Workflow<S, E, C, A, G, R, I>,
  row: R,
  actor: Actor,
  now = new Date(),
): Promise<Partial<Record<E, Availability>>> {
  const ctx = context(db, row, actor, now);
  const result: Partial<Record<E, Availability>> = {};
  for (const event of eventsFrom(wf, row.state, actor.role)) {
    const refused = await refusingGuard(wf.events[event].guards, ctx);
    result[event] = refused ? { allowed: false, refusal: await refusalOf(refused, ctx), rule: refused.rule } : { allowed: true };
  }
  return result;
}

/**
 * Whether the viewer could bring a row into being now (the creation's role and guards), or why not.
 * `known` hands the guards' memo what the caller has already read (the same keys the guards use).
 */
export async function creationAvailability<S extends string, E extends string, C extends string, A extends string, G extends string, R extends WorkflowRow, I>(
  db: DbOrTx,
  wf: Workflow<S, E, C, A, G, R, I>,
  creation: C,
  values: I,
  actor: Actor,
  now = new Date(),
  known: Record<string, unknown> = {},
): Promise<Availability> {
  const spec = wf.creations[creation];
  if (!spec.by.includes(actor.role)) return { allowed: false, refusal: wf.refusal, rule: 'role' };
  const ctx = context(db, values, actor, now, known);
  const refused = await refusingGuard(spec.guards, ctx);
  return refused ? { allowed: false, refusal: await refusalOf(refused, ctx), rule: refused.rule } : { allowed: true };
}

/** The timeline's words for one event row of this workflow. */
export function eventLabel<S extends string>(wf: { subject: string; action?: string; eventLabels: Record<string, EventLabel<S>> }, action: string, from: string | null, to: string | null): string {
  const label = wf.eventLabels[action.slice((wf.action ?? wf.subject).length + 1)];
  if (label === undefined) return action;
  return typeof label === 'string' ? label : label({ from: from as S | null, to: to as S | null });
}
